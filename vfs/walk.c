/* The view walker. See vfs.h for the rules; this file is their mechanics.
 * The walker holds no host fd: runs of components are walked by the gofer,
 * by mount-relative path, following nothing. */
#include "vfs/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/deputy.h"
#include "common/fdpath.h"
#include "common/path.h"

#define MAX_COMPONENTS 2048

void view_join(char out[PATH_MAX], const char *dir, const char *name)
{
  /* snprintf(out, PATH_MAX, "%s/%s") without the format engine (the
   * walk's hot path); cut at PATH_MAX - 1 as it cut */
  size_t n = path_copy(out, PATH_MAX, dir);
  if (n >= PATH_MAX)
    return;
  if (strcmp(dir, "/") != 0 && n < PATH_MAX - 1)
    out[n++] = '/', out[n] = '\0';
  if (n < PATH_MAX - 1)
    path_copy(out + n, PATH_MAX - n, name);
}

static void view_parent(char *view)
{
  char *slash = strrchr(view, '/');
  if (slash == NULL || slash == view)
    strcpy(view, "/");
  else
    *slash = '\0';
}

void walker_set_cur(struct walker *w, const char *view)
{
  if (view != w->cur)
    path_copy(w->cur, sizeof w->cur, view);
}

void walker_release(struct walker *w)
{
  if (w->obj_fd >= 0)
    close(w->obj_fd);
  w->obj_fd = -1;
  if (w->opened_fd >= 0)
    close(w->opened_fd);
  w->opened_fd = -1;
}

static int start_common(struct walker *w, struct vfs_ctx *ctx, const char *path)
{
  w->ctx = ctx;
  w->v = ctx->vfs;
  ctx->hidden_by = NULL;
  /* a walk checks the cache's answers afresh: a walk again after a
   * stale view (VFS_ESTALE_VIEW) must see what changed */
  ctx->dcache_seen.entry = NULL;
  w->obj_fd = -1;
  w->obj_st_valid = false;
  w->links = 0;
  w->resolve = 0;
  w->final_open = false;
  w->opened_fd = -1;
  w->final_access_mode = -1;
  w->final_access_real = false;
  w->ident_only = false;
  w->link_text[0] = '\0';
  w->scope[0] = '\0';
  if (path_copy(w->rest, sizeof w->rest, path) >= sizeof w->rest)
    return -ENAMETOOLONG;
  strcpy(w->cur, "/");
  return 0;
}


/* The kernel's name for a removed object ends so: no path leads to it. */
static bool named_deleted(const char *name, size_t len)
{
  static const char deleted[] = " (deleted)";
  size_t dl = sizeof deleted - 1;
  return len > dl && strcmp(name + len - dl, deleted) == 0;
}

/* Whether view names the directory dev:ino in the view now: a walk of it
 * (identity only, which the walk cache answers without a system call
 * while the directories on the way are unchanged). */
static bool view_names_dir(struct vfs_ctx *ctx, const char *view, dev_t dev, ino_t ino)
{
  struct vfs_node there = VFS_NODE_INIT;
  struct walker check;
  bool same = false;
  if (start_common(&check, ctx, view) == 0) {
    check.ident_only = true;
    same = walker_run(&check, VFS_DIRECTORY, &there) == 0 && there.st.st_dev == dev &&
           there.st.st_ino == ino;
    walker_release(&check);
  }
  vfs_node_release(&there);
  return same;
}

/* How start_at_dirfd takes the agent's fd. */
enum dirfd_use {
  DIRFD_START,     /* the start of a walk: a directory, named in the view */
  DIRFD_OBJECT,    /* the object itself (AT_EMPTY_PATH), with its view name */
  DIRFD_ATTRS_ONLY /* the object itself, for its attributes: no name needed */
};

/* The agent's dirfd: its identity from pidfd_getfd, its name from the
 * kernel (use: what the walk needs of it). */
