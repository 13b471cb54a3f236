/* The view walker. See vfs.h for the rules; this file is their mechanics. */
#include "vfs/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/sentry.h"
#include "sentry/task.h"

/* The kernel follows nothing and never climbs above the fd it starts from. */
#define WALK_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define MAX_COMPONENTS 2048

void view_join(char out[PATH_MAX], const char *dir, const char *name)
{
  snprintf(out, PATH_MAX, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
}

static void view_parent(char *view)
{
  char *slash = strrchr(view, '/');
  if (slash == NULL || slash == view)
    strcpy(view, "/");
  else
    *slash = '\0';
}

/* Path of view inside mount m ("" for the mount's root). */
static const char *mount_rel(const struct vfs_mount *m, const char *view)
{
  if (m->dest_len == 1)
    return view + 1;
  return view[m->dest_len] == '/' ? view + m->dest_len + 1 : "";
}

static long openat2_in(int dirfd, const char *rel, uint64_t flags, uint64_t resolve)
{
  struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = resolve};
  long fd = syscall(SYS_openat2, dirfd, rel[0] != '\0' ? rel : ".", &how, sizeof how);
  return fd < 0 ? -errno : fd;
}

void walker_set_cur(struct walker *w, const char *view, int fd)
{
  if (view != w->cur)
    snprintf(w->cur, sizeof w->cur, "%s", view);
  if (w->cur_fd >= 0)
    close(w->cur_fd);
  w->cur_fd = fd;
}

void walker_release(struct walker *w)
{
  if (w->cur_fd >= 0)
    close(w->cur_fd);
  w->cur_fd = -1;
}

/* The kernel's name for one of the agent thread's directories: a view path,
 * because the agent's root is the view's root (docs/vfs.md). */
static int kernel_view_name(pid_t tid, const char *link, char out[PATH_MAX])
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)tid, link);
  ssize_t n = readlink(path, out, PATH_MAX - 1);
  if (n < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  out[n] = '\0';
  static const char deleted[] = " (deleted)";
  size_t len = (size_t)n, dl = sizeof deleted - 1;
  if (len > dl && strcmp(out + len - dl, deleted) == 0)
    return -ENOENT;
  return 0;
}

static int start_common(struct walker *w, struct sentry_call *call, const char *path)
{
  memset(w, 0, offsetof(struct walker, rest));
  w->call = call;
  w->v = &call->sentry->vfs;
  w->cur_fd = -1;
  w->links = 0;
  w->resolve = 0;
  w->link_text[0] = '\0';
  if (snprintf(w->rest, sizeof w->rest, "%s", path) >= (int)sizeof w->rest)
    return -ENAMETOOLONG;
  strcpy(w->cur, "/");
  return 0;
}

/* The agent's dirfd: its identity from pidfd_getfd, its name from the kernel. */
static int start_at_dirfd(struct walker *w, int dirfd, bool need_dir)
{
  int fd = task_getfd(w->call, dirfd);
  if (fd == -EBADF) {
    /* O_PATH fds cannot be taken with pidfd_getfd: follow the agent's own
     * fd link instead (the same object) */
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)w->call->tid, dirfd);
    fd = open(link, O_PATH | O_CLOEXEC);
    if (fd < 0)
      return -EBADF;
  }
  if (fd < 0)
    return fd;
  struct stat st;
  if (fstat(fd, &st) < 0 || (need_dir && !S_ISDIR(st.st_mode))) {
    close(fd);
    return -ENOTDIR;
  }
  char name[16];
  snprintf(name, sizeof name, "fd/%d", dirfd);
  char view[PATH_MAX];
  int r = kernel_view_name(w->call->tid, name, view);
  if (r < 0 || view[0] != '/') {
    /* not a path (a pipe, a socket) or deleted: usable only as the object
     * itself (AT_EMPTY_PATH) */
    if (need_dir) {
      close(fd);
      return r < 0 ? r : -ENOTDIR;
    }
    w->cur[0] = '\0';
  } else {
    snprintf(w->cur, sizeof w->cur, "%s", view);
  }
  w->cur_fd = fd;
  return 0;
}

