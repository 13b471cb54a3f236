#include "vfs/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/agent_mem.h"
#include "sentry/sentry.h"
#include "sentry/task.h"

#define MAX_SYMLINKS 40 /* as the kernel (MAXSYMLINKS) */
#define PROC_ROOT_INO 1

int vfs_init(struct vfs *v, usbox_err_t *err)
{
  atomic_init(&v->ndevs, 0);
  pthread_mutex_init(&v->devs_lock, NULL);
  v->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (v->root_fd < 0)
    return usbox_err_set(err, errno, "opening the view root");
  return 0;
}

void vfs_destroy(struct vfs *v)
{
  if (v->root_fd >= 0)
    close(v->root_fd);
  v->root_fd = -1;
  pthread_mutex_destroy(&v->devs_lock);
}

const char *vfs_split_last(const char *path, char *dir, size_t dirsize)
{
  size_t len = strlen(path);
  size_t end = len;
  while (end > 0 && path[end - 1] == '/') /* trailing slashes belong to the last */
    end--;
  if (end == 0) { /* "" or only slashes */
    snprintf(dir, dirsize, "%s", len > 0 ? "/" : ".");
    return ".";
  }
  size_t start = end;
  while (start > 0 && path[start - 1] != '/')
    start--;
  if (start == 0)
    snprintf(dir, dirsize, ".");
  else if (start == 1)
    snprintf(dir, dirsize, "/");
  else
    snprintf(dir, dirsize, "%.*s", (int)(start - 1), path);
  return path + start;
}

static long openat2_fd(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
  struct open_how how = {.flags = flags | O_CLOEXEC, .mode = mode, .resolve = resolve};
  long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  return fd < 0 ? -errno : fd;
}

/* Whether st (of fd) is on a procfs. Devices are remembered: a statfs is paid
 * once per filesystem, not per call. */
static bool dev_is_procfs(struct vfs *v, int fd, dev_t dev)
{
  int n = atomic_load_explicit(&v->ndevs, memory_order_acquire);
  for (int i = 0; i < n; i++)
    if (v->devs[i].dev == dev)
      return v->devs[i].procfs;
  struct statfs sfs;
  bool procfs = fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
  pthread_mutex_lock(&v->devs_lock);
  n = atomic_load(&v->ndevs);
  if (n < VFS_MAX_DEVS) {
    v->devs[n].dev = dev;
    v->devs[n].procfs = procfs;
    atomic_store_explicit(&v->ndevs, n + 1, memory_order_release);
  }
  pthread_mutex_unlock(&v->devs_lock);
  return procfs;
}

static bool on_procfs(struct vfs *v, int fd, struct stat *st)
{
  struct stat own;
  if (st == NULL)
    st = &own;
  if (fstat(fd, st) < 0)
    return false;
  return dev_is_procfs(v, fd, st->st_dev);
}

static bool is_proc_root(struct vfs *v, int fd)
{
  struct stat st;
  return on_procfs(v, fd, &st) && st.st_ino == PROC_ROOT_INO;
}

/* The directory a walk starts from: the view's root (borrowed, not to be
 * closed), the agent thread's cwd, or the agent's dirfd (both owned). */
struct start {
  int fd;
  bool owned;
};

static void start_release(struct start *s)
{
  if (s->owned && s->fd >= 0)
    close(s->fd);
  s->fd = -1;
}
#define cleanup_start __attribute__((cleanup(start_release)))

static int start_dir(struct sentry_call *call, int dirfd, const char *path, struct start *out)
{
  out->owned = true;
  if (path[0] == '/') {
    out->fd = call->sentry->vfs.root_fd;
    out->owned = false;
    return 0;
  }
  if (dirfd == AT_FDCWD) {
    char cwd[64];
    snprintf(cwd, sizeof cwd, "/proc/%d/cwd", (int)call->tid);
    /* the kernel's cwd of that thread: a magic link the sentry follows on
     * purpose, for a task it knows */
    out->fd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return out->fd < 0 ? (errno == ENOENT ? -ESRCH : -errno) : 0;
  }
  out->fd = task_getfd(call, dirfd);
  return out->fd < 0 ? out->fd : 0;
}

