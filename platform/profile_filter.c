/* A seccomp profile compiled by libseccomp into a filter of its own
 * (profile_filter.h says why it can only take calls away). */
#include "platform/profile_filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "table/syscall_table.h"

static uint32_t scmp_action(struct profile_action a)
{
  switch (a.kind) {
  case PROFILE_ALLOW:
    return SCMP_ACT_ALLOW;
  case PROFILE_LOG:
    return SCMP_ACT_LOG;
  case PROFILE_ERRNO:
    return SCMP_ACT_ERRNO((uint32_t)a.errno_ret);
  case PROFILE_TRAP:
    return SCMP_ACT_TRAP;
  case PROFILE_KILL_THREAD:
    return SCMP_ACT_KILL_THREAD;
  case PROFILE_KILL_PROCESS:
    return SCMP_ACT_KILL_PROCESS;
  }
  return SCMP_ACT_KILL_PROCESS;
}

static struct scmp_arg_cmp scmp_cmp(const struct profile_arg *a)
{
  static const enum scmp_compare ops[] = {
      [PROFILE_NE] = SCMP_CMP_NE, [PROFILE_LT] = SCMP_CMP_LT, [PROFILE_LE] = SCMP_CMP_LE,
      [PROFILE_EQ] = SCMP_CMP_EQ, [PROFILE_GE] = SCMP_CMP_GE, [PROFILE_GT] = SCMP_CMP_GT,
      [PROFILE_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
  };
  return (struct scmp_arg_cmp){.arg = a->index, .op = ops[a->op], .datum_a = a->value,
                               .datum_b = a->value_two};
}

/* Where both filters answer with an errno the kernel takes the newest
 * filter's, this one's: for a call usbox's table denies, an errno answer
 * of the profile becomes usbox's own, so that the agent sees what it sees
 * without a profile (tests/attacks/denied.c checks each). */
static uint32_t usbox_errno(int nr, uint32_t action)
{
  const struct syscall_entry *e = nr >= 0 ? syscall_by_nr(nr) : NULL;
  return e != NULL && e->disposition == SC_DENY ? SCMP_ACT_ERRNO((uint32_t)e->deny_errno) : action;
}

/* The same for the calls the profile leaves to an errno default. */
static int usbox_errnos_by_default(scmp_filter_ctx ctx, const struct seccomp_profile *p,
                                   uint32_t dflt, usbox_err_t *err)
{
  if (p->default_action.kind != PROFILE_ERRNO)
    return 0;
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    uint32_t action = SCMP_ACT_ERRNO((uint32_t)e->deny_errno);
    if (e->disposition != SC_DENY || action == dflt)
      continue;
    bool named = false;
    for (size_t j = 0; j < p->nrules && !named; j++)
      named = strcmp(p->rules[j].name, e->name) == 0;
    int rc = named ? 0 : seccomp_rule_add(ctx, action, e->nr, 0);
    if (rc < 0)
      return usbox_err_set(err, -rc, "adding usbox's errno for %s", e->name);
  }
  return 0;
}

/* Tests of one argument index given twice cannot be ANDed by libseccomp;
 * runc and crun then add each test as a rule of its own (alternatives). */
static bool index_repeats(const struct profile_rule *r)
{
  unsigned seen = 0;
  for (size_t i = 0; i < r->nargs; i++) {
    if (seen & (1u << r->args[i].index))
      return true;
    seen |= 1u << r->args[i].index;
  }
  return false;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t dflt, const struct profile_rule *r,
                    size_t *skipped, usbox_err_t *err)
{
  int nr = seccomp_syscall_resolve_name(r->name);
  if (nr == __NR_SCMP_ERROR) {
    (*skipped)++;
    return 0; /* not a call of this architecture (or this libseccomp) */
  }
  uint32_t action = scmp_action(r->action);
  if (r->action.kind == PROFILE_ERRNO)
    action = usbox_errno(nr, action);
  if (action == dflt)
    return 0; /* the default already; libseccomp refuses a redundant rule */
  struct scmp_arg_cmp cmps[PROFILE_MAX_ARGS];
  for (size_t i = 0; i < r->nargs; i++)
    cmps[i] = scmp_cmp(&r->args[i]);
  int rc = 0;
  if (index_repeats(r)) {
    for (size_t i = 0; rc == 0 && i < r->nargs; i++)
      rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
  } else {
    rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->nargs, cmps);
  }
  if (rc < 0)
    return usbox_err_set(err, 0, ".syscalls[%zu]: libseccomp refuses the rule for %s: %s",
                         r->entry, r->name, strerror(-rc));
  return 0;
}

int profile_filter_build(const struct seccomp_profile *p, struct bpf_program *out,
                         struct profile_build_stats *stats, usbox_err_t *err)
{
  uint32_t dflt = scmp_action(p->default_action);
  /* Other ABIs: usbox's own filter kills them; so does this one. x32
   * numbers on x86_64 go to the bad-arch action too. */
  scmp_filter_ctx ctx = usbox_filter_new_ctx(dflt, err);
  if (ctx == NULL)
    return -1;
  size_t skipped = 0;
  for (size_t i = 0; i < p->nrules; i++)
    if (add_rule(ctx, dflt, &p->rules[i], &skipped, err) < 0) {
      seccomp_release(ctx);
      return -1;
    }
  if (usbox_errnos_by_default(ctx, p, dflt, err) < 0) {
    seccomp_release(ctx);
    return -1;
  }
  struct sock_filter *insns = NULL;
  size_t len = 0;
  int rc = usbox_filter_export(ctx, &insns, &len, err);
  seccomp_release(ctx);
  if (rc < 0)
    return -1;
  out->insns = insns;
  out->len = (unsigned short)len;
  if (stats != NULL)
    stats->skipped = skipped;
  return 0;
}