int walker_start(struct walker *w, struct sentry_call *call, int dirfd, const char *path,
                 int vflags)
{
  int r = start_common(w, call, path);
  if (r < 0 || path[0] == '/')
    return r;
  if (dirfd == AT_FDCWD)
    return kernel_view_name(call->tid, "cwd", w->cur);
  return start_at_dirfd(w, dirfd, path[0] != '\0' || !(vflags & VFS_EMPTY_PATH));
}

int walker_start_scoped(struct walker *w, struct sentry_call *call, int dirfd, const char *path,
                        uint64_t resolve)
{
  int r = start_common(w, call, path);
  if (r < 0)
    return r;
  w->resolve = resolve;
  if (resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) {
    if (dirfd == AT_FDCWD)
      r = kernel_view_name(call->tid, "cwd", w->cur);
    else
      r = start_at_dirfd(w, dirfd, true);
    if (r < 0)
      return r;
    snprintf(w->scope, sizeof w->scope, "%s", w->cur);
    if (path[0] == '/' && (resolve & RESOLVE_BENEATH))
      return -EXDEV;
    return 0; /* IN_ROOT: an absolute path starts at the scope */
  }
  if (path[0] == '/')
    return 0;
  if (dirfd == AT_FDCWD)
    return kernel_view_name(call->tid, "cwd", w->cur);
  return start_at_dirfd(w, dirfd, true);
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
    walker_set_cur(w, (w->resolve & RESOLVE_IN_ROOT) ? w->scope : "/", -1);
  }
  char joined[sizeof w->rest];
  int n = snprintf(joined, sizeof joined, "%s%s%s", target, w->rest[0] != '\0' ? "/" : "",
                   w->rest);
  if (n < 0 || (size_t)n >= sizeof joined)
    return -ENAMETOOLONG;
  memcpy(w->rest, joined, (size_t)n + 1);
  return 0;
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
  snprintf(t->buf, sizeof t->buf, "%s", w->rest);
  t->n = 0;
  for (char *save = NULL, *c = strtok_r(t->buf, "/", &save); c != NULL;
       c = strtok_r(NULL, "/", &save)) {
    if (strlen(c) > NAME_MAX)
      return -ENAMETOOLONG;
    if (t->n == MAX_COMPONENTS)
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
  for (int i = from; i < t->n; i++)
    n += (size_t)snprintf(w->rest + n, sizeof w->rest - n, "%s%s", n ? "/" : "", t->comp[i]);
}

/* cur's directory fd, opened from its mount if not held yet. */
static int cur_dir_fd(struct walker *w)
{
  if (w->cur_fd >= 0)
    return w->cur_fd;
  const struct vfs_mount *m = vfs_mount_of(w->v, w->cur);
  long fd = openat2_in(m->fd, mount_rel(m, w->cur), O_PATH | O_DIRECTORY, WALK_RESOLVE);
  if (fd < 0)
    return (int)fd;
  w->cur_fd = (int)fd;
  return w->cur_fd;
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
  if (w->resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) {
    if (strcmp(w->cur, w->scope) == 0)
      return (w->resolve & RESOLVE_BENEATH) ? -EXDEV : 0;
  }
  if (strcmp(w->cur, "/") == 0)
    return 0;
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", w->cur);
  view_parent(parent);
  if ((w->resolve & RESOLVE_NO_XDEV) && vfs_mount_of(w->v, parent) != vfs_mount_of(w->v, w->cur))
    return -EXDEV;
  walker_set_cur(w, parent, -1);
  return 0;
}

/* A symlink at view path link_view (fd linkfd), found while walking: read
 * it and splice its text in front of what is left. cur becomes the directory
 * that holds the link. */
static int follow_link(struct walker *w, const char *dir_view, int dir_fd, int linkfd)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(linkfd, "", target, sizeof target - 1);
  if (n < 0)
    return -errno;
  target[n] = '\0';
  walker_set_cur(w, dir_view, dir_fd);
  return walker_splice(w, target);
}

