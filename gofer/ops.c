/* The gofer's operations. Every path comes from the sentry, validated here
 * again (gofer_decode) and walked with the kernel following nothing. */
#include "gofer/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpath.h"

#define WALK_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define STATX_WANT GOFER_STATX_MASK

/* ---- decoding ---- */

static bool entry_valid(const char *path)
{
  const char *slash = strrchr(path, '/');
  /* "name/" keeps its trailing slash: the last slash may end the name */
  if (slash != NULL && slash[1] == '\0') {
    const char *prev = slash;
    while (prev > path && prev[-1] != '/')
      prev--;
    slash = prev > path ? prev - 1 : NULL;
  }
  const char *name = slash ? slash + 1 : path;
  if (!gofer_name_valid(name))
    return false;
  if (slash == NULL)
    return true;
  size_t plen = (size_t)(slash - path);
  if (plen == 0)
    return false; /* "/name": not mount-relative */
  char parent[PATH_MAX];
  if (plen >= sizeof parent)
    return false;
  memcpy(parent, path, plen);
  parent[plen] = '\0';
  return gofer_path_valid(parent, (uint32_t)plen + 1);
}

/* ---- the handler table (its entries are at the end of the file) ---- */

struct gofer_entry {
  int dir, dir2; /* dir2: the second entry's parent (RENAME, LINK), else -1 */
  const char *name, *name2;
};

/* What a request's second string is. */
enum gofer_path2 { PATH2_NONE, PATH2_ENTRY, PATH2_XATTR_NAME };

struct gofer_handler {
  /* exactly one of: */
  void (*whole)(struct gofer_state *g, const struct gofer_call *c, struct gofer_result *res);
  long (*on_object)(int fd, const struct gofer_call *c, struct gofer_result *res);
  long (*on_entry)(const struct gofer_entry *e, const struct gofer_call *c);
  enum gofer_path2 path2;
};

static const struct gofer_handler *handler_of(int op);


/* UTIMENS carries two timespecs or none (the current time); another op
 * passes. */
static bool utimens_data_ok(const struct gofer_req *q)
{
  return q->op != GOFER_UTIMENS || q->data_len == 0 || q->data_len == 2 * sizeof(struct timespec);
}

int gofer_decode(const struct gofer_state *g, const void *msg, size_t len, int in_fd,
                 struct gofer_call *out)
{
  const struct gofer_req *req = msg;
  if (len < sizeof *req || req->magic != GOFER_MAGIC)
    return -EPROTO;
  if (req->op == 0 || req->op >= GOFER_OP_MAX || req->mount >= g->nmounts ||
      req->mount2 >= g->nmounts)
    return -EINVAL;
  if (req->op != GOFER_CANCEL && g->mounts[req->mount].fd < 0)
    return -ENODEV; /* a mount this side does not serve */
  if ((size_t)req->path_len + req->path2_len + req->data_len != len - sizeof *req ||
      req->data_len > GOFER_MAX_DATA)
    return -EPROTO;
  if (req->ident.ngroups < 0 || req->ident.ngroups > DEPUTY_MAX_GROUPS)
    return -EINVAL;
  const char *p = (const char *)(req + 1);
  out->req = req;
  out->path = p;
  out->path2 = p + req->path_len;
  out->data = p + req->path_len + req->path2_len;
  out->in_fd = in_fd;
  if (req->op == GOFER_CANCEL)
    return 0;
  if (req->path_len == 0 || req->path_len > PATH_MAX || out->path[req->path_len - 1] != '\0' ||
      strlen(out->path) + 1 != req->path_len)
    return -EINVAL;
  const struct gofer_handler *h = handler_of(req->op);
  if (h == NULL)
    return -EINVAL;
  bool entry = h->on_entry != NULL || (req->op == GOFER_OPEN && (req->flags & O_CREAT));
  if (entry ? !entry_valid(out->path) : !gofer_path_valid(out->path, req->path_len))
    return -EINVAL;
  if (h->path2 == PATH2_ENTRY) {
    if (req->path2_len == 0 || out->path2[req->path2_len - 1] != '\0' ||
        strlen(out->path2) + 1 != req->path2_len || !entry_valid(out->path2))
      return -EINVAL;
  } else if (h->path2 == PATH2_XATTR_NAME) {
    if (req->path2_len < 2 || req->path2_len > 256 || out->path2[req->path2_len - 1] != '\0' ||
        strlen(out->path2) + 1 != req->path2_len)
      return -EINVAL;
  } else if (req->path2_len != 0) {
    return -EINVAL;
  }
  if (req->op == GOFER_SYMLINK &&
      (req->data_len < 2 || req->data_len > PATH_MAX ||
       ((const char *)out->data)[req->data_len - 1] != '\0'))
    return -EINVAL;
  if (!utimens_data_ok(req))
    return -EINVAL;
  if ((req->walk & GOFER_WALK_KEEP) &&
      (req->op != GOFER_WALK || g->mounts[req->mount].procfs ||
       (req->walk & (GOFER_WALK_ACCESS | GOFER_WALK_REAL_IDS | GOFER_NO_XDEV))))
    return -EINVAL; /* a shape error, before whether an fd came */
  if (req->op == GOFER_INOTIFY && in_fd < 0)
    return -EBADF;
  if (req->op == GOFER_PROC_FOLLOW && !g->mounts[req->mount].procfs)
    return -EPERM;
  return 0;
}

