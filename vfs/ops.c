/* The view's operations: the gofer acts on the host by mount-relative path;
 * an object the agent itself holds (an fd it passed with AT_EMPTY_PATH, a
 * pipe behind /proc/self/fd/N) is acted on directly, as the agent could
 * with its own fd. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/deputy.h"
#include "common/fdpath.h"
#include "common/path.h"
#include "gofer/client.h"
#include "gofer/ops.h"
#include "vfs/vfs.h"
#include "vfs/walk.h"

/* /proc, served in the sentry (vfs.h): the same decoding and operations as
 * the gofer's, run here on the procfs fd. */
static int proc_local(struct gofer_state *g, struct gofer_msg *msg, struct gofer_rep *rep,
                      int *out_fd)
{
  if (g == NULL)
    return -EIO;
  size_t plen = msg->path ? strlen(msg->path) + 1 : 0, p2len = msg->path2 ? strlen(msg->path2) + 1 : 0;
  size_t len = sizeof msg->req + plen + p2len + msg->data_len;
  cleanup_free char *buf = malloc(len);
  struct gofer_result *res = malloc(sizeof *res);
  if (buf == NULL || res == NULL) {
    free(res);
    return -ENOMEM;
  }
  msg->req.magic = GOFER_MAGIC;
  msg->req.path_len = (uint32_t)plen;
  msg->req.path2_len = (uint32_t)p2len;
  msg->req.data_len = (uint32_t)msg->data_len;
  memcpy(buf, &msg->req, sizeof msg->req);
  if (plen)
    memcpy(buf + sizeof msg->req, msg->path, plen);
  if (p2len)
    memcpy(buf + sizeof msg->req + plen, msg->path2, p2len);
  if (msg->data_len)
    memcpy(buf + sizeof msg->req + plen + p2len, msg->data, msg->data_len);
  struct gofer_call c;
  int r = gofer_decode(g, buf, len, msg->in_fd, &c);
  if (r < 0) {
    free(res);
    return r;
  }
  gofer_perform(g, &c, res);
  if (res->async_open) { /* no FIFO lives in procfs; refuse rather than block */
    close(res->async_dirfd);
    res->rep.err = EOPNOTSUPP;
  }
  *rep = res->rep;
  if (msg->rep_data != NULL && res->rep.data_len > 0)
    memcpy(msg->rep_data, res->data,
           res->rep.data_len < msg->rep_data_cap ? res->rep.data_len : msg->rep_data_cap);
  if (out_fd != NULL)
    *out_fd = res->out_fd;
  else if (res->out_fd >= 0)
    close(res->out_fd);
  free(res);
  return 0;
}


#define SYS_ERR(expr) ((expr) < 0 ? -errno : 0)

#define SYS_LEN(expr) ({ ssize_t len_ = (expr); len_ < 0 ? (ssize_t)-errno : len_; })

/* msg to the gofer and its reply in msg->rep: 0, -EINTR, or -EIO when the
 * gofer is gone (fail closed). */
static int ask_gofer(struct vfs_ctx *ctx, struct gofer_msg *msg)
{
  int r = gofer_call(ctx->vfs->gofer, msg);
  return r >= 0 ? 0 : r == -EINTR ? -EINTR : -EIO;
}

/* A mount-relative entry path split: its directory into parent ("" for the
 * mount root), its last name returned. */
static const char *split_rel(const char *rel, char parent[PATH_MAX])
{
  const char *slash = strrchr(rel, '/');
  struct path_buf b = path_buf_at(parent, PATH_MAX);
  path_buf_put(&b, rel, slash ? (size_t)(slash - rel) : 0);
  return slash ? slash + 1 : rel;
}

/* The reply the gofer would have sent for what the sentry did itself, but
 * for the object's attributes: fd (or -errno) the object reached or made. */
static void local_answer(struct gofer_rep *rep, const struct gofer_req *q, int fd)
{
  memset(rep, 0, sizeof *rep);
  rep->magic = GOFER_MAGIC;
  rep->id = q->id;
  rep->err = fd < 0 ? -fd : 0;
}

/* The same, the object statted as the gofer does. */
static void local_reply(struct gofer_rep *rep, const struct gofer_req *q, int fd,
                        unsigned statx_flags)
{
  local_answer(rep, q, fd);
  rep->has_stat = fd >= 0 && statx(fd, "", AT_EMPTY_PATH | statx_flags, GOFER_STATX_MASK,
                                   &rep->stx) == 0;
}

/* One step of a walk, taken by the sentry in a directory the walk cache
 * holds: name (never "..", never a symlink followed: RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) looked up in dir as the caller, exactly the step the
 * gofer would take there (gofer_step), its answer kept in the cache as
 * rel's, a child of parent_rel's. dir is taken (the cache keeps it, or it
 * is closed); with kept, dir is the fd of that directory the cache keeps,
 * lent, and the answer takes a reference on it. ds is what the cache read
 * of dir before this lookup, as a snapshot must be. walk: the flags for rel's answer (NOFOLLOW_LAST only
 * on the walk's last name); index: the name's place in the walk's path, for
 * a link met there. 0 with rep (and the link text in rep_data) filled and
 * *obj (NULL: not wanted) an fd of the object reached (-1 for none, a
 * link), 1 when the answer is not one the cache keeps (the gofer's), or
 * -errno. */
struct local_step {
  const char *rel, *parent_rel, *name;
  int dir;
  struct dcache_dir *kept;
  const struct statx *ds;
  uint16_t walk;
  uint32_t index;
};

static int local_step(struct vfs_ctx *ctx, const struct gofer_req *q, struct local_step *st,
                      struct gofer_rep *rep, char *rep_data, size_t rep_cap, int *obj)
{
  int lent = st->kept != NULL ? st->dir : -1;
  cleanup_close int dir = st->kept != NULL ? -1 : steal_fd(&st->dir);
  cleanup_close int fd =
      (int)VFS_AS_IDENT(&q->ident, 0, gofer_step(lent >= 0 ? lent : dir, st->name));
  if (fd < 0 && fd != -ENOENT && fd != -EACCES && fd != -ENOTDIR)
    return 1;
  local_reply(rep, q, fd, AT_SYMLINK_NOFOLLOW);
  if (fd >= 0 && !rep->has_stat)
    return 1;
  char text[PATH_MAX];
  bool link = fd >= 0 && S_ISLNK(rep->stx.stx_mode) && !(st->walk & GOFER_NOFOLLOW_LAST);
  if (link) { /* the walk stops at it, as the gofer's (the VFS follows it in the view) */
    ssize_t n = readlinkat(fd, "", text, sizeof text - 1);
    if (n < 0 || (size_t)n + 1 > rep_cap)
      return 1;
    text[n] = '\0';
    memcpy(rep_data, text, (size_t)n + 1);
    rep->data_len = (uint32_t)n + 1;
    rep->status = GOFER_AT_LINK;
    rep->has_stat = 0;
    rep->index = st->index;
  }
  /* the cache keeps the object's fd; a walk that wants the object too
   * gets a copy (a stat's does not: the fd itself is kept, no dup) */
  int keep_obj = -1;
  if (fd >= 0 && !link)
    keep_obj = obj != NULL ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : steal_fd(&fd);
  if (obj != NULL)
    *obj = fd >= 0 && !link ? steal_fd(&fd) : -1;
  struct gofer_keep_snap snap = gofer_snap_of(st->ds);
  dcache_insert_child(&ctx->vfs->dcache,
                      &(struct dcache_child){.mount = q->mount, .rel = st->rel,
                                             .parent_rel = st->parent_rel, .walk = st->walk,
                                             .creds = &q->ident, .rep = rep,
                                             .link = link ? text : NULL, .dir_fd = steal_fd(&dir),
                                             .dir_kept = st->kept, .dir_snap = snap,
                                             .obj_fd = keep_obj});
  return 0;
}

/* The deepest directory above rel the walk cache holds (rel's parent, its
 * parent, ..., the mount root): its fd, lent into *held, and attributes,
 * and in prefix its path; -1 when not even the mount root is held. */
static int cached_ancestor(struct vfs_ctx *ctx, const struct gofer_req *q, const char *rel,
                           char prefix[PATH_MAX], struct statx *ds, struct dcache_lend *held)
{
  path_copy(prefix, PATH_MAX, rel);
  for (;;) {
    char *slash = strrchr(prefix, '/');
    if (slash != NULL)
      *slash = '\0';
    else if (prefix[0] != '\0')
      prefix[0] = '\0';
    else
      return -1;
    /* its identity and ctime: the snapshot the next step's answer depends
     * on (ctime_only: the one last read, while no event came since) */
    struct dcache_query dq = {.mount = q->mount, .rel = prefix, .creds = &q->ident, .attrs = true,
                              .ctime_only = true};
    int dir = dcache_dir_hold(&ctx->vfs->dcache, &dq, ds, &ctx->dcache_seen, held);
    if (dir >= 0)
      return dir;
  }
}

