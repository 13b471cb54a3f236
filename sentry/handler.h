/* One signature for every syscall handler (gVisor style). A handler decodes
 * its arguments at the top, reads agent memory only through agent_mem.h,
 * and returns what the agent should see. The agent's errno is a field of the
 * result, distinct from usbox's own errors. */
#ifndef USBOX_SENTRY_HANDLER_H
#define USBOX_SENTRY_HANDLER_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfs/ctx.h"

struct sentry;
struct task;
struct seccomp_notif;

enum sc_outcome {
  SC_RETURN,   /* answer val, or -err */
  SC_CONTINUE, /* the kernel performs it: see sc_kernel_must_perform() */
  SC_ANSWERED, /* already answered (fd injected with ADDFD|SEND) */
  SC_GONE,     /* the notification is no longer valid: nothing to answer */
};

struct sc_result {
  enum sc_outcome outcome;
  int err;     /* agent errno, 0 on success */
  int64_t val; /* return value on success */
};

struct sentry_call {
  struct sentry *sentry;
  uint64_t id; /* notification id */
  int nr;
  pid_t tid; /* host tid of the calling thread */
  uint64_t args[6];
  struct task *task;        /* looked up on first use (task.h) */
  /* call_task's check found the walk cache's watch fd readable (or could
   * not look): not yet told to the VFS (vfs_caller.no_watch_events) */
  bool watch_events;
  unsigned unchecked_reads; /* agent memory reads not yet followed by ID_VALID */
  const char *audit_arg;    /* key argument for the audit line */
  /* The rule a handler decided by (a network rule), for the audit line.
   * An error answered with a rule named is that rule's refusal ("deny" in
   * the audit log, counted by -v), unless rule_allowed: the rule let the
   * call through or chose where it goes, and an error it then met is the
   * call's own. */
  const char *audit_rule;
  bool rule_allowed;
  char path[2][PATH_MAX];   /* copies of path arguments, read once */
  bool path_read[2];        /* read already (a handler run again reuses the copy) */
  int path_rc[2];           /* that read's result */
  struct vfs_ctx fs;        /* this call as the VFS sees its caller (sentry_call_init) */
};

/* A call received from the agent, ready for a handler (its VFS context
 * included: sentry/vfs_caller.c). */
void sentry_call_init(struct sentry_call *call, struct sentry *s, uint64_t id, int nr, pid_t tid,
                      const uint64_t args[6]);

typedef struct sc_result (*sc_handler_fn)(struct sentry_call *call);

static inline struct sc_result sc_ok(int64_t val)
{
  return (struct sc_result){.outcome = SC_RETURN, .err = 0, .val = val};
}
static inline struct sc_result sc_errno(int err)
{
  return (struct sc_result){.outcome = SC_RETURN, .err = err, .val = -1};
}
/* The result of a libc-style call made for the agent: -1 means errno. A macro,
 * so that errno is read after the call (argument order is unspecified). */
#define sc_syscall(expr)                                                                          \
  ({                                                                                             \
    int64_t sc_ret_ = (int64_t)(expr);                                                           \
    sc_ret_ < 0 ? sc_errno(errno) : sc_ok(sc_ret_);                                              \
  })
static inline struct sc_result sc_gone(void)
{
  return (struct sc_result){.outcome = SC_GONE};
}
static inline struct sc_result sc_answered(int64_t val)
{
  return (struct sc_result){.outcome = SC_ANSWERED, .val = val};
}
/* For the calls only the kernel can perform on the agent (execve, chdir) and
 * for calls whose decision read no agent memory (umask, set*id). The caller
 * must have checked its own copy of every pointer argument first; why the
 * kernel's second read of that memory is safe is documented where each
 * handler calls this (docs/architecture.md, "Calls the kernel must perform"). */
static inline struct sc_result sc_kernel_must_perform(void)
{
  return (struct sc_result){.outcome = SC_CONTINUE};
}

/* The handler of an EMUL call (sentry/dispatch.c), NULL for any other. */
sc_handler_fn sentry_handler_for(long nr);

/* Declarations of every handler named in the table. */
#define SC_DECL_PASS(a)
#define SC_DECL_DENY(a)
#define SC_DECL_EMUL(a) struct sc_result a(struct sentry_call *call);
#define SC(nr_, name_, disp_, arg_, family_, note_) SC_DECL_##disp_(arg_)
#include "table/syscalls.def"
#undef SC
#undef SC_DECL_PASS
#undef SC_DECL_DENY
#undef SC_DECL_EMUL

#endif