/* ---- walking ---- */

static long openat2_fd(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
  struct open_how how = {.flags = flags | O_CLOEXEC, .mode = mode, .resolve = resolve};
  long fd = syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof how);
  return fd < 0 ? -errno : fd;
}

long gofer_step(int dir, const char *name)
{
  return openat2_fd(dir, name, O_PATH | O_NOFOLLOW, 0, WALK_RESOLVE);
}

static bool is_magic(int dirfd, const char *name)
{
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS};
  long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
  if (fd >= 0) {
    close((int)fd);
    return false;
  }
  return errno == ELOOP;
}

/* Report the symlink at component k of path (the walk met it). */
static void report_link(struct gofer_result *res, const struct gofer_state *g, int mount,
                        int dirfd, const char *name, int linkfd, uint32_t k, uint32_t which)
{
  ssize_t n = readlinkat(linkfd, "", res->data, sizeof res->data - 1);
  if (n < 0) {
    res->rep.err = errno;
    return;
  }
  res->data[n] = '\0';
  res->rep.data_len = (uint32_t)n + 1;
  res->rep.status = g->mounts[mount].procfs && is_magic(dirfd, name) ? GOFER_MAGIC_LINK
                                                                     : GOFER_AT_LINK;
  res->rep.index = k;
  res->rep.which = which;
}

/* Walk path in mount (not following anything). On success *fd is the last
 * component (O_PATH) and 0 is returned. A symlink on the way (or at the end
 * when follow_last) is reported in res and 1 is returned; an error is
 * -errno. */
static int walk(const struct gofer_state *g, int mount, const char *path, bool follow_last,
                uint64_t extra_resolve, uint32_t which, int *fd, struct gofer_result *res)
{
  int root = g->mounts[mount].fd;
  uint64_t resolve = WALK_RESOLVE | extra_resolve;
  /* the mount root itself: a bound file is no directory to walk from */
  long r = path[0] == '\0' ? fcntl(root, F_DUPFD_CLOEXEC, 3)
                            : openat2_fd(root, path, O_PATH | O_NOFOLLOW, 0, resolve);
  if (path[0] == '\0' && r < 0)
    r = -errno;
  if (r >= 0) {
    /* one statx serves both the symlink check and the reply */
    if (statx((int)r, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANT, &res->rep.stx) == 0)
      res->rep.has_stat = 1;
    if (follow_last && res->rep.has_stat && S_ISLNK(res->rep.stx.stx_mode)) {
      close((int)r);
      res->rep.has_stat = 0;
      r = -ELOOP; /* find it below, and report it */
    }
  }
  if (r >= 0) {
    *fd = (int)r;
    return 0;
  }
  if (r != -ELOOP)
    return (int)r;
  /* a symlink somewhere: find which component */
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", path);
  cleanup_close int dir = dup(root);
  uint32_t k = 0;
  for (char *save = NULL, *c = strtok_r(copy, "/", &save); c != NULL;
       c = strtok_r(NULL, "/", &save), k++) {
    cleanup_close int next = (int)openat2_fd(dir, c, O_PATH | O_NOFOLLOW, 0, resolve);
    if (next < 0)
      return next;
    struct stat st;
    if (fstat(next, &st) < 0)
      return -errno;
    if (S_ISLNK(st.st_mode)) {
      report_link(res, g, mount, dir, c, next, k, which);
      return res->rep.err != 0 ? -res->rep.err : 1;
    }
    close(dir);
    dir = steal_fd(&next);
  }
  return -ELOOP; /* no symlink found: a loop the kernel saw */
}

