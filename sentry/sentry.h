/* The sentry: receives every intercepted call of the agent, decides by the
 * syscall table, and emulates, continues or denies it.
 *
 * Threads: one receiver blocks in SECCOMP_IOCTL_NOTIF_RECV and handles each
 * call inline (no hand-off, so the agent-sentry round trip stays on one CPU
 * with SYNC_WAKE_UP). A handler may block (a FIFO open waits for a writer);
 * the watchdog (sentry_watchdog, run from the supervisor's loop) then starts
 * another receiver so the rest of the sandbox keeps going. Surplus receivers
 * exit when idle. */
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
#include "sentry/syscall_table.h"
#include "sentry/task.h"
#include "vfs/vfs.h"

#define SENTRY_MAX_RECEIVERS 64

struct sentry_stats {
  atomic_ulong emulated[SC_NR_LIMIT];
  atomic_ulong denied[SC_NR_LIMIT];
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
  struct sentry_stats stats;
  /* --TESTONLY-pass: calls handed to the kernel unchecked, so tests can show
   * what the kernel backstops catch when the table is wrong */
  bool test_pass[SC_NR_LIMIT];

  /* receivers */
  pthread_mutex_t lock;
  pthread_t threads[SENTRY_MAX_RECEIVERS];
  bool thread_live[SENTRY_MAX_RECEIVERS];
  int nthreads;       /* started and not yet exited */
  int base_receivers; /* slots 0..base-1: one per CPU, never leave (sentry.c) */
  atomic_int idle;    /* receivers waiting in RECV */
  atomic_bool stopping;
  /* per receiver: monotonic ns when its current handler started (0 if
   * idle), the call it handles, and whether the watchdog interrupted it */
  atomic_ullong busy_since[SENTRY_MAX_RECEIVERS];
  atomic_ullong busy_id[SENTRY_MAX_RECEIVERS];
  atomic_int busy_tid[SENTRY_MAX_RECEIVERS];
  atomic_int interrupted[SENTRY_MAX_RECEIVERS];
  /* set while the receiver waits where an interruption is harmless (the
   * gofer's answer, a blocking open): never while answering the agent */
  atomic_bool interruptible[SENTRY_MAX_RECEIVERS];
};

/* Mark this receiver thread's current wait as safe to interrupt. */
void sentry_interruptible(bool on);

/* Why the watchdog interrupted a handler. */
enum { INTERRUPT_NONE, INTERRUPT_GONE, INTERRUPT_SIGNAL };
/* The kernel's "restart me" errno: answered for a call interrupted because
 * its thread has a signal to take, so that the kernel delivers it and then
 * restarts the call or fails it with EINTR, as SA_RESTART says. */
#define USBOX_ERESTARTSYS 512

/* Takes ownership of listener. */
int sentry_init(struct sentry *s, int listener, usbox_err_t *err);
int sentry_start(struct sentry *s, usbox_err_t *err);
/* Called periodically: adds a receiver when all are stuck in handlers. */
void sentry_watchdog(struct sentry *s);
/* Stop receivers (the agent is gone) and wait for them. */
void sentry_stop(struct sentry *s);
void sentry_destroy(struct sentry *s);
/* Handle one received notification (dispatch.c); slot is the receiver's. */
void sentry_dispatch(struct sentry *s, const struct seccomp_notif *req, int slot);
/* Whether a thread has a signal it would take now (pending, not blocked,
 * not ignored). Reads /proc/TID/status. */
bool sentry_signal_pending(pid_t tid);
/* CLOCK_MONOTONIC in ns (vDSO). */
unsigned long long sentry_now_ns(void);
/* -v summary on stderr. */
void sentry_print_summary(const struct sentry *s);

#endif
