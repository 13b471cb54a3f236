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

/* Fork the gofer before the view exists (it starts while the sandbox's
 * first process builds the view): it holds nothing of usbox's but *control
 * (a SOCK_SEQPACKET socket: send it a new connection with gofer_connect) and
 * waits for the view's mounts (gofer_give_mounts) before it confines itself
 * and serves. Returns the gofer's pid or -1. */
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