/* Split "parent/name" (name may end in one '/'). */
static const char *split_entry(const char *path, char parent[PATH_MAX])
{
  size_t len = strlen(path);
  size_t end = len;
  if (end > 0 && path[end - 1] == '/')
    end--;
  size_t start = end;
  while (start > 0 && path[start - 1] != '/')
    start--;
  if (start == 0)
    parent[0] = '\0';
  else
    snprintf(parent, PATH_MAX, "%.*s", (int)(start - 1), path);
  return path + start;
}

static void fill_statx(struct gofer_result *res, int fd)
{
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANT, &res->rep.stx) == 0)
    res->rep.has_stat = 1;
}

static void set_err(struct gofer_result *res, long r)
{
  if (r < 0)
    res->rep.err = (int32_t)-r;
}

#define SYS_ERR(expr) ((expr) < 0 ? -errno : 0)


/* ---- operations ---- */

/* GOFER_ACCESS on a walked object, as the identity gofer_perform took: the
 * agent's effective ids, or its real ones (arg1). 0 or -errno. */
static long access_check(const struct gofer_req *q, int fd)
{
  return SYS_ERR(syscall(SYS_faccessat2, fd, "", (int)q->arg0, AT_EMPTY_PATH | AT_EACCESS));
}

/* GOFER_WALK_KEEP: keep dir (its fd and how it is now) before a name is
 * looked up in it. */
