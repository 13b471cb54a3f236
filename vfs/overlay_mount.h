/* The copy-on-write mounts of --overlay (docs/overlay.md), made in the
 * sandbox's first process while it builds the view (vfs/mountns.c): a
 * kernel overlayfs whose lower layer is a read-only clone of one host
 * mount, and whose upper layer is the session's directory for it (disk) or
 * a directory of one tmpfs (memory). Options: no redirect_dir (nofollow), index or
 * metacopy, so that the upper is plain files, whiteouts and opaque
 * directories that `usbox diff` can read; xino, so that inode numbers tell
 * the host's objects from the agent's (vfs/dev_alias.h). */
#ifndef USBOX_VFS_OVERLAY_MOUNT_H
#define USBOX_VFS_OVERLAY_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "policy/policy.h"
#include "vfs/dev_alias.h"

struct overlay_state {
  int memory_fd; /* OVERLAY_MEMORY: the tmpfs holding every upper, or -1 */
  int nlayers;
  struct vfs_dev_alias aliases[VFS_MAX_DEV_ALIASES];
  int naliases;
};

void overlay_state_init(struct overlay_state *o);
void overlay_state_free(struct overlay_state *o);
/* A detached overlay mount of the host mount at source (its submounts are
 * not part of it: the caller mounts them). Returns the mount fd or -1. */
int overlay_make(const struct policy *p, struct overlay_state *o, const char *source,
                 usbox_err_t *err);
/* Whether a mount of this filesystem type can be a lower layer whose
 * changes are worth keeping (a disk or tmpfs, not proc, sysfs, ...). */
bool overlay_fstype_ok(const char *fstype);

#endif