struct walk {
  struct sentry_call *call;
  int cur;       /* O_PATH of the directory reached so far */
  int links;     /* symlinks followed */
  struct stat st; /* of cur, once the walk is done */
  char rest[PATH_MAX * 2];
};

/* Take the next component of w->rest into comp (with a trailing "/" when the
 * path ends in slashes). Returns 1, 0 when none is left, or -ENAMETOOLONG. */
static int next_component(struct walk *w, char comp[NAME_MAX + 2], bool *last)
{
  char *p = w->rest;
  while (*p == '/')
    p++;
  if (*p == '\0')
    return 0;
  size_t n = strcspn(p, "/");
  if (n > NAME_MAX)
    return -ENAMETOOLONG;
  memcpy(comp, p, n);
  comp[n] = '\0';
  char *after = p + n;
  bool trailing_slash = *after == '/';
  while (*after == '/')
    after++;
  *last = *after == '\0';
  if (*last && trailing_slash) /* the last component must be a directory */
    comp[n] = '/', comp[n + 1] = '\0';
  memmove(w->rest, after, strlen(after) + 1);
  return 1;
}

/* Replace what is left by target + "/" + rest (a symlink's text). */
static int splice_link(struct walk *w, const char *target, bool last_had_slash)
{
  char joined[sizeof w->rest];
  int n = snprintf(joined, sizeof joined, "%s%s%s", target,
                   (w->rest[0] != '\0' || last_had_slash) ? "/" : "", w->rest);
  if (n < 0 || (size_t)n >= sizeof joined)
    return -ENAMETOOLONG;
  memcpy(w->rest, joined, (size_t)n + 1);
  return 0;
}

static int walk_set_cur(struct walk *w, int fd)
{
  close(w->cur);
  w->cur = fd;
  return 0;
}

/* One symlink: follow it (magic links of the agent's own /proc entries are
 * followed by the kernel, for the agent's process; the view issue will check
 * their target against the view). */
static int walk_follow(struct walk *w, int linkfd, const char *name, bool last_had_slash)
{
  if (++w->links > MAX_SYMLINKS)
    return -ELOOP;
  long magic_probe = openat2_fd(w->cur, name, O_PATH, 0, RESOLVE_NO_MAGICLINKS);
  if (magic_probe >= 0)
    close((int)magic_probe);
  else if (magic_probe == -ELOOP && on_procfs(&w->call->sentry->vfs, linkfd, NULL)) {
    int fd = openat(w->cur, name, O_PATH | O_CLOEXEC);
    if (fd < 0)
      return -errno;
    return walk_set_cur(w, fd);
  }
  char target[PATH_MAX];
  ssize_t n = readlinkat(linkfd, "", target, sizeof target - 1);
  if (n < 0)
    return -errno;
  target[n] = '\0';
  if (target[0] == '/') {
    int root = dup(w->call->sentry->vfs.root_fd);
    if (root < 0)
      return -errno;
    walk_set_cur(w, root);
  }
  return splice_link(w, target, last_had_slash);
}

/* Component-by-component walk from w->cur over w->rest. On success w->cur is
 * the object (O_PATH). */