static int keep_dir(struct gofer_result *res, struct gofer_keep_snap *snaps, int dir)
{
  struct statx x;
  if (statx(dir, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_CTIME | STATX_MNT_ID,
            &x) < 0)
    return -errno;
  int fd = fcntl(dir, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return -errno;
  uint32_t i = res->rep.keep_dirs++;
  snaps[i] = gofer_snap_of(&x);
  res->keep_fds[res->rep.nkeep++] = fd;
  return 0;
}

/* The components of path, or -1 when there are more than GOFER_MAX_KEEP. */
static int count_components(const char *path)
{
  int n = 0;
  for (const char *c = path; *c != '\0'; c += strcspn(c, "/"), c += *c == '/')
    if (++n > GOFER_MAX_KEEP)
      return -1;
  return n;
}

/* A walk one component at a time that keeps each directory it looks a name
 * up in and the object it reaches (GOFER_WALK_KEEP). The snapshots go into
 * res->data after the link text, which report_link may put at its start. */
static int walk_keeping(const struct gofer_state *g, const struct gofer_call *c,
                        struct gofer_result *res)
{
  const struct gofer_req *q = c->req;
  bool follow_last = !(q->walk & GOFER_NOFOLLOW_LAST);
  struct gofer_keep_snap snaps[GOFER_MAX_KEEP];
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", c->path);
  cleanup_close int dir = fcntl(g->mounts[q->mount].fd, F_DUPFD_CLOEXEC, 3);
  int r = dir < 0 ? -errno : 0;
  uint32_t k = 0;
  for (char *save = NULL, *name = strtok_r(copy, "/", &save); r == 0 && name != NULL; k++) {
    char *following = strtok_r(NULL, "/", &save);
    if ((r = keep_dir(res, snaps, dir)) < 0)
      break;
    cleanup_close int next = (int)gofer_step(dir, name);
    if (next < 0) {
      r = next;
      break;
    }
    if (statx(next, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANT, &res->rep.stx) < 0) {
      r = -errno;
      break;
    }
    if (S_ISLNK(res->rep.stx.stx_mode) && (following != NULL || follow_last)) {
      report_link(res, g, q->mount, dir, name, next, k, 0);
      r = res->rep.err != 0 ? -res->rep.err : 1;
      break;
    }
    if (following != NULL && !S_ISDIR(res->rep.stx.stx_mode)) {
      r = -ENOTDIR;
      break;
    }
    close(dir);
    dir = steal_fd(&next);
    name = following;
  }
  if (r == 0) { /* at the object (the mount root itself for "") */
    if (statx(dir, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANT, &res->rep.stx) < 0)
      r = -errno;
    else
      res->rep.has_stat = 1, res->keep_fds[res->rep.nkeep++] = steal_fd(&dir);
  }
  if (r != 1)
    res->rep.has_stat = r == 0;
  uint32_t off = (res->rep.data_len + 7u) & ~7u;
  memcpy(res->data + off, snaps, res->rep.keep_dirs * sizeof *snaps);
  res->rep.keep_off = off;
  res->rep.data_len = off + res->rep.keep_dirs * (uint32_t)sizeof *snaps;
  return r;
}

static void op_walk(struct gofer_state *g, const struct gofer_call *c, struct gofer_result *res)
{
  if ((c->req->walk & GOFER_WALK_KEEP) && count_components(c->path) >= 0) {
    int r = walk_keeping(g, c, res);
    if (r < 0)
      res->rep.err = -r; /* the kept fds still go: the lookup that failed can be cached */
    return;
  }
  cleanup_close int fd = -1;
  int r = walk(g, c->req->mount, c->path, !(c->req->walk & GOFER_NOFOLLOW_LAST),
               (c->req->walk & GOFER_NO_XDEV) ? RESOLVE_NO_XDEV : 0, 0, &fd, res);
  if (r < 0)
    set_err(res, r); /* on success walk() already filled the statx */
  else if (fd >= 0 && res->rep.status == GOFER_DONE && (c->req->walk & GOFER_WALK_ACCESS))
    res->rep.val = access_check(c->req, fd);
}

/* The last component's parent, walked; *name points into path. */
static int walk_parent(const struct gofer_state *g, int mount, const char *path, uint32_t which,
                       const char **name, int *dirfd, struct gofer_result *res)
{
  char parent[PATH_MAX];
  *name = split_entry(path, parent);
  return walk(g, mount, parent, true, 0, which, dirfd, res);
}

static void op_open(struct gofer_state *g, const struct gofer_call *c, struct gofer_result *res)
{
  const struct gofer_req *q = c->req;
  const char *name;
  cleanup_close int dir = -1;
  if (q->flags & O_CREAT) {
    /* create: the sentry saw no such file; O_EXCL so that one made
     * meanwhile, or a symlink put there, fails (the sentry walks again) */
    int r = walk_parent(g, q->mount, c->path, 0, &name, &dir, res);
    if (r != 0) {
      set_err(res, r);
      return;
    }
    long fd = openat2_fd(dir, name, (q->flags | O_EXCL | O_NOCTTY) & ~(uint64_t)O_NOFOLLOW,
                         q->arg0 & ~(uint64_t)q->ident.umask & 07777, WALK_RESOLVE);
    if (fd < 0) {
      set_err(res, fd);
      return;
    }
    res->out_fd = (int)fd;
    fill_statx(res, res->out_fd);
    return;
  }
  cleanup_close int obj = -1;
  bool nofollow = q->walk & GOFER_NOFOLLOW_LAST;
  int r = walk(g, q->mount, c->path, !nofollow, 0, 0, &obj, res);
  if (r != 0) {
    set_err(res, r);
    return;
  }
  mode_t type = res->rep.stx.stx_mode & S_IFMT;
  if (type == S_IFLNK) { /* O_NOFOLLOW on a symlink, as the kernel answers */
    res->rep.err = ELOOP;
    return;
  }
  if ((q->flags & O_DIRECTORY) && type != S_IFDIR) {
    res->rep.err = ENOTDIR;
    return;
  }
  if (type == S_IFDIR && (q->flags & O_ACCMODE) != O_RDONLY) {
    res->rep.err = EISDIR;
    return;
  }
  uint64_t flags = (q->flags & ~(uint64_t)(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_NOCTTY;
  if (type == S_IFIFO || type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK) {
    /* may block (a FIFO waits for its other end): finish it in io_uring's
     * workers, cancellable, and keep serving */
    res->async_open = true;
    r = walk_parent(g, q->mount, c->path, 0, &name, &res->async_dirfd, res);
    if (r != 0) {
      res->async_open = false;
      set_err(res, r);
      return;
    }
    snprintf(res->async_name, sizeof res->async_name, "%s", name);
    res->async_flags = flags;
    return;
  }
  /* reopen the object walked to, through our own fd link: no name is
   * resolved again */
  int fd = open(fdpath_of(obj).s, (int)flags | O_CLOEXEC);
  if (fd < 0) {
    set_err(res, -errno);
    return;
  }
  res->out_fd = (int)fd;
}

static void op_tmpfile(struct gofer_state *g, const struct gofer_call *c,
                       struct gofer_result *res)
{
  cleanup_close int dir = -1;
  int r = walk(g, c->req->mount, c->path, true, 0, 0, &dir, res);
  if (r != 0) {
    set_err(res, r);
    return;
  }
  long fd = openat2_fd(dir, "", c->req->flags,
                       c->req->arg0 & ~(uint64_t)c->req->ident.umask & 07777, 0);
  if (fd < 0) {
    set_err(res, fd);
    return;
  }
  res->out_fd = (int)fd;
  fill_statx(res, res->out_fd);
}

/* ---- object operations: on the fd of an object the sentry resolved ---- */

static long do_access(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)res;
  return access_check(c->req, fd);
}

/* READLINK's and STATFS's acts: what they read into out (at most
 * out->cap bytes), its length and the reply's value. 0 or -errno. */
static long object_readlink(int fd, struct gofer_object_out *out)
{
  ssize_t n = readlinkat(fd, "", out->buf, out->cap);
  if (n < 0)
    return -errno;
  out->len = (uint32_t)n, out->val = n;
  return 0;
}

static long object_statfs(int fd, struct gofer_object_out *out)
{
  struct statfs sfs;
  if (out->cap < sizeof sfs)
    return -EINVAL;
  if (fstatfs(fd, &sfs) < 0)
    return -errno;
  memcpy(out->buf, &sfs, sizeof sfs);
  out->len = sizeof sfs, out->val = 0;
  return 0;
}

/* A reading act's out into the gofer's reply. */
static long into_reply(long r, const struct gofer_object_out *out, struct gofer_result *res)
{
  if (r == 0)
    res->rep.data_len = out->len, res->rep.val = out->val;
  return r;
}

static long do_readlink(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)c;
  struct gofer_object_out out = {.buf = res->data, .cap = sizeof res->data};
  return into_reply(object_readlink(fd, &out), &out, res);
}

static long do_statfs(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)c;
  struct gofer_object_out out = {.buf = res->data, .cap = sizeof res->data};
  return into_reply(object_statfs(fd, &out), &out, res);
}

