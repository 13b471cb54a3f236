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
 * mounts (gofer_give_mounts) before it confines itself and serves. With a
 * program set (gofer_set_program) the child executes it right after the
 * fork, as GOFER_ARGV0 with the socket at GOFER_CONTROL_FD, and makes
 * only async-signal-safe calls before: safe from a thread of a
 * multithreaded process, whatever lock another thread held at the fork
 * (under ASan a receiver held the allocator's: every gofer thread then
 * waited for it forever), and the gofer holds no copy of its forker's
 * memory. Without one (single-threaded tests) the forked child serves
 * itself. Its parent-death signal is the forking thread's. Returns the
 * gofer's pid or -1. */
pid_t gofer_fork(int *control, usbox_err_t *err);
/* The program gofer_fork executes (usbox: /proc/self/exe), or NULL. */
void gofer_set_program(const char *path);
#define GOFER_ARGV0 "usbox-gofer"
#define GOFER_CONTROL_FD 3
/* usbox's main started as GOFER_ARGV0 PARENT-PID: the gofer, serving the
 * control socket at GOFER_CONTROL_FD; never returns. */
_Noreturn void gofer_exec_main(int argc, char **argv);
/* Hand the forked gofer its mounts (an fd < 0: one it does not serve). The
 * caller should then close its own copies: from then on only the gofer holds
 * them. Returns 0 or -1. */
int gofer_give_mounts(int control, const struct gofer_mount *mounts, size_t n, usbox_err_t *err);
/* Both at once (tests). */
pid_t gofer_spawn(const struct gofer_mount *mounts, size_t n, int *control, usbox_err_t *err);

/* The gofer's main loop (in the child); never returns. Exposed for tests. */
_Noreturn void gofer_main(int control, const struct gofer_mount *mounts, size_t n);

#endif
