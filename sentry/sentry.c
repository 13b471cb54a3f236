#include "sentry/sentry.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/deputy.h"
#include "common/log.h"
#include "sentry/report.h"

/* A receiver stuck in a handler this long is replaced by the watchdog. */
#define STUCK_NS (20 * 1000 * 1000ull)
/* How often a call blocked for more than a second is checked (see
 * interrupt_stuck). */
#define RECHECK_NS (100 * 1000 * 1000ull)

static int interrupt_signal(void)
{
  return SIGRTMIN; /* first real-time signal glibc leaves to applications */
}

static void on_interrupt(int sig)
{
  (void)sig; /* only here so that a blocking RECV returns EINTR */
}

unsigned long long sentry_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

void sentry_wait_writers(struct sentry *s)
{
  /* each writer is a receiver between two system calls (ADDFD|SEND, close):
   * yielding lets one that was preempted there run (it may share the CPU) */
  unsigned long long deadline = 0;
  for (unsigned spins = 0; atomic_load(&s->writers_in_flight) > 0; spins++) {
    unsigned long long now = sentry_now_ns();
    if (deadline == 0)
      deadline = now + 1000000000ull;
    else if (now > deadline)
      return;
    if (spins < 64)
      sched_yield();
    else /* a writer held up for long (a loaded machine): stop spinning */
      nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
  }
}

void sentry_prepare(struct sentry *s)
{
  s->listener = -1;
  s->gofer.control = -1;
  s->gofer_pid = -1;
  s->only_uid = (uid_t)-1; /* no id rule until the supervisor sets one */
  s->only_gid = (gid_t)-1;
  task_cache_init(&s->tasks);
  s->tasks.vfs = &s->vfs; /* told of the agent's chdirs (task_cwd_changing) */
  pthread_mutex_init(&s->lock, NULL);
}

int sentry_take_listener(struct sentry *s, int listener, usbox_err_t *err)
{
  s->listener = listener;
  int r = unotify_sizes(&s->sizes);
  if (r < 0)
    return usbox_err_set(err, -r, "SECCOMP_GET_NOTIF_SIZES");
  r = unotify_set_sync_wakeup(listener);
  if (r < 0)
    usbox_warn("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP unavailable (%s): calls may be slower",
               strerror(-r));
  struct sigaction sa = {.sa_handler = on_interrupt}; /* no SA_RESTART */
  sigemptyset(&sa.sa_mask);
  if (sigaction(interrupt_signal(), &sa, NULL) < 0)
    return usbox_err_set(err, errno, "sigaction");
  return 0;
}

/* One receiver thread. Its fields other than next/exited are its own or
 * atomics the watchdog reads; the struct is freed by whoever joins it. */
struct receiver {
  struct sentry *s;
  pthread_t thread;
  struct receiver *next; /* s->lock */
  atomic_bool exited;    /* its thread is done: join it */
  /* handed off (sentry_may_block, or found stuck by the watchdog): another
   * receiver serves in its place and it leaves after this call */
  atomic_bool handed_off;
  /* monotonic ns when its current handler started (0 if idle), the call it
   * handles, and whether the watchdog interrupted it */
  atomic_ullong busy_since;
  atomic_ullong busy_id;
  atomic_int busy_tid;
  atomic_int interrupted;
  /* set while the receiver waits where an interruption is harmless (the
   * gofer's answer, a blocking open): never while answering the agent */
  atomic_bool interruptible;
  unsigned long long next_check_ns; /* the watchdog's (interrupt_stuck) */
};