static long do_chmod(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)res;
  return SYS_ERR(chmod(fdpath_of(fd).s, (mode_t)c->req->arg0));
}

static long do_chown(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)res;
  return SYS_ERR(fchownat(fd, "", (uid_t)c->req->arg0, (gid_t)c->req->arg1, AT_EMPTY_PATH));
}

static long do_utimens(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)res;
  const struct timespec *ts = c->req->data_len ? (const struct timespec *)c->data : NULL;
  return SYS_ERR(utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

/* truncate(2) of fd's object, obj its attributes as the walk read them. */
static long object_truncate(int fd, const struct gofer_req *q, const struct statx *obj)
{
  /* RLIMIT_FSIZE is the caller's, and the caller here is the gofer (or the
   * sentry): the agent's limit is checked as the kernel checks its own
   * (growing a regular file past it is EFBIG; the sentry sends SIGXFSZ) */
  if (S_ISREG(obj->stx_mode) && q->arg0 > obj->stx_size && q->arg0 > q->ident.fsize_limit)
    return -EFBIG;
  return SYS_ERR(truncate(fdpath_of(fd).s, (off_t)q->arg0));
}

static long do_truncate(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  return object_truncate(fd, c->req, &res->rep.stx);
}

/* A length the xattr calls return, with the data when the caller asked a
 * size (q->arg0; 0 asks the length only). */
static long xattr_len(ssize_t n, const struct gofer_req *q, struct gofer_object_out *out)
{
  if (n < 0)
    return -errno;
  out->val = n;
  out->len = q->arg0 ? (uint32_t)n : 0;
  return 0;
}

static size_t xattr_cap(const struct gofer_req *q, const struct gofer_object_out *out)
{
  return q->arg0 > out->cap ? out->cap : q->arg0;
}

static long object_getxattr(int fd, const char *name, const struct gofer_req *q,
                            struct gofer_object_out *out)
{
  return xattr_len(getxattr(fdpath_of(fd).s, name, out->buf, xattr_cap(q, out)), q, out);
}

static long object_listxattr(int fd, const struct gofer_req *q, struct gofer_object_out *out)
{
  return xattr_len(listxattr(fdpath_of(fd).s, out->buf, xattr_cap(q, out)), q, out);
}

static long do_getxattr(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  struct gofer_object_out out = {.buf = res->data, .cap = sizeof res->data};
  return into_reply(object_getxattr(fd, c->path2, c->req, &out), &out, res);
}

static long do_setxattr(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)res;
  const struct gofer_req *q = c->req;
  return SYS_ERR(setxattr(fdpath_of(fd).s, c->path2, c->data, q->data_len, (int)q->flags));
}

