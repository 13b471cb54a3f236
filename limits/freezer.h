/* A cgroup of an OCI container's own for `pause` and `resume` (oci/):
 * cgroup v2's cgroup.freeze where a v2 hierarchy is mounted, else the v1
 * freezer. It holds the sandbox's processes only (the sandbox's first
 * process joins it before the container's process is forked), not the
 * monitor or the gofer: a paused container's sentry still answers, it just
 * gets no calls. */
#ifndef USBOX_LIMITS_FREEZER_H
#define USBOX_LIMITS_FREEZER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* Make the cgroup `name` below this process's own, move member into it;
 * its path into path. */
int limits_freezer_create(const char *name, pid_t member, char *path, size_t size,
                          usbox_err_t *err);

/* Freeze or thaw, and wait until the kernel says it is done (5 s at most). */
int limits_freezer_set(const char *path, bool frozen, usbox_err_t *err);

/* 1 frozen (or freezing), 0 thawed, -1 no such cgroup. */
int limits_freezer_frozen(const char *path);

/* Thaw (so that killed processes can die), wait for it to empty (5 s at
 * most), remove it. */
void limits_freezer_remove(const char *path);

#endif
