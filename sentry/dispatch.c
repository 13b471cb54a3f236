/* From one notification to one answer: look the call up in the table, run
 * its handler (or deny it), answer, count and audit. */
#include <errno.h>
#include <linux/audit.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "common/deputy.h"
#include "common/log.h"
#include "platform/unotify.h"
#include "sentry/report.h"
#include "table/arg_rules.h"
#include "sentry/sentry.h"

/* The table's EMUL entries bound to their handlers (sentry/sys_*.c), by
 * number. */
#define SC_HANDLER_PASS(nr, fn)
#define SC_HANDLER_DENY(nr, fn)
#define SC_HANDLER_EMUL(nr, fn) [nr] = fn,
#define SC(nr_, name_, disp_, arg_, family_, note_) SC_HANDLER_##disp_(nr_, arg_)
static const sc_handler_fn handlers[SC_NR_LIMIT] = {
#include "table/syscalls.def"
};
#undef SC

sc_handler_fn sentry_handler_for(long nr)
{
  return nr >= 0 && nr < SC_NR_LIMIT ? handlers[nr] : NULL;
}

const char *sentry_verdict_name(enum sentry_verdict v)
{
  static const char *const names[VERDICT_COUNT] = {"emulate", "kernel", "deny", "hidden",
                                                   "fallback"};
  return v < VERDICT_COUNT ? names[v] : "?";
}

struct decision {
  struct sc_result res;
  enum sentry_verdict verdict;
  const char *rule;                /* the rule named by a handler or a hide rule, or NULL */
  const struct syscall_entry *row; /* the table row that decided (when no rule is named) */
  const struct arg_rule *arg_rule; /* the argument rule that denied it */
  atomic_ulong *counter;
};

static atomic_ulong *per_call(atomic_ulong *counts, int nr)
{
  return nr >= 0 && nr < SC_NR_LIMIT ? &counts[nr] : NULL;
}

/* What a handler's answer was: a refusal by the rule it named, a hidden
 * path (the VFS said which rule), or the call performed. */
static struct decision handled(struct sentry *s, struct sentry_call *call,
                               const struct syscall_entry *e, struct sc_result res)
{
  struct decision d = {.res = res, .verdict = VERDICT_EMULATE, .rule = call->audit_rule, .row = e,
                       .counter = &s->stats.emulated[call->nr]};
  bool failed = res.outcome == SC_RETURN && res.err != 0;
  if (res.outcome == SC_CONTINUE) {
    d.verdict = VERDICT_KERNEL;
    d.counter = &s->stats.continued[call->nr];
  } else if (failed && res.err == ENOENT && call->fs.hidden_by != NULL) {
    d.verdict = VERDICT_HIDDEN;
    d.rule = call->fs.hidden_by;
  } else if (failed && call->audit_rule != NULL && !call->rule_allowed) {
    d.verdict = VERDICT_DENY;
    d.counter = &s->stats.denied[call->nr];
  }
  return d;
}

/* A table row that denies: ENOSYS is what a kernel without the call
 * answers, which programs are written to go on from (table/syscalls.def):
 * a "fallback". Except io_uring, a boundary of the sandbox (invariant 4):
 * libraries go on without it too, but an operator must see each attempt
 * as the denial it is. */
static bool is_fallback(const struct syscall_entry *e)
{
  return e->deny_errno == ENOSYS && strncmp(e->name, "io_uring", 8) != 0;
}

static struct decision table_denial(struct sentry *s, const struct sentry_call *call,
                                    const struct syscall_entry *e)
{
  bool fallback = is_fallback(e);
  return (struct decision){sc_errno(e->deny_errno), fallback ? VERDICT_FALLBACK : VERDICT_DENY,
                           NULL, e, NULL,
                           fallback ? &s->stats.fallback[call->nr] : &s->stats.denied[call->nr]};
}

/* The calls whose handlers (sys_file.c, sys_file_mutate.c, and the VFS
 * under them) may run on a thread with a lingering deputy scope
 * (common/deputy.h): the path calls a program makes most. What they do for
 * their own sake with the thread's rights either needs no capability (the
 * gofer's socket, statx of held fds, ADDFD, /proc/self) or asks for the
 * thread's own set first (agent_mem.c, task.c, vfs/walk.c); /proc in the
 * view is served by the gofer's code, which takes its creds in a scope.
 * Any other call starts with the thread's own set. */