static int start_at_dirfd(struct walker *w, int dirfd, enum dirfd_use use)
{
  bool need_dir = use == DIRFD_START;
  int fd = w->ctx->ops->getfd(w->ctx, dirfd);
  if (fd == -EBADF) {
    /* O_PATH fds cannot be taken with pidfd_getfd: follow the agent's own
     * fd link instead (the same object) */
    deputy_unlinger(); /* /proc/TID/fd: a ptrace check on the effective set */
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)w->ctx->tid, dirfd);
    fd = open(link, O_PATH | O_CLOEXEC);
    if (fd < 0)
      return -EBADF;
  }
  if (fd < 0)
    return fd;
  w->obj_fd = fd;
  /* the object itself (AT_EMPTY_PATH) is stat'ed where the walk finishes */
  struct stat st = {0};
  if (need_dir && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)))
    return -ENOTDIR;
  w->obj_st = st;
  w->obj_st_valid = need_dir;
  const char *by = need_dir ? vfs_hidden_id_by(w->v, st.st_dev, st.st_ino) : NULL;
  if (by != NULL) /* nothing below a hidden directory exists, whoever holds it */
    return vfs_hidden_enoent(w->ctx, by);
  if (use == DIRFD_ATTRS_ONLY) { /* fstat: the object held is the answer */
    w->cur[0] = '\0';
    return 0;
  }
  /* the name of the object we hold (not of the agent's fd number, which a
   * racing dup2 may point elsewhere meanwhile): the kernel names it
   * relative to the agent's root, i.e. as a view path */
  char view[PATH_MAX];
  ssize_t len = readlink(fdpath_of(fd).s, view, sizeof view - 1);
  int r = len < 0 ? -errno : 0;
  if (len >= 0) {
    view[len] = '\0';
    if (named_deleted(view, (size_t)len))
      r = -ENOENT;
  }
  if (r < 0 || view[0] != '/') {
    /* not a path (a pipe, a socket) or deleted: usable only as the object
     * itself (AT_EMPTY_PATH, or "." of a removed directory) */
    if (need_dir && !(r == -ENOENT && S_ISDIR(st.st_mode)))
      return r < 0 ? r : -ENOTDIR;
    w->cur[0] = '\0';
    return 0;
  }
  path_copy(w->cur, sizeof w->cur, view);
  if (!need_dir)
    return 0;
  /* The name must still lead to that directory in the view. */
  return view_names_dir(w->ctx, view, st.st_dev, st.st_ino) ? 0 : -ENOENT;
}

/* ---- the working directory's name ---- */

void vfs_cwd_changing(struct vfs *v)
{
  __atomic_add_fetch(&v->cwd_epoch, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&v->cwd_unsettled, 1, __ATOMIC_SEQ_CST);
}

void vfs_cwd_settled(struct vfs *v)
{
  __atomic_sub_fetch(&v->cwd_unsettled, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&v->cwd_epoch, 1, __ATOMIC_SEQ_CST);
}

/* The epoch a name read from now on belongs to; false while a change is
 * unsettled (then nothing is kept or used). Read before the name: a change
 * that begins after this read makes the name's epoch a past one. */
static bool cwd_epoch_now(const struct vfs *v, uint64_t *epoch)
{
  *epoch = __atomic_load_n(&v->cwd_epoch, __ATOMIC_SEQ_CST);
  return __atomic_load_n(&v->cwd_unsettled, __ATOMIC_SEQ_CST) == 0;
}

/* The thread's working directory, from the kernel: its name and identity
 * (the identity of the object named, not of whatever has the name by the
 * time it is walked). */
static int kernel_cwd(pid_t tid, char out[PATH_MAX], struct stat *st)
{
  deputy_unlinger(); /* a ptrace check on the effective set (common/deputy.h) */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cwd", (int)tid);
  cleanup_close int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  if (fstat(fd, st) < 0)
    return -errno;
  ssize_t n = readlink(fdpath_of(fd).s, out, PATH_MAX - 1);
  if (n < 0)
    return -errno;
  out[n] = '\0';
  return named_deleted(out, (size_t)n) ? -ENOENT : 0;
}

/* The kernel's name for the agent thread's working directory, as a view
 * path. Asking the kernel costs a readlink and two capsets (the deputy
 * leaves the agent's set for the ptrace check and comes back), and most
 * path calls are relative; so the name is kept with the caller, with the
 * directory's identity, and used again while (1) no chdir or fchdir
 * happened anywhere in the sandbox since (the cwd epoch: both notify the
 * sentry, which bumps it before the kernel moves the directory and again
 * once the move is done), and (2) the name still leads to that directory
 * (a rename or removal of it or of a directory above it, by the agent or
 * on the host, fails that: the walk cache sees the changed directories).
 * Anything else (a directory only the kernel names, outside the view, or
 * hidden) is asked of the kernel each time, as before. */
