/* The sentry: receives every intercepted call of the agent, decides by the
 * syscall table, and emulates, continues or denies it.
 *
 * Threads: a receiver blocks in SECCOMP_IOCTL_NOTIF_RECV and handles each
 * call inline (so the agent-sentry round trip stays on one CPU with
 * SYNC_WAKE_UP). A handler that may block for long (a FIFO open waits for
 * its other end) hands off first: it starts a receiver to take its place,
 * finishes its call and leaves. The watchdog (sentry_watchdog, run from the
 * supervisor's loop) does the same for a handler found blocked where nobody
 * expected it (a slow connect or gofer read). So a blocked call never takes
 * the sandbox's service with it, and there is no fixed number of receivers
 * that a program could use up: a blocked sentry thread exists only for a
 * blocked agent thread, and those are bounded by the sandbox's limits. */
#ifndef USBOX_SENTRY_SENTRY_H
#define USBOX_SENTRY_SENTRY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "gofer/client.h"
#include "platform/unotify.h"
#include "sentry/audit.h"
#include "table/syscall_table.h"
#include "sentry/task.h"
#include "vfs/vfs.h"


struct receiver; /* sentry.c */
struct report;   /* sentry/report.h */

/* What the sentry decided about a call: the audit log's "decision". */
enum sentry_verdict {
  VERDICT_EMULATE,  /* the sentry performed it (an ENOENT it met is a missing path) */
  VERDICT_KERNEL,   /* checked, then performed by the kernel */
  VERDICT_DENY,     /* a rule refused it: the table, an argument rule, a network rule */
  VERDICT_HIDDEN,   /* a hide rule answered ENOENT, as for a missing path */
  VERDICT_FALLBACK, /* ENOSYS, as a kernel without the call says: the program goes
                     * on without it (clone3: libc uses clone) */
  VERDICT_COUNT,
};
/* "emulate", "kernel", "deny", "hidden", "fallback" */
const char *sentry_verdict_name(enum sentry_verdict v);

struct sentry_stats {
  atomic_ulong verdicts[VERDICT_COUNT];
  atomic_ulong emulated[SC_NR_LIMIT]; /* emulate and hidden */
  atomic_ulong denied[SC_NR_LIMIT];
  atomic_ulong fallback[SC_NR_LIMIT];
  atomic_ulong continued[SC_NR_LIMIT];
  /* time from RECV to just before the answer, summed: the sentry's own work
   * (after the answer the woken agent usually runs first on this CPU) */
  atomic_ulong handling_ns[SC_NR_LIMIT];
  atomic_ulong gone; /* calls whose agent thread went away mid-way */
};

struct sentry {
  int listener;
  struct unotify_sizes sizes;
  struct vfs vfs;
  struct gofer_client gofer; /* the host I/O of the view goes through it */
  pid_t gofer_pid;
  struct task_cache tasks;
  struct audit *audit; /* NULL: no --audit */
  struct report *report; /* -v's refusals (sentry/report.h), or NULL */
  struct sentry_stats stats;
  /* --TESTONLY-pass: calls handed to the kernel unchecked, so tests can show
   * what the kernel backstops catch when the table is wrong */
  bool test_pass[SC_NR_LIMIT];
  /* Without root the sandbox's user namespace maps one uid and one gid,
   * usbox's own: a set*id call naming another id gets EPERM from the sentry
   * (natively an unprivileged process gets EPERM; the kernel would say
   * EINVAL, the id being unmapped), unless the agent keeps CAP_SETUID /
   * CAP_SETGID. (uid_t)-1: not applied. */
  uid_t only_uid;
  gid_t only_gid;
  /* Which programs may run (policy/exec_rules.h), each rule also resolved
   * in the view (sentry_exec_rules); checked by sys_exec.c. */
  struct exec_rules exec;
  /* The sandbox's first execve (the program usbox runs): EXEC_FIRST_REFUSED
   * once the exec rules refused it, with why in first_exec_why (written
   * before the state), so that usbox's error line can say so. */
  atomic_int first_exec;
  char first_exec_why[400];
  /* Writable files handed to the agent whose copy the sentry has not yet
   * closed (sys_file.c: injected and answered in one ADDFD|SEND, closed
   * right after). An execve waits for none to be left: the agent's
   * write-close-execve of a file it just made would see the sentry's copy
   * and fail with ETXTBSY. */
  atomic_int writers_in_flight;
  /* --TESTONLY-hold-writable: ms the sentry keeps its copy of a writable
   * file open after the answer (widens that window for a test); 0: none */
  unsigned test_hold_writable_ms;