static bool listener_hung_up(int listener)
{
  struct pollfd p = {.fd = listener, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && !(p.revents & POLLIN);
}

static __thread struct receiver *me;

void sentry_interruptible(bool on)
{
  if (me != NULL)
    atomic_store(&me->interruptible, on);
}

bool sentry_interrupted_for_signal(void)
{
  return me != NULL && atomic_load(&me->interrupted) == INTERRUPT_SIGNAL;
}

static int start_receiver(struct sentry *s, usbox_err_t *err);

/* Lock held. Another receiver takes rc's place; rc leaves after its call.
 * If no thread can be started now, rc stays a serving one (the watchdog
 * tries again while it is stuck). */
static void hand_off(struct sentry *s, struct receiver *rc)
{
  if (atomic_load(&rc->handed_off) || atomic_load(&s->stopping))
    return;
  usbox_err_t err;
  if (start_receiver(s, &err) < 0) {
    usbox_debug("handing off a blocking call: %s", err.msg);
    return;
  }
  atomic_store(&rc->handed_off, true);
  atomic_fetch_sub(&s->serving, 1);
}

void sentry_may_block(void)
{
  if (me == NULL || atomic_load(&me->handed_off))
    return;
  pthread_mutex_lock(&me->s->lock);
  hand_off(me->s, me);
  pthread_mutex_unlock(&me->s->lock);
}

/* After a call: a handed-off receiver leaves; so does a serving one while
 * more than one per CPU serve and another is waiting for calls. */
static bool should_leave(struct sentry *s, struct receiver *rc)
{
  if (atomic_load(&rc->handed_off))
    return true;
  int serving = atomic_load(&s->serving);
  return serving > s->base_receivers && atomic_load(&s->idle) > 0 &&
         atomic_compare_exchange_strong(&s->serving, &serving, serving - 1);
}

static void receiver_loop(struct sentry *s, struct receiver *rc, struct seccomp_notif *req)
{
  for (;;) {
    if (atomic_load(&s->stopping))
      break;
    memset(req, 0, s->sizes.notif); /* libseccomp/kernel want it zeroed */
    atomic_fetch_add(&s->idle, 1);
    int r = unotify_recv(s->listener, req);
    atomic_fetch_sub(&s->idle, 1);
    if (r == -EINTR)
      continue;
    if (r == -ENOENT) { /* the caller died before we got it, or no agent is left */
      if (listener_hung_up(s->listener))
        break;
      continue;
    }
    if (r < 0) {
      usbox_warn("receiving a notification failed: %s", strerror(-r));
      break;
    }
    atomic_store(&rc->interrupted, INTERRUPT_NONE);
    atomic_store(&rc->busy_id, req->id);
    atomic_store(&rc->busy_tid, (int)req->pid);
    unsigned long long start = sentry_now_ns();
    atomic_store(&rc->busy_since, start);
    sentry_dispatch(s, req, start);
    atomic_store(&rc->busy_since, 0);
    if (should_leave(s, rc))
      return;
  }
  if (!atomic_load(&rc->handed_off))
    atomic_fetch_sub(&s->serving, 1);
}

static void *receiver_main(void *p)
{
  struct receiver *rc = p;
  struct sentry *s = rc->s;
  me = rc;
  /* Own fs_struct: this thread sets its umask to the agent's (task.c). */
  if (unshare(CLONE_FS) < 0)
    usbox_warn("unshare(CLONE_FS) in a receiver: %s", strerror(errno));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, interrupt_signal());
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  /* no gofer connection yet: the first request makes it (gofer/client.c
   * my_conn), so a run the walk cache answers alone starts no server
   * thread in the gofer */
  struct seccomp_notif *req = calloc(1, s->sizes.notif);
  if (req != NULL)
    receiver_loop(s, rc, req);
  else
    atomic_fetch_sub(&s->serving, 1);
  free(req);
  me = NULL;
  atomic_store(&rc->exited, true);
  return NULL;
}

