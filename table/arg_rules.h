#ifndef USBOX_TABLE_ARG_RULES_H
#define USBOX_TABLE_ARG_RULES_H

#include <stddef.h>
#include <stdint.h>

enum arg_rule_test { ARG_TEST_ANY, ARG_TEST_EQ };

struct arg_rule {
  int nr;
  const char *syscall;
  int arg;
  enum arg_rule_test test;
  uint32_t mask;
  uint32_t value;
  int deny_errno;
  const char *note;
};

extern const struct arg_rule usbox_arg_rules[];
extern const size_t usbox_arg_rule_count;

/* A use of an EMUL syscall BPF lets through: every arg i with mask[i] != 0
 * must have (low word & mask[i]) == value[i]. */
struct arg_pass {
  int nr;
  const char *syscall;
  uint32_t mask[3];
  uint32_t value[3];
  const char *note;
};

extern const struct arg_pass usbox_arg_passes[];
extern const size_t usbox_arg_pass_count;

/* Whether a pass lets this call through. */
int arg_pass_match(int nr, const uint64_t args[6]);

/* The rule that denies this call, or NULL if none does. */
const struct arg_rule *arg_rule_match(int nr, const uint64_t args[6]);
/* Whether any rule names this syscall. */
int arg_rule_has(int nr);

#endif
