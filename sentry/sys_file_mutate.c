/* File family, part 2: calls that create, remove, rename or change entries.
 * The VFS resolves the parent directory of the last component; the call is
 * then made on (parent fd, last) so the kernel never walks an agent string
 * from the sentry's root. */
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "common/cleanup.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"

/* ---- mkdir / mknod ---- */

static struct sc_result do_mkdir(struct sentry_call *call, int dirfd, int path_arg, mode_t mode)
{
  int r = read_path(call, 0, path_arg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int parent = -1;
  const char *last;
  r = vfs_lookup_parent(call, dirfd, call->path[0], &parent, &last);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(mkdirat(parent, last, mode));
}

struct sc_result sys_mkdir(struct sentry_call *call)
{
  return do_mkdir(call, AT_FDCWD, 0, (mode_t)ARG_UINT(call, 1));
}

struct sc_result sys_mkdirat(struct sentry_call *call)
{
  return do_mkdir(call, ARG_INT(call, 0), 1, (mode_t)ARG_UINT(call, 2));
}

/* Regular files, FIFOs and sockets only: device nodes are denied (EPERM), as
 * an unprivileged process would see. */
static struct sc_result do_mknod(struct sentry_call *call, int dirfd, int path_arg, mode_t mode,
                                 dev_t dev)
{
  mode_t type = mode & S_IFMT;
  if (type == S_IFCHR || type == S_IFBLK)
    return sc_errno(EPERM);
  int r = read_path(call, 0, path_arg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int parent = -1;
  const char *last;
  r = vfs_lookup_parent(call, dirfd, call->path[0], &parent, &last);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(mknodat(parent, last, mode, dev));
}

struct sc_result sys_mknod(struct sentry_call *call)
{
  return do_mknod(call, AT_FDCWD, 0, (mode_t)ARG_UINT(call, 1), (dev_t)ARG_UINT(call, 2));
}

struct sc_result sys_mknodat(struct sentry_call *call)
{
  return do_mknod(call, ARG_INT(call, 0), 1, (mode_t)ARG_UINT(call, 2), (dev_t)ARG_UINT(call, 3));
}

/* ---- unlink / rmdir ---- */

static struct sc_result do_unlink(struct sentry_call *call, int dirfd, int path_arg, int flags)
{
  if (flags & ~AT_REMOVEDIR)
    return sc_errno(EINVAL);
  int r = read_path(call, 0, path_arg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int parent = -1;
  const char *last;
  r = vfs_lookup_parent(call, dirfd, call->path[0], &parent, &last);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(unlinkat(parent, last, flags));
}

struct sc_result sys_unlink(struct sentry_call *call)
{
  return do_unlink(call, AT_FDCWD, 0, 0);
}

struct sc_result sys_rmdir(struct sentry_call *call)
{
  return do_unlink(call, AT_FDCWD, 0, AT_REMOVEDIR);
}

struct sc_result sys_unlinkat(struct sentry_call *call)
{
  return do_unlink(call, ARG_INT(call, 0), 1, ARG_INT(call, 2));
}

/* ---- rename ---- */

static struct sc_result do_rename(struct sentry_call *call, int olddir, int oldarg, int newdir,
                                  int newarg, unsigned int flags)
{
  int r = read_path(call, 0, oldarg, false);
  if (r == 0)
    r = read_path(call, 1, newarg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int oldparent = -1, newparent = -1;
  const char *oldlast, *newlast;
  r = vfs_lookup_parent(call, olddir, call->path[0], &oldparent, &oldlast);
  if (r == 0)
    r = vfs_lookup_parent(call, newdir, call->path[1], &newparent, &newlast);
  if (r < 0)
    return sc_fail(r);
  long ret = syscall(SYS_renameat2, oldparent, oldlast, newparent, newlast, flags);
  return sc_syscall(ret);
}

struct sc_result sys_rename(struct sentry_call *call)
{
  return do_rename(call, AT_FDCWD, 0, AT_FDCWD, 1, 0);
}

struct sc_result sys_renameat(struct sentry_call *call)
{
  return do_rename(call, ARG_INT(call, 0), 1, ARG_INT(call, 2), 3, 0);
}

struct sc_result sys_renameat2(struct sentry_call *call)
{
  return do_rename(call, ARG_INT(call, 0), 1, ARG_INT(call, 2), 3, ARG_UINT(call, 4));
}

/* ---- link / symlink ---- */

static struct sc_result do_link(struct sentry_call *call, int olddir, int oldarg, int newdir,
                                int newarg, int flags)
{
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, oldarg, (flags & AT_EMPTY_PATH) != 0);
  if (r == 0)
    r = read_path(call, 1, newarg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int newparent = -1;
  const char *newlast;
  r = vfs_lookup_parent(call, newdir, call->path[1], &newparent, &newlast);
  if (r < 0)
    return sc_fail(r);
  if (flags & (AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
    /* link the resolved object itself, through our own fd */
    cleanup_close int obj = -1;
    r = vfs_lookup(call, olddir, call->path[0], VFS_EMPTY_PATH, &obj, NULL);
    if (r < 0)
      return sc_fail(r);
    return sc_syscall(linkat(AT_FDCWD, fd_path(obj).s, newparent, newlast, AT_SYMLINK_FOLLOW));
  }
  cleanup_close int oldparent = -1;
  const char *oldlast;
  r = vfs_lookup_parent(call, olddir, call->path[0], &oldparent, &oldlast);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(linkat(oldparent, oldlast, newparent, newlast, 0));
}

struct sc_result sys_link(struct sentry_call *call)
{
  return do_link(call, AT_FDCWD, 0, AT_FDCWD, 1, 0);
}

struct sc_result sys_linkat(struct sentry_call *call)
{
  return do_link(call, ARG_INT(call, 0), 1, ARG_INT(call, 2), 3, ARG_INT(call, 4));
}

/* The target is stored as text, never resolved here. */
static struct sc_result do_symlink(struct sentry_call *call, int target_arg, int newdir,
                                   int newarg)
{
  int r = read_path(call, 1, target_arg, false);
  if (r == 0)
    r = read_path(call, 0, newarg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int parent = -1;
  const char *last;
  r = vfs_lookup_parent(call, newdir, call->path[0], &parent, &last);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(symlinkat(call->path[1], parent, last));
}

struct sc_result sys_symlink(struct sentry_call *call)
{
  return do_symlink(call, 0, AT_FDCWD, 1);
}

struct sc_result sys_symlinkat(struct sentry_call *call)
{
  return do_symlink(call, 0, ARG_INT(call, 1), 2);
}

/* ---- chmod / chown / truncate ---- */

static struct sc_result do_chmod(struct sentry_call *call, int dirfd, int path_arg, mode_t mode,
                                 unsigned int flags)
{
  if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, path_arg, (flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int obj = -1;
  struct stat st;
  r = vfs_lookup(call, dirfd, call->path[0],
                 ((flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0) |
                     ((flags & AT_EMPTY_PATH) ? VFS_EMPTY_PATH : 0),
                 &obj, &st);
  if (r < 0)
    return sc_fail(r);
  if (S_ISLNK(st.st_mode))
    return sc_errno(EOPNOTSUPP); /* Linux has no modes on symlinks */
  return sc_syscall(chmod(fd_path(obj).s, mode));
}

struct sc_result sys_chmod(struct sentry_call *call)
{
  return do_chmod(call, AT_FDCWD, 0, (mode_t)ARG_UINT(call, 1), 0);
}

struct sc_result sys_fchmodat(struct sentry_call *call)
{
  return do_chmod(call, ARG_INT(call, 0), 1, (mode_t)ARG_UINT(call, 2), 0);
}

struct sc_result sys_fchmodat2(struct sentry_call *call)
{
  return do_chmod(call, ARG_INT(call, 0), 1, (mode_t)ARG_UINT(call, 2), ARG_UINT(call, 3));
}

static struct sc_result do_chown(struct sentry_call *call, int dirfd, int path_arg, uid_t uid,
                                 gid_t gid, unsigned int flags)
{
  if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, path_arg, (flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int obj = -1;
  r = vfs_lookup(call, dirfd, call->path[0],
                 ((flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0) |
                     ((flags & AT_EMPTY_PATH) ? VFS_EMPTY_PATH : 0),
                 &obj, NULL);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(fchownat(obj, "", uid, gid, AT_EMPTY_PATH));
}

struct sc_result sys_chown(struct sentry_call *call)
{
  return do_chown(call, AT_FDCWD, 0, ARG_UINT(call, 1), ARG_UINT(call, 2), 0);
}

struct sc_result sys_lchown(struct sentry_call *call)
{
  return do_chown(call, AT_FDCWD, 0, ARG_UINT(call, 1), ARG_UINT(call, 2), AT_SYMLINK_NOFOLLOW);
}

struct sc_result sys_fchownat(struct sentry_call *call)
{
  return do_chown(call, ARG_INT(call, 0), 1, ARG_UINT(call, 2), ARG_UINT(call, 3),
                  ARG_UINT(call, 4));
}

struct sc_result sys_truncate(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int obj = -1;
  r = vfs_lookup(call, AT_FDCWD, call->path[0], 0, &obj, NULL);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(truncate(fd_path(obj).s, (off_t)call->args[1]));
}

/* ---- timestamps ---- */

/* times == NULL means "now" for all of these. */
static struct sc_result set_times(struct sentry_call *call, int dirfd, const struct timespec *ts,
                                  unsigned int flags)
{
  if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  cleanup_close int obj = -1;
  int r = vfs_lookup(call, dirfd, call->path[0],
                     ((flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0) |
                         ((flags & AT_EMPTY_PATH) ? VFS_EMPTY_PATH : 0),
                     &obj, NULL);
  if (r < 0)
    return sc_fail(r);
  return sc_syscall(utimensat(obj, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

struct sc_result sys_utimensat(struct sentry_call *call)
{
  int dirfd = ARG_INT(call, 0);
  unsigned int flags = ARG_UINT(call, 3);
  struct timespec ts[2];
  int r = call->args[2] ? agent_read(call, call->args[2], ts, sizeof ts) : 0;
  if (r < 0)
    return sc_fail(r);
  if (call->args[1] == 0) {
    /* futimens(fd): no path, the agent's fd itself */
    if (flags & ~(unsigned)AT_EMPTY_PATH)
      return sc_errno(EINVAL);
    if (call_validate(call) < 0)
      return sc_gone();
    cleanup_close int fd = task_getfd(call, dirfd);
    if (fd < 0)
      return sc_fail(fd);
    if ((r = task_assume_identity(call)) < 0)
      return sc_fail(r);
    /* glibc's utimensat() insists on a path; the kernel takes NULL for "fd itself" */
    long ret = syscall(SYS_utimensat, fd, NULL, call->args[2] ? ts : NULL, 0);
    return sc_syscall(ret);
  }
  r = read_path(call, 0, 1, (flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return sc_fail(r);
  return set_times(call, dirfd, call->args[2] ? ts : NULL, flags);
}

static int timevals_to_timespecs(const struct timeval tv[2], struct timespec ts[2])
{
  for (int i = 0; i < 2; i++) {
    if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
      return -EINVAL;
    ts[i].tv_sec = tv[i].tv_sec;
    ts[i].tv_nsec = tv[i].tv_usec * 1000;
  }
  return 0;
}

static struct sc_result do_utimes(struct sentry_call *call, int dirfd, int path_arg)
{
  struct timeval tv[2];
  struct timespec ts[2];
  uint64_t times = call->args[path_arg + 1];
  int r = times ? agent_read(call, times, tv, sizeof tv) : 0;
  if (r == 0 && times)
    r = timevals_to_timespecs(tv, ts);
  if (r == 0)
    r = read_path(call, 0, path_arg, false);
  if (r < 0)
    return sc_fail(r);
  return set_times(call, dirfd, times ? ts : NULL, 0);
}

struct sc_result sys_utimes(struct sentry_call *call)
{
  return do_utimes(call, AT_FDCWD, 0);
}

struct sc_result sys_futimesat(struct sentry_call *call)
{
  return do_utimes(call, ARG_INT(call, 0), 1);
}

struct sc_result sys_utime(struct sentry_call *call)
{
  struct utimbuf ub = {0};
  struct timespec ts[2];
  int r = call->args[1] ? agent_read(call, call->args[1], &ub, sizeof ub) : 0;
  if (r == 0)
    r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  ts[0] = (struct timespec){.tv_sec = ub.actime};
  ts[1] = (struct timespec){.tv_sec = ub.modtime};
  return set_times(call, AT_FDCWD, call->args[1] ? ts : NULL, 0);
}
