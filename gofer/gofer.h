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

/* Fork the gofer with these mounts. The parent keeps *control (a
 * SOCK_SEQPACKET socket: send it a new connection with gofer_connect) and
 * should close its own copies of the mount fds: from then on only the gofer
 * holds them. Returns the gofer's pid or -1. */
pid_t gofer_spawn(const struct gofer_mount *mounts, size_t n, int *control, usbox_err_t *err);

/* The gofer's main loop (in the child); never returns. Exposed for tests. */
_Noreturn void gofer_main(int control, const struct gofer_mount *mounts, size_t n);

#endif