static int cwd_view_name(struct vfs_ctx *ctx, char out[PATH_MAX])
{
  struct vfs_cwd kept;
  uint64_t epoch = 0;
  bool keep = ctx->vfs != NULL && ctx->ops->cwd_get != NULL && ctx->ops->cwd_put != NULL;
  if (keep && !cwd_epoch_now(ctx->vfs, &epoch)) {
    /* a thread that moved its directory and ended without another call */
    if (ctx->ops->cwd_settle_ended != NULL)
      ctx->ops->cwd_settle_ended(ctx);
    keep = cwd_epoch_now(ctx->vfs, &epoch);
  }
  bool hit = keep && ctx->ops->cwd_get(ctx, &kept) == 0 && kept.epoch == epoch &&
             view_names_dir(ctx, kept.view, kept.dev, kept.ino);
  int r = 0;
  if (hit) {
    path_copy(out, PATH_MAX, kept.view);
  } else {
    struct stat st;
    r = kernel_cwd(ctx->tid, out, &st);
    if (r == 0 && keep && out[0] == '/' && view_names_dir(ctx, out, st.st_dev, st.st_ino)) {
      kept.epoch = epoch, kept.dev = st.st_dev, kept.ino = st.st_ino;
      path_copy(kept.view, sizeof kept.view, out);
      ctx->ops->cwd_put(ctx, &kept);
    }
  }
  ctx->hidden_by = NULL; /* the checks', not the walk's: that starts after them */
  ctx->dcache_seen.entry = NULL;
  return r;
}

int walker_start(struct walker *w, struct vfs_ctx *ctx, int dirfd, const char *path,
                 int vflags)
{
  int r = start_common(w, ctx, path);
  if (r < 0 || path[0] == '/')
    return r;
  if (dirfd == AT_FDCWD)
    return cwd_view_name(ctx, w->cur);
  if (path[0] != '\0' || !(vflags & VFS_EMPTY_PATH))
    return start_at_dirfd(w, dirfd, DIRFD_START);
  /* glibc's fstat is fstatat(fd, "", AT_EMPTY_PATH): a readlink fewer */
  return start_at_dirfd(w, dirfd, (vflags & VFS_ATTRS_ONLY) ? DIRFD_ATTRS_ONLY : DIRFD_OBJECT);
}

int walker_start_scoped(struct walker *w, struct vfs_ctx *ctx, int dirfd, const char *path,
                        uint64_t resolve)
{
  if (!(resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT))) {
    int r = walker_start(w, ctx, dirfd, path, 0);
    w->resolve = resolve;
    return r;
  }
  int r = start_common(w, ctx, path);
  if (r < 0)
    return r;
  w->resolve = resolve;
  if (dirfd == AT_FDCWD)
    r = cwd_view_name(ctx, w->cur);
  else
    r = start_at_dirfd(w, dirfd, DIRFD_START);
  if (r < 0)
    return r;
  path_copy(w->scope, sizeof w->scope, w->cur);
  if (path[0] == '/' && (resolve & RESOLVE_BENEATH))
    return -EXDEV;
  return 0; /* IN_ROOT: an absolute path starts at the scope */
}

int walker_splice(struct walker *w, const char *target)
{
  if (++w->links > WALK_MAX_LINKS || (w->resolve & RESOLVE_NO_SYMLINKS))
    return -ELOOP;
  if (target[0] == '\0')
    return -ENOENT;
  if (target[0] == '/') {
    if (w->resolve & RESOLVE_BENEATH)
      return -EXDEV;
    walker_set_cur(w, (w->resolve & RESOLVE_IN_ROOT) ? w->scope : "/");
  }
  char joined[sizeof w->rest];
  int n = snprintf(joined, sizeof joined, "%s%s%s", target, w->rest[0] != '\0' ? "/" : "",
                   w->rest);
  if (n < 0 || (size_t)n >= sizeof joined)
    return -ENAMETOOLONG;
  memcpy(w->rest, joined, (size_t)n + 1);
  return 0;
}

/* An overlay copies a file up when it is opened to be changed, before the
 * sentry has seen what it is: such an open walks first (the hidden check),
 * then opens. */