/* Lock held. The new receiver counts as serving from now. */
static int start_receiver(struct sentry *s, usbox_err_t *err)
{
  /* a thread starts with its creator's credentials, and takes them for its
   * own (common/deputy.c): never a lingering scope's */
  deputy_unlinger();
  struct receiver *rc = calloc(1, sizeof *rc);
  if (rc == NULL)
    return usbox_err_set(err, ENOMEM, "allocating a receiver");
  rc->s = s;
  atomic_fetch_add(&s->serving, 1);
  int r = pthread_create(&rc->thread, NULL, receiver_main, rc);
  if (r != 0) {
    atomic_fetch_sub(&s->serving, 1);
    free(rc);
    return usbox_err_set(err, r, "starting a sentry receiver");
  }
  rc->next = s->receivers;
  s->receivers = rc;
  s->nthreads++;
  return 0;
}

/* Lock held: join and free the receivers that left. */
static void reap_receivers(struct sentry *s)
{
  for (struct receiver **pp = &s->receivers; *pp != NULL;) {
    struct receiver *rc = *pp;
    if (atomic_load(&rc->exited) && pthread_join(rc->thread, NULL) == 0) {
      *pp = rc->next;
      s->nthreads--;
      free(rc);
    } else {
      pp = &rc->next;
    }
  }
}

/* One receiver per CPU the sentry may use (at most 4): agent processes
 * running on different CPUs are served at once, each receiver woken on its
 * caller's CPU (SYNC_WAKE_UP). With a single receiver, a parallel build's
 * calls queued behind each other and the receiver hopped between CPUs
 * (make -j2: 3.7x native unpinned, 1.7x pinned). */
static int receivers_for_cpus(void)
{
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) < 0)
    return 1;
  int n = CPU_COUNT(&cpus);
  return n < 1 ? 1 : n > 4 ? 4 : n;
}

int sentry_start(struct sentry *s, usbox_err_t *err)
{
  pthread_mutex_lock(&s->lock);
  s->base_receivers = receivers_for_cpus();
  int r = 0;
  for (int i = 0; i < s->base_receivers && r == 0; i++)
    r = start_receiver(s, err);
  pthread_mutex_unlock(&s->lock);
  return r;
}

/* Signals whose default action is to do nothing: pending, they interrupt
 * nothing unless caught. */
#define DEFAULT_IGNORED                                                                          \
  ((1ull << (SIGCHLD - 1)) | (1ull << (SIGCONT - 1)) | (1ull << (SIGURG - 1)) |                  \
   (1ull << (SIGWINCH - 1)))

static unsigned long long status_mask(const char *text, const char *key)
{
  const char *p = strstr(text, key);
  return p != NULL ? strtoull(p + strlen(key), NULL, 16) : 0;
}

bool sentry_signal_pending(pid_t tid)
{
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  unsigned long long pending = status_mask(buf, "\nSigPnd:\t") | status_mask(buf, "\nShdPnd:\t");
  unsigned long long blocked = status_mask(buf, "\nSigBlk:\t");
  unsigned long long ignored = status_mask(buf, "\nSigIgn:\t");
  unsigned long long caught = status_mask(buf, "\nSigCgt:\t");
  unsigned long long takes = pending & ~blocked & ~ignored & (caught | ~DEFAULT_IGNORED);
  return takes != 0;
}

/* How long rc has been in its current handler as of now (0: idle). A
 * handler that started after now was read has not been in it at all: the
 * difference would wrap (every call a receiver started while the watchdog
 * looked was taken for one stuck for ages: handed off, and interrupted if
 * its caller had a signal pending, a shell's SIGCHLD). */
static unsigned long long busy_for(struct receiver *rc, unsigned long long now)
{
  unsigned long long since = atomic_load(&rc->busy_since);
  return since == 0 || since > now ? 0 : now - since;
}

/* A handler that has been blocked a while is interrupted (SIGRTMIN, no
 * SA_RESTART: its blocking syscall returns EINTR) when its caller is gone
 * (killed, or SIGKILLed while waiting) or has a signal to take: the FIFO
 * open it waits in must not outlive the caller, nor keep it from its
 * signal handler. A check reads /proc/TID/status: one blocked for more than
 * a second is checked every RECHECK_NS only, so that a hundred blocked
 * threads do not keep the sentry busy. */