static const int lingering_calls[] = {
    SYS_open,      SYS_openat,     SYS_openat2,   SYS_creat,      SYS_stat,      SYS_lstat,
    SYS_newfstatat, SYS_statx,     SYS_access,    SYS_faccessat,  SYS_faccessat2, SYS_readlink,
    SYS_readlinkat, SYS_unlink,    SYS_unlinkat,  SYS_rmdir,      SYS_mkdir,     SYS_mkdirat,
    SYS_rename,    SYS_renameat,   SYS_renameat2, SYS_link,       SYS_linkat,    SYS_symlink,
    SYS_symlinkat, SYS_chmod,      SYS_fchmodat,  SYS_chown,      SYS_lchown,    SYS_fchownat,
    SYS_utimensat, SYS_fchmod,     SYS_fchown,
};

static bool may_linger(long nr)
{
  for (size_t i = 0; i < sizeof lingering_calls / sizeof lingering_calls[0]; i++)
    if (lingering_calls[i] == nr)
      return true;
  return false;
}

static struct decision decide(struct sentry *s, struct sentry_call *call)
{
  deputy_linger_allow(may_linger(call->nr));
  const struct syscall_entry *e = syscall_by_nr(call->nr);
  const struct arg_rule *rule;
  if (call->nr >= 0 && call->nr < SC_NR_LIMIT && s->test_pass[call->nr])
    return (struct decision){sc_kernel_must_perform(), VERDICT_KERNEL, "--TESTONLY-pass", e, NULL,
                             &s->stats.continued[call->nr]};
  sc_handler_fn handler = sentry_handler_for(call->nr);
  if (e != NULL && e->disposition == SC_EMUL && handler != NULL) {
    struct sc_result res = handler(call);
    /* the tree changed between the walk and the act: once more, from the
     * same copies of the arguments */
    for (int again = 0; again < 8 && res.outcome == SC_RETURN && res.err == VFS_ESTALE_VIEW; again++)
      res = handler(call);
    if (res.outcome == SC_RETURN && res.err == VFS_ESTALE_VIEW)
      res.err = EAGAIN;
    return handled(s, call, e, res);
  }
  if (e != NULL && e->disposition == SC_DENY) /* audited denial (filter routes it here) */
    return table_denial(s, call, e);
  if ((rule = arg_rule_match(call->nr, call->args)) != NULL)
    return (struct decision){sc_errno(rule->deny_errno), VERDICT_DENY, NULL, e, rule,
                             &s->stats.denied[call->nr]};
  /* The filter only notifies for EMUL, DENY and rule matches: anything else
   * is a bug between table and filter. Deny it, loudly. */
  usbox_warn("unexpected notification for syscall %d (%s): answered ENOSYS", call->nr,
             e ? e->name : "not in table");
  return (struct decision){sc_errno(ENOSYS), VERDICT_DENY, "not expected by the filter", e, NULL,
                           per_call(s->stats.denied, call->nr)};
}

/* The rule that decided, as the audit line names it: the one a handler or
 * the VFS named, else the argument rule or the table row (into buf). */
static const char *rule_text(const struct decision *d, char *buf, size_t size)
{
  char eb[16];
  const struct syscall_entry *e = d->row;
  if (d->rule != NULL)
    return d->rule;
  if (d->arg_rule != NULL)
    snprintf(buf, size, "argument rule: %s %s: %s", d->arg_rule->syscall,
             errno_name(d->arg_rule->deny_errno, eb), d->arg_rule->note);
  else if (e != NULL && e->disposition == SC_DENY)
    snprintf(buf, size, "table: %s %s: %s", e->name, errno_name(e->deny_errno, eb), e->note);
  else if (e != NULL)
    snprintf(buf, size, "table: %s %s", e->name,
             d->verdict == VERDICT_KERNEL ? "checked, then performed by the kernel"
                                          : "emulated");
  else
    return NULL;
  return buf;
}

