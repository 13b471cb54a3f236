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

#include "common/log.h"

/* A receiver stuck in a handler this long makes the watchdog add another. */
#define STUCK_NS (20 * 1000 * 1000ull)

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

int sentry_init(struct sentry *s, int listener, usbox_err_t *err)
{
  memset(s, 0, sizeof *s);
  s->listener = listener;
  s->gofer.control = -1;
  s->gofer_pid = -1;
  task_cache_init(&s->tasks);
  pthread_mutex_init(&s->lock, NULL);
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

struct receiver_arg {
  struct sentry *s;
  int slot;
};

static bool listener_hung_up(int listener)
{
  struct pollfd p = {.fd = listener, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && !(p.revents & POLLIN);
}

static __thread struct sentry *my_sentry;
static __thread int my_slot = -1;

void sentry_interruptible(bool on)
{
  if (my_sentry != NULL && my_slot >= 0)
    atomic_store(&my_sentry->interruptible[my_slot], on);
}

static void receiver_loop(struct sentry *s, int slot, struct seccomp_notif *req)
{
  my_sentry = s;
  my_slot = slot;
  for (;;) {
    if (atomic_load(&s->stopping))
      return;
    memset(req, 0, s->sizes.notif); /* libseccomp/kernel want it zeroed */
    atomic_fetch_add(&s->idle, 1);
    int r = unotify_recv(s->listener, req);
    atomic_fetch_sub(&s->idle, 1);
    if (r == -EINTR)
      continue;
    if (r == -ENOENT) { /* the caller died before we got it, or no agent is left */
      if (listener_hung_up(s->listener))
        return;
      continue;
    }
    if (r < 0) {
      usbox_warn("receiving a notification failed: %s", strerror(-r));
      return;
    }
    atomic_store(&s->interrupted[slot], INTERRUPT_NONE);
    atomic_store(&s->busy_id[slot], req->id);
    atomic_store(&s->busy_tid[slot], (int)req->pid);
    atomic_store(&s->busy_since[slot], sentry_now_ns());
    sentry_dispatch(s, req, slot);
    atomic_store(&s->busy_since[slot], 0);
    /* a receiver added by the watchdog leaves once others are idle again */
    if (slot >= s->base_receivers && atomic_load(&s->idle) > 0)
      return;
  }
}

static void *receiver_main(void *p)
{
  struct receiver_arg arg = *(struct receiver_arg *)p;
  free(p);
  struct sentry *s = arg.s;
  /* Own fs_struct: this thread sets its umask to the agent's (task.c). */
  if (unshare(CLONE_FS) < 0)
    usbox_warn("unshare(CLONE_FS) in a receiver: %s", strerror(errno));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, interrupt_signal());
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  /* the gofer starts this thread's server while the agent is still on
   * its way to its first call */
  if (gofer_client_connect(&s->gofer) < 0)
    usbox_debug("receiver %d: no gofer connection yet", arg.slot);
  struct seccomp_notif *req = calloc(1, s->sizes.notif);
  if (req != NULL)
    receiver_loop(s, arg.slot, req);
  free(req);
  pthread_mutex_lock(&s->lock);
  s->nthreads--;
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* lock held */
static int start_receiver(struct sentry *s, usbox_err_t *err)
{
  int slot = -1;
  for (int i = 0; i < SENTRY_MAX_RECEIVERS; i++)
    if (!s->thread_live[i] || pthread_tryjoin_np(s->threads[i], NULL) == 0) {
      s->thread_live[i] = false;
      slot = i;
      break;
    }
  if (slot < 0)
    return usbox_err_set(err, EAGAIN, "all %d sentry receivers are busy", SENTRY_MAX_RECEIVERS);
  struct receiver_arg *arg = malloc(sizeof *arg);
  if (arg == NULL)
    return usbox_err_set(err, ENOMEM, "allocating a receiver");
  arg->s = s;
  arg->slot = slot;
  atomic_store(&s->busy_since[slot], 0);
  int r = pthread_create(&s->threads[slot], NULL, receiver_main, arg);
  if (r != 0) {
    free(arg);
    return usbox_err_set(err, r, "starting a sentry receiver");
  }
  s->thread_live[slot] = true;
  s->nthreads++;
  return 0;
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

/* A handler that has been blocked a while is interrupted (SIGRTMIN, no
 * SA_RESTART: its blocking syscall returns EINTR) when its caller is gone
 * (killed, or SIGKILLed while waiting) or has a signal to take: the FIFO
 * open it waits in must not outlive the caller, nor keep it from its
 * signal handler. */
static void interrupt_stuck(struct sentry *s, int slot, unsigned long long now)
{
  unsigned long long since = atomic_load(&s->busy_since[slot]);
  if (since == 0 || now - since < STUCK_NS || !atomic_load(&s->interruptible[slot]))
    return;
  uint64_t id = atomic_load(&s->busy_id[slot]);
  pid_t tid = atomic_load(&s->busy_tid[slot]);
  int why = unotify_id_valid(s->listener, id) < 0 ? INTERRUPT_GONE
            : sentry_signal_pending(tid)          ? INTERRUPT_SIGNAL
                                                  : INTERRUPT_NONE;
  if (why == INTERRUPT_NONE || atomic_load(&s->busy_id[slot]) != id)
    return;
  atomic_store(&s->interrupted[slot], why);
  pthread_kill(s->threads[slot], interrupt_signal());
}

void sentry_watchdog(struct sentry *s)
{
  if (atomic_load(&s->stopping))
    return;
  unsigned long long now = sentry_now_ns();
  pthread_mutex_lock(&s->lock);
  bool all_stuck = s->nthreads > 0 && atomic_load(&s->idle) == 0;
  for (int i = 0; i < SENTRY_MAX_RECEIVERS; i++) {
    /* a receiver that left is not an idle one: reap it */
    if (s->thread_live[i] && pthread_tryjoin_np(s->threads[i], NULL) == 0)
      s->thread_live[i] = false;
    if (!s->thread_live[i])
      continue;
    unsigned long long since = atomic_load(&s->busy_since[i]);
    if (since == 0 || now - since < STUCK_NS)
      all_stuck = false;
    interrupt_stuck(s, i, now);
  }
  if (all_stuck && s->nthreads < SENTRY_MAX_RECEIVERS) {
    usbox_err_t err;
    if (start_receiver(s, &err) < 0)
      usbox_warn("%s", err.msg);
    else
      usbox_debug("all receivers blocked in handlers: started receiver %d", s->nthreads);
  }
  pthread_mutex_unlock(&s->lock);
}

void sentry_stop(struct sentry *s)
{
  atomic_store(&s->stopping, true);
  for (int i = 0; i < SENTRY_MAX_RECEIVERS; i++) {
    if (!s->thread_live[i])
      continue;
    /* The signal may land just before the thread enters RECV; repeat until
     * it has left. */
    for (;;) {
      pthread_kill(s->threads[i], interrupt_signal());
      struct timespec deadline;
      clock_gettime(CLOCK_REALTIME, &deadline);
      deadline.tv_nsec += 10 * 1000 * 1000;
      if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
      }
      if (pthread_timedjoin_np(s->threads[i], NULL, &deadline) == 0)
        break;
    }
    s->thread_live[i] = false;
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
  audit_close(s->audit);
  s->audit = NULL;
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

void sentry_print_summary(const struct sentry *s)
{
  print_counts(&s->stats, "calls emulated", s->stats.emulated, 12, false);
  print_counts(&s->stats, "calls checked, then performed by the kernel", s->stats.continued, -1,
               false);
  print_counts(&s->stats, "calls denied", s->stats.denied, -1, true);
}
