#include "sentry/gofer_start.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/deputy.h"
#include "limits/limits.h"

void gofer_start_init(struct gofer_start *gs, struct gofer_client *client, struct limits *limits,
                      pid_t *pid)
{
  memset(gs, 0, sizeof *gs);
  pthread_mutex_init(&gs->lock, NULL);
  pthread_cond_init(&gs->changed, NULL);
  gs->result = 1;
  gs->client = client;
  gs->limits = limits;
  gs->pid = pid;
}

void gofer_start_take_mounts(struct gofer_start *gs, const struct gofer_mount *mounts, size_t n)
{
  pthread_mutex_lock(&gs->lock);
  gs->nmounts = n < GOFER_MAX_MOUNTS ? n : GOFER_MAX_MOUNTS;
  memcpy(gs->mounts, mounts, gs->nmounts * sizeof *mounts);
  pthread_mutex_unlock(&gs->lock);
}

static void close_mounts(struct gofer_start *gs)
{
  for (size_t i = 0; i < gs->nmounts; i++)
    if (gs->mounts[i].fd >= 0)
      close(gs->mounts[i].fd), gs->mounts[i].fd = -1;
}

/* Fork the gofer, put it in its cgroup, give it the mounts: 0 with the
 * control socket in *control, or -1 (the gofer, if forked, killed). */
static int start(struct gofer_start *gs, int *control, usbox_err_t *err)
{
  pid_t pid = gofer_fork(control, err);
  if (pid < 0)
    return -1;
  __atomic_store_n(gs->pid, pid, __ATOMIC_RELEASE); /* the reaper's from here */
  if (limits_attach_gofer(gs->limits, pid, err) == 0 &&
      gofer_give_mounts(*control, gs->mounts, gs->nmounts, err) == 0)
    return 0;
  close(*control);
  *control = -1;
  kill(pid, SIGKILL);
  return -1;
}

static void *starter_main(void *p)
{
  struct gofer_start *gs = p;
  pthread_mutex_lock(&gs->lock);
  usbox_err_t err = {0};
  int control = -1;
  int r = start(gs, &control, &err);
  close_mounts(gs); /* the gofer's now, or nobody's */
  if (r == 0)
    gofer_client_set_control(gs->client, control);
  gs->result = r == 0 ? 0 : -(err.code != 0 ? err.code : EIO);
  pthread_cond_broadcast(&gs->changed);
  if (r < 0 && gs->failed != NULL)
    gs->failed(gs->failed_ctx, &err);
  /* the gofer's parent: it stays until the sentry stops */
  while (!gs->stopping)
    pthread_cond_wait(&gs->changed, &gs->lock);
  pthread_mutex_unlock(&gs->lock);
  return NULL;
}

int gofer_start_now(void *p)
{
  struct gofer_start *gs = p;
  pthread_mutex_lock(&gs->lock);
  if (gs->result == 1 && !gs->thread_made && !gs->stopping) {
    /* A thread starts with its creator's credentials as its own: never a
     * lingering scope's (common/deputy.c); the gofer then starts with
     * usbox's. Every signal blocked in it: none of the sentry's handlers
     * runs there, and the gofer sets its own mask. */
    deputy_unlinger();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&gs->thread, NULL, starter_main, gs);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e == 0) {
      gs->thread_made = true;
    } else { /* as a failed start: the sandbox stops */
      usbox_err_t err = {0};
      usbox_err_set(&err, e, "making the thread that starts it");
      gs->result = -e;
      close_mounts(gs);
      if (gs->failed != NULL)
        gs->failed(gs->failed_ctx, &err);
    }
  }
  while (gs->result == 1 && !gs->stopping)
    pthread_cond_wait(&gs->changed, &gs->lock);
  int r = gs->result == 1 ? -EPIPE : gs->result;
  pthread_mutex_unlock(&gs->lock);
  return r;
}

void gofer_start_stop(struct gofer_start *gs)
{
  pthread_mutex_lock(&gs->lock);
  gs->stopping = true;
  pthread_cond_broadcast(&gs->changed);
  bool joined = gs->thread_made;
  pthread_mutex_unlock(&gs->lock);
  if (joined)
    pthread_join(gs->thread, NULL);
  close_mounts(gs);
  pthread_cond_destroy(&gs->changed);
  pthread_mutex_destroy(&gs->lock);
}