/* -v's report of what was refused: hidden and missing paths, and what a
 * handler's rule refused (a network rule, ...), by the kind of thing it
 * was. The table's own denials are counted per call already. */
static void report_refusal(struct sentry *s, const struct sentry_call *call,
                           const struct decision *d)
{
  const struct syscall_entry *e = d->row;
  const char *arg = call->audit_arg != NULL ? call->audit_arg : "";
  bool failed = d->res.outcome == SC_RETURN && d->res.err != 0;
  if (d->verdict == VERDICT_HIDDEN)
    report_note(s->report, REPORT_HIDDEN, arg, d->rule);
  else if (d->verdict == VERDICT_EMULATE && failed && d->res.err == ENOENT && call->audit_arg)
    report_note(s->report, REPORT_ABSENT, arg, NULL);
  else if (d->verdict == VERDICT_DENY && e != NULL && e->disposition == SC_EMUL)
    report_note(s->report, strcmp(e->family, "net") == 0 ? REPORT_NETWORK : e->name, arg,
                d->rule);
}

static void audit_decision(struct sentry *s, const struct sentry_call *call,
                           const struct decision *d)
{
  const struct syscall_entry *e = syscall_by_nr(call->nr);
  char rule[600];
  struct audit_record rec = {
      .pid = call->tid,
      .syscall = e ? e->name : "unknown",
      .arg = call->audit_arg,
      .decision = sentry_verdict_name(d->verdict),
      .err = d->res.outcome == SC_RETURN ? d->res.err : 0,
      .result = d->res.val,
      .rule = rule_text(d, rule, sizeof rule),
  };
  audit_write(s->audit, &rec);
}

static int answer(struct sentry *s, const struct sentry_call *call, const struct sc_result *res)
{
  switch (res->outcome) {
  case SC_RETURN:
    return unotify_respond(s->listener, call->id, res->val, res->err, false);
  case SC_CONTINUE:
    return unotify_respond(s->listener, call->id, 0, 0, true);
  case SC_ANSWERED:
    return 0;
  case SC_GONE:
    return -ENOENT;
  }
  return -EINVAL;
}

void sentry_dispatch(struct sentry *s, const struct seccomp_notif *req,
                     unsigned long long start_ns)
{
  struct sentry_call call;
  sentry_call_init(&call, s, req->id, req->data.nr, (pid_t)req->pid,
                   (const uint64_t *)req->data.args);

  struct decision d;
  if (req->data.arch != AUDIT_ARCH_X86_64) /* BPF kills these; never act on one */
    d = (struct decision){sc_errno(ENOSYS), VERDICT_DENY, "foreign ABI", NULL, NULL, NULL};
  else
    d = decide(s, &call);

  /* interrupted by the watchdog for a signal: let the kernel deliver it and
   * restart the call or fail it with EINTR (SA_RESTART decides) */
  if (d.res.outcome == SC_RETURN && d.res.err == EINTR &&
      sentry_interrupted_for_signal())
    d.res.err = USBOX_ERESTARTSYS;
  /* an open answered inside its handler (ADDFD with SEND) is timed up to
   * the agent having its fd: that wait is part of what it costs */
  if (call.nr >= 0 && call.nr < SC_NR_LIMIT && usbox_verbosity >= 2) /* (sentry_print_summary) */
    atomic_fetch_add(&s->stats.handling_ns[call.nr], sentry_now_ns() - start_ns);
  int r = answer(s, &call, &d.res);
  if (r == -ENOENT || d.res.outcome == SC_GONE) {
    atomic_fetch_add(&s->stats.gone, 1);
  } else {
    if (r < 0)
      usbox_warn("answering %d failed: %s", call.nr, strerror(-r));
    if (d.counter != NULL)
      atomic_fetch_add(d.counter, 1);
    atomic_fetch_add(&s->stats.verdicts[d.verdict], 1);
    if (s->report != NULL)
      report_refusal(s, &call, &d);
    if (s->audit != NULL)
      audit_decision(s, &call, &d);
  }
  task_put(&s->tasks, call.task);
}