static int walk_slow(struct walk *w, int vflags)
{
  char comp[NAME_MAX + 2];
  bool last = false;
  char ids[64];
  int more;
  while ((more = next_component(w, comp, &last)) != 0) {
    if (more < 0)
      return more;
    size_t clen = strlen(comp);
    bool slash = clen > 0 && comp[clen - 1] == '/';
    if (slash)
      comp[--clen] = '\0';
    if (strcmp(comp, ".") == 0)
      continue;
    if ((strcmp(comp, "self") == 0 || strcmp(comp, "thread-self") == 0) &&
        is_proc_root(&w->call->sentry->vfs, w->cur)) {
      /* these would name the sentry: the agent means itself */
      int r = call_task(w->call);
      if (r < 0)
        return r;
      if (comp[0] == 's')
        snprintf(ids, sizeof ids, "%d", (int)w->call->task->tgid);
      else
        snprintf(ids, sizeof ids, "%d/task/%d", (int)w->call->task->tgid, (int)w->call->tid);
      r = splice_link(w, ids, slash);
      if (r < 0)
        return r;
      continue;
    }
    int fd = openat(w->cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return -errno;
    struct stat st;
    if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
      close(fd);
      return -errno;
    }
    if (S_ISLNK(st.st_mode) && (!last || slash || !(vflags & VFS_NOFOLLOW))) {
      int r = walk_follow(w, fd, comp, slash);
      close(fd);
      if (r < 0)
        return r;
      continue;
    }
    if ((!last || slash) && !S_ISDIR(st.st_mode)) {
      close(fd);
      return -ENOTDIR;
    }
    walk_set_cur(w, fd);
  }
  if (fstat(w->cur, &w->st) < 0)
    return -errno;
  if ((vflags & VFS_DIRECTORY) && !S_ISDIR(w->st.st_mode))
    return -ENOTDIR;
  return 0;
}

/* The fast walk's answer is trusted unless the walk could have passed through
 * the sentry's own /proc/self (see vfs.h). Returns true when the slow walk
 * must redo it; on a trusted success *st holds the result's stat. */
static bool needs_slow_walk(struct vfs *v, long fast, int start, const char *path,
                            uint64_t nofollow, uint64_t resolve, struct stat *st)
{
  if (fast >= 0)
    return on_procfs(v, (int)fast, st);
  if (fast == -ELOOP)
    return true;
  /* Failed: did it fail before following any symlink? Then the failure is
   * the same for the agent. */
  long probe = openat2_fd(start, path, O_PATH | nofollow, 0, resolve | RESOLVE_NO_SYMLINKS);
  if (probe == -ELOOP)
    return true;
  if (probe >= 0) {
    bool slow = on_procfs(v, (int)probe, NULL);
    close((int)probe);
    return slow;
  }
  return false;
}

static int prepare(struct sentry_call *call, const char *path, int vflags)
{
  int r = call_validate(call); /* invariant 2: memory read, now check the id */
  if (r < 0)
    return -ESRCH;
  if (path[0] == '\0' && !(vflags & VFS_EMPTY_PATH))
    return -ENOENT;
  return task_assume_identity(call);
}

int vfs_lookup(struct sentry_call *call, int dirfd, const char *path, int vflags, int *out,
               struct stat *st)
{
  struct stat own;
  if (st == NULL)
    st = &own;
  int r = prepare(call, path, vflags);
  if (r < 0)
    return r;
  cleanup_start struct start start = {-1, false};
  r = start_dir(call, dirfd, path, &start);
  if (r < 0)
    return r;
  if (path[0] == '\0') { /* AT_EMPTY_PATH: the dirfd itself */
    if (fstat(start.fd, st) < 0)
      return -errno;
    *out = start.owned ? steal_fd(&start.fd) : dup(start.fd);
    return *out < 0 ? -errno : 0;
  }
  struct vfs *v = &call->sentry->vfs;
  uint64_t nofollow = (vflags & VFS_NOFOLLOW) ? O_NOFOLLOW : 0;
  uint64_t dir = (vflags & VFS_DIRECTORY) ? O_DIRECTORY : 0;
  uint64_t resolve = RESOLVE_NO_MAGICLINKS | (path[0] == '/' ? RESOLVE_IN_ROOT : 0);
  long fast = openat2_fd(start.fd, path, O_PATH | nofollow | dir, 0, resolve);
  if (!needs_slow_walk(v, fast, start.fd, path, nofollow, resolve, st)) {
    if (fast < 0)
      return (int)fast;
    *out = (int)fast;
    return 0;
  }
  if (fast >= 0)
    close((int)fast);
  struct walk w = {.call = call, .cur = start.owned ? steal_fd(&start.fd) : dup(start.fd)};
  if (w.cur < 0)
    return -errno;
  snprintf(w.rest, sizeof w.rest, "%s", path);
  r = walk_slow(&w, vflags);
  if (r < 0) {
    close(w.cur);
    return r;
  }
  *st = w.st;
  *out = w.cur;
  return 0;
}

