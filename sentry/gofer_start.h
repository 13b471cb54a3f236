/* The gofer, started by the first request that needs it.
 *
 * The walk cache answers most path calls with the sentry's own system calls
 * on the mounts' fds (vfs/dcache.h), so many runs (`/bin/true`, `python3
 * -c pass`, `make`, `tar -x`) never ask the gofer anything, and a gofer
 * started for them cost ~2.5 ms of CPU on this VM (its address space, its
 * filter's JIT, its exit) and ~3.6 ms end to end. The sentry therefore
 * keeps the view's mount fds until a receiver first needs the gofer; then
 * a thread of its own forks it, gives it the mounts and closes them.
 *
 * That thread stays until the sentry stops: the gofer's parent-death
 * signal is tied to the thread that forked it (prctl(2)), and receivers
 * come and go. */
#ifndef USBOX_SENTRY_GOFER_START_H
#define USBOX_SENTRY_GOFER_START_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "gofer/client.h"
#include "gofer/gofer.h"

struct limits;

struct gofer_start {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  pthread_t thread;
  bool thread_made, stopping;
  int result; /* 1: not started yet; 0: up; -errno: it failed to start */
  /* the view's mounts, owned here until given to the gofer */
  struct gofer_mount mounts[GOFER_MAX_MOUNTS];
  size_t nmounts;
  struct gofer_client *client; /* gets the control socket */
  struct limits *limits;       /* the gofer joins its cgroup */
  pid_t *pid;                  /* the gofer's pid, published for the reaper */
  /* A start that failed: the sandbox cannot go on (called once, from the
   * starting thread, with why). */
  void (*failed)(void *ctx, const usbox_err_t *why);
  void *failed_ctx;
};

/* Empty: no mounts, not started. */
void gofer_start_init(struct gofer_start *gs, struct gofer_client *client, struct limits *limits,
                      pid_t *pid);
/* The view's mounts (a .fd of -1 for one the gofer does not serve); their
 * fds are gs's from here on. */
void gofer_start_take_mounts(struct gofer_start *gs, const struct gofer_mount *mounts, size_t n);
/* struct gofer_client.start: starts the gofer if no request has yet, and
 * waits until it is up. 0, or -errno. */
int gofer_start_now(void *gs);
/* Once no receiver can ask any more: the starting thread ends (and with it,
 * by its parent-death signal, a gofer still running), the mounts close. */
void gofer_start_stop(struct gofer_start *gs);

#endif
