/* File family, part 1: opening, stat, access, readlink, statfs, xattrs,
 * inotify. Each handler: read the arguments once, resolve through the VFS,
 * act on the sentry-owned fd, write results back. */
#include <linux/openat2.h>
#include <linux/stat.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpath.h"
#include "common/log.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"
#include "sentry/task.h"

/* ---- open family ---- */

/* What openat(2) does to its flags before walking (build_open_how). */
#define OPENAT_VALID_FLAGS                                                                       \
  (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | \
   FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |  \
   __O_TMPFILE)
#define O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)

static bool creates(uint64_t flags)
{
  /* __O_TMPFILE includes O_DIRECTORY: test the whole of it */
  return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE;
}

static struct open_how openat_how(unsigned int flags, unsigned int mode)
{
  struct open_how how = {.flags = flags & OPENAT_VALID_FLAGS, .resolve = 0};
  if (how.flags & O_PATH)
    how.flags &= O_PATH_FLAGS;
  if (creates(how.flags))
    how.mode = mode & 07777;
  return how;
}

/* Inject the opened file and answer. With O_TRUNC the file was opened
 * without it and is truncated only once the fd is in place, so that a full
 * fd table (EMFILE) leaves the file as it was; a file this call created is
 * removed again if it cannot be handed over. */
/* How the fd reaches the agent. With ADDFD|SEND the answer goes with the
 * injection (one wake-up of the agent, not two) and the sentry's copy
 * closes after it. A file the agent may write is counted in
 * writers_in_flight until that close: the agent may be running already,
 * and its write-close-execve of the file would race the close (ETXTBSY);
 * every execve waits for the count to be 0 (sentry_wait_writers). */
enum inject_mode {
  INJECT_SEND,           /* injected and answered at once */
  INJECT_SEND_WRITABLE,  /* the same, the sentry's copy counted until closed */
  INJECT_TRUNCATE,       /* truncated between the injection and the answer */
};

/* The sentry's copy of a writable file, closed after the answer. */
static void close_writable(struct sentry *s, struct vfs_opened *o)
{
  if (s->test_hold_writable_ms > 0) /* tests: widen the window sentry_wait_writers closes */
    nanosleep(&(struct timespec){.tv_sec = s->test_hold_writable_ms / 1000,
                                 .tv_nsec = (long)(s->test_hold_writable_ms % 1000) * 1000000},
              NULL);
  vfs_opened_release(o);
  atomic_fetch_sub(&s->writers_in_flight, 1);
}

static struct sc_result inject(struct sentry_call *call, struct vfs_opened *o, bool cloexec,
                               enum inject_mode mode)
{
  struct sentry *s = call->sentry;
  if (mode == INJECT_SEND_WRITABLE)
    atomic_fetch_add(&s->writers_in_flight, 1);
  int target_fd = mode == INJECT_TRUNCATE ? unotify_addfd(s->listener, call->id, o->fd, cloexec)
                                          : unotify_addfd_send(s->listener, call->id, o->fd, cloexec);
  if (target_fd < 0)
    vfs_opened_undo(&call->fs, o);
  if (mode == INJECT_SEND_WRITABLE)
    close_writable(s, o);
  if (target_fd < 0) /* ENOENT: the agent is gone; else (EMFILE...) the call is still ours */
    return target_fd == -ENOENT ? sc_gone() : sc_errno(-target_fd);
  if (mode != INJECT_TRUNCATE)
    return sc_answered(target_fd);
  /* the agent is still waiting for the answer: nothing it does can see the
   * file between the injection and the truncation */
  if (ftruncate(o->fd, 0) < 0)
    usbox_warn("truncating a file opened with O_TRUNC: %s", strerror(errno));
  return sc_ok(target_fd);
}

/* Whether the truncation O_TRUNC asks for would be refused: a memfd sealed
 * against shrinking (F_SEAL_SHRINK) refuses it with EPERM, and the kernel
 * refuses the whole open then (a re-open through /proc/self/fd). The
 * truncation comes after the injection, when an error could no longer be
 * the answer: so it is asked first. The seal can only be added, never
 * removed: a seal added in between is the one case left, and the open
 * then succeeds without truncating (with a warning). */
static bool truncate_refused(const struct vfs_opened *o)
{
  int seals = fcntl(o->fd, F_GET_SEALS);
  return seals > 0 && (seals & F_SEAL_SHRINK) && o->st.st_size > 0;
}

