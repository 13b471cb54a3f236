/* The cgroup filesystem as limits/ reads and writes it, shared by the
 * sandbox's limits (cgroup.c) and the OCI containers' freezer (freezer.c). */
#ifndef USBOX_LIMITS_CGROUPFS_H
#define USBOX_LIMITS_CGROUPFS_H

#include <limits.h>
#include <stddef.h>

/* dir/file: 0 or -errno (a short write is -EIO). */
int cgroupfs_write(const char *dir, const char *file, const char *text);
/* dir/file into buf, NUL-terminated: 0 or -errno. */
int cgroupfs_read(const char *dir, const char *file, char *buf, size_t size);
/* usbox's own cgroup in a hierarchy ("" for its root): v1 by controller
 * name, v2 for NULL. 0 or -ENOENT. */
int cgroupfs_self(const char *controller, char out[PATH_MAX]);
/* Where the v2 hierarchy is mounted (/sys/fs/cgroup, or its unified/ on a
 * hybrid host), or NULL. */
const char *cgroupfs_v2_mount(void);

#endif
