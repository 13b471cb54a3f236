/* Landlock, as the gofer and the agent's backstop use it: the ABI the
 * kernel offers, the rights each ABI knows, and a ruleset built from
 * (fd, rights) pairs. Debian 12's headers predate ABI 4-7, so the newer
 * constants are defined here from the kernel's UAPI. */
#ifndef USBOX_COMMON_LANDLOCK_H
#define USBOX_COMMON_LANDLOCK_H

#include <linux/landlock.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* Reading and running what is there. */
#define LL_FS_READ                                                                                 \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* What a bound file (not a directory) can be granted. */
#define LL_FS_FILE                                                                                 \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |    \
   LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* The kernel's Landlock ABI version, 0 without Landlock. */
int landlock_abi(void);

/* Every filesystem right ABI abi knows. */
uint64_t landlock_fs_rights(int abi);

/* A ruleset handling every filesystem right of abi, and (where abi has
 * them, when asked) TCP bind/connect and the signal and abstract-socket
 * scopes. Returns its fd or -1. */
int landlock_ruleset(int abi, bool handle_tcp, bool scoped, usbox_err_t *err);

/* Allow rights (masked to what the ruleset handles) beneath fd. */
int landlock_allow(int ruleset, int abi, int fd, uint64_t rights, usbox_err_t *err);

/* Restrict the calling thread (and what it forks) to the ruleset, which it
 * closes. Needs no_new_privs (or CAP_SYS_ADMIN). */
int landlock_enforce(int ruleset, usbox_err_t *err);

#endif