static void interrupt_stuck(struct sentry *s, struct receiver *rc, unsigned long long now)
{
  unsigned long long busy = busy_for(rc, now);
  if (busy < STUCK_NS || !atomic_load(&rc->interruptible))
    return;
  if (busy > 1000000000ull && now < rc->next_check_ns)
    return;
  rc->next_check_ns = now + RECHECK_NS;
  uint64_t id = atomic_load(&rc->busy_id);
  pid_t tid = atomic_load(&rc->busy_tid);
  int why = unotify_id_valid(s->listener, id) < 0 ? INTERRUPT_GONE
            : sentry_signal_pending(tid)          ? INTERRUPT_SIGNAL
                                                  : INTERRUPT_NONE;
  if (why == INTERRUPT_NONE || atomic_load(&rc->busy_id) != id)
    return;
  atomic_store(&rc->interrupted, why);
  pthread_kill(rc->thread, interrupt_signal());
}

/* Receivers are freed only here and in sentry_stop (both on the
 * supervisor's thread), and added at the list's head: the list can be
 * walked from a head read under the lock without holding it. */
void sentry_watchdog(struct sentry *s)
{
  if (atomic_load(&s->stopping))
    return;
  unsigned long long now = sentry_now_ns();
  pthread_mutex_lock(&s->lock);
  reap_receivers(s);
  struct receiver *head = s->receivers;
  for (struct receiver *rc = head; rc != NULL; rc = rc->next) {
    /* blocked where no handler said it might: serve its share elsewhere */
    if (busy_for(rc, now) >= STUCK_NS && !atomic_load(&rc->exited) &&
        !atomic_load(&rc->handed_off)) {
      hand_off(s, rc);
      usbox_debug("a receiver is blocked in a handler: %d receivers now", s->nthreads);
    }
  }
  pthread_mutex_unlock(&s->lock);
  for (struct receiver *rc = head; rc != NULL; rc = rc->next)
    if (!atomic_load(&rc->exited))
      interrupt_stuck(s, rc, now);
}

static void join_receiver(struct receiver *rc)
{
  /* The signal may land just before the thread enters RECV; repeat until
   * it has left. */
  for (;;) {
    pthread_kill(rc->thread, interrupt_signal());
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 10 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
    if (pthread_timedjoin_np(rc->thread, NULL, &deadline) == 0)
      return;
  }
}

void sentry_stop(struct sentry *s)
{
  atomic_store(&s->stopping, true);
  /* joined without the lock (a receiver may be waiting for it to hand
   * off); one that handed off just before may have added another */
  for (;;) {
    pthread_mutex_lock(&s->lock);
    struct receiver *list = s->receivers;
    s->receivers = NULL;
    pthread_mutex_unlock(&s->lock);
    if (list == NULL)
      return;
    while (list != NULL) {
      struct receiver *rc = list;
      list = rc->next;
      join_receiver(rc);
      pthread_mutex_lock(&s->lock);
      s->nthreads--;
      pthread_mutex_unlock(&s->lock);
      free(rc);
    }
  }
}

void sentry_destroy(struct sentry *s)
{
  if (s->listener >= 0)
    close(s->listener);
  s->listener = -1;
  vfs_destroy(&s->vfs);
  if (s->gofer.control >= 0)
    gofer_client_destroy(&s->gofer);
  task_cache_destroy(&s->tasks);
  exec_rules_free(&s->exec);
  audit_close(s->audit);
  s->audit = NULL;
  report_free(s->report);
  s->report = NULL;
  pthread_mutex_destroy(&s->lock);
}

struct count {
  int nr;
  unsigned long n;
};

static int by_count_desc(const void *a, const void *b)
{
  const struct count *x = a, *y = b;
  return x->n < y->n ? 1 : x->n > y->n ? -1 : x->nr - y->nr;
}