static long do_listxattr(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  struct gofer_object_out out = {.buf = res->data, .cap = sizeof res->data};
  return into_reply(object_listxattr(fd, c->req, &out), &out, res);
}

static long do_removexattr(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  (void)res;
  return SYS_ERR(removexattr(fdpath_of(fd).s, c->path2));
}

static long do_inotify(int fd, const struct gofer_call *c, struct gofer_result *res)
{
  uint32_t mask = (uint32_t)c->req->arg0 & ~(uint32_t)IN_DONT_FOLLOW;
  int wd = inotify_add_watch(c->in_fd, fdpath_of(fd).s, mask);
  if (wd < 0)
    return -errno;
  res->rep.val = wd;
  return 0;
}

/* ---- entry operations: on (parent, name); the kernel follows no last
 * component for these ---- */


static long do_mkdir(const struct gofer_entry *e, const struct gofer_call *c)
{
  mode_t umask_bits = (mode_t)c->req->ident.umask;
  return SYS_ERR(mkdirat(e->dir, e->name, (mode_t)c->req->arg0 & ~umask_bits & 07777));
}

static long do_mknod(const struct gofer_entry *e, const struct gofer_call *c)
{
  const struct gofer_req *q = c->req;
  mode_t type = (mode_t)q->arg0 & S_IFMT;
  if (type == S_IFCHR || type == S_IFBLK) /* never devices: the sentry refuses them too */
    return -EPERM;
  mode_t perms = (mode_t)q->arg0 & ~(mode_t)q->ident.umask & 07777;
  return SYS_ERR(mknodat(e->dir, e->name, type | perms, (dev_t)q->arg1));
}

static long do_unlink(const struct gofer_entry *e, const struct gofer_call *c)
{
  return SYS_ERR(unlinkat(e->dir, e->name, (int)(c->req->flags & AT_REMOVEDIR)));
}

static long do_rename(const struct gofer_entry *e, const struct gofer_call *c)
{
  return SYS_ERR(syscall(SYS_renameat2, e->dir, e->name, e->dir2, e->name2, c->req->flags));
}

static long do_link(const struct gofer_entry *e, const struct gofer_call *c)
{
  (void)c;
  return SYS_ERR(linkat(e->dir, e->name, e->dir2, e->name2, 0));
}

static long do_symlink(const struct gofer_entry *e, const struct gofer_call *c)
{
  return SYS_ERR(symlinkat((const char *)c->data, e->dir, e->name));
}

/* /proc/PID/fd/N and friends: the object the agent holds (O_PATH). The
 * sentry asks only for processes of the sandbox. */
static void op_proc_follow(struct gofer_state *g, const struct gofer_call *c,
                           struct gofer_result *res)
{
  const char *name;
  cleanup_close int dir = -1;
  int r = walk_parent(g, c->req->mount, c->path, 0, &name, &dir, res);
  if (r != 0) {
    set_err(res, r);
    return;
  }
  int fd = openat(dir, name, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    set_err(res, -errno);
    return;
  }
  res->out_fd = fd;
  fill_statx(res, fd);
}

/* ---- the handlers, one per op ---- */

/* Object operations: walk to it (following nothing unless asked; the
 * sentry already resolved it), then act on its fd. */
static void run_on_object(const struct gofer_state *g, const struct gofer_call *c,
                          struct gofer_result *res,
                          long (*act)(int fd, const struct gofer_call *c, struct gofer_result *res))
{
  bool nofollow = c->req->walk & GOFER_NOFOLLOW_LAST;
  cleanup_close int fd = -1;
  int r = walk(g, c->req->mount, c->path, !nofollow, 0, 0, &fd, res);
  set_err(res, r != 0 ? r : act(fd, c, res));
}

