/* From one notification to one answer: look the call up in the table, run
 * its handler (or deny it), answer, count and audit. */
#include <errno.h>
#include <linux/audit.h>
#include <string.h>

#include "common/log.h"
#include "platform/unotify.h"
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

struct decision {
  struct sc_result res;
  const char *name;     /* for the audit line */
  const char *rule;     /* why, for denials */
  atomic_ulong *counter;
};

static struct decision decide(struct sentry *s, struct sentry_call *call)
{
  const struct syscall_entry *e = syscall_by_nr(call->nr);
  const struct arg_rule *rule;
  if (call->nr >= 0 && call->nr < SC_NR_LIMIT && s->test_pass[call->nr])
    return (struct decision){sc_kernel_must_perform(), "kernel", "--TESTONLY-pass",
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
    bool cont = res.outcome == SC_CONTINUE;
    if (call->audit_denied) /* refused by a rule of the policy (an exec rule) */
      return (struct decision){res, "deny", call->audit_rule, &s->stats.denied[call->nr]};
    return (struct decision){res, cont ? "kernel" : "emulate", call->audit_rule,
                             cont ? &s->stats.continued[call->nr] : &s->stats.emulated[call->nr]};
  }
  if (e != NULL && e->disposition == SC_DENY) /* audited denial (filter routes it here) */
    return (struct decision){sc_errno(e->deny_errno), "deny", e->note, &s->stats.denied[call->nr]};
  if ((rule = arg_rule_match(call->nr, call->args)) != NULL)
    return (struct decision){sc_errno(rule->deny_errno), "deny", rule->note,
                             &s->stats.denied[call->nr]};
  /* The filter only notifies for EMUL, DENY and rule matches: anything else
   * is a bug between table and filter. Deny it, loudly. */
  usbox_warn("unexpected notification for syscall %d (%s): answered ENOSYS", call->nr,
             e ? e->name : "not in table");
  return (struct decision){sc_errno(ENOSYS), "deny", "not expected by the filter",
                           call->nr >= 0 && call->nr < SC_NR_LIMIT ? &s->stats.denied[call->nr]
                                                                    : NULL};
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

void sentry_dispatch(struct sentry *s, const struct seccomp_notif *req)
{
  struct sentry_call call;
  sentry_call_init(&call, s, req->id, req->data.nr, (pid_t)req->pid,
                   (const uint64_t *)req->data.args);

  unsigned long long start = sentry_now_ns();
  struct decision d;
  if (req->data.arch != AUDIT_ARCH_X86_64) /* BPF kills these; never act on one */
    d = (struct decision){sc_errno(ENOSYS), "deny", "foreign ABI", NULL};
  else
    d = decide(s, &call);

  /* interrupted by the watchdog for a signal: let the kernel deliver it and
   * restart the call or fail it with EINTR (SA_RESTART decides) */
  if (d.res.outcome == SC_RETURN && d.res.err == EINTR &&
      sentry_interrupted_for_signal())
    d.res.err = USBOX_ERESTARTSYS;
  /* an open answered inside its handler (ADDFD with SEND) is timed up to
   * the agent having its fd: that wait is part of what it costs */
  if (call.nr >= 0 && call.nr < SC_NR_LIMIT)
    atomic_fetch_add(&s->stats.handling_ns[call.nr], sentry_now_ns() - start);
  int r = answer(s, &call, &d.res);
  if (r == -ENOENT || d.res.outcome == SC_GONE) {
    atomic_fetch_add(&s->stats.gone, 1);
  } else {
    if (r < 0)
      usbox_warn("answering %d failed: %s", call.nr, strerror(-r));
    if (d.counter != NULL)
      atomic_fetch_add(d.counter, 1);
    if (s->audit != NULL) {
      const struct syscall_entry *e = syscall_by_nr(call.nr);
      struct audit_record rec = {
          .pid = call.tid,
          .syscall = e ? e->name : "unknown",
          .arg = call.audit_arg,
          .decision = d.name,
          .err = d.res.outcome == SC_RETURN ? d.res.err : 0,
          .result = d.res.val,
          .rule = d.rule,
      };
      audit_write(s->audit, &rec);
    }
  }
  task_put(&s->tasks, call.task);
}
