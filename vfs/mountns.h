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

/* Making the view, in two steps (the caller has unshared the user
 * namespace if it needs one):
 *   mountns_build_view: a new mount namespace with the view's mounts, but
 *     for the masks of the hidden paths; no other step reads p->hidden, so
 *     those may still be resolved meanwhile (sentry/launch.c);
 *   mountns_enter_built: the masks of p's hidden paths (p the same policy
 *     but for its finished hidden list), then the view becomes the root.
 * Each returns 0 or -1 with err filled. */
struct mountns_build {
  int root; /* the view's tree, detached until it becomes the root */
};
int mountns_build_view(const struct policy *p, struct mountns_build *b,
                       struct mountns_result *out, usbox_err_t *err);
int mountns_enter_built(const struct policy *p, struct mountns_build *b,
                        struct mountns_result *out, usbox_err_t *err);
/* Go to cwd in the view; if it is not there and fallback is not NULL,
 * to fallback (then "/"), with a one-line notice. 0, or -1 with err. */
int mountns_chdir(const char *cwd, const char *fallback, usbox_err_t *err);

#endif
