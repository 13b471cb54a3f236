/* File family, part 2: calls that create, remove, rename or change entries.
 * The VFS resolves the parent directory of the last component in the view
 * and says whether the view allows the change (hidden: ENOENT, outside the
 * writable mounts: EROFS, a mount point: EBUSY/EEXIST); the call is then
 * made on (parent fd, name), which the kernel never follows. */
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "common/cleanup.h"
#include "common/fdpath.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"
#include "sentry/task.h"

/* The parent of path's last component, checked for op. */
static int entry_at(struct sentry_call *call, int dirfd, const char *path, enum vfs_entry_op op,
                    mode_t obj_type, struct vfs_node *parent, char name[NAME_MAX + 2])
{
  int r = vfs_lookup_parent(&call->fs, dirfd, path, parent, name);
  if (r < 0)
    return r;
  return vfs_check_entry(&call->fs, parent, name, op, obj_type);
}

/* ---- mkdir / mknod ---- */

static struct sc_result do_mkdir(struct sentry_call *call, int dirfd, int path_arg, mode_t mode)
{
  int r = read_path(call, 0, path_arg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  if ((r = entry_at(call, dirfd, call->path[0], VFS_CREATE, 0, &parent, name)) < 0)
    return sc_fail(r);
  r = vfs_op_mkdir(&call->fs, &parent, name, mode);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  if ((r = entry_at(call, dirfd, call->path[0], VFS_CREATE, 0, &parent, name)) < 0)
    return sc_fail(r);
  r = vfs_op_mknod(&call->fs, &parent, name, mode, dev);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  if ((r = entry_at(call, dirfd, call->path[0], VFS_REMOVE,
                    (flags & AT_REMOVEDIR) ? S_IFDIR : S_IFREG, &parent, name)) < 0)
    return sc_fail(r);
  r = vfs_op_unlink(&call->fs, &parent, name, flags);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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

/* The target is busy (a mount point, a holder of hidden paths): the kernel
 * would first compare the two types, so the source's type decides the errno. */
static int rename_onto_busy(struct sentry_call *call, const struct vfs_node *from,
                            const char *from_name, const struct vfs_node *to,
                            const char *to_name)
{
  char from_view[PATH_MAX];
  if (from->view[0] != '/')
    return -EBUSY;
  int n = snprintf(from_view, sizeof from_view, "%s%s%s", from->view,
                   strcmp(from->view, "/") == 0 ? "" : "/", from_name);
  if (n < 0 || (size_t)n >= sizeof from_view)
    return -EBUSY;
  cleanup_node struct vfs_node src = VFS_NODE_INIT;
  if (vfs_lookup_quiet(&call->fs, from_view, &src) < 0)
    return -EBUSY;
  return vfs_check_entry(&call->fs, to, to_name, VFS_REMOVE,
                         S_ISDIR(src.st.st_mode) ? S_IFDIR : S_IFREG);
}

static struct sc_result do_rename(struct sentry_call *call, int olddir, int oldarg, int newdir,
                                  int newarg, unsigned int flags)
{
  int r = read_path(call, 0, oldarg, false);
  if (r == 0)
    r = read_path(call, 1, newarg, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node from = VFS_NODE_INIT, to = VFS_NODE_INIT;
  char from_name[NAME_MAX + 2], to_name[NAME_MAX + 2];
  if ((r = vfs_lookup_parent(&call->fs, olddir, call->path[0], &from, from_name)) < 0 ||
      (r = vfs_lookup_parent(&call->fs, newdir, call->path[1], &to, to_name)) < 0)
    return sc_fail(r);
  /* as the kernel: two mounts first (EXDEV), then what each side allows */
  if (from.mount != to.mount)
    return sc_errno(EXDEV);
  if ((r = vfs_check_entry(&call->fs, &from, from_name, VFS_REMOVE, 0)) < 0)
    return sc_fail(r);
  if ((r = vfs_check_entry(&call->fs, &to, to_name, VFS_REMOVE, 0)) == -EBUSY)
    r = rename_onto_busy(call, &from, from_name, &to, to_name);
  if (r < 0)
    return sc_fail(r);
  /* two mounts of the view are two filesystems to the agent, even when they
   * are binds of one host filesystem (vfs_op_rename: EXDEV) */
  r = vfs_op_rename(&call->fs, &from, from_name, &to, to_name, flags);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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

/* A hard link of an object the agent holds (AT_EMPTY_PATH, /proc/self/fd/N
 * followed, an O_TMPFILE file): the kernel links the sentry's copy of it
 * into the directory the view resolved, as the agent, through the copy's
 * /proc/self/fd link (the way O_TMPFILE files are linked without
 * CAP_DAC_READ_SEARCH). Write permission in the directory, the
 * protected_hardlinks rules and EXDEV are the kernel's, on the agent's
 * rights. */
static struct sc_result link_held(struct sentry_call *call, const struct vfs_node *obj,
                                  const struct vfs_node *to, const char *to_name)
{
  const char *by = vfs_hidden_id_by(&call->sentry->vfs, obj->st.st_dev, obj->st.st_ino);
  if (by != NULL)
    return sc_fail(vfs_hidden_enoent(&call->fs, by));
  int r = vfs_check_entry(&call->fs, to, to_name, VFS_CREATE, 0);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int dir = vfs_open_resolved(&call->fs, to, O_DIRECTORY);
  if (dir < 0)
    return sc_fail(dir == -VFS_ESTALE_VIEW ? -ENOENT : dir);
  r = (int)AS_AGENT(call, VFS_PLACE(to->mount), 0,
                    linkat(AT_FDCWD, fdpath_of(obj->obj_fd).s, dir, to_name, AT_SYMLINK_FOLLOW) < 0
                        ? -errno
                        : 0);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

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
  cleanup_node struct vfs_node to = VFS_NODE_INIT;
  char to_name[NAME_MAX + 2];
  if ((r = vfs_lookup_parent(&call->fs, newdir, call->path[1], &to, to_name)) < 0)
    return sc_fail(r);
  if (flags & (AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
    /* link the resolved object itself: its canonical entry */
    cleanup_node struct vfs_node obj = VFS_NODE_INIT;
    r = vfs_lookup(&call->fs, olddir, call->path[0],
                   VFS_EMPTY_PATH | ((flags & AT_SYMLINK_FOLLOW) ? 0 : VFS_NOFOLLOW), &obj);
    if (r < 0)
      return sc_fail(r);
    if (obj.obj_fd >= 0 && (obj.mount == NULL || obj.from_fd_link))
      return link_held(call, &obj, &to, to_name);
    if (obj.mount == NULL || strcmp(obj.view, "/") == 0)
      return sc_errno(obj.mount == NULL ? ENOENT : EPERM); /* no name to link, or the root */
    if (obj.mount != to.mount)
      return sc_errno(EXDEV);
    if ((r = vfs_check_entry(&call->fs, &to, to_name, VFS_CREATE, 0)) < 0)
      return sc_fail(r);
    cleanup_node struct vfs_node from = VFS_NODE_INIT;
    from.mount = obj.mount;
    char dir[PATH_MAX];
    const char *last = vfs_split_last(obj.view, dir, sizeof dir);
    snprintf(from.view, sizeof from.view, "%s", dir);
    r = vfs_op_link(&call->fs, &from, last, &to, to_name);
    return r < 0 ? sc_fail(r) : sc_ok(0);
  }
  cleanup_node struct vfs_node from = VFS_NODE_INIT;
  char from_name[NAME_MAX + 2];
  r = vfs_lookup_parent(&call->fs, olddir, call->path[0], &from, from_name);
  if (r < 0)
    return sc_fail(r);
  /* the source is read, not changed, but a hidden one does not exist */
  if ((r = vfs_check_entry(&call->fs, &from, from_name, VFS_CREATE, 0)) == -ENOENT)
    return sc_fail(r);
  if (from.mount != to.mount)
    return sc_errno(EXDEV);
  if ((r = vfs_check_entry(&call->fs, &to, to_name, VFS_CREATE, 0)) < 0)
    return sc_fail(r);
  r = vfs_op_link(&call->fs, &from, from_name, &to, to_name);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  if ((r = entry_at(call, newdir, call->path[0], VFS_CREATE, 0, &parent, name)) < 0)
    return sc_fail(r);
  r = vfs_op_symlink(&call->fs, call->path[1], &parent, name);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

struct sc_result sys_symlink(struct sentry_call *call)
{
  return do_symlink(call, 0, AT_FDCWD, 1);
}

struct sc_result sys_symlinkat(struct sentry_call *call)
{
  return do_symlink(call, 0, ARG_INT(call, 1), 2);
}

/* ---- chmod / chown / truncate / timestamps: change an object ---- */

static int vflags_of(unsigned int at_flags)
{
  return ((at_flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0) |
         ((at_flags & AT_EMPTY_PATH) ? VFS_EMPTY_PATH : 0);
}

/* Resolve the object the call changes, and check the view lets it change. */
static int object_to_modify(struct sentry_call *call, int dirfd, int path_arg,
                            unsigned int at_flags, struct vfs_node *obj)
{
  int r = read_path(call, 0, path_arg, (at_flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return r;
  r = vfs_lookup(&call->fs, dirfd, call->path[0], vflags_of(at_flags), obj);
  if (r < 0)
    return r;
  return vfs_check_modify_as(&call->fs, obj);
}

static struct sc_result do_chmod(struct sentry_call *call, int dirfd, int path_arg, mode_t mode,
                                 unsigned int flags)
{
  if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  cleanup_node struct vfs_node obj = VFS_NODE_INIT;
  int r = object_to_modify(call, dirfd, path_arg, flags, &obj);
  if (r < 0)
    return sc_fail(r);
  if (S_ISLNK(obj.st.st_mode))
    return sc_errno(EOPNOTSUPP); /* Linux has no modes on symlinks */
  r = vfs_op_chmod(&call->fs, &obj, mode);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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
  cleanup_node struct vfs_node obj = VFS_NODE_INIT;
  int r = object_to_modify(call, dirfd, path_arg, flags, &obj);
  if (r < 0)
    return sc_fail(r);
  r = vfs_op_chown(&call->fs, &obj, uid, gid);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

int held_to_modify(struct sentry_call *call, int fd, struct vfs_held *held)
{
  int copy = task_getfd(call, fd);
  if (copy < 0)
    return copy;
  int r = call_validate(call) < 0 ? -ESRCH : vfs_check_modify_fd(&call->fs, copy, held);
  if (r < 0) {
    close(copy);
    return r;
  }
  return copy;
}

/* fchmod: performed on the sentry's copy of the agent's open file, as the
 * agent, where the view lets it change that file, and without setuid or
 * setgid bits on the host's files. */
struct sc_result sys_fchmod(struct sentry_call *call)
{
  struct vfs_held held;
  cleanup_close int fd = held_to_modify(call, ARG_INT(call, 0), &held);
  if (fd < 0)
    return sc_fail(fd);
  /* held_to_modify: a place the agent may change */
  struct vfs_place where = {true, held.host_backed};
  mode_t mode = vfs_safe_mode(where.host_backed, (mode_t)ARG_UINT(call, 1) & 07777,
                              S_ISDIR(held.st.st_mode));
  int r = (int)AS_AGENT(call, where, 0, fchmod(fd, mode) < 0 ? -errno : 0);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

/* fchown: the same, for owners. */
struct sc_result sys_fchown(struct sentry_call *call)
{
  struct vfs_held held;
  cleanup_close int fd = held_to_modify(call, ARG_INT(call, 0), &held);
  if (fd < 0)
    return sc_fail(fd);
  int r = (int)AS_AGENT(call, vfs_held_place_of(&held), 0,
                        fchown(fd, ARG_UINT(call, 1), ARG_UINT(call, 2)) < 0 ? -errno : 0);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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
  if ((int64_t)call->args[1] < 0)
    return sc_errno(EINVAL); /* before anything else, as do_sys_truncate */
  cleanup_node struct vfs_node obj = VFS_NODE_INIT;
  int r = object_to_modify(call, AT_FDCWD, 0, 0, &obj);
  if (r < 0)
    return sc_fail(r);
  r = vfs_op_truncate(&call->fs, &obj, (off_t)call->args[1]);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

/* times == NULL means "now" for all of these. */
static struct sc_result set_times(struct sentry_call *call, int dirfd, int path_arg,
                                  const struct timespec *ts, unsigned int flags)
{
  if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  cleanup_node struct vfs_node obj = VFS_NODE_INIT;
  int r = object_to_modify(call, dirfd, path_arg, flags, &obj);
  if (r < 0)
    return sc_fail(r);
  r = vfs_op_utimens(&call->fs, &obj, ts);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

struct sc_result sys_utimensat(struct sentry_call *call)
{
  int dirfd = ARG_INT(call, 0);
  unsigned int flags = ARG_UINT(call, 3);
  struct timespec ts[2];
  int r = call->args[2] ? agent_read(call, call->args[2], ts, sizeof ts) : 0;
  if (r < 0)
    return sc_fail(r);
  if (call->args[1] != 0)
    return set_times(call, dirfd, 1, call->args[2] ? ts : NULL, flags);
  /* No path: the kernel's path form (EINVAL for unknown flags, then EFAULT
   * for the missing name) for AT_FDCWD, else futimens(fd), which takes no
   * flags at all; performed as fchmod is, on the sentry's copy of the
   * agent's open file */
  if (dirfd == AT_FDCWD)
    return sc_errno(flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) ? EINVAL : EFAULT);
  if (flags != 0)
    return sc_errno(EINVAL);
  struct vfs_held held;
  cleanup_close int fd = held_to_modify(call, dirfd, &held);
  if (fd < 0)
    return sc_fail(fd);
  const struct timespec *times = call->args[2] ? ts : NULL;
  r = (int)AS_AGENT(call, vfs_held_place_of(&held), 0,
                    utimensat(fd, "", times, AT_EMPTY_PATH) < 0 ? -errno : 0);
  return r < 0 ? sc_fail(r) : sc_ok(0);
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
  if (r < 0)
    return sc_fail(r);
  return set_times(call, dirfd, path_arg, times ? ts : NULL, 0);
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
  if (r < 0)
    return sc_fail(r);
  ts[0] = (struct timespec){.tv_sec = ub.actime};
  ts[1] = (struct timespec){.tv_sec = ub.modtime};
  return set_times(call, AT_FDCWD, 0, call->args[1] ? ts : NULL, 0);
}