/* Walk comps[i..j) (a run inside mount m, no "." or "..", no hidden path
 * and no mount point among them) with one openat2. On success *fd is the
 * last component (not followed) and cur is unchanged. On a symlink in the
 * middle, it is followed (cur moves, rest is rewritten) and 1 is returned. */
static int walk_run(struct walker *w, const struct vfs_mount *m, struct tokens *t, int i, int j,
                    int *fd)
{
  char run[PATH_MAX * 2];
  size_t len = 0;
  for (int k = i; k < j; k++)
    len += (size_t)snprintf(run + len, sizeof run - len, "%s%s", k > i ? "/" : "", t->comp[k]);
  if (len >= sizeof run)
    return -ENAMETOOLONG;
  uint64_t resolve = WALK_RESOLVE | (w->resolve & RESOLVE_NO_XDEV);
  int base = cur_dir_fd(w);
  if (base < 0)
    return base;
  long r = openat2_in(base, run, O_PATH | O_NOFOLLOW, resolve);
  if (r >= 0) {
    *fd = (int)r;
    return 0;
  }
  if (r != -ELOOP)
    return (int)r;
  /* Somewhere before the last component is a symlink: find it. */
  char dir_view[PATH_MAX];
  snprintf(dir_view, sizeof dir_view, "%s", w->cur);
  cleanup_close int dir = dup(base);
  for (int k = i; k < j - 1; k++) {
    cleanup_close int c = (int)openat2_in(dir, t->comp[k], O_PATH | O_NOFOLLOW, resolve);
    if (c < 0)
      return c;
    struct stat st;
    if (fstat(c, &st) < 0)
      return -errno;
    if (S_ISLNK(st.st_mode)) {
      untokenize(w, t, k + 1);
      int rr = follow_link(w, dir_view, steal_fd(&dir), c);
      return rr < 0 ? rr : 1;
    }
    char next[PATH_MAX];
    view_join(next, dir_view, t->comp[k]);
    snprintf(dir_view, sizeof dir_view, "%s", next);
    close(dir);
    dir = steal_fd(&c);
  }
  return -ELOOP;
}

/* The end of a run that did not finish the path must be a directory. */
static int enter_dir(struct walker *w, const char *view, int fd)
{
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
    close(fd);
    return -ENOTDIR;
  }
  walker_set_cur(w, view, fd);
  return 0;
}

static int finish(struct walker *w, const struct vfs_mount *m, const char *view, int fd,
                  int vflags, struct vfs_node *out)
{
  out->mount = m;
  snprintf(out->view, sizeof out->view, "%s", view);
  out->fd = fd;
  if (fstat(fd, &out->st) < 0)
    return -errno;
  if ((vflags & VFS_DIRECTORY) && !S_ISDIR(out->st.st_mode))
    return -ENOTDIR;
  return 0;
}

/* The walk is at its end: the object is cur itself. */
static int finish_at_cur(struct walker *w, int vflags, struct vfs_node *out)
{
  if (w->cur[0] == '\0') { /* AT_EMPTY_PATH on an object with no path */
    out->mount = NULL;
    out->view[0] = '\0';
    out->fd = w->cur_fd;
    w->cur_fd = -1;
    return fstat(out->fd, &out->st) < 0 ? -errno : 0;
  }
  int fd = cur_dir_fd(w);
  if (fd < 0)
    return fd;
  w->cur_fd = -1;
  return finish(w, vfs_mount_of(w->v, w->cur), w->cur, fd, vflags, out);
}

/* How many of comps[i..] form one run in mount m. */
static int run_length(struct walker *w, const struct vfs_mount *m, struct tokens *t, int i)
{
  if (m->kind == VFS_MOUNT_PROC)
    return 1; /* /proc is walked one component at a time (proc.c) */
  char view[PATH_MAX];
  snprintf(view, sizeof view, "%s", w->cur);
  int j = i;
  while (j < t->n && !is_dot(t->comp[j]) && !is_dotdot(t->comp[j])) {
    char next[PATH_MAX];
    view_join(next, view, t->comp[j]);
    if (j > i && (vfs_is_hidden(w->v, next) || vfs_mount_of(w->v, next) != m))
      break;
    snprintf(view, sizeof view, "%s", next);
    j++;
  }
  return j - i;
}