static void print_counts(const struct sentry_stats *stats, const char *what,
                         const atomic_ulong *counts, int limit, bool show_errno)
{
  struct count c[SC_NR_LIMIT];
  int n = 0;
  unsigned long total = 0;
  for (int nr = 0; nr < SC_NR_LIMIT; nr++) {
    unsigned long v = atomic_load(&counts[nr]);
    if (v > 0) {
      c[n++] = (struct count){nr, v};
      total += v;
    }
  }
  qsort(c, (size_t)n, sizeof c[0], by_count_desc);
  fprintf(stderr, "usbox: %s: %lu", what, total);
  for (int i = 0; i < n && (limit < 0 || i < limit); i++) {
    const struct syscall_entry *e = syscall_by_nr(c[i].nr);
    char ebuf[16];
    fprintf(stderr, "%s%s %lu", i == 0 ? " (" : ", ", e ? e->name : "?", c[i].n);
    if (show_errno && e != NULL && e->disposition == SC_DENY)
      fprintf(stderr, " %s", errno_name(e->deny_errno, ebuf));
    if (!show_errno) {
      /* mean time in the sentry per call (all outcomes of this syscall) */
      unsigned long all = atomic_load(&stats->emulated[c[i].nr]) +
                          atomic_load(&stats->continued[c[i].nr]);
      if (all > 0)
        fprintf(stderr, " ~%.1fus", (double)atomic_load(&stats->handling_ns[c[i].nr]) / all / 1e3);
    }
  }
  fprintf(stderr, "%s\n", n > 0 ? (limit >= 0 && n > limit ? ", ...)" : ")") : "");
}

/* How many calls got each decision (the audit log's "decision"). */
static void print_verdicts(const struct sentry_stats *stats)
{
  unsigned long total = 0;
  for (int v = 0; v < VERDICT_COUNT; v++)
    total += atomic_load(&stats->verdicts[v]);
  fprintf(stderr, "usbox: decisions: %lu (", total);
  for (int v = 0; v < VERDICT_COUNT; v++)
    fprintf(stderr, "%s%s %lu", v > 0 ? ", " : "", sentry_verdict_name((enum sentry_verdict)v),
            atomic_load(&stats->verdicts[v]));
  fprintf(stderr, ")\n");
}

void sentry_print_summary(const struct sentry *s)
{
  print_verdicts(&s->stats);
  print_counts(&s->stats, "calls emulated", s->stats.emulated, 12, false);
  print_counts(&s->stats, "calls checked, then performed by the kernel", s->stats.continued, -1,
               false);
  print_counts(&s->stats, "calls denied", s->stats.denied, -1, true);
  print_counts(&s->stats, "calls answered ENOSYS, as a kernel without them (the program falls "
               "back)", s->stats.fallback, -1, false);
  report_print(s->report, stderr);
  const struct dcache_stats *w = &s->vfs.dcache.stats;
  if (s->vfs.dcache.enabled)
    fprintf(stderr,
            "usbox: walk cache: %lu answered, %lu more by a lookup of the sentry's own in a "
            "cached directory, %lu asked the gofer (%lu changed since), %lu rounds of eviction, "
            "%lu steps in changed directories looked up again; directory checks: %lu ctimes "
            "read, %lu without (no event since), %lu without (events for other names only)\n",
            w->hits, w->local, w->misses + w->stale - w->local, w->stale, w->flushes, w->relooked,
            w->checked, w->quiet, w->named);
  else
    fprintf(stderr, "usbox: walk cache: off\n");
  const struct vfs *v = &s->vfs;
  if (v->hidden_alias_anywhere || v->dcache.files_changed)
    fprintf(stderr, "usbox: hidden files: %zu watched for a second name; every unlink in the "
                    "cache's directories checks its name first\n", v->nhidden_watched);
  else
    fprintf(stderr, "usbox: hidden files: %zu watched for a second name; an unlink checks its "
                    "name first on %zu devices and where files show another device\n",
            v->nhidden_watched, v->nhidden_alias_devs);
  fprintf(stderr, "usbox: gofer: %lu requests\n", atomic_load(&s->gofer.calls));
}