/* Resolve, open, inject: the agent receives the sentry's fd through ADDFD. */
static struct sc_result do_open(struct sentry_call *call, int dirfd, struct open_how how)
{
  bool cloexec = (how.flags & O_CLOEXEC) != 0;
  bool truncate_after = (how.flags & O_TRUNC) && (how.flags & O_ACCMODE) != O_RDONLY;
  if (truncate_after)
    how.flags &= ~(uint64_t)O_TRUNC;
  cleanup_opened struct vfs_opened o = VFS_OPENED_INIT;
  int r = vfs_open(&call->fs, dirfd, call->path[0], &how, &o);
  if (r < 0)
    return sc_fail(r);
  bool regular = S_ISREG(o.st.st_mode);
  if (truncate_after && regular && truncate_refused(&o))
    return sc_errno(EPERM);
  /* a file this open made has nothing to truncate (an existing empty one
   * still is: a truncation sets its times): one ADDFD|SEND */
  enum inject_mode mode = truncate_after && regular && !o.created ? INJECT_TRUNCATE
                          : regular && (how.flags & O_ACCMODE) != O_RDONLY ? INJECT_SEND_WRITABLE
                                                                          : INJECT_SEND;
  return inject(call, &o, cloexec, mode);
}

struct sc_result sys_openat(struct sentry_call *call)
{
  int r = read_path(call, 0, 1, false);
  if (r < 0)
    return sc_fail(r);
  return do_open(call, ARG_INT(call, 0), openat_how(ARG_UINT(call, 2), ARG_UINT(call, 3)));
}

struct sc_result sys_open(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  return do_open(call, AT_FDCWD, openat_how(ARG_UINT(call, 1), ARG_UINT(call, 2)));
}

struct sc_result sys_creat(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  return do_open(call, AT_FDCWD, openat_how(O_CREAT | O_WRONLY | O_TRUNC, ARG_UINT(call, 1)));
}

#define OPEN_HOW_SIZE_VER0 24

struct sc_result sys_openat2(struct sentry_call *call)
{
  size_t size = call->args[3];
  if (size < OPEN_HOW_SIZE_VER0)
    return sc_errno(EINVAL);
  if (size > 4096)
    return sc_errno(E2BIG);
  unsigned char raw[4096];
  int r = agent_read(call, call->args[2], raw, size);
  if (r < 0)
    return sc_fail(r);
  for (size_t i = sizeof(struct open_how); i < size; i++)
    if (raw[i] != 0) /* a newer struct with fields this kernel ABI lacks */
      return sc_errno(E2BIG);
  struct open_how how = {0};
  memcpy(&how, raw, size < sizeof how ? size : sizeof how);
  /* openat2 itself refuses what openat would quietly ignore */
  if (how.flags & ~(uint64_t)OPENAT_VALID_FLAGS)
    return sc_errno(EINVAL);
  if ((how.flags & O_PATH) && (how.flags & ~(uint64_t)O_PATH_FLAGS))
    return sc_errno(EINVAL);
  if (!creates(how.flags) && how.mode != 0)
    return sc_errno(EINVAL);
  if (how.mode & ~(uint64_t)07777)
    return sc_errno(EINVAL);
  if (how.resolve & ~(uint64_t)(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
                                RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED))
    return sc_errno(EINVAL);
  if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT))
    return sc_errno(EINVAL);
  r = read_path(call, 0, 1, false);
  if (r < 0)
    return sc_fail(r);
  how.resolve &= ~(uint64_t)RESOLVE_CACHED; /* a hint: answering without the cache is allowed */
  return do_open(call, ARG_INT(call, 0), how);
}

/* ---- stat family ---- */

