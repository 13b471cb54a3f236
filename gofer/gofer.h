/* The gofer: a separate, confined process that does the host file I/O of
 * the view for the sentry (docs/vfs.md, gofer/PROTOCOL.md). */
#ifndef USBOX_GOFER_GOFER_H
#define USBOX_GOFER_GOFER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

#define GOFER_MAX_MOUNTS 64

struct gofer_mount {
  int fd;      /* O_PATH root of the mount (in the agent's mount namespace) */
  bool procfs; /* PROC_FOLLOW is allowed only here */
};

/* Fork the gofer: it holds nothing of its forker's but *control (a
 * SOCK_SEQPACKET socket: send it a new connection with gofer_connect), with
 * default signal dispositions and an empty mask, and waits for the view's
 * mounts (gofer_give_mounts) before it confines itself and serves. Safe
 * from a thread of a multithreaded process (glibc's fork makes malloc whole
 * in the child; the gofer takes no other lock of its forker's); its
 * parent-death signal is that thread's. Returns the gofer's pid or -1. */
pid_t gofer_fork(int *control, usbox_err_t *err);
/* Hand the forked gofer its mounts (an fd < 0: one it does not serve). The
 * caller should then close its own copies: from then on only the gofer holds
 * them. Returns 0 or -1. */
int gofer_give_mounts(int control, const struct gofer_mount *mounts, size_t n, usbox_err_t *err);
/* Both at once (tests). */
pid_t gofer_spawn(const struct gofer_mount *mounts, size_t n, int *control, usbox_err_t *err);

/* The gofer's main loop (in the child); never returns. Exposed for tests. */
_Noreturn void gofer_main(int control, const struct gofer_mount *mounts, size_t n);

#endif