/* A walk the cache does not answer, taken by the sentry itself from the
 * deepest directory above it the cache holds, one name at a time
 * (local_step: the gofer's own step, as the caller), each directory passed
 * kept as an answer of its own: the answer the gofer's walk would give (a
 * link met on the way reported where it is, for the VFS to follow; an
 * error where the walk stops). 0 with rep (rep_data, *obj) filled, 1 when
 * it is the gofer's (no cached directory above it, a name the cache does
 * not keep, a step whose answer it does not keep), or -errno. */
static int local_walk(struct vfs_ctx *ctx, const struct gofer_msg *msg, struct gofer_rep *rep,
                      char *rep_data, size_t rep_cap, int *obj)
{
  const struct gofer_req *q = &msg->req;
  const char *path = msg->path;
  if (path[0] == '\0')
    return 1; /* the mount root itself: the gofer's */
  char prefix[PATH_MAX], rel[PATH_MAX], name[NAME_MAX + 1];
  struct statx ds;
  /* the first step in the cache's own fd of a kept directory; anything
   * else the cache lent (a walk's object) is copied, for the step to
   * take */
  cleanup_lend struct dcache_lend held = DCACHE_LEND_INIT(&ctx->vfs->dcache);
  int dir = cached_ancestor(ctx, q, path, prefix, &ds, &held);
  if (dir >= 0 && held.dir == NULL)
    dir = fcntl(dir, F_DUPFD_CLOEXEC, 3);
  if (dir < 0)
    return 1;
  struct dcache_dir *kept = held.dir;
  size_t at = prefix[0] != '\0' ? strlen(prefix) + 1 : 0;
  uint32_t index = 0;
  for (size_t i = 0; i < at; i++)
    index += path[i] == '/';
  for (;;) {
    size_t n = strcspn(path + at, "/");
    bool last = path[at + n] == '\0';
    if (n == 0 || n > NAME_MAX || (n == 1 && path[at] == '.') ||
        (n == 2 && path[at] == '.' && path[at + 1] == '.')) {
      if (kept == NULL)
        close(dir);
      return 1;
    }
    memcpy(name, path + at, n);
    name[n] = '\0';
    memcpy(rel, path, at + n);
    rel[at + n] = '\0';
    int next = -1;
    struct local_step st = {.rel = rel, .parent_rel = prefix, .name = name, .dir = dir,
                            .kept = kept, .ds = &ds, .walk = last ? q->walk : 0,
                            .index = index};
    int r = local_step(ctx, q, &st, rep, rep_data, rep_cap, last ? obj : &next);
    if (r != 0 || last)
      return r;
    if (rep->status != GOFER_DONE || rep->err != 0 || !S_ISDIR(rep->stx.stx_mode)) {
      if (next >= 0) /* a file on the way: the next step would say ENOTDIR */
        close(next), rep->err = ENOTDIR, rep->has_stat = 0;
      return 0; /* a link to follow, or where the walk stops */
    }
    ds = rep->stx; /* read before the next lookup in it */
    dir = next;
    kept = NULL; /* the steps' own from here on */
    path_copy(prefix, sizeof prefix, rel);
    at += n + 1;
    index++;
  }
}

/* A create in a directory the walk cache holds, made by the sentry itself as
 * the gofer's OPEN with O_CREAT makes it: one name, O_EXCL (a file or a
 * symlink put there meanwhile fails: the VFS walks again), nothing
 * followed, as the caller with its umask. 0 with rep and *out_fd as the
 * gofer's would be, or 1 when the directory is not in the cache. */
static int cached_create(struct vfs_ctx *ctx, const struct gofer_msg *msg, struct gofer_rep *rep,
                         int *out_fd)
{
  const struct gofer_req *q = &msg->req;
  char parent[PATH_MAX];
  const char *name = split_rel(msg->path, parent);
  if (name[0] == '\0')
    return 1; /* "name/": the gofer's (the kernel's answer to it) */
  cleanup_lend struct dcache_lend held = DCACHE_LEND_INIT(&ctx->vfs->dcache);
  /* the directory itself is all a create needs: the kernel checks it */
  struct dcache_query dq = {.mount = q->mount, .rel = parent, .creds = &q->ident, .attrs = false};
  int dir = dcache_dir_hold(&ctx->vfs->dcache, &dq, NULL, &ctx->dcache_seen, &held);
  if (dir < 0)
    return 1;
  struct open_how how = {
      .flags = ((uint64_t)q->flags | O_EXCL | O_NOCTTY | O_CLOEXEC) & ~(uint64_t)O_NOFOLLOW,
      .mode = q->arg0 & 07777,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)VFS_AS_IDENT(&q->ident, DEPUTY_UMASK,
                             SYS_LEN(syscall(SYS_openat2, dir, name, &how, sizeof how)));
  /* a regular file, new (O_EXCL): its type is all a create's caller reads
   * of it (vfs_opened.st), so no statx of it */
  local_answer(rep, q, fd);
  rep->stx.stx_mask = STATX_TYPE;
  rep->stx.stx_mode = S_IFREG;
  *out_fd = fd < 0 ? -1 : fd;
  return 0;
}

/* A walk the cache answers, or the gofer, keeping what the cache needs
 * (GOFER_WALK_KEEP) for the next time (vfs/dcache.h). obj (NULL: not
 * wanted; else DCACHE_LEND_INIT, given back with dcache_lend_drop) gets an
 * O_PATH fd of the object reached (the cache's, lent, when it answers),
 * or -1. */
static int cached_walk_for(struct vfs_ctx *ctx, struct gofer_msg *msg, bool attrs,
                           struct gofer_rep *rep, char *rep_data, size_t rep_cap,
                           struct dcache_lend *obj)
{
  struct dcache *dc = &ctx->vfs->dcache;
  const struct gofer_req *q = &msg->req;
  struct dcache_query dq = {.mount = q->mount, .rel = msg->path, .walk = q->walk,
                            .creds = &q->ident, .attrs = attrs};
  if (dcache_lookup_obj(dc, &dq, rep, rep_data, rep_cap, obj, &ctx->dcache_seen))
    return 0;
  int r = local_walk(ctx, msg, rep, rep_data, rep_cap, obj != NULL ? &obj->fd : NULL);
  if (r == 0)
    dcache_count_local(dc);
  if (r <= 0)
    return r;
  char data[PATH_MAX + GOFER_MAX_KEEP * sizeof(struct gofer_keep_snap) + 8];
  msg->req.walk |= GOFER_WALK_KEEP;
  msg->rep_data = data;
  msg->rep_data_cap = sizeof data;
  r = ask_gofer(ctx, msg);
  msg->req.walk &= (uint16_t)~GOFER_WALK_KEEP;
  if (r < 0)
    return r;
  *rep = msg->rep;
  bool keep_ok = msg->rep.keep_off <= msg->rep.data_len;
  /* the link text, with its NUL: before the snapshots, or all the data of
   * an ordinary walk (more components than the gofer keeps) */
  size_t text_end = msg->rep.nkeep > 0 ? msg->rep.keep_off : msg->rep.data_len;
  size_t link_len = !keep_ok || msg->rep.status == GOFER_DONE ? 0 : text_end;
  if (link_len > 0)
    link_len = strnlen(data, link_len - 1) + 1;
  rep->data_len = (uint32_t)link_len;
  rep->nkeep = rep->keep_dirs = rep->keep_off = 0;
  struct dcache_answer a = {.mount = q->mount, .rel = msg->path, .walk = q->walk,
                            .creds = &q->ident, .rep = &msg->rep, .data = data,
                            .fds = msg->keep_fds};
  if (!keep_ok || (link_len > 0 && link_len > rep_cap)) {
    msg->rep.status = GOFER_DONE, msg->rep.err = EIO; /* not kept: the fds are closed */
    dcache_insert(dc, &a);
    return -EIO;
  }
  if (link_len > 0)
    memcpy(rep_data, data, link_len);
  bool reached = msg->rep.nkeep == msg->rep.keep_dirs + 1;
  if (obj != NULL)
    obj->fd = reached ? fcntl(msg->keep_fds[msg->rep.keep_dirs], F_DUPFD_CLOEXEC, 3) : -1;
  dcache_insert(dc, &a);
  return 0;
}

static int cached_walk(struct vfs_ctx *ctx, struct gofer_msg *msg, struct gofer_rep *rep,
                       char *rep_data, size_t rep_cap, struct dcache_lend *obj)
{
  return cached_walk_for(ctx, msg, true, rep, rep_data, rep_cap, obj);
}

/* Whether opening an object of this type with these flags waits for
 * another process (a FIFO's other end): the receiver then lets others
 * serve (may_block) before it asks, not once the watchdog finds it stuck
 * (a shell's 20 readers of 20 FIFOs were served one per watchdog period,
 * and its writers, arriving first, waited without them). */
static bool fifo_open_waits(mode_t mode, uint32_t flags)
{
  return S_ISFIFO(mode) && !(flags & (O_NONBLOCK | O_PATH)) && (flags & O_ACCMODE) != O_RDWR;
}

/* /dev/null, zero, full, random, urandom (character devices 1:3, 1:5,
 * 1:7, 1:8, 1:9): opening one never blocks, so the sentry may open it
 * itself as any file. */
static bool mem_device(const struct statx *x)
{
  unsigned minor = x->stx_rdev_minor;
  return (x->stx_mode & S_IFMT) == S_IFCHR && x->stx_rdev_major == 1 &&
         (minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9);
}

