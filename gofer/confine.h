#ifndef USBOX_GOFER_CONFINE_H
#define USBOX_GOFER_CONFINE_H

#include <stddef.h>

#include "common/error.h"
#include "gofer/gofer.h"

/* no_new_privs, Landlock restricted to the mounts (no network, signals and
 * abstract sockets scoped), then the allowlist filter. */
int gofer_confine(const struct gofer_mount *mounts, size_t n, usbox_err_t *err);

#endif