static int at_flags_to_vfs(unsigned int flags)
{
  return ((flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0) |
         ((flags & AT_EMPTY_PATH) ? VFS_EMPTY_PATH : 0);
}

static struct sc_result stat_into(struct sentry_call *call, int dirfd, int vflags, int out_arg)
{
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  int r = vfs_lookup(&call->fs, dirfd, call->path[0], vflags | VFS_ATTRS_ONLY, &node);
  if (r < 0)
    return sc_fail(r);
  return write_out(call, out_arg, &node.st, sizeof node.st, 0);
}

struct sc_result sys_stat(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  return r < 0 ? sc_fail(r) : stat_into(call, AT_FDCWD, 0, 1);
}

struct sc_result sys_lstat(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  return r < 0 ? sc_fail(r) : stat_into(call, AT_FDCWD, VFS_NOFOLLOW, 1);
}

struct sc_result sys_newfstatat(struct sentry_call *call)
{
  unsigned int flags = ARG_UINT(call, 3);
  if (flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, 1, (flags & AT_EMPTY_PATH) != 0);
  return r < 0 ? sc_fail(r) : stat_into(call, ARG_INT(call, 0), at_flags_to_vfs(flags), 2);
}

struct sc_result sys_statx(struct sentry_call *call)
{
  unsigned int flags = ARG_UINT(call, 2);
  unsigned int mask = ARG_UINT(call, 3);
  if ((flags & ~(unsigned)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH |
                           AT_STATX_SYNC_TYPE)) ||
      (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & STATX__RESERVED))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, 1, (flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  r = vfs_lookup(&call->fs, ARG_INT(call, 0), call->path[0], at_flags_to_vfs(flags) | VFS_ATTRS_ONLY,
                 &node);
  if (r < 0)
    return sc_fail(r);
  struct statx stx = node.stx;
  /* an object the agent holds was not statted by the gofer: do it here */
  if (node.obj_fd >= 0 &&
      statx(node.obj_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | (int)(flags & AT_STATX_SYNC_TYPE),
            mask, &stx) < 0)
    return sc_errno(errno);
  return write_out(call, 4, &stx, sizeof stx, 0);
}

/* ---- access ---- */

/* Writing a device, FIFO or socket does not modify the filesystem. */
static bool modifies_fs(const struct vfs_node *n)
{
  return S_ISREG(n->st.st_mode) || S_ISDIR(n->st.st_mode) || S_ISLNK(n->st.st_mode);
}

static struct sc_result do_access(struct sentry_call *call, int dirfd, int mode,
                                  unsigned int flags)
{
  if (mode & ~(F_OK | R_OK | W_OK | X_OK))
    return sc_errno(EINVAL);
  if (flags & ~(unsigned)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, 1, (flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return sc_fail(r);
  /* access() checks with the real ids unless AT_EACCESS; the gofer checks
   * while it walks when it can (one round trip instead of two) */
  bool real_ids = !(flags & AT_EACCESS);
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  r = vfs_lookup_access(&call->fs, dirfd, call->path[0], at_flags_to_vfs(flags), mode, real_ids,
                        &node);
  if (r < 0)
    return sc_fail(r);
  /* W_OK on a read-only mount of the view: EROFS, as the kernel says it */
  if ((mode & W_OK) && modifies_fs(&node) && (r = vfs_check_modify_as(&call->fs, &node)) < 0)
    return sc_fail(r);
  r = node.access_done ? node.access_err : vfs_op_access(&call->fs, &node, mode, real_ids);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

struct sc_result sys_access(struct sentry_call *call)
{
  /* access(path, mode): shift into faccessat's argument layout */
  call->args[2] = call->args[1];
  call->args[1] = call->args[0];
  return do_access(call, AT_FDCWD, ARG_INT(call, 2), 0);
}

struct sc_result sys_faccessat(struct sentry_call *call)
{
  return do_access(call, ARG_INT(call, 0), ARG_INT(call, 2), 0);
}

struct sc_result sys_faccessat2(struct sentry_call *call)
{
  return do_access(call, ARG_INT(call, 0), ARG_INT(call, 2), ARG_UINT(call, 3));
}

/* ---- readlink ---- */

static struct sc_result do_readlink(struct sentry_call *call, int dirfd, int path_arg)
{
  int bufsize = ARG_INT(call, path_arg + 2);
  if (bufsize <= 0)
    return sc_errno(EINVAL);
  int r = read_path(call, 0, path_arg, true);
  if (r < 0)
    return sc_fail(r);
  bool empty = call->path[0][0] == '\0';
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  r = vfs_lookup(&call->fs, dirfd, call->path[0], VFS_NOFOLLOW | VFS_EMPTY_PATH, &node);
  if (r < 0)
    return sc_fail(r);
  if (!S_ISLNK(node.st.st_mode))
    return sc_errno(empty ? ENOENT : EINVAL);
  char target[PATH_MAX];
  ssize_t n = vfs_op_readlink(&call->fs, &node, target, sizeof target);
  if (n < 0)
    return sc_fail((int)n);
  if (n > bufsize)
    n = bufsize;
  return write_out(call, path_arg + 1, target, (size_t)n, n);
}

struct sc_result sys_readlink(struct sentry_call *call)
{
  return do_readlink(call, AT_FDCWD, 0);
}

struct sc_result sys_readlinkat(struct sentry_call *call)
{
  return do_readlink(call, ARG_INT(call, 0), 1);
}

/* ---- statfs ---- */

struct sc_result sys_statfs(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  r = vfs_lookup(&call->fs, AT_FDCWD, call->path[0], 0, &node);
  if (r < 0)
    return sc_fail(r);
  struct statfs sfs;
  if ((r = vfs_op_statfs(&call->fs, &node, &sfs)) < 0)
    return sc_fail(r);
  return write_out(call, 1, &sfs, sizeof sfs, 0);
}

/* ---- extended attributes ---- */

#define XATTR_MAX 65536

static int read_xattr_name(struct sentry_call *call, int argi)
{
  ssize_t n = agent_read_string(call, call->args[argi], call->path[1], 256);
  if (n == -ENAMETOOLONG || n == 0)
    return -ERANGE; /* as the kernel for names of 0 or > 255 bytes */
  return n < 0 ? (int)n : 0;
}

static int xattr_node(struct sentry_call *call, bool nofollow, bool with_name,
                      struct vfs_node *node)
{
  int r = read_path(call, 0, 0, false);
  if (r == 0 && with_name)
    r = read_xattr_name(call, 1);
  if (r == 0)
    r = vfs_lookup(&call->fs, AT_FDCWD, call->path[0], nofollow ? VFS_NOFOLLOW : 0, node);
  return r;
}

static struct sc_result xattr_get(struct sentry_call *call, bool nofollow)
{
  size_t size = call->args[3];
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  int r = xattr_node(call, nofollow, true, &node);
  if (r < 0)
    return sc_fail(r);
  size_t cap = size > XATTR_MAX ? XATTR_MAX : size;
  cleanup_free char *value = malloc(cap > 0 ? cap : 1);
  if (value == NULL)
    return sc_errno(ENOMEM);
  ssize_t n = vfs_op_getxattr(&call->fs, &node, call->path[1], value, cap);
  if (n < 0)
    return sc_fail((int)n);
  if (size == 0)
    return sc_ok(n);
  return write_out(call, 2, value, (size_t)n, n);
}

struct sc_result sys_getxattr(struct sentry_call *call)
{
  return xattr_get(call, false);
}

struct sc_result sys_lgetxattr(struct sentry_call *call)
{
  return xattr_get(call, true);
}

static struct sc_result xattr_set(struct sentry_call *call, bool nofollow)
{
  size_t size = call->args[3];
  int flags = ARG_INT(call, 4);
  if (size > XATTR_MAX)
    return sc_errno(E2BIG);
  cleanup_free char *value = malloc(size > 0 ? size : 1);
  if (value == NULL)
    return sc_errno(ENOMEM);
  int r = size > 0 ? agent_read(call, call->args[2], value, size) : 0;
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  if (r == 0)
    r = xattr_node(call, nofollow, true, &node);
  if (r == 0)
    r = vfs_check_modify_as(&call->fs, &node);
  if (r == 0)
    r = vfs_op_setxattr(&call->fs, &node, call->path[1], value, size, flags);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

struct sc_result sys_setxattr(struct sentry_call *call)
{
  return xattr_set(call, false);
}

struct sc_result sys_lsetxattr(struct sentry_call *call)
{
  return xattr_set(call, true);
}

/* fsetxattr: the name decides (no file capabilities on the host's files),
 * so it is read here and the call performed on the sentry's copy of the
 * agent's open file, as the agent. */
struct sc_result sys_fsetxattr(struct sentry_call *call)
{
  size_t size = call->args[3];
  int flags = ARG_INT(call, 4);
  if (size > XATTR_MAX)
    return sc_errno(E2BIG);
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
    return sc_errno(EINVAL);
  cleanup_free char *value = malloc(size > 0 ? size : 1);
  if (value == NULL)
    return sc_errno(ENOMEM);
  int r = read_xattr_name(call, 1);
  if (r == 0 && size > 0)
    r = agent_read(call, call->args[2], value, size);
  if (r < 0)
    return sc_fail(r);
  struct vfs_held held;
  cleanup_close int fd = held_to_modify(call, ARG_INT(call, 0), &held);
  if (fd < 0)
    return sc_fail(fd);
  if (strcmp(call->path[1], VFS_XATTR_FILE_CAPS) == 0 && held.host_backed)
    return sc_errno(EPERM);
  r = (int)AS_AGENT(call, vfs_held_place_of(&held), 0,
                    fsetxattr(fd, call->path[1], value, size, flags) < 0 ? -errno : 0);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

/* fremovexattr: performed on the sentry's copy, where the view lets the
 * agent change that file. */
struct sc_result sys_fremovexattr(struct sentry_call *call)
{
  int r = read_xattr_name(call, 1);
  if (r < 0)
    return sc_fail(r);
  struct vfs_held held;
  cleanup_close int fd = held_to_modify(call, ARG_INT(call, 0), &held);
  if (fd < 0)
    return sc_fail(fd);
  r = (int)AS_AGENT(call, vfs_held_place_of(&held), 0,
                    fremovexattr(fd, call->path[1]) < 0 ? -errno : 0);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

static struct sc_result xattr_list(struct sentry_call *call, bool nofollow)
{
  size_t size = call->args[2];
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  int r = xattr_node(call, nofollow, false, &node);
  if (r < 0)
    return sc_fail(r);
  size_t cap = size > XATTR_MAX ? XATTR_MAX : size;
  cleanup_free char *list = malloc(cap > 0 ? cap : 1);
  if (list == NULL)
    return sc_errno(ENOMEM);
  ssize_t n = vfs_op_listxattr(&call->fs, &node, list, cap);
  if (n < 0)
    return sc_fail((int)n);
  if (size == 0)
    return sc_ok(n);
  return write_out(call, 1, list, (size_t)n, n);
}

struct sc_result sys_listxattr(struct sentry_call *call)
{
  return xattr_list(call, false);
}

struct sc_result sys_llistxattr(struct sentry_call *call)
{
  return xattr_list(call, true);
}

static struct sc_result xattr_remove(struct sentry_call *call, bool nofollow)
{
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  int r = xattr_node(call, nofollow, true, &node);
  if (r == 0)
    r = vfs_check_modify_as(&call->fs, &node);
  if (r == 0)
    r = vfs_op_removexattr(&call->fs, &node, call->path[1]);
  return r < 0 ? sc_fail(r) : sc_ok(0);
}

struct sc_result sys_removexattr(struct sentry_call *call)
{
  return xattr_remove(call, false);
}

struct sc_result sys_lremovexattr(struct sentry_call *call)
{
  return xattr_remove(call, true);
}

/* ---- inotify ---- */

struct sc_result sys_inotify_add_watch(struct sentry_call *call)
{
  unsigned int mask = ARG_UINT(call, 2);
  int r = read_path(call, 0, 1, false);
  if (r < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  r = vfs_lookup(&call->fs, AT_FDCWD, call->path[0],
                 ((mask & IN_DONT_FOLLOW) ? VFS_NOFOLLOW : 0) |
                     ((mask & IN_ONLYDIR) ? VFS_DIRECTORY : 0),
                 &node);
  if (r < 0)
    return sc_fail(r);
  /* the agent's inotify instance itself (same open file): the watch lands in it */
  cleanup_close int ifd = task_getfd(call, ARG_INT(call, 0));
  if (ifd < 0)
    return sc_fail(ifd);
  int wd = vfs_op_inotify(&call->fs, &node, ifd, mask);
  return wd < 0 ? sc_fail(wd) : sc_ok(wd);
}

/* ---- directory listings ---- */

/* getdents64/getdents: performed by the sentry on its own copy of the
 * agent's open file (pidfd_getfd: the same file and position), never handed
 * back to the kernel, which would look the fd number up again: a thread
 * that dup2()s another directory over it meanwhile would be listed
 * unfiltered. A directory holding a hidden entry loses it; /proc lists only
 * the sandbox's processes. */
/* The names a listing of the directory the sentry holds (fd) must leave
 * out: those of the identity filter built at start, and every hidden path
 * directly in it by its view path (the kernel's name for it, which is a view
 * path: the agent's root is the view's root). -ENOENT when the directory is
 * itself hidden (reached by a way the walks did not see). */
static int listing_names(struct sentry_call *call, int fd, const struct stat *st,
                         struct vfs_listing_filter *out, const char **names, size_t max)
{
  const struct vfs *v = &call->sentry->vfs;
  const char *by = vfs_hidden_id_by(v, st->st_dev, st->st_ino);
  if (by != NULL)
    return vfs_hidden_enoent(&call->fs, by);
  out->nnames = 0;
  out->names = (char **)names;
  const struct vfs_listing_filter *f = vfs_listing_filter(v, st->st_dev, st->st_ino);
  for (size_t i = 0; f != NULL && i < f->nnames && out->nnames < max; i++)
    names[out->nnames++] = f->names[i];
  char view[PATH_MAX];
  ssize_t len = readlink(fdpath_of(fd).s, view, sizeof view - 1);
  if (len <= 0 || view[0] != '/')
    return 0; /* no name (removed): only the identity filter applies */
  view[len] = '\0';
  if ((by = vfs_hidden_by(v, view)) != NULL)
    return vfs_hidden_enoent(&call->fs, by);
  out->nnames += vfs_hidden_names_in(v, view, names + out->nnames, max - out->nnames);
  return 0;
}

/* getdents64/getdents: performed by the sentry on its own copy of the
 * agent's open file (pidfd_getfd: the same file and position), never handed
 * back to the kernel, which would look the fd number up again: a thread
 * that dup2()s another directory over it meanwhile would be listed
 * unfiltered. Hidden entries are left out; /proc lists only the sandbox's
 * processes. */
/* A listing buffer per receiver thread, made at its first listing: no
 * allocation per call (a large one was an mmap and page faults), and none
 * in threads that never list. Not in static TLS: glibc clears a new
 * thread's whole TLS block, and receivers are started at any time (a
 * handoff), each paying 16 page faults for a buffer most never use. */
#define DENTS_BUF_SIZE (64 * 1024)
static pthread_key_t dents_key;
static pthread_once_t dents_once = PTHREAD_ONCE_INIT;

static void dents_key_make(void)
{
  if (pthread_key_create(&dents_key, free) != 0)
    abort(); /* at the first listing, with a key to spare: never */
}

static char *dents_buffer(void)
{
  pthread_once(&dents_once, dents_key_make);
  char *buf = pthread_getspecific(dents_key);
  if (buf == NULL && (buf = malloc(DENTS_BUF_SIZE)) != NULL &&
      pthread_setspecific(dents_key, buf) != 0) {
    free(buf);
    buf = NULL;
  }
  return buf;
}

static struct sc_result do_getdents(struct sentry_call *call, size_t name_off, long nr)
{
  cleanup_close int fd = task_getfd(call, ARG_INT(call, 0));
  if (fd < 0)
    return sc_fail(fd); /* EBADF as the kernel says it; ESRCH: gone */
  if (call_validate(call) < 0)
    return sc_gone();
  struct stat st;
  if (fstat(fd, &st) < 0)
    return sc_errno(errno);
  const char *names[256];
  struct vfs_listing_filter f = {.dev = st.st_dev, .ino = st.st_ino};
  int r = S_ISDIR(st.st_mode) ? listing_names(call, fd, &st, &f, names, 256) : 0;
  if (r < 0)
    return sc_errno(-r);
  bool proc_root = vfs_is_proc_root(&call->sentry->vfs, st.st_dev, st.st_ino);
  /* the kernel fills what fits; so do we, up to a buffer of this thread's */
  char *buf = dents_buffer();
  if (buf == NULL)
    return sc_errno(ENOMEM);
  size_t count = ARG_UINT(call, 2);
  if (count > DENTS_BUF_SIZE)
    count = DENTS_BUF_SIZE;
  for (;;) {
    /* our fd shares the agent's file position: reading here moves it (and
     * the kernel answers ENOTDIR, EINVAL for a small buffer, as to the agent) */
    long n = syscall(nr, fd, buf, count);
    if (n <= 0)
      return sc_syscall(n);
    size_t kept = proc_root      ? vfs_filter_proc_root(&call->fs, buf, (size_t)n, name_off)
                  : f.nnames > 0 ? vfs_filter_dirents(&f, buf, (size_t)n, name_off)
                                 : (size_t)n;
    kept = vfs_filter_hidden_inodes(&call->sentry->vfs, st.st_dev, buf, kept, name_off);
    if (kept > 0)
      return write_out(call, 1, buf, kept, (int64_t)kept);
  }
}

struct sc_result sys_getdents64(struct sentry_call *call)
{
  return do_getdents(call, VFS_DIRENT64_NAME, SYS_getdents64);
}

struct sc_result sys_getdents(struct sentry_call *call)
{
  return do_getdents(call, VFS_DIRENT_NAME, SYS_getdents);
}