/* One step of the walk from tokens t at index *i. Returns 0 to go on (with
 * *i advanced), 1 when rest was rewritten (re-tokenize), 2 when out is the
 * answer, or -errno. */
static int step(struct walker *w, struct tokens *t, int *i, int vflags, struct vfs_node *out)
{
  const char *comp = t->comp[*i];
  bool last = *i == t->n - 1;
  bool follow = !last || !(vflags & VFS_NOFOLLOW);
  if (is_dot(comp)) {
    (*i)++;
    return 0;
  }
  if (is_dotdot(comp)) {
    (*i)++;
    return step_up(w);
  }
  char next[PATH_MAX];
  view_join(next, w->cur, comp);
  if (strlen(next) >= PATH_MAX - 1)
    return -ENAMETOOLONG;
  if (vfs_is_hidden(w->v, next))
    return -ENOENT;
  const struct vfs_mount *m = vfs_mount_of(w->v, next);
  if (m != vfs_mount_of(w->v, w->cur)) { /* a mount point of the view */
    if (w->resolve & RESOLVE_NO_XDEV)
      return -EXDEV;
    int fd = dup(m->fd);
    if (fd < 0)
      return -errno;
    if (m->kind == VFS_MOUNT_FILE && !last) {
      close(fd);
      return -ENOTDIR;
    }
    walker_set_cur(w, next, fd);
    (*i)++;
    return 0;
  }
  if (m->kind == VFS_MOUNT_PROC) {
    /* what follows this component, for proc_component to splice onto */
    untokenize(w, t, *i + 1);
    bool done = false;
    int r = proc_component(w, comp, last, follow, out, &done);
    if (r < 0 || done)
      return r < 0 ? r : 2;
    if (r == 1)
      return 1;
  }
  int n = run_length(w, m, t, *i);
  int fd = -1;
  int r = walk_run(w, m, t, *i, *i + n, &fd);
  if (r != 0)
    return r; /* error, or a symlink was spliced (1) */
  char end[PATH_MAX];
  snprintf(end, sizeof end, "%s", w->cur);
  for (int k = *i; k < *i + n; k++) {
    char tmp[PATH_MAX];
    view_join(tmp, end, t->comp[k]);
    snprintf(end, sizeof end, "%s", tmp);
  }
  bool run_is_last = *i + n == t->n;
  follow = !run_is_last || !(vflags & VFS_NOFOLLOW);
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return -errno;
  }
  if (S_ISLNK(st.st_mode) && follow) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", end);
    view_parent(dir);
    untokenize(w, t, *i + n);
    int rr = follow_link(w, dir, -1, fd);
    close(fd);
    return rr < 0 ? rr : 1;
  }
  if (run_is_last) {
    int rr = finish(w, m, end, fd, vflags, out);
    return rr < 0 ? rr : 2;
  }
  *i += n;
  return enter_dir(w, end, fd);
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
  struct tokens t;
  for (;;) {
    int r = tokenize(w, &t);
    if (r < 0)
      return r;
    int i = 0;
    while (i < t.n) {
      r = step(w, &t, &i, vflags, out);
      if (r < 0 || r == 2)
        return r < 0 ? r : 0;
      if (r == 1)
        break;
    }
    if (r == 1)
      continue;
    return finish_at_cur(w, vflags, out);
  }
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
  if (end == 0) { /* "/" or "": the root itself */
    strcpy(name, ".");
  } else {
    snprintf(name, NAME_MAX + 2, "%.*s%s", (int)(end - start), w->rest + start, slash ? "/" : "");
  }
  w->rest[start] = '\0';
  return walker_run(w, VFS_DIRECTORY, parent);
}