/* Entry operations: walk to the parent (and the second entry's parent),
 * then act on the names. */
static void run_on_entry(const struct gofer_state *g, const struct gofer_call *c,
                         struct gofer_result *res, bool two,
                         long (*act)(const struct gofer_entry *e, const struct gofer_call *c))
{
  const struct gofer_req *q = c->req;
  struct gofer_entry e = {.dir = -1, .dir2 = -1};
  int r = walk_parent(g, q->mount, c->path, 0, &e.name, &e.dir, res);
  if (r == 0 && two)
    r = q->mount2 != q->mount ? -EXDEV
                              : walk_parent(g, q->mount2, c->path2, 1, &e.name2, &e.dir2, res);
  set_err(res, r != 0 ? r : act(&e, c));
  if (e.dir >= 0)
    close(e.dir);
  if (e.dir2 >= 0)
    close(e.dir2);
}

static const struct gofer_handler handlers[GOFER_OP_MAX] = {
    [GOFER_WALK] = {.whole = op_walk},
    [GOFER_OPEN] = {.whole = op_open},
    [GOFER_TMPFILE] = {.whole = op_tmpfile},
    [GOFER_PROC_FOLLOW] = {.whole = op_proc_follow},
    [GOFER_ACCESS] = {.on_object = do_access},
    [GOFER_READLINK] = {.on_object = do_readlink},
    [GOFER_STATFS] = {.on_object = do_statfs},
    [GOFER_CHMOD] = {.on_object = do_chmod},
    [GOFER_CHOWN] = {.on_object = do_chown},
    [GOFER_UTIMENS] = {.on_object = do_utimens},
    [GOFER_TRUNCATE] = {.on_object = do_truncate},
    [GOFER_GETXATTR] = {.on_object = do_getxattr, .path2 = PATH2_XATTR_NAME},
    [GOFER_SETXATTR] = {.on_object = do_setxattr, .path2 = PATH2_XATTR_NAME},
    [GOFER_LISTXATTR] = {.on_object = do_listxattr},
    [GOFER_REMOVEXATTR] = {.on_object = do_removexattr, .path2 = PATH2_XATTR_NAME},
    [GOFER_INOTIFY] = {.on_object = do_inotify},
    [GOFER_MKDIR] = {.on_entry = do_mkdir},
    [GOFER_MKNOD] = {.on_entry = do_mknod},
    [GOFER_UNLINK] = {.on_entry = do_unlink},
    [GOFER_RENAME] = {.on_entry = do_rename, .path2 = PATH2_ENTRY},
    [GOFER_LINK] = {.on_entry = do_link, .path2 = PATH2_ENTRY},
    [GOFER_SYMLINK] = {.on_entry = do_symlink},
    /* GOFER_CANCEL: the loop's own (gofer.c), never performed */
};

static const struct gofer_handler *handler_of(int op)
{
  if (op <= 0 || op >= GOFER_OP_MAX)
    return NULL;
  const struct gofer_handler *h = &handlers[op];
  return h->whole || h->on_object || h->on_entry ? h : NULL;
}

long gofer_entry_act(int op, int dir, const char *name, const struct gofer_req *q,
                     const void *data)
{
  const struct gofer_handler *h = handler_of(op);
  if (h == NULL || h->on_entry == NULL || h->path2 == PATH2_ENTRY || !gofer_name_valid(name))
    return -EINVAL;
  struct gofer_entry e = {.dir = dir, .dir2 = -1, .name = name};
  struct gofer_call c = {.req = q, .path = name, .path2 = NULL, .data = data, .in_fd = -1};
  return h->on_entry(&e, &c);
}

/* An xattr's name as the gofer's decode takes it: 1 to 255 bytes. */
static bool xattr_name_ok(const char *name)
{
  size_t len = name != NULL ? strnlen(name, 256) : 0;
  return len >= 1 && len <= 255;
}

bool gofer_object_act_takes(int op)
{
  switch (op) {
  case GOFER_READLINK:
  case GOFER_STATFS:
  case GOFER_GETXATTR:
  case GOFER_LISTXATTR:
  case GOFER_TRUNCATE:
  case GOFER_SETXATTR:
  case GOFER_CHMOD:
  case GOFER_CHOWN:
  case GOFER_UTIMENS:
  case GOFER_ACCESS:
  case GOFER_REMOVEXATTR:
    return true;
  default:
    return false; /* the others walk, open, or check attributes on the way */
  }
}

