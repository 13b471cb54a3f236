/* Helpers shared by the handler families. */
#ifndef USBOX_SENTRY_SYS_COMMON_H
#define USBOX_SENTRY_SYS_COMMON_H

#include <errno.h>
#include <fcntl.h>

#include "sentry/agent_mem.h"
#include "sentry/handler.h"
#include "vfs/vfs.h"

/* -errno from a helper to a result: -ESRCH means the agent thread is gone. */
static inline struct sc_result sc_fail(int neg)
{
  return neg == -ESRCH ? sc_gone() : sc_errno(-neg);
}

#define ARG_INT(call, i) ((int)(unsigned int)(call)->args[i])
#define ARG_UINT(call, i) ((unsigned int)(call)->args[i])

/* Read path argument `argi` into call->path[slot]; 0 or -errno. An empty path
 * is allowed only with allow_empty (AT_EMPTY_PATH); a NULL pointer with
 * allow_empty reads as "" (Linux 6.11+ accepts that for the stat calls). */
static inline int read_path_once(struct sentry_call *call, int slot, int argi, bool allow_empty);
static inline int read_path(struct sentry_call *call, int slot, int argi, bool allow_empty)
{
  /* a handler run again (VFS_ESTALE_VIEW) uses the copy it already has */
  if (call->path_read[slot]) {
    if (slot == 0)
      call->audit_arg = call->path[0];
    return call->path_rc[slot];
  }
  call->path_rc[slot] = read_path_once(call, slot, argi, allow_empty);
  call->path_read[slot] = true;
  return call->path_rc[slot];
}

static inline int read_path_once(struct sentry_call *call, int slot, int argi, bool allow_empty)
{
  if (allow_empty && call->args[argi] == 0) {
    call->path[slot][0] = '\0';
    if (slot == 0)
      call->audit_arg = call->path[0];
    return 0;
  }
  ssize_t n = agent_read_path(call, slot, call->args[argi]);
  if (n < 0)
    return (int)n;
  if (n == 0 && !allow_empty)
    return -ENOENT;
  return 0;
}

/* Write a result struct to agent memory at argument `argi`. */
static inline struct sc_result write_out(struct sentry_call *call, int argi, const void *buf,
                                         size_t len, int64_t ret)
{
  int r = agent_write(call, call->args[argi], buf, len);
  return r < 0 ? sc_fail(r) : sc_ok(ret);
}

/* The agent's open file fd as the sentry's copy (pidfd_getfd), checked to
 * be one the view lets the agent change (one it was handed on a host file
 * outside the view changes nothing there): the copy, or -errno. For the
 * fd calls the sentry performs: fchmod, fchown, fsetxattr, fremovexattr.
 * *held: what one statx of it found (vfs_held_info). */
int held_to_modify(struct sentry_call *call, int fd, struct vfs_held *held);

/* fdpath_of (common/fdpath.h), "/proc/self/fd/N" for a sentry-owned fd,
 * lets path-only kernel calls act on an object the VFS already resolved.
 * Use the following variants (getxattr, not lgetxattr) on it: the magic
 * link must be followed to reach the object, and the jump lands on the
 * object itself, a symlink included. */

#endif
