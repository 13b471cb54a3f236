/* execve, execveat and chdir: the calls only the kernel can perform on the
 * agent. The sentry cannot inject "run this file" or "be in this directory"
 * the way it injects an fd, so it checks its own copy of the path (resolved
 * in the view, existing, of the right type, permitted) and then lets the
 * kernel perform the call, which reads the path from agent memory again.
 *
 * Why that second read is safe: whatever string a racing thread swaps in,
 * the kernel resolves it in the agent's own mount namespace, which mirrors
 * the view: hidden paths are masked at every view path where they show (at
 * start, and when one appears on the host later: sentry/hidden_watch.c),
 * binds are read-only where the view's are, the host root is gone. So any
 * file the kernel can reach there is one the sentry would also have
 * allowed: exec and chdir decide nothing beyond "visible in the view". What
 * the mirror cannot mask (a hard link of a hidden program made on the host)
 * is in docs/security.md, "What remains". tests/attacks/view_exec_race.c and
 * attack_hidden_alias.c race a thread against the path buffer.
 * See docs/architecture.md, "Calls the kernel must perform". */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"

static struct sc_result check_exec(struct sentry_call *call, int dirfd, int vflags)
{
  cleanup_node struct vfs_node obj = VFS_NODE_INIT;
  /* the X_OK check rides on the walk's gofer request when it can */
  int r = vfs_lookup_access(&call->fs, dirfd, call->path[0], vflags, X_OK, false, &obj);
  if (r < 0)
    return sc_fail(r);
  if (S_ISLNK(obj.st.st_mode))
    return sc_errno(ELOOP); /* execveat AT_SYMLINK_NOFOLLOW on a symlink */
  if (!S_ISREG(obj.st.st_mode))
    return sc_errno(EACCES);
  if ((r = obj.access_done ? obj.access_err : vfs_op_access(&call->fs, &obj, X_OK, false)) < 0)
    return sc_fail(r);
  /* execve recomputes the capabilities (a non-root uid kept them only
   * until here): what the sentry cached of the task is stale after it */
  task_cache_invalidate(&call->sentry->tasks);
  return sc_kernel_must_perform();
}

struct sc_result sys_execve(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  return check_exec(call, AT_FDCWD, 0);
}

struct sc_result sys_execveat(struct sentry_call *call)
{
  int flags = ARG_INT(call, 4);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, 1, (flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return sc_fail(r);
  return check_exec(call, ARG_INT(call, 0),
                    ((flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0) |
                        ((flags & AT_EMPTY_PATH) ? VFS_EMPTY_PATH : 0));
}

struct sc_result sys_chdir(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node dir = VFS_NODE_INIT;
  r = vfs_lookup(&call->fs, AT_FDCWD, call->path[0], VFS_DIRECTORY, &dir);
  if (r < 0)
    return sc_fail(r);
  if ((r = vfs_op_access(&call->fs, &dir, X_OK, false)) < 0)
    return sc_fail(r);
  return sc_kernel_must_perform();
}