  /* receivers (sentry.c): a list, no fixed number */
  pthread_mutex_t lock;
  struct receiver *receivers; /* lock held */
  int nthreads;               /* started and not yet joined; lock held */
  int base_receivers;         /* one per CPU (sentry.c) */
  atomic_int serving;         /* receivers that have not handed off their call */
  atomic_int idle;            /* receivers waiting in RECV */
  atomic_bool stopping;
};

/* Mark this receiver thread's current wait as safe to interrupt. */
void sentry_interruptible(bool on);
/* This receiver's call may block for long: another receiver takes its
 * place now, and this one leaves once the call is answered. */
void sentry_may_block(void);
/* Whether the watchdog interrupted this receiver's call for a signal. */
bool sentry_interrupted_for_signal(void);

/* Why the watchdog interrupted a handler. */
enum { INTERRUPT_NONE, INTERRUPT_GONE, INTERRUPT_SIGNAL };
/* The kernel's "restart me" errno: answered for a call interrupted because
 * its thread has a signal to take, so that the kernel delivers it and then
 * restarts the call or fails it with EINTR, as SA_RESTART says. */
#define USBOX_ERESTARTSYS 512

/* An empty sentry (no listener yet), in s, zeroed memory (supervisor.c's
 * run_new: fresh pages, of which only those written are touched): made
 * while the sandbox's first process builds the view; sentry_destroy may
 * follow. */
void sentry_prepare(struct sentry *s);
/* The sandbox's seccomp listener; takes ownership of it. */
int sentry_take_listener(struct sentry *s, int listener, usbox_err_t *err);
int sentry_start(struct sentry *s, usbox_err_t *err);
/* Called periodically: replaces receivers stuck in handlers, joins those
 * that left, interrupts calls whose caller is gone or has a signal. */
void sentry_watchdog(struct sentry *s);
/* Stop receivers (the agent is gone) and wait for them. */
void sentry_stop(struct sentry *s);
void sentry_destroy(struct sentry *s);
/* Handle one received notification (dispatch.c). */
void sentry_dispatch(struct sentry *s, const struct seccomp_notif *req,
                     unsigned long long start_ns);
/* Whether a thread has a signal it would take now (pending, not blocked,
 * not ignored). Reads /proc/TID/status. */
bool sentry_signal_pending(pid_t tid);
/* Wait until no writable file the sentry handed out is still open in it
 * (writers_in_flight): before an execve goes to the kernel. Gives up after
 * a second (the execve may then fail with ETXTBSY, as with any writer). */
void sentry_wait_writers(struct sentry *s);
/* CLOCK_MONOTONIC in ns (vDSO). */
unsigned long long sentry_now_ns(void);
enum { EXEC_FIRST_UNSEEN, EXEC_FIRST_ALLOWED, EXEC_FIRST_REFUSED };
/* The policy's exec rules, copied and resolved in the view (every rule's
 * literal part, symlinks followed, by usbox's own lookup): after the VFS
 * knows the agent (vfs_set_agent), before the sentry serves. */
int sentry_exec_rules(struct sentry *s, const struct exec_rules *rules, usbox_err_t *err);
/* -v summary on stderr. */
void sentry_print_summary(const struct sentry *s);

#endif
