#include "table/arg_rules.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define ARG_RULE(sc_, arg_, test_, mask_, value_, errno_, note_)                                 \
  {.nr = __NR_##sc_, .syscall = #sc_, .arg = arg_, .test = ARG_TEST_##test_,                     \
   .mask = (uint32_t)(mask_), .value = (uint32_t)(value_), .deny_errno = errno_, .note = note_},

#define ARG_PASS(...)
const struct arg_rule usbox_arg_rules[] = {
#include "table/arg_rules.def"
};
#undef ARG_RULE
#undef ARG_PASS

const size_t usbox_arg_rule_count = sizeof usbox_arg_rules / sizeof usbox_arg_rules[0];

#define ARG_RULE(...)
#define ARG_PASS(sc_, m0_, v0_, m1_, v1_, m2_, v2_, note_)                                      \
  {.nr = __NR_##sc_, .syscall = #sc_, .mask = {(m0_), (m1_), (m2_)},                            \
   .value = {(uint32_t)(v0_), (uint32_t)(v1_), (uint32_t)(v2_)}, .note = note_},

const struct arg_pass usbox_arg_passes[] = {
#include "table/arg_rules.def"
};
#undef ARG_RULE
#undef ARG_PASS

const size_t usbox_arg_pass_count = sizeof usbox_arg_passes / sizeof usbox_arg_passes[0];

int arg_pass_match(int nr, const uint64_t args[6])
{
  for (size_t i = 0; i < usbox_arg_pass_count; i++) {
    const struct arg_pass *p = &usbox_arg_passes[i];
    if (p->nr != nr)
      continue;
    bool all = true;
    for (int a = 0; a < 3 && all; a++)
      all = p->mask[a] == 0 || ((uint32_t)args[a] & p->mask[a]) == p->value[a];
    if (all)
      return 1;
  }
  return 0;
}

const struct arg_rule *arg_rule_match(int nr, const uint64_t args[6])
{
  for (size_t i = 0; i < usbox_arg_rule_count; i++) {
    const struct arg_rule *r = &usbox_arg_rules[i];
    if (r->nr != nr)
      continue;
    uint32_t low = (uint32_t)args[r->arg];
    if (r->test == ARG_TEST_ANY ? (low & r->mask) != 0 : (low & r->mask) == r->value)
      return r;
  }
  return NULL;
}

int arg_rule_has(int nr)
{
  for (size_t i = 0; i < usbox_arg_rule_count; i++)
    if (usbox_arg_rules[i].nr == nr)
      return 1;
  return 0;
}