/* An open of an existing regular file or directory, through the walk cache:
 * the object the (cached) walk reached, reopened as the caller, as the
 * gofer's OPEN does (through the fd's own link: no name is resolved
 * again). 1 when it is not for the cache (a FIFO, a device other than the
 * memory devices: they may block, the gofer's io_uring does those), else 0 with rep and *out_fd as
 * the gofer's OPEN would give them, or -errno. */
static int cached_open(struct vfs_ctx *ctx, const struct gofer_msg *open_msg,
                       struct gofer_rep *rep, char *rep_data, size_t rep_cap, int *out_fd)
{
  struct gofer_msg walk = {.req = open_msg->req, .path = open_msg->path, .in_fd = -1};
  walk.req.op = GOFER_WALK;
  walk.req.flags = 0;
  cleanup_lend struct dcache_lend lent = DCACHE_LEND_INIT(&ctx->vfs->dcache);
  /* the type and device numbers decide here, and the caller reads only
   * the type (vfs_opened.st): both as ever, for a cached answer, so the
   * object's other attributes are not read again (the reopen below is
   * the kernel's permission check, on the object as it is now) */
  int r = cached_walk_for(ctx, &walk, false, rep, rep_data, rep_cap, &lent);
  int obj = lent.fd;
  if (r < 0 || rep->status != GOFER_DONE || rep->err != 0)
    return r; /* the walk's answer (a link met, ENOENT...) is the open's */
  uint32_t flags = open_msg->req.flags;
  mode_t type = rep->stx.stx_mode & S_IFMT;
  if (obj < 0 || !(type == S_IFREG || type == S_IFDIR || type == S_IFLNK || mem_device(&rep->stx))) {
    if (fifo_open_waits(type, flags))
      ctx->ops->may_block(ctx);
    return 1;
  }
  if (type == S_IFLNK) /* O_NOFOLLOW on a symlink, as the kernel answers */
    rep->err = ELOOP;
  else if ((flags & O_DIRECTORY) && type != S_IFDIR)
    rep->err = ENOTDIR;
  else if (type == S_IFDIR && (flags & O_ACCMODE) != O_RDONLY)
    rep->err = EISDIR;
  if (rep->err != 0)
    return 0;
  int oflags = (int)(flags & ~(uint32_t)(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_NOCTTY | O_CLOEXEC;
  int fd = (int)VFS_AS_IDENT(&open_msg->req.ident, 0, SYS_LEN(open(fdpath_of(obj).s, oflags)));
  if (fd < 0)
    rep->err = -fd;
  *out_fd = fd < 0 ? -1 : fd;
  return 0;
}

/* A walk that checks access (GOFER_WALK_ACCESS: execve's X_OK, access(2)
 * and faccessat2) through the walk cache: the walk as any other (its real
 * ids, if asked, are the effective ones: deputy_real_same), then the check
 * the gofer makes on the object reached, made here on the cache's fd of
 * it, as the caller (rep.val: 0 or -errno). */
static int cached_access_walk(struct vfs_ctx *ctx, struct gofer_msg *msg, struct gofer_rep *rep,
                              char *rep_data, size_t rep_cap)
{
  uint16_t walk = msg->req.walk;
  msg->req.walk &= (uint16_t)~(GOFER_WALK_ACCESS | GOFER_WALK_REAL_IDS);
  cleanup_lend struct dcache_lend lent = DCACHE_LEND_INIT(&ctx->vfs->dcache);
  /* the check is the kernel's, on the object as it is now; the callers
   * read its identity and type only (both as ever, for a cached answer) */
  int r = cached_walk_for(ctx, msg, false, rep, rep_data, rep_cap, &lent);
  int obj = lent.fd;
  msg->req.walk = walk;
  if (r < 0 || rep->status != GOFER_DONE || rep->err != 0)
    return r;
  if (obj < 0) { /* no object to check here: the gofer does it all */
    if ((r = ask_gofer(ctx, msg)) < 0)
      return r;
    *rep = msg->rep;
    return 0;
  }
  rep->val = VFS_AS_IDENT(&msg->req.ident, (walk & GOFER_WALK_REAL_IDS) ? DEPUTY_REAL_IDS : 0,
                           SYS_ERR(syscall(SYS_faccessat2, obj, "", (int)msg->req.arg0,
                                           AT_EMPTY_PATH | AT_EACCESS)));
  return 0;
}

/* The caller's credentials for a request on mount m (and m2: the other end
 * of a rename or link), scoped: the capabilities that override permissions
 * only where the agent may write (common/deputy.h). Not in /proc: the
 * sandbox's own processes, whose files a ptrace access check guards, and
 * that check wants every capability the target holds in the caller too. */
static int request_creds(struct vfs_ctx *ctx, unsigned what, const struct vfs_mount *m,
                         const struct vfs_mount *m2, struct deputy_creds *out)
{
  int r = vfs_caller_creds(ctx, what, out);
  if (r < 0 || m->kind == VFS_MOUNT_PROC)
    return r;
  deputy_scope(out, m->writable && m2->writable, m->host_backed || m2->host_backed);
  return 0;
}

int vfs_gofer(struct vfs_ctx *ctx, const struct vfs_gofer_req *req, struct gofer_rep *rep,
              char *rep_data, size_t rep_cap, int *out_fd)
{
  const struct vfs_mount *m = req->mount;
  int op = req->op;
  struct gofer_msg msg = {
      .req = {.op = (uint16_t)op, .mount = (uint16_t)m->index, .mount2 = (uint16_t)m->index,
              .walk = req->walk, .flags = req->flags, .arg0 = req->arg0, .arg1 = req->arg1},
      .path = req->rel,
      .path2 = req->rel2,
      .data = req->data,
      .data_len = req->data_len,
      .in_fd = req->in_fd != NULL ? *req->in_fd : -1,
      .rep_data = rep_data,
      .rep_data_cap = rep_cap,
  };
  /* the gofer acts as the agent thread (common/deputy.h) */
  int cr = request_creds(ctx, op == GOFER_TRUNCATE ? VFS_CALLER_FSIZE : 0, m, m, &msg.req.ident);
  if (cr < 0)
    return cr;
  if (m->kind == VFS_MOUNT_PROC)
    return proc_local(ctx->vfs->proc_state, &msg, rep, out_fd);
  /* access(2)'s walk with the real ids, on its way to the object: the
   * ordinary walk when those ids check what the effective ones do */
  if (op == GOFER_WALK && (req->walk & (GOFER_WALK_REAL_IDS | GOFER_WALK_ACCESS)) ==
                              GOFER_WALK_REAL_IDS && deputy_real_same(&msg.req.ident))
    msg.req.walk &= (uint16_t)~GOFER_WALK_REAL_IDS;
  bool cache_on = (m->kind == VFS_MOUNT_FS || (m->kind == VFS_MOUNT_FILE && req->rel[0] == '\0')) &&
                  ctx->vfs->dcache.enabled;
  bool cacheable = cache_on && dcache_walk_cacheable(msg.req.walk);
  if (cache_on && op == GOFER_WALK && (req->walk & GOFER_WALK_ACCESS) && out_fd == NULL &&
      dcache_walk_cacheable(req->walk & ~(uint16_t)(GOFER_WALK_ACCESS | GOFER_WALK_REAL_IDS)) &&
      (!(req->walk & GOFER_WALK_REAL_IDS) || deputy_real_same(&msg.req.ident)))
    return cached_access_walk(ctx, &msg, rep, rep_data, rep_cap);
  if (cacheable && op == GOFER_WALK) {
    if (out_fd != NULL)
      *out_fd = -1; /* a walk sends no fd */
    return cached_walk_for(ctx, &msg, !req->ident_only, rep, rep_data, rep_cap, NULL);
  }
  if (cacheable && op == GOFER_OPEN && out_fd != NULL) {
    int r = (req->flags & O_CREAT) ? cached_create(ctx, &msg, rep, out_fd)
                                   : cached_open(ctx, &msg, rep, rep_data, rep_cap, out_fd);
    if (r <= 0)
      return r;
  }
  int r = ask_gofer(ctx, &msg);
  if (r < 0)
    return r;
  if ((op == GOFER_UNLINK || op == GOFER_RENAME) && msg.rep.err == 0) {
    /* what was removed (or renamed over) is not kept open by the cache; a
     * removed directory was empty (its own answers only), a renamed one
     * may hold answers below it (the subtree) */
    bool moved_dir = op == GOFER_RENAME;
    dcache_forget(&ctx->vfs->dcache, m->index, req->rel, moved_dir);
    if (op == GOFER_RENAME)
      dcache_forget(&ctx->vfs->dcache, m->index, req->rel2, false);
  }
  *rep = msg.rep;
  if (out_fd != NULL)
    *out_fd = msg.out_fd;
  else if (msg.out_fd >= 0)
    close(msg.out_fd);
  return 0;
}

/* A symlink is acted on itself, not followed (the walk resolved it). */
static uint16_t nofollow_if_link(const struct vfs_node *n)
{
  return S_ISLNK(n->st.st_mode) ? GOFER_NOFOLLOW_LAST : 0;
}

/* Whether the sentry may answer op on an object the walk cache holds with
 * the gofer's own act: every object operation (its answer 0 or -errno, or
 * READLINK's, STATFS's and the xattr reads' data).
 * ACCESS with the real ids only where they are the effective ones (the
 * cache's walk checked search permission as the effective ids; the gofer
 * walks as the real ones): asked again once ident is known (NULL: not
 * yet). */
static bool cache_may_act(const struct vfs_gofer_req *req, const struct deputy_creds *ident)
{
  if (req->op == GOFER_ACCESS)
    return req->arg1 == 0 || ident == NULL || deputy_real_same(ident);
  return gofer_object_act_takes(req->op);
}

/* An object operation (CHMOD, CHOWN, UTIMENS, ACCESS, TRUNCATE, READLINK,
 * STATFS, the xattrs) on an object the walk cache holds, done by the
 * sentry itself with the gofer's own code (gofer_object_act) on the
 * cache's fd of it, as the caller with the capabilities the gofer would use
 * (request_creds): the walk the gofer would make (through the cache: its
 * search permissions checked for these credentials), then the gofer's
 * action. Only on the very object the VFS resolved. 1 when not for the
 * cache (the gofer does it); else 0 with rep as the gofer's (READLINK's
 * text in rep_data), or -errno when the walk failed. */
static int cached_object_op(struct vfs_ctx *ctx, const struct vfs_node *n,
                            const struct vfs_gofer_req *req, struct gofer_rep *rep,
                            char *rep_data, size_t rep_cap)
{
  if (!ctx->vfs->dcache.enabled || n->mount->kind != VFS_MOUNT_FS ||
      !cache_may_act(req, NULL) || !dcache_walk_cacheable(req->walk))
    return 1;
  struct gofer_msg walk = {
      .req = {.op = GOFER_WALK, .mount = (uint16_t)n->mount->index,
              .mount2 = (uint16_t)n->mount->index, .walk = req->walk},
      .path = req->rel,
      .in_fd = -1};
  int r = request_creds(ctx, req->op == GOFER_TRUNCATE ? VFS_CALLER_FSIZE : 0, n->mount,
                        n->mount, &walk.req.ident);
  if (r < 0)
    return r;
  if (!cache_may_act(req, &walk.req.ident))
    return 1;
  char text[PATH_MAX];
  cleanup_lend struct dcache_lend lent = DCACHE_LEND_INIT(&ctx->vfs->dcache);
  if ((r = cached_walk(ctx, &walk, rep, text, sizeof text, &lent)) < 0)
    return r;
  int obj = lent.fd;
  if (obj < 0 || rep->status != GOFER_DONE || rep->err != 0 || !rep->has_stat ||
      rep->stx.stx_ino != (uint64_t)n->st.st_ino ||
      makedev(rep->stx.stx_dev_major, rep->stx.stx_dev_minor) != n->st.st_dev)
    return 1; /* not the object resolved, or not reached here: the gofer's */
  struct gofer_req q = walk.req;
  q.op = (uint16_t)req->op, q.arg0 = req->arg0, q.arg1 = req->arg1;
  q.flags = req->flags; /* SETXATTR's XATTR_CREATE / XATTR_REPLACE */
  q.data_len = req->data_len;
  struct gofer_object_out out = {.buf = rep_data, .cap = rep_cap};
  /* as gofer_perform enters the deputy for it */
  /* an xattr's name goes to the gofer as its second path; TRUNCATE checks
   * RLIMIT_FSIZE against the attributes the walk read */
  const struct gofer_object_in in = {.data = req->data, .name = req->rel2, .obj = &rep->stx};
  long v = VFS_AS_IDENT(&q.ident, gofer_deputy_flags(&q),
                        gofer_object_act(req->op, obj, &q, &in, &out));
  memset(rep, 0, sizeof *rep);
  rep->status = GOFER_DONE;
  rep->err = v < 0 ? (int32_t)-v : 0;
  rep->data_len = out.len, rep->val = out.val;
  return 0;
}

/* An operation on a resolved object (what: the op and its arguments; the
 * mount and path are n's), by path through the gofer. A symlink
 * found on the way means the tree changed since the walk: report it as
 * ELOOP-free "try again" (EAGAIN), which the callers treat as a retry. */
static int object_op(struct vfs_ctx *ctx, const struct vfs_node *n,
                     const struct vfs_gofer_req *what, struct gofer_rep *rep, char *rep_data,
                     size_t rep_cap)
{
  struct vfs_gofer_req req = *what; /* on n's mount, at n's path */
  req.mount = n->mount;
  req.rel = vfs_mount_rel(n->mount, n->view);
  int r = cached_object_op(ctx, n, &req, rep, rep_data, rep_cap);
  if (r < 0) {
    memset(rep, 0, sizeof *rep); /* the gofer's answer to these: 0 or -errno */
    rep->status = GOFER_DONE;
    rep->err = -r;
    return r;
  }
  if (r == 0)
    return rep->err ? -rep->err : 0;
  r = vfs_gofer(ctx, &req, rep, rep_data, rep_cap, NULL);
  if (r < 0)
    return r;
  if (rep->status != GOFER_DONE)
    return -VFS_ESTALE_VIEW;
  return rep->err ? -rep->err : 0;
}

static bool held(const struct vfs_node *n)
{
  return n->obj_fd >= 0;
}

/* Where an object the agent holds is, for the capabilities the deputy may
 * use on it: writable where the view lets the agent change it
 * (vfs_check_modify_as), on the host unless it is the sandbox's own. */
static struct vfs_place held_place(struct vfs_ctx *ctx, const struct vfs_node *n)
{
  struct deputy_creds me;
  /* a caller without those capabilities loses nothing anywhere: no need
   * to find out where the object is */
  if (vfs_caller_creds(ctx, 0, &me) == 0 && !(me.cap_eff & DEPUTY_OVERRIDE_CAPS))
    return (struct vfs_place){true, false};
  return (struct vfs_place){vfs_check_modify_as(ctx, n) == 0, vfs_node_host_backed(ctx->vfs, n)};
}

int vfs_op_access(struct vfs_ctx *ctx, const struct vfs_node *n, int mode, bool real_ids)
{
  if (held(n))
    return (int)VFS_AS_CALLER(ctx, held_place(ctx, n), real_ids ? DEPUTY_REAL_IDS : 0,
                         SYS_ERR(syscall(SYS_faccessat2, n->obj_fd, "", mode,
                                         AT_EMPTY_PATH | AT_EACCESS)));
  struct gofer_rep rep;
  return object_op(ctx, n,
                   &(struct vfs_gofer_req){.op = GOFER_ACCESS,
                                           .walk = nofollow_if_link(n),
                                           .arg0 = (uint64_t)mode, .arg1 = real_ids},
                   &rep, NULL, 0);
}

ssize_t vfs_op_readlink(struct vfs_ctx *ctx, const struct vfs_node *n, char *buf, size_t size)
{
  if (n->link[0] != '\0') { /* /proc/self and thread-self: the agent's own */
    size_t len = strlen(n->link);
    memcpy(buf, n->link, len < size ? len : size);
    return (ssize_t)(len < size ? len : size);
  }
  if (held(n)) {
    ssize_t len = readlinkat(n->obj_fd, "", buf, size);
    return len < 0 ? -errno : len;
  }
  struct gofer_rep rep;
  char *data = malloc(GOFER_MAX_DATA);
  if (data == NULL)
    return -ENOMEM;
  int r = object_op(ctx, n,
                    &(struct vfs_gofer_req){.op = GOFER_READLINK, .walk = GOFER_NOFOLLOW_LAST},
                    &rep, data, GOFER_MAX_DATA);
  ssize_t len = r < 0 ? r : rep.val;
  if (len > 0) {
    if ((size_t)len > size)
      len = (ssize_t)size;
    memcpy(buf, data, (size_t)len);
  }
  free(data);
  return len;
}

int vfs_op_statfs(struct vfs_ctx *ctx, const struct vfs_node *n, void *out)
{
  if (held(n))
    return SYS_ERR(fstatfs(n->obj_fd, out));
  struct gofer_rep rep;
  char data[sizeof(struct statfs) + 16];
  int r = object_op(ctx, n, &(struct vfs_gofer_req){.op = GOFER_STATFS}, &rep, data, sizeof data);
  if (r == 0 && rep.data_len == sizeof(struct statfs))
    memcpy(out, data, sizeof(struct statfs));
  else if (r == 0)
    r = -EIO;
  return r;
}

int vfs_op_chmod(struct vfs_ctx *ctx, const struct vfs_node *n, mode_t mode)
{
  mode = vfs_safe_mode(vfs_node_host_backed(ctx->vfs, n), mode, S_ISDIR(n->st.st_mode));
  if (held(n))
    return (int)VFS_AS_CALLER(ctx, held_place(ctx, n), 0, SYS_ERR(chmod(fdpath_of(n->obj_fd).s, mode)));
  struct gofer_rep rep;
  return object_op(ctx, n,
                   &(struct vfs_gofer_req){.op = GOFER_CHMOD, .arg0 = mode},
                   &rep, NULL, 0);
}

int vfs_op_chown(struct vfs_ctx *ctx, const struct vfs_node *n, uid_t uid, gid_t gid)
{
  if (held(n))
    return (int)VFS_AS_CALLER(ctx, held_place(ctx, n), 0, SYS_ERR(fchownat(n->obj_fd, "", uid, gid, AT_EMPTY_PATH)));
  struct gofer_rep rep;
  return object_op(ctx, n,
                   &(struct vfs_gofer_req){.op = GOFER_CHOWN,
                                           .walk = nofollow_if_link(n),
                                           .arg0 = uid, .arg1 = gid},
                   &rep, NULL, 0);
}

int vfs_op_utimens(struct vfs_ctx *ctx, const struct vfs_node *n, const struct timespec *ts)
{
  if (held(n))
    return (int)VFS_AS_CALLER(ctx, held_place(ctx, n), 0,
                         SYS_ERR(utimensat(n->obj_fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)));
  struct gofer_rep rep;
  return object_op(ctx, n,
                   &(struct vfs_gofer_req){.op = GOFER_UTIMENS,
                                           .walk = nofollow_if_link(n),
                                           .data = ts, .data_len = ts ? 2 * sizeof *ts : 0},
                   &rep, NULL, 0);
}

int vfs_op_truncate(struct vfs_ctx *ctx, const struct vfs_node *n, off_t len)
{
  int r;
  if (held(n)) {
    struct deputy_creds c = {.fsize_limit = 0};
    if ((r = vfs_caller_creds(ctx, VFS_CALLER_FSIZE, &c)) < 0)
      return r;
    /* RLIMIT_FSIZE is checked against the caller, the sentry: check the
     * agent's, as the kernel would (and as the gofer does) */
    if (S_ISREG(n->st.st_mode) && len > n->st.st_size && (uint64_t)len > c.fsize_limit)
      r = -EFBIG;
    else
      r = (int)VFS_AS_CALLER(ctx, held_place(ctx, n), 0, SYS_ERR(truncate(fdpath_of(n->obj_fd).s, len)));
  } else {
    struct gofer_rep rep;
    r = object_op(ctx, n,
                  &(struct vfs_gofer_req){.op = GOFER_TRUNCATE, .arg0 = (uint64_t)len},
                  &rep, NULL, 0);
  }
  if (r == -EFBIG)
    ctx->ops->signal(ctx, SIGXFSZ); /* as the kernel, with the error */
  return r;
}

ssize_t vfs_op_getxattr(struct vfs_ctx *ctx, const struct vfs_node *n, const char *name,
                        void *buf, size_t size)
{
  if (held(n))
    return VFS_AS_CALLER(ctx, held_place(ctx, n), 0, SYS_LEN(getxattr(fdpath_of(n->obj_fd).s, name, buf, size)));
  struct gofer_rep rep;
  int r = object_op(ctx, n,
                    &(struct vfs_gofer_req){.op = GOFER_GETXATTR,
                                            .walk = nofollow_if_link(n),
                                            .arg0 = size, .rel2 = name},
                    &rep, buf, size);
  return r < 0 ? r : rep.val;
}

int vfs_op_setxattr(struct vfs_ctx *ctx, const struct vfs_node *n, const char *name,
                    const void *value, size_t size, int flags)
{
  if (strcmp(name, VFS_XATTR_FILE_CAPS) == 0 && vfs_node_host_backed(ctx->vfs, n))
    return -EPERM; /* file capabilities on the host: never, whatever the agent's own */
  if (held(n))
    return (int)VFS_AS_CALLER(
        ctx, held_place(ctx, n), 0, SYS_ERR(setxattr(fdpath_of(n->obj_fd).s, name, value, size, flags)));
  struct gofer_rep rep;
  return object_op(ctx, n,
                   &(struct vfs_gofer_req){.op = GOFER_SETXATTR,
                                           .walk = nofollow_if_link(n),
                                           .flags = (uint32_t)flags, .rel2 = name, .data = value,
                                           .data_len = size},
                   &rep, NULL, 0);
}

ssize_t vfs_op_listxattr(struct vfs_ctx *ctx, const struct vfs_node *n, char *buf,
                         size_t size)
{
  if (held(n))
    return VFS_AS_CALLER(ctx, held_place(ctx, n), 0, SYS_LEN(listxattr(fdpath_of(n->obj_fd).s, buf, size)));
  struct gofer_rep rep;
  int r = object_op(ctx, n,
                    &(struct vfs_gofer_req){.op = GOFER_LISTXATTR,
                                            .walk = nofollow_if_link(n),
                                            .arg0 = size},
                    &rep, buf, size);
  return r < 0 ? r : rep.val;
}

int vfs_op_removexattr(struct vfs_ctx *ctx, const struct vfs_node *n, const char *name)
{
  if (held(n))
    return (int)VFS_AS_CALLER(ctx, held_place(ctx, n), 0, SYS_ERR(removexattr(fdpath_of(n->obj_fd).s, name)));
  struct gofer_rep rep;
  return object_op(ctx, n,
                   &(struct vfs_gofer_req){.op = GOFER_REMOVEXATTR,
                                           .walk = nofollow_if_link(n),
                                           .rel2 = name},
                   &rep, NULL, 0);
}

int vfs_op_inotify(struct vfs_ctx *ctx, const struct vfs_node *n, int ifd, uint32_t mask)
{
  if (held(n))
    return (int)VFS_AS_CALLER(ctx, held_place(ctx, n), 0,
                         SYS_LEN(inotify_add_watch(ifd, fdpath_of(n->obj_fd).s,
                                                   mask & ~(uint32_t)IN_DONT_FOLLOW)));
  struct gofer_rep rep;
  int r = object_op(ctx, n,
                    &(struct vfs_gofer_req){.op = GOFER_INOTIFY, .walk = nofollow_if_link(n),
                                            .arg0 = mask, .in_fd = &ifd},
                    &rep, NULL, 0);
  return r < 0 ? r : (int)rep.val;
}

/* "parent/name" inside parent's mount. */
static int entry_path(const struct vfs_node *parent, const char *name, char out[PATH_MAX])
{
  if (parent->mount == NULL)
    return -ENOENT; /* a parent with no place in the view (a removed directory's fd) */
  const char *rel = vfs_mount_rel(parent->mount, parent->view);
  struct path_buf b = path_buf_at(out, PATH_MAX);
  path_buf_puts(&b, rel);
  if (rel[0] != '\0')
    path_buf_put(&b, "/", 1);
  path_buf_puts(&b, name);
  return b.len >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* parent's directory from the walk cache, lent into *out, if it holds the
 * very directory the VFS resolved: its fd, or -1. */
static int cached_parent(struct vfs_ctx *ctx, const struct vfs_node *parent,
                         const struct deputy_creds *creds, struct dcache_lend *out)
{
  struct statx ds; /* its identity is all that is compared */
  struct dcache_query dq = {.mount = parent->mount->index,
                            .rel = vfs_mount_rel(parent->mount, parent->view), .creds = creds,
                            .attrs = false};
  int dir = dcache_dir_hold(&ctx->vfs->dcache, &dq, &ds, &ctx->dcache_seen, out);
  if (dir >= 0 && (ds.stx_ino != (uint64_t)parent->st.st_ino ||
                   makedev(ds.stx_dev_major, ds.stx_dev_minor) != parent->st.st_dev)) {
    dcache_lend_drop(out);
    return -1;
  }
  return dir;
}

/* Invariant 3 for entry operations: a name that reaches a hidden object
 * (a hard link of a hidden file) is not there, to unlink, rename, or link
 * from (on an overlay, a rename or link would copy the object up as a new,
 * readable file). dir: the cached directory, or -1 to ask the gofer. */
static bool hidden_entry_at(struct vfs_ctx *ctx, int dir, const char *name)
{
  struct stat st;
  const char *by = NULL;
  if (ctx->vfs->nhidden_ids > 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISDIR(st.st_mode) && st.st_nlink > 1)
    by = vfs_hidden_id_by(ctx->vfs, st.st_dev, st.st_ino);
  if (by != NULL)
    ctx->hidden_by = by;
  return by != NULL;
}

static int hidden_entry_walk(struct vfs_ctx *ctx, const struct vfs_mount *m, const char *path)
{
  if (ctx->vfs->nhidden_ids == 0)
    return 0;
  struct gofer_rep rep;
  int r = vfs_gofer(ctx,
                    &(struct vfs_gofer_req){.op = GOFER_WALK, .mount = m, .rel = path,
                                            .walk = GOFER_NOFOLLOW_LAST},
                    &rep, NULL, 0, NULL);
  if (r < 0 || rep.status != GOFER_DONE || rep.err != 0 || !rep.has_stat)
    return 0; /* the operation itself answers */
  const char *by = vfs_hidden_id_by(ctx->vfs, makedev(rep.stx.stx_dev_major, rep.stx.stx_dev_minor),
                                   rep.stx.stx_ino);
  return by != NULL ? vfs_hidden_enoent(ctx, by) : 0;
}

/* An entry operation in a directory the walk cache holds, done by the
 * sentry itself with the gofer's own code (gofer_entry_act) on the cached
 * directory's fd, as the caller with its umask. 1 when the directory is
 * not in the cache, else 0 or -errno. */
static int cached_entry_op(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                           const struct vfs_gofer_req *what, const char *path)
{
  struct dcache *dc = &ctx->vfs->dcache;
  if (!dc->enabled || parent->mount->kind != VFS_MOUNT_FS || !gofer_name_valid(name))
    return 1;
  struct gofer_req q = {.op = (uint16_t)what->op, .flags = what->flags, .arg0 = what->arg0,
                        .arg1 = what->arg1};
  int r = request_creds(ctx, 0, parent->mount, parent->mount, &q.ident);
  if (r < 0)
    return r;
  int m = parent->mount->index;
  cleanup_lend struct dcache_lend held = DCACHE_LEND_INIT(dc);
  int dir = cached_parent(ctx, parent, &q.ident, &held);
  if (dir < 0)
    return 1; /* not cached, or not the directory the VFS resolved: the gofer walks */
  /* an unlink where no name can reach a hidden object but a failed one
   * (vfs_hidden_alias_possible) is checked after it fails, if it does */
  bool unlink = what->op == GOFER_UNLINK;
  bool checked = unlink && vfs_hidden_alias_possible(ctx->vfs, parent->st.st_dev);
  if (checked && hidden_entry_at(ctx, dir, name))
    return -ENOENT;
  r = (int)VFS_AS_IDENT(&q.ident, DEPUTY_UMASK, gofer_entry_act(what->op, dir, name, &q, what->data));
  if (r < 0 && unlink && !checked && hidden_entry_at(ctx, dir, name))
    r = -ENOENT; /* (its error would say something is there) */
  if (r == 0 && what->op == GOFER_UNLINK) /* what was removed is not kept open by the cache */
    dcache_forget(dc, m, path, false); /* (a removed directory was empty) */
  return r;
}

/* "." or ".." as the name an entry operation makes or removes: the kernel
 * answers by the operation alone, once the directory is found, without
 * looking into it (a removed directory's fd, which has no place in the
 * view, included); else 0. */
static int dot_entry_errno(const struct vfs_gofer_req *what, const char *name)
{
  bool dot = strcmp(name, ".") == 0;
  if (!dot && strcmp(name, "..") != 0)
    return 0;
  if (what->op != GOFER_UNLINK)
    return -EEXIST; /* mkdir, mknod, symlink */
  if (!(what->flags & AT_REMOVEDIR))
    return -EISDIR;
  return dot ? -EINVAL : -ENOTEMPTY;
}

/* An entry operation (what: op, flags, args, data; mount and path are the
 * entry's) on name in parent. */
static int entry_op(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                    const struct vfs_gofer_req *what)
{
  char path[PATH_MAX];
  int r = dot_entry_errno(what, name);
  if (r == 0)
    r = entry_path(parent, name, path);
  if (r < 0)
    return r;
  if ((r = cached_entry_op(ctx, parent, name, what, path)) <= 0)
    return r;
  if (what->op == GOFER_UNLINK && (r = hidden_entry_walk(ctx, parent->mount, path)) < 0)
    return r;
  struct vfs_gofer_req req = *what;
  req.mount = parent->mount;
  req.rel = path;
  struct gofer_rep rep;
  r = vfs_gofer(ctx, &req, &rep, NULL, 0, NULL);
  if (r < 0)
    return r;
  if (rep.status != GOFER_DONE)
    return -VFS_ESTALE_VIEW;
  return rep.err ? -rep.err : 0;
}

int vfs_op_mkdir(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                 mode_t mode)
{
  return entry_op(ctx, parent, name, &(struct vfs_gofer_req){.op = GOFER_MKDIR, .arg0 = mode});
}

int vfs_op_mknod(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                 mode_t mode, dev_t dev)
{
  mode = vfs_safe_mode(vfs_node_host_backed(ctx->vfs, parent), mode, false);
  return entry_op(ctx, parent, name,
                  &(struct vfs_gofer_req){.op = GOFER_MKNOD, .arg0 = mode, .arg1 = dev});
}

int vfs_op_unlink(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                  int flags)
{
  return entry_op(ctx, parent, name,
                  &(struct vfs_gofer_req){.op = GOFER_UNLINK, .flags = (uint32_t)flags});
}

int vfs_op_symlink(struct vfs_ctx *ctx, const char *target, const struct vfs_node *parent,
                   const char *name)
{
  return entry_op(ctx, parent, name,
                  &(struct vfs_gofer_req){.op = GOFER_SYMLINK, .data = target,
                                          .data_len = strlen(target) + 1});
}

/* A rename or link whose two directories the walk cache holds, made by
 * the sentry itself with the gofer's own code (gofer_entry2_act) on the
 * cached directories' fds, as the caller. 1 when either is not in the
 * cache, else 0 or -errno. a and b: the entries' mount paths. */
static int cached_two_entries(struct vfs_ctx *ctx, int op, const struct vfs_node *from,
                              const char *from_name, const struct vfs_node *to,
                              const char *to_name, uint32_t flags, const char *a, const char *b)
{
  struct dcache *dc = &ctx->vfs->dcache;
  if (!dc->enabled || from->mount->kind != VFS_MOUNT_FS || !gofer_name_valid(from_name) ||
      !gofer_name_valid(to_name))
    return 1;
  struct gofer_req q = {.op = (uint16_t)op, .flags = flags};
  int r = request_creds(ctx, 0, from->mount, to->mount, &q.ident);
  if (r < 0)
    return r;
  cleanup_lend struct dcache_lend held = DCACHE_LEND_INIT(dc), held2 = DCACHE_LEND_INIT(dc);
  int dir = cached_parent(ctx, from, &q.ident, &held);
  int dir2 = dir < 0 ? -1 : cached_parent(ctx, to, &q.ident, &held2);
  if (dir2 < 0)
    return 1;
  if (hidden_entry_at(ctx, dir, from_name) ||
      (op == GOFER_RENAME && hidden_entry_at(ctx, dir2, to_name)))
    return -ENOENT;
  r = (int)VFS_AS_IDENT(&q.ident, 0, gofer_entry2_act(op, dir, from_name, dir2, to_name, &q));
  if (r == 0 && op == GOFER_RENAME) { /* as vfs_gofer does after the gofer's */
    /* the whole cache is scanned for a subtree: only for a directory moved
     * (git's and tar's renames are of files) */
    struct stat st;
    bool moved_dir = fstatat(dir2, to_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
                     (flags & RENAME_EXCHANGE);
    dcache_forget(dc, from->mount->index, a, moved_dir);
    dcache_forget(dc, from->mount->index, b, (flags & RENAME_EXCHANGE) != 0);
  }
  return r;
}

static int two_entries(struct vfs_ctx *ctx, int op, const struct vfs_node *from,
                       const char *from_name, const struct vfs_node *to, const char *to_name,
                       uint32_t flags)
{
  if (from->mount == NULL || to->mount == NULL)
    return -ENOENT;
  if (from->mount != to->mount)
    return -EXDEV; /* two mounts of the view are two filesystems to the agent */
  char a[PATH_MAX], b[PATH_MAX];
  int r = entry_path(from, from_name, a);
  if (r == 0)
    r = entry_path(to, to_name, b);
  if (r < 0)
    return r;
  if ((r = cached_two_entries(ctx, op, from, from_name, to, to_name, flags, a, b)) <= 0)
    return r;
  if ((r = hidden_entry_walk(ctx, from->mount, a)) < 0 ||
      (op == GOFER_RENAME && (r = hidden_entry_walk(ctx, to->mount, b)) < 0))
    return r;
  struct gofer_rep rep;
  r = vfs_gofer(ctx,
                &(struct vfs_gofer_req){.op = op, .mount = from->mount, .rel = a, .rel2 = b,
                                        .flags = flags},
                &rep, NULL, 0, NULL);
  if (r < 0)
    return r;
  if (rep.status != GOFER_DONE)
    return -VFS_ESTALE_VIEW;
  return rep.err ? -rep.err : 0;
}

int vfs_op_rename(struct vfs_ctx *ctx, const struct vfs_node *from, const char *from_name,
                  const struct vfs_node *to, const char *to_name, unsigned int flags)
{
  return two_entries(ctx, GOFER_RENAME, from, from_name, to, to_name, flags);
}

int vfs_op_link(struct vfs_ctx *ctx, const struct vfs_node *from, const char *from_name,
                const struct vfs_node *to, const char *to_name)
{
  return two_entries(ctx, GOFER_LINK, from, from_name, to, to_name, 0);
}

/* The object the view resolved to, as an O_PATH fd of the sentry's: opened
 * from the agent's root (its mount namespace mirrors the view) along the
 * canonical view path, following nothing (a component swapped for a
 * symlink since the walk fails, ELOOP) and never above that root; then it
 * must be the very object the view found. */
int vfs_open_resolved(struct vfs_ctx *ctx, const struct vfs_node *n, int extra)
{
  if (n->obj_fd >= 0) { /* an object the agent holds (/proc/self/fd/N) */
    int fd = fcntl(n->obj_fd, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
  }
  struct vfs_caller me;
  int r = vfs_caller(ctx, 0, &me);
  if (r < 0)
    return r;
  deputy_unlinger(); /* /proc/PID/root: a ptrace check on the effective set */
  char root[64];
  snprintf(root, sizeof root, "/proc/%d/root", (int)me.tgid);
  cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (uint64_t)extra,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
                                    RESOLVE_NO_MAGICLINKS};
  const char *rel = n->view[1] != '\0' ? n->view + 1 : ".";
  cleanup_close int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
  if (fd < 0)
    return errno == ELOOP ? -VFS_ESTALE_VIEW : -errno;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  if (st.st_dev != n->st.st_dev || st.st_ino != n->st.st_ino)
    return -VFS_ESTALE_VIEW; /* the tree changed under the walk: once more */
  return steal_fd(&fd);
}

/* ---- open ---- */

void vfs_opened_release(struct vfs_opened *o)
{
  if (o->fd >= 0)
    close(o->fd);
  o->fd = -1;
}

void vfs_opened_undo(struct vfs_ctx *ctx, struct vfs_opened *o)
{
  if (!o->created)
    return;
  struct gofer_rep rep;
  vfs_gofer(ctx,
            &(struct vfs_gofer_req){.op = GOFER_UNLINK, .mount = o->mount, .rel = o->entry},
            &rep, NULL, 0, NULL);
  o->created = false;
}

/* Whether opening with these flags changes the filesystem (as opposed to
 * writing to a device, a FIFO or a socket, which a read-only mount allows). */
static bool open_modifies(const struct stat *st, int oflags)
{
  if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
    return false;
  return (oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC);
}

/* The flags the sentry can honour: the kernel cannot inject O_PATH files
 * (ADDFD takes them with fget, which refuses them), so an O_PATH open gets
 * a read-only fd of the object instead. */
static int effective_flags(const struct vfs_node *n, int oflags, int *flags)
{
  if (S_ISLNK(n->st.st_mode))
    return (oflags & O_PATH) ? -EOPNOTSUPP : -ELOOP; /* O_NOFOLLOW on a symlink */
  if ((oflags & O_DIRECTORY) && !S_ISDIR(n->st.st_mode))
    return -ENOTDIR;
  if (S_ISDIR(n->st.st_mode) && !(oflags & O_PATH) &&
      ((oflags & O_ACCMODE) != O_RDONLY || (oflags & O_CREAT)))
    return -EISDIR;
  *flags = oflags & ~(O_CREAT | O_EXCL | O_NOFOLLOW);
  if (oflags & O_PATH) {
    if (S_ISSOCK(n->st.st_mode))
      return -ENXIO;
    *flags = O_RDONLY | (oflags & O_DIRECTORY) |
             (S_ISDIR(n->st.st_mode) || S_ISREG(n->st.st_mode) ? 0 : O_NONBLOCK);
  }
  return 0;
}

/* A file usbox was handed (on a host mount, not one of the agent's) may
 * also be shown by a bind of the view: 0 when the view shows it writable
 * there, 1 when it does not (read-only there, hidden, or not in the view). */
static int in_view_elsewhere(struct vfs_ctx *ctx, const struct vfs_node *n)
{
  char host[PATH_MAX], view[PATH_MAX];
  ssize_t len = readlink(fdpath_of(n->obj_fd).s, host, sizeof host - 1);
  if (len <= 0 || host[0] != '/')
    return 1;
  host[len] = '\0';
  if (vfs_host_to_view(ctx->vfs, host, view) < 0)
    return 1;
  cleanup_node struct vfs_node there = VFS_NODE_INIT;
  if (vfs_lookup_quiet(ctx, view, &there) < 0 || there.st.st_dev != n->st.st_dev ||
      there.st.st_ino != n->st.st_ino)
    return 1; /* another object there now, or hidden: not the view's */
  return vfs_check_modify(&there) == 0 ? 0 : 1;
}

/* An object the agent holds, where it is held: changed only where the view
 * shows it writable. */
static int check_modify_held(struct vfs_ctx *ctx, const struct vfs_node *obj,
                             enum vfs_held_place place)
{
  if (place != VFS_HELD_ON_HOST)
    return 0; /* the view's mount decides (the kernel), or no file at all */
  return in_view_elsewhere(ctx, obj) == 0 ? 0 : -EROFS;
}

int vfs_check_modify_as(struct vfs_ctx *ctx, const struct vfs_node *obj)
{
  if (obj->obj_fd < 0)
    return vfs_check_modify(obj);
  return check_modify_held(ctx, obj, vfs_held_place(ctx, obj->obj_fd));
}

int vfs_check_modify_fd(struct vfs_ctx *ctx, int fd, struct vfs_held *out)
{
  struct vfs_held held;
  int r = vfs_held_info(ctx, fd, &held);
  if (r < 0)
    return r;
  if (out != NULL)
    *out = held;
  struct vfs_node n = VFS_NODE_INIT;
  n.st = held.st;
  n.obj_fd = fd; /* borrowed: not released */
  return check_modify_held(ctx, &n, held.place);
}

/* A re-open through /proc/PID/fd/N gets at most what the agent's open file
 * has (the kernel would check the inode's permissions afresh: a file given
 * read-only, say as stdin, could be re-opened for writing), and a file or
 * directory the view does not show writable (outside it, read-only or
 * hidden there) is read-only at most: asked for writing, the agent gets its
 * own open file again, which it may write already, as a dup (no O_TRUNC, a
 * shared offset; EACCES for another process's). 1 when *dup_fd is that
 * answer, 0 to re-open, or -errno. */
static int reopen_bounds(struct vfs_ctx *ctx, const struct vfs_node *n, int oflags,
                         int *dup_fd)
{
  if (!n->from_fd_link)
    return 0;
  bool wants_write = (oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC);
  bool wants_read = (oflags & O_ACCMODE) != O_WRONLY;
  if (n->held_mode >= 0 && !(oflags & O_PATH) &&
      ((wants_write && n->held_mode == O_RDONLY) || (wants_read && n->held_mode == O_WRONLY)))
    return -EACCES;
  if (!wants_write || (oflags & O_PATH) || !(S_ISREG(n->st.st_mode) || S_ISDIR(n->st.st_mode)))
    return 0;
  if (vfs_held_place(ctx, n->obj_fd) != VFS_HELD_ON_HOST)
    return 0; /* the kernel checks that mount (read-only binds are) and the deputy's rights */
  if (in_view_elsewhere(ctx, n) == 0)
    return 0; /* the view shows it writable */
  if (n->held_mode < 0)
    return -EACCES; /* not the agent's own open file: nothing to hand back */
  *dup_fd = fcntl(n->obj_fd, F_DUPFD_CLOEXEC, 0);
  return *dup_fd < 0 ? -errno : 1;
}

static int open_existing(struct vfs_ctx *ctx, const struct vfs_node *n, int oflags,
                         struct vfs_opened *out)
{
  int flags, r = effective_flags(n, oflags, &flags);
  if (r < 0)
    return r;
  if (open_modifies(&n->st, oflags) && (r = vfs_check_modify(n)) < 0)
    return r;
  if (fifo_open_waits(n->st.st_mode, flags))
    ctx->ops->may_block(ctx);
  int dup_fd = -1;
  if (held(n) && (r = reopen_bounds(ctx, n, oflags, &dup_fd)) != 0) {
    if (r < 0)
      return r;
    out->fd = dup_fd;
    out->st = n->st;
    return 0;
  }
  if (held(n)) { /* the agent's own object: reopen it as it could */
    ctx->ops->interruptible(ctx, true); /* a FIFO waits for its other end */
    int fd = (int)VFS_AS_CALLER(
        ctx, held_place(ctx, n), 0,
        SYS_LEN(open(fdpath_of(n->obj_fd).s, flags | O_NOCTTY | O_CLOEXEC)));
    ctx->ops->interruptible(ctx, false);
    if (fd < 0)
      return fd;
    out->fd = fd;
    out->st = n->st;
    return 0;
  }
  struct gofer_rep rep;
  int fd = -1;
  r = vfs_gofer(ctx,
                &(struct vfs_gofer_req){.op = GOFER_OPEN, .mount = n->mount,
                                        .rel = vfs_mount_rel(n->mount, n->view),
                                        .flags = (uint32_t)flags},
                &rep, NULL, 0, &fd);
  if (r < 0)
    return r;
  if (rep.status != GOFER_DONE)
    return -VFS_ESTALE_VIEW; /* a symlink appeared on the way: walk again */
  if (rep.err)
    return -rep.err;
  if (fd < 0)
    return -EIO;
  if (n->mount->kind == VFS_MOUNT_PROC && (r = proc_mount_table(ctx, n->view, &fd)) < 0) {
    close(fd);
    return r;
  }
  out->fd = fd;
  out->st = n->st;
  return 0;
}

/* The file made at entry (parent's mount-relative "dir/name"), O_EXCL and
 * nothing followed (GOFER_OPEN with O_CREAT, or the sentry's cached_create):
 * 0 with out filled, -VFS_ESTALE_VIEW when something is there now (walk
 * again), or -errno. */
static int create_entry(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *entry,
                        const struct open_how *how, struct vfs_opened *out)
{
  struct gofer_rep rep;
  int fd = -1;
  mode_t mode = vfs_safe_mode(parent->mount->host_backed, (mode_t)how->mode, false);
  int r = vfs_gofer(ctx,
                    &(struct vfs_gofer_req){.op = GOFER_OPEN, .mount = parent->mount,
                                            .rel = entry, .flags = (uint32_t)how->flags,
                                            .arg0 = mode},
                    &rep, NULL, 0, &fd);
  if (r < 0)
    return r;
  if (rep.status != GOFER_DONE || rep.err == EEXIST || rep.err == ELOOP) {
    if (fd >= 0)
      close(fd);
    return -VFS_ESTALE_VIEW;
  }
  if (rep.err)
    return -rep.err;
  out->fd = fd;
  out->created = true;
  out->mount = parent->mount;
  path_copy(out->entry, sizeof out->entry, entry);
  vfs_statx_to_stat(&rep.stx, &out->st);
  return 0;
}

/* Where a create of w's path would make its file: the parent walked, the
 * last name, and "parent/name" in the parent's mount, once the view lets
 * a file be made there (vfs_check_entry). 0 or -errno. */
static int create_place(struct vfs_ctx *ctx, struct walker *w, struct vfs_node *parent,
                        char name[NAME_MAX + 2], char entry[PATH_MAX])
{
  int r = walker_run_parent(w, parent, name);
  if (r == 0)
    r = vfs_check_entry(ctx, parent, name, VFS_CREATE, 0);
  return r < 0 ? r : entry_path(parent, name, entry);
}

/* O_CREAT met ENOENT. If the last component is a dangling symlink, the file
 * is created where it points (as the kernel does, unless O_EXCL or
 * O_NOFOLLOW): *next gets that view path and 1 is returned. Otherwise the
 * file is created here (0), or -errno (-EAGAIN: look again). */
static int create_or_follow(struct vfs_ctx *ctx, struct walker *w, const struct open_how *how,
                            struct vfs_opened *out, char next[PATH_MAX])
{
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  char entry[PATH_MAX];
  int r = create_place(ctx, w, &parent, name, entry);
  if (r < 0)
    return r;
  struct gofer_rep rep;
  char target[PATH_MAX];
  if (strchr(name, '/') == NULL) {
    r = vfs_gofer(ctx,
                  &(struct vfs_gofer_req){.op = GOFER_WALK, .mount = parent.mount, .rel = entry,
                                          .walk = GOFER_NOFOLLOW_LAST},
                  &rep, NULL, 0, NULL);
    if (r < 0)
      return r;
    if (rep.err == 0 && rep.status == GOFER_DONE && rep.has_stat) {
      /* a name of a hidden object (a hard link made on the host): not
       * there, as the walk said, and not to be made either (the O_EXCL
       * create would meet it again and again) */
      const char *by = vfs_hidden_id_by(
          ctx->vfs, makedev(rep.stx.stx_dev_major, rep.stx.stx_dev_minor), rep.stx.stx_ino);
      if (by != NULL)
        return vfs_hidden_enoent(ctx, by);
      if (!S_ISLNK(rep.stx.stx_mode))
        return -VFS_ESTALE_VIEW; /* it appeared meanwhile */
      if (how->flags & O_EXCL)
        return -EEXIST;
      if ((how->flags & O_NOFOLLOW) || (how->resolve & RESOLVE_NO_SYMLINKS))
        return -ELOOP;
      r = vfs_gofer(ctx,
                    &(struct vfs_gofer_req){.op = GOFER_READLINK, .mount = parent.mount,
                                            .rel = entry, .walk = GOFER_NOFOLLOW_LAST},
                    &rep, target, sizeof target - 1, NULL);
      if (r < 0 || rep.err)
        return r < 0 ? r : -rep.err;
      target[rep.val] = '\0';
      if (target[0] == '/')
        snprintf(next, PATH_MAX, "%s", target);
      else
        view_join(next, parent.view, target);
      return 1;
    }
  }
  return create_entry(ctx, &parent, entry, how, out);
}

/* O_CREAT | O_EXCL, first try: the parent walked once and the name created
 * in it, without looking the name up first and walking to the parent again
 * (a new file, a lock file: the common case; 2026-12-04, 31 -> 18 system
 * calls in the sentry). The create is O_EXCL in the directory the walk
 * reached, nothing followed (create_entry), so any entry already there (a
 * file, a symlink dangling or not, a hard link of a hidden object, one made
 * meanwhile) fails it, and so does every check before it (a hidden name, a
 * mount point of the view, a read-only mount); vfs_open's ordinary path
 * then answers as it always has. Only a file made is answered here: 0, or
 * -EINTR, or 1 for "take the ordinary path". */
static int create_excl_first(struct vfs_ctx *ctx, int dirfd, const char *path,
                             const struct open_how *how, struct vfs_opened *out)
{
  if ((how->flags & (O_CREAT | O_EXCL | O_DIRECTORY | O_PATH)) != (O_CREAT | O_EXCL))
    return 1;
  const char *hidden_by = ctx->hidden_by;
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  char entry[PATH_MAX];
  struct walker w;
  int r = walker_start_scoped(&w, ctx, dirfd, path, how->resolve);
  if (r == 0)
    r = create_place(ctx, &w, &parent, name, entry);
  walker_release(&w);
  if (r == 0 && (parent.mount->kind != VFS_MOUNT_FS || strchr(name, '/') != NULL ||
                 strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
    r = 1; /* the root, "name/", "..", a path outside the view's trees */
  if (r == 0)
    r = create_entry(ctx, &parent, entry, how, out);
  if (r == 0 || r == -EINTR)
    return r;
  ctx->hidden_by = hidden_by; /* the ordinary path decides that too */
  return 1;
}

static int open_tmpfile(struct vfs_ctx *ctx, int dirfd, const char *path,
                        const struct open_how *how, struct vfs_opened *out)
{
  cleanup_node struct vfs_node dir = VFS_NODE_INIT;
  struct walker w;
  int r = walker_start_scoped(&w, ctx, dirfd, path, how->resolve);
  if (r == 0)
    r = walker_run(&w, VFS_DIRECTORY, &dir);
  walker_release(&w);
  if (r < 0 || (r = vfs_check_modify(&dir)) < 0)
    return r;
  if (dir.mount == NULL)
    return -EOPNOTSUPP;
  struct gofer_rep rep;
  int fd = -1;
  mode_t mode = vfs_safe_mode(dir.mount->host_backed, (mode_t)how->mode, false);
  r = vfs_gofer(ctx,
                &(struct vfs_gofer_req){.op = GOFER_TMPFILE, .mount = dir.mount,
                                        .rel = vfs_mount_rel(dir.mount, dir.view),
                                        .flags = (uint32_t)how->flags, .arg0 = mode},
                &rep, NULL, 0, &fd);
  if (r < 0)
    return r;
  if (rep.err || fd < 0)
    return rep.err ? -rep.err : -EIO;
  out->fd = fd;
  vfs_statx_to_stat(&rep.stx, &out->st);
  return 0;
}

int vfs_open(struct vfs_ctx *ctx, int dirfd, const char *path, const struct open_how *how,
             struct vfs_opened *out)
{
  if (ctx->ops->validate(ctx) < 0)
    return -ESRCH;
  int r = vfs_caller_ready(ctx);
  if (r < 0)
    return r;
  int oflags = (int)how->flags;
  if ((oflags & __O_TMPFILE) == __O_TMPFILE)
    return open_tmpfile(ctx, dirfd, path, how, out);
  if ((r = create_excl_first(ctx, dirfd, path, how, out)) <= 0)
    return r;
  int vflags = (oflags & O_NOFOLLOW) ? VFS_NOFOLLOW : 0;
  char followed[PATH_MAX];
  int links = 0;
  for (int attempt = 0; attempt < 16; attempt++) {
    cleanup_node struct vfs_node node = VFS_NODE_INIT;
    struct walker w;
    r = walker_start_scoped(&w, ctx, dirfd, path, how->resolve);
    /* one request for walk and open, where nothing needs the type first */
    if (!(oflags & (O_PATH | O_EXCL))) {
      w.final_open = true;
      w.final_open_flags = (oflags & ~(O_CREAT | O_NOFOLLOW)) | O_NOCTTY;
    }
    if (r == 0)
      r = walker_run(&w, vflags, &node);
    if (r == 0 && w.opened_fd >= 0) {
      out->fd = w.opened_fd;
      w.opened_fd = -1;
      out->st = node.st;
      walker_release(&w);
      return 0;
    }
    walker_release(&w);
    if (r == 0) {
      if ((oflags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return -EEXIST;
      r = open_existing(ctx, &node, oflags, out);
    } else if (r == -ENOENT && (oflags & O_CREAT)) {
      r = walker_start_scoped(&w, ctx, dirfd, path, how->resolve);
      if (r == 0)
        r = create_or_follow(ctx, &w, how, out, followed);
      walker_release(&w);
      if (r == 1) { /* a dangling symlink: create its target instead */
        if (++links > 40)
          return -ELOOP;
        path = followed;
        dirfd = AT_FDCWD; /* followed is absolute */
        continue;
      }
    }
    if (r != -EAGAIN && r != -VFS_ESTALE_VIEW)
      return r;
  }
  return -ELOOP;
}
