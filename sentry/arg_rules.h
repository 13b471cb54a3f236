#ifndef USBOX_SENTRY_ARG_RULES_H
#define USBOX_SENTRY_ARG_RULES_H

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

/* The rule that denies this call, or NULL if none does. */
const struct arg_rule *arg_rule_match(int nr, const uint64_t args[6]);
/* Whether any rule names this syscall. */
int arg_rule_has(int nr);

#endif
