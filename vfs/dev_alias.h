/* An overlay of the view (--overlay) shows the host's objects under its
 * own device number, and with xino under inode numbers with a layer's bits
 * on top: the identity the hidden list knows them by (policy/hidden.c) is
 * (host_dev, ino ^ ino_xor) for an object reported as (dev, ino). Objects
 * of the upper layer map to no host object (their high bits differ, or,
 * on one filesystem, their inode numbers are their own). */
#ifndef USBOX_VFS_DEV_ALIAS_H
#define USBOX_VFS_DEV_ALIAS_H

#include <stdint.h>

struct vfs_dev_alias {
  uint64_t dev;      /* as stat shows it in the view */
  uint64_t host_dev; /* the lower layer's, on the host */
  uint64_t ino_xor;  /* 0, or the layer's xino bits */
  /* both layers keep multigrain ctimes, so the walk cache may trust a
   * directory's unchanged ctime there (vfs/dcache.c) */
  uint64_t mgtime;
};
#define VFS_MAX_DEV_ALIASES 16

#endif