long gofer_object_act(int op, int fd, const struct gofer_req *q, const struct gofer_object_in *in,
                      struct gofer_object_out *out)
{
  out->len = 0, out->val = 0;
  if (!gofer_object_act_takes(op))
    return -EINVAL;
  if ((op == GOFER_GETXATTR || op == GOFER_SETXATTR || op == GOFER_REMOVEXATTR) &&
      !xattr_name_ok(in->name))
    return -EINVAL;
  switch (op) {
  case GOFER_READLINK:
    return object_readlink(fd, out);
  case GOFER_STATFS:
    return object_statfs(fd, out);
  case GOFER_GETXATTR:
    return object_getxattr(fd, in->name, q, out);
  case GOFER_LISTXATTR:
    return object_listxattr(fd, q, out);
  case GOFER_TRUNCATE:
    return in->obj == NULL ? -EINVAL : object_truncate(fd, q, in->obj);
  case GOFER_SETXATTR:
    if (q->data_len > GOFER_MAX_DATA || (q->data_len > 0 && in->data == NULL))
      return -EINVAL;
    break;
  default: /* CHMOD, CHOWN, UTIMENS, ACCESS, REMOVEXATTR: the gofer's handler */
    break;
  }
  if (!utimens_data_ok(q))
    return -EINVAL;
  struct gofer_call c = {.req = q, .path = "", .path2 = in->name, .data = in->data, .in_fd = -1};
  return handler_of(op)->on_object(fd, &c, NULL);
}

int gofer_deputy_flags(const struct gofer_req *q)
{
  /* access() with the real ids resolves its path with them too, as the
   * kernel does (search permission on the way is the real uid's) */
  bool real_ids = (q->arg1 != 0 && (q->op == GOFER_ACCESS ||
                                    (q->op == GOFER_WALK && (q->walk & GOFER_WALK_ACCESS)))) ||
                  (q->op == GOFER_WALK && (q->walk & GOFER_WALK_REAL_IDS));
  return real_ids ? DEPUTY_REAL_IDS : 0;
}

long gofer_entry2_act(int op, int dir, const char *name, int dir2, const char *name2,
                      const struct gofer_req *q)
{
  const struct gofer_handler *h = handler_of(op);
  if (h == NULL || h->on_entry == NULL || h->path2 != PATH2_ENTRY || !gofer_name_valid(name) ||
      !gofer_name_valid(name2))
    return -EINVAL;
  struct gofer_entry e = {.dir = dir, .dir2 = dir2, .name = name, .name2 = name2};
  struct gofer_call c = {.req = q, .path = name, .path2 = name2, .data = NULL, .in_fd = -1};
  return h->on_entry(&e, &c);
}

void gofer_result_release(struct gofer_result *res)
{
  if (res->out_fd >= 0)
    close(res->out_fd);
  res->out_fd = -1;
  for (uint32_t i = 0; i < res->rep.nkeep; i++)
    close(res->keep_fds[i]);
  res->rep.nkeep = 0;
}

void gofer_perform(struct gofer_state *g, const struct gofer_call *c, struct gofer_result *res)
{
  memset(&res->rep, 0, sizeof res->rep);
  res->rep.magic = GOFER_MAGIC;
  res->rep.id = c->req->id;
  res->out_fd = -1;
  res->async_open = false;
  res->async_dirfd = -1;
  const struct gofer_req *q = c->req;
  /* Everything below runs as the agent thread: its fs ids, groups and
   * effective capabilities (common/deputy.h), the real ids where the call
   * checks with them (gofer_deputy_flags), then the thread is the gofer's
   * own again. */
  if (deputy_enter(&q->ident, gofer_deputy_flags(q)) < 0) {
    res->rep.err = EPERM;
    return;
  }
  const struct gofer_handler *h = handler_of(q->op);
  if (h == NULL)
    set_err(res, -EINVAL);
  else if (h->whole != NULL)
    h->whole(g, c, res);
  else if (h->on_object != NULL)
    run_on_object(g, c, res, h->on_object);
  else
    run_on_entry(g, c, res, h->path2 == PATH2_ENTRY, h->on_entry);
  deputy_leave();
}
