/* The sentry's side of the gofer protocol. */
#ifndef USBOX_GOFER_CLIENT_H
#define USBOX_GOFER_CLIENT_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>

#include "gofer/protocol.h"

struct gofer_client {
  int control; /* new connections go to the gofer through it (-1: not started) */
  /* Starts the gofer when a request needs it and control is -1 (the
   * sentry's sentry/gofer_start.h): 0 once control is set, or -errno.
   * NULL: nothing to start. */
  int (*start)(void *ctx);
  void *start_ctx;
  pthread_mutex_t lock;
  atomic_uint next_id;
  atomic_ulong calls; /* requests sent (usbox -v) */
  unsigned serial; /* this client among the process's (its threads' connections) */
  cpu_set_t allowed; /* the sentry's CPUs, restored after each call */
  bool pin;          /* more than one: calls pin their thread (client.c) */
  /* Told when a call starts and stops waiting for the gofer's answer: a
   * wait its caller may interrupt with a signal (the sentry's watchdog
   * does, sentry.c); NULL: nobody to tell. */
  void (*waiting)(bool on);
};

int gofer_client_init(struct gofer_client *gc, int control);
void gofer_client_destroy(struct gofer_client *gc);
/* The gofer is up: its control socket (the client closes it at the end). */
void gofer_client_set_control(struct gofer_client *gc, int control);

/* What a call sends and gets. */
struct gofer_msg {
  struct gofer_req req;   /* op, mount, walk, flags, args, ident: filled by the caller */
  const char *path, *path2; /* NULL when absent */
  const void *data;
  size_t data_len;
  int in_fd;             /* to send along, or -1 */
  struct gofer_rep rep;  /* the answer */
  char *rep_data;        /* where to put its data (may be NULL) */
  size_t rep_data_cap;
  int out_fd;            /* received fd, or -1 (caller closes) */
  /* GOFER_WALK_KEEP: the fds that came (rep.nkeep of them, caller closes);
   * any other reply's fds beyond the one out_fd are closed */
  int keep_fds[GOFER_MAX_KEEP + 1];
};

/* One request and its reply on this thread's own connection. Returns 0 when
 * a reply came (rep.err says how the operation went; also when the wait
 * was interrupted but the request was done before the cancel reached it),
 * -EINTR when the wait was interrupted and the request cancelled, another
 * -errno if the gofer cannot be reached. */
int gofer_call(struct gofer_client *gc, struct gofer_msg *m);

#endif
