/* The kernel's mirror of the view: the agent's mount namespace.
 *
 * Built in the agent process after fork and before its seccomp filter, so it
 * may still mount: a recursive read-only clone of the host root, the policy's
 * binds at their destinations (read-only unless writable), a fresh tmpfs for
 * each tmpfs mount (the private /tmp), a minimal /dev (host device nodes bound
 * into a tmpfs, devpts, a private /dev/shm, the mqueue filesystem of the
 * sandbox's IPC namespace at /dev/mqueue), every hidden path masked by an
 * empty read-only file or directory; then pivot_root into it, with the old
 * root detached. Nothing here touches the host: the namespace is private and
 * disappears with its last process. */
#ifndef USBOX_VFS_MOUNTNS_H
#define USBOX_VFS_MOUNTNS_H

#include "common/error.h"
#include "policy/policy.h"
#include "vfs/overlay_mount.h"

/* Devices the view's /dev offers (bound from the host's /dev). */
extern const char *const mountns_dev_nodes[];

#define MOUNTNS_MAX_TMPFS 8

struct mountns_result {
  /* root fds of the tmpfs mounts, in policy order of MOUNT_TMPFS entries,
   * for the sentry's side of the view (-1 where none) */
  int tmpfs_fd[MOUNTNS_MAX_TMPFS];
  int ntmpfs;
  struct overlay_state overlay; /* --overlay's: the aliases for the sentry */
};

/* Enter a new mount namespace (the caller has unshared the user namespace
 * if it needs one) and make it the view. cwd is the directory to start in
 * (the caller's, as a view path). Returns 0 or -1 with err filled. */
int mountns_enter_view(const struct policy *p, const char *cwd, struct mountns_result *out,
                       usbox_err_t *err);
/* Go to cwd in the view; if it is not there and fallback is not NULL,
 * to fallback (then "/"), with a one-line notice. 0, or -1 with err. */
int mountns_chdir(const char *cwd, const char *fallback, usbox_err_t *err);

#endif