static bool opens_for_change(int flags)
{
  return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* ---- components ---- */

struct tokens {
  char buf[PATH_MAX * 2];
  char *comp[MAX_COMPONENTS];
  int n;
};

/* Split w->rest into components. Empty components vanish. */
static int tokenize(const struct walker *w, struct tokens *t)
{
  path_copy(t->buf, sizeof t->buf, w->rest);
  t->n = 0;
  for (char *save = NULL, *c = strtok_r(t->buf, "/", &save); c != NULL;
       c = strtok_r(NULL, "/", &save)) {
    if (strlen(c) > NAME_MAX || t->n == MAX_COMPONENTS)
      return -ENAMETOOLONG;
    t->comp[t->n++] = c;
  }
  return 0;
}

/* Put tokens[from..] back into w->rest. */
static void untokenize(struct walker *w, const struct tokens *t, int from)
{
  size_t n = 0;
  w->rest[0] = '\0';
  for (int i = from; i < t->n && n < sizeof w->rest; i++)
    n += (size_t)snprintf(w->rest + n, sizeof w->rest - n, "%s%s", n ? "/" : "", t->comp[i]);
}

static bool is_dir_fd(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_dot(const char *c)
{
  return c[0] == '.' && c[1] == '\0';
}
static bool is_dotdot(const char *c)
{
  return c[0] == '.' && c[1] == '.' && c[2] == '\0';
}

/* ".." on the canonical directory: text, never the kernel. */
static int step_up(struct walker *w)
{
  if (w->cur[0] == '\0') {
    /* above a removed directory the agent holds: the kernel keeps its old
     * parent, and the agent's own mount tree bounds where that is (the
     * namespace mirrors the view). The parent is known as an object only. */
    if (w->obj_fd < 0 || (w->resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)))
      return -ENOENT;
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    long up = syscall(SYS_openat2, w->obj_fd, "..", &how, sizeof how);
    if (up < 0)
      return -errno;
    close(w->obj_fd);
    w->obj_fd = (int)up;
    w->obj_st_valid = false; /* another object now */
    return 0;
  }
  if ((w->resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) && strcmp(w->cur, w->scope) == 0)
    return (w->resolve & RESOLVE_BENEATH) ? -EXDEV : 0;
  if (strcmp(w->cur, "/") == 0)
    return 0;
  char parent[PATH_MAX];
  path_copy(parent, sizeof parent, w->cur);
  view_parent(parent);
  if ((w->resolve & RESOLVE_NO_XDEV) && vfs_mount_of(w->v, parent) != vfs_mount_of(w->v, w->cur))
    return -EXDEV;
  walker_set_cur(w, parent);
  return 0;
}

/* How many of comps[i..] form one run in mount m. */
static int run_length(struct walker *w, const struct vfs_mount *m, struct tokens *t, int i)
{
  if (m->kind == VFS_MOUNT_PROC)
    return 1; /* /proc is walked one component at a time (proc.c) */
  char view[PATH_MAX];
  path_copy(view, sizeof view, w->cur);
  int j = i;
  while (j < t->n && !is_dot(t->comp[j]) && !is_dotdot(t->comp[j])) {
    char next[PATH_MAX];
    view_join(next, view, t->comp[j]);
    if (j > i && (vfs_is_hidden(w->v, next) || vfs_mount_of(w->v, next) != m))
      break;
    path_copy(view, sizeof view, next);
    j++;
  }
  return j - i;
}

/* The view path of the first k components of a mount-relative path. */
static void view_of_prefix(const struct vfs_mount *m, const char *rel, uint32_t k,
                           char out[PATH_MAX])
{
  path_copy(out, PATH_MAX, m->dest);
  const char *c = rel;
  for (uint32_t i = 0; i < k && *c != '\0'; i++) {
    size_t n = strcspn(c, "/");
    char name[NAME_MAX + 1];
    snprintf(name, sizeof name, "%.*s", (int)n, c);
    char next[PATH_MAX];
    view_join(next, out, name);
    path_copy(out, PATH_MAX, next);
    c += n;
    if (*c == '/')
      c++;
  }
}

/* The path after the first k+1 components of rel. */
static const char *after_component(const char *rel, uint32_t k)
{
  const char *c = rel;
  for (uint32_t i = 0; i <= k && *c != '\0'; i++) {
    c += strcspn(c, "/");
    if (*c == '/')
      c++;
  }
  return c;
}

/* The gofer met a symlink at component k of rel (in mount m): continue the
 * walk from its directory with its text in front of what is left.
 * WALK_REWRITTEN, WALK_ANSWERED (a magic link that is the answer) or
 * -errno. */
static int follow_reported(struct walker *w, const struct vfs_mount *m, const char *rel,
                           const struct gofer_rep *rep, const char *text, bool whole_path_last,
                           struct vfs_node *out)
{
  char dir[PATH_MAX], link_view[PATH_MAX];
  view_of_prefix(m, rel, rep->index, dir);
  const char *after = after_component(rel, rep->index);
  char rest[sizeof w->rest];
  snprintf(rest, sizeof rest, "%s%s%s", after, after[0] && w->rest[0] ? "/" : "", w->rest);
  path_copy(w->rest, sizeof w->rest, rest);
  walker_set_cur(w, dir);
  if (rep->status == GOFER_MAGIC_LINK) {
    const char *name = rel;
    for (uint32_t i = 0; i < rep->index; i++)
      name = after_component(rel, i);
    char comp[NAME_MAX + 1];
    snprintf(comp, sizeof comp, "%.*s", (int)strcspn(name, "/"), name);
    view_join(link_view, dir, comp);
    return proc_magic(w, link_view, text, whole_path_last && w->rest[0] == '\0', out);
  }
  int r = walker_splice(w, text);
  return r < 0 ? r : WALK_REWRITTEN;
}

static int finish(struct walker *w, const struct vfs_mount *m, const char *view,
                  const struct gofer_rep *rep, int vflags, struct vfs_node *out)
{
  out->mount = m;
  path_copy(out->view, sizeof out->view, view);
  out->stx = rep->stx;
  vfs_statx_to_stat(&rep->stx, &out->st);
  /* a hidden object reached by a name the policy did not foresee (a hard
   * link, a mount made on the host since) still does not exist */
  const char *by = vfs_hidden_id_by(w->v, out->st.st_dev, out->st.st_ino);
  if (by != NULL)
    return vfs_hidden_enoent(w->ctx, by);
  if ((vflags & VFS_DIRECTORY) && !S_ISDIR(out->st.st_mode))
    return -ENOTDIR;
  return 0;
}

/* access() with the real ids: every run of its walk is made with them, so
 * that search permission on the way is the real uid's, as the kernel's. */
static uint16_t real_ids_walk(const struct walker *w)
{
  return w->final_access_mode >= 0 && w->final_access_real ? GOFER_WALK_REAL_IDS : 0;
}

/* Stat of a canonical view path (the walk ends on a directory it reached:
 * a mount's root, or one reached by ".."). A parent's walk reads its
 * identity and type only (walker.ident_only), as for a walk that ends in
 * a run: a create or removal in a mount's root (every one in a --rw bind
 * like the bench's) then costs no statx of that root. */
static int stat_view(struct walker *w, const char *view, int vflags, struct vfs_node *out)
{
  const struct vfs_mount *m = vfs_mount_of(w->v, view);
  struct gofer_rep rep;
  const char *rel = vfs_mount_rel(m, view);
  int r = vfs_gofer(w->ctx,
                    &(struct vfs_gofer_req){.op = GOFER_WALK, .mount = m, .rel = rel,
                                            .walk = GOFER_NOFOLLOW_LAST | real_ids_walk(w),
                                            .ident_only = w->ident_only},
                    &rep, w->link_text, sizeof w->link_text, NULL);
  if (r < 0)
    return r;
  if (rep.err)
    return -rep.err;
  if (rep.status != GOFER_DONE || !rep.has_stat)
    return -VFS_ESTALE_VIEW;
  return finish(w, m, view, &rep, vflags, out);
}

/* The walk is at its end: the object is cur itself. */
static int finish_at_cur(struct walker *w, int vflags, struct vfs_node *out)
{
  if (w->obj_fd >= 0 && w->links == 0) { /* still held: nothing was walked below it */
    /* AT_EMPTY_PATH: the agent's own object, as it holds it (as this
     * call found it when it took it as a directory to start from) */
    struct stat st = w->obj_st;
    if (!w->obj_st_valid && fstat(w->obj_fd, &st) < 0)
      return -errno;
    out->mount = w->cur[0] ? vfs_mount_of(w->v, w->cur) : NULL;
    path_copy(out->view, sizeof out->view, w->cur);
    out->st = st;
    memset(&out->stx, 0, sizeof out->stx);
    out->obj_fd = w->obj_fd;
    w->obj_fd = -1;
    if ((vflags & VFS_DIRECTORY) && !S_ISDIR(st.st_mode))
      return -ENOTDIR;
    return 0;
  }
  return stat_view(w, w->cur, vflags, out);
}

/* One step of the walk from tokens t at index *i: WALK_GO_ON (with *i
 * advanced), WALK_REWRITTEN (tokenize rest again), WALK_ANSWERED (out is
 * the answer) or -errno. */
static int step(struct walker *w, struct tokens *t, int *i, int vflags, struct vfs_node *out)
{
  const char *comp = t->comp[*i];
  bool last = *i == t->n - 1;
  if (is_dot(comp)) {
    (*i)++;
    return WALK_GO_ON;
  }
  if (is_dotdot(comp)) {
    (*i)++;
    return step_up(w); /* 0 (WALK_GO_ON) or -errno */
  }
  if (w->cur[0] == '\0') /* below an object with no path */
    return (w->obj_fd >= 0 && is_dir_fd(w->obj_fd)) ? -ENOENT : -ENOTDIR;
  char next[PATH_MAX];
  view_join(next, w->cur, comp);
  if (strlen(next) >= PATH_MAX - 1)
    return -ENAMETOOLONG;
  const char *by = vfs_hidden_by(w->v, next);
  if (by != NULL)
    return vfs_hidden_enoent(w->ctx, by);
  const struct vfs_mount *m = vfs_mount_of(w->v, next);
  if (m != vfs_mount_of(w->v, w->cur)) { /* a mount point of the view */
    if (w->resolve & RESOLVE_NO_XDEV)
      return -EXDEV;
    if (m->kind == VFS_MOUNT_FILE && !last)
      return -ENOTDIR;
    walker_set_cur(w, next);
    (*i)++;
    return WALK_GO_ON;
  }
  if (m->kind == VFS_MOUNT_PROC) {
    untokenize(w, t, *i + 1); /* what follows, for proc_component to splice onto */
    int r = proc_component(w, comp, last, !last || !(vflags & VFS_NOFOLLOW), out);
    if (r != WALK_GO_ON)
      return r;
  }
  int n = run_length(w, m, t, *i);
  char run_view[PATH_MAX];
  path_copy(run_view, sizeof run_view, w->cur);
  for (int k = *i; k < *i + n; k++) {
    char tmp[PATH_MAX];
    view_join(tmp, run_view, t->comp[k]);
    path_copy(run_view, sizeof run_view, tmp);
  }
  bool run_is_last = *i + n == t->n;
  bool follow_last = !run_is_last || !(vflags & VFS_NOFOLLOW);
  const char *rel = vfs_mount_rel(m, run_view);
  struct gofer_rep rep;
  /* the last run of an open walks and opens in one request; of an access
   * check, walks and checks */
  bool open_now = run_is_last && w->final_open && m->kind != VFS_MOUNT_PROC &&
                  !(m->overlay && opens_for_change(w->final_open_flags));
  bool access_now = run_is_last && !open_now && w->final_access_mode >= 0 &&
                    m->kind != VFS_MOUNT_PROC;
  int fd = -1;
  struct vfs_gofer_req req = {
      .op = open_now ? GOFER_OPEN : GOFER_WALK,
      .mount = m,
      .rel = rel,
      .walk = (uint16_t)((follow_last ? 0 : GOFER_NOFOLLOW_LAST) |
                         ((w->resolve & RESOLVE_NO_XDEV) ? GOFER_NO_XDEV : 0) |
                         (access_now ? GOFER_WALK_ACCESS : 0) | (open_now ? 0 : real_ids_walk(w))),
      .flags = open_now ? (uint32_t)w->final_open_flags : 0,
      .arg0 = access_now ? (uint64_t)w->final_access_mode : 0,
      .arg1 = access_now ? (uint64_t)w->final_access_real : 0,
      /* a run on the way is a directory to pass, its identity and type
       * all this step reads of it (both as ever, for a cached answer):
       * its other attributes are not read again */
      .ident_only = !run_is_last || w->ident_only};
  int r = vfs_gofer(w->ctx, &req, &rep, w->link_text, sizeof w->link_text, open_now ? &fd : NULL);
  if (r < 0)
    return r;
  if (open_now && fd >= 0) {
    if (rep.err == 0 && rep.status == GOFER_DONE)
      w->opened_fd = fd;
    else
      close(fd);
  }
  if (rep.err)
    return -rep.err;
  if (rep.status != GOFER_DONE) {
    untokenize(w, t, *i + n);
    r = follow_reported(w, m, rel, &rep, w->link_text, run_is_last, out);
    return r;
  }
  if (!rep.has_stat)
    return -EIO;
  if (run_is_last) {
    r = finish(w, m, run_view, &rep, vflags, out);
    if (r == 0 && access_now) {
      out->access_done = true;
      out->access_err = (int)rep.val;
    }
    return r < 0 ? r : WALK_ANSWERED;
  }
  if (!S_ISDIR(rep.stx.stx_mode))
    return -ENOTDIR;
  by = vfs_hidden_id_by(w->v, makedev(rep.stx.stx_dev_major, rep.stx.stx_dev_minor),
                        rep.stx.stx_ino);
  if (by != NULL)
    return vfs_hidden_enoent(w->ctx, by);
  walker_set_cur(w, run_view);
  *i += n;
  return WALK_GO_ON;
}

int walker_run(struct walker *w, int vflags, struct vfs_node *out)
{
  /* "dir/" means "dir/.": the last component must be a directory and a
   * trailing symlink is followed */
  size_t len = strlen(w->rest);
  if (len > 0 && w->rest[len - 1] == '/' && strspn(w->rest, "/") != len) {
    if (len + 2 >= sizeof w->rest)
      return -ENAMETOOLONG;
    strcat(w->rest, ".");
  }
  /* a walk that starts inside a hidden directory (the agent's cwd or dirfd
   * got there somehow: a directory made on the host since, a race of
   * chdir) reaches nothing in it */
  const char *by = w->cur[0] != '\0' ? vfs_hidden_by(w->v, w->cur) : NULL;
  if (by != NULL)
    return vfs_hidden_enoent(w->ctx, by);
  struct tokens *t = malloc(sizeof *t);
  if (t == NULL)
    return -ENOMEM;
  int r;
  for (;;) {
    if ((r = tokenize(w, t)) < 0)
      break;
    if (t->n > 0 && w->obj_fd >= 0 && w->cur[0] != '\0') {
      /* walking below the agent's dirfd: from here on it is a view path */
      close(w->obj_fd);
      w->obj_fd = -1;
    }
    int i = 0;
    r = WALK_GO_ON;
    while (i < t->n && r == WALK_GO_ON)
      r = step(w, t, &i, vflags, out);
    if (r == WALK_REWRITTEN)
      continue;
    if (r == WALK_GO_ON) /* every component walked */
      r = finish_at_cur(w, vflags, out);
    else if (r == WALK_ANSWERED)
      r = 0;
    break;
  }
  free(t);
  return r;
}

int walker_run_parent(struct walker *w, struct vfs_node *parent, char name[NAME_MAX + 2])
{
  size_t len = strlen(w->rest);
  size_t end = len;
  while (end > 0 && w->rest[end - 1] == '/')
    end--;
  bool slash = end < len;
  size_t start = end;
  while (start > 0 && w->rest[start - 1] != '/')
    start--;
  if (end - start > NAME_MAX)
    return -ENAMETOOLONG;
  if (end == 0) /* "/" or "": the root itself */
    strcpy(name, ".");
  else {
    struct path_buf b = path_buf_at(name, NAME_MAX + 2);
    path_buf_put(&b, w->rest + start, end - start);
    if (slash)
      path_buf_put(&b, "/", 1);
  }
  /* the parent without its trailing slashes: "dir/" would walk "dir/.",
   * and the "." a second lookup of dir (VFS_DIRECTORY already asks for a
   * directory, and a symlink there is followed either way) */
  while (start > 0 && w->rest[start - 1] == '/' && strspn(w->rest, "/") < start)
    start--;
  w->rest[start] = '\0';
  w->ident_only = true;
  return walker_run(w, VFS_DIRECTORY, parent);
}