/* Reopen an O_PATH fd with real open flags, through the sentry's own
 * /proc/self/fd (its own fd: no agent string involved). */
static int reopen(int opath, const struct stat *st, int oflags, int *out)
{
  if (S_ISLNK(st->st_mode))
    return -ELOOP; /* O_NOFOLLOW on a symlink */
  if ((oflags & O_DIRECTORY) && !S_ISDIR(st->st_mode))
    return -ENOTDIR;
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", opath);
  int fd = open(self, (oflags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  *out = fd;
  return 0;
}

static int open_slow(struct sentry_call *call, int dirfd, const char *path, int oflags,
                     mode_t mode, int *out)
{
  int vflags = (oflags & O_NOFOLLOW) ? VFS_NOFOLLOW : 0;
  cleanup_close int obj = -1;
  struct stat st;
  int r = vfs_lookup(call, dirfd, path, vflags, &obj, &st);
  if (r == 0) {
    if ((oflags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
      return -EEXIST;
    if (oflags & O_PATH) {
      *out = steal_fd(&obj);
      return 0;
    }
    return reopen(obj, &st, oflags, out);
  }
  if (r != -ENOENT || !(oflags & O_CREAT))
    return r;
  cleanup_close int parent = -1;
  const char *last;
  r = vfs_lookup_parent(call, dirfd, path, &parent, &last);
  if (r < 0)
    return r;
  int fd = openat(parent, last, oflags | O_NOCTTY | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  *out = fd;
  return 0;
}

int vfs_open(struct sentry_call *call, int dirfd, const char *path, const struct open_how *how,
             int *out)
{
  int r = prepare(call, path, 0);
  if (r < 0)
    return r;
  /* With the agent's own RESOLVE_BENEATH/IN_ROOT, paths are relative to its
   * dirfd even when absolute, and its flags bound the walk: the kernel's
   * answer on that walk is final (no slow path). */
  bool agent_scoped = how->resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT);
  cleanup_start struct start start = {-1, false};
  if (agent_scoped) {
    start.fd = task_getfd(call, dirfd);
    start.owned = true;
    r = start.fd < 0 ? start.fd : 0;
  } else {
    r = start_dir(call, dirfd, path, &start);
  }
  if (r < 0)
    return r;
  /* O_NOCTTY always: the sentry must never acquire the agent's terminal */
  uint64_t flags = how->flags | O_NOCTTY;
  if (flags & O_PATH)
    flags &= ~(uint64_t)O_NOCTTY; /* O_PATH admits no other flags */
  uint64_t resolve = how->resolve | RESOLVE_NO_MAGICLINKS;
  if (path[0] == '/' && !agent_scoped)
    resolve |= RESOLVE_IN_ROOT;
  long fast = openat2_fd(start.fd, path, flags, how->mode, resolve);
  struct stat st;
  if (fast == -EINVAL || how->resolve != 0 ||
      !needs_slow_walk(&call->sentry->vfs, fast, start.fd, path, how->flags & O_NOFOLLOW, resolve,
                       &st)) {
    if (fast < 0)
      return (int)fast;
    *out = (int)fast;
    return 0;
  }
  if (fast >= 0)
    close((int)fast);
  return open_slow(call, dirfd, path, (int)how->flags, (mode_t)how->mode, out);
}

int vfs_lookup_parent(struct sentry_call *call, int dirfd, const char *path, int *parent,
                      const char **last)
{
  if (path[0] == '\0') {
    int r = call_validate(call);
    return r < 0 ? -ESRCH : -ENOENT;
  }
  char dir[PATH_MAX];
  *last = vfs_split_last(path, dir, sizeof dir);
  return vfs_lookup(call, dirfd, dir, VFS_DIRECTORY, parent, NULL);
}
