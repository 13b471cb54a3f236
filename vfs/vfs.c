#include "vfs/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/agent_mem.h"
#include "sentry/sentry.h"
#include "sentry/task.h"
#include "vfs/walk.h"

/* ---- the mount table ---- */

size_t vfs_mount_dests(const struct policy *p, const char *dests[VFS_MAX_MOUNTS],
                       bool writable[VFS_MAX_MOUNTS])
{
  size_t n = 0;
  for (size_t i = 0; i < p->nmounts && n < VFS_MAX_MOUNTS - 3; i++) {
    writable[n] = p->mounts[i].writable;
    dests[n++] = p->mounts[i].dest;
  }
  static const char *const fixed[] = {"/dev", "/dev/shm", "/proc"};
  static const bool fixed_writable[] = {false, true, false};
  for (size_t i = 0; i < 3; i++) {
    writable[n] = fixed_writable[i];
    dests[n++] = fixed[i];
  }
  return n;
}

static int by_dest_len_desc(const void *a, const void *b)
{
  const struct vfs_mount *x = a, *y = b;
  return x->dest_len < y->dest_len ? 1 : x->dest_len > y->dest_len ? -1 : 0;
}

int vfs_init(struct vfs *v, const struct policy *p, const int *fds, size_t nfds,
             usbox_err_t *err)
{
  memset(v, 0, sizeof *v);
  const char *dests[VFS_MAX_MOUNTS];
  bool writable[VFS_MAX_MOUNTS];
  size_t n = vfs_mount_dests(p, dests, writable);
  if (n != nfds)
    return usbox_err_set(err, EINVAL, "the agent handed over %zu mounts, expected %zu", nfds, n);
  for (size_t i = 0; i < n; i++) {
    struct vfs_mount *m = &v->mounts[v->nmounts++];
    struct stat st;
    m->dest = strdup(dests[i]);
    m->dest_len = strlen(dests[i]);
    m->writable = writable[i];
    m->fd = fds[i];
    if (m->dest == NULL)
      return usbox_err_set(err, ENOMEM, "allocating the mount table");
    if (fstat(m->fd, &st) < 0)
      return usbox_err_set(err, errno, "mount %s", m->dest);
    m->kind = strcmp(m->dest, "/proc") == 0 ? VFS_MOUNT_PROC
              : S_ISDIR(st.st_mode)         ? VFS_MOUNT_FS
                                            : VFS_MOUNT_FILE;
  }
  qsort(v->mounts, v->nmounts, sizeof v->mounts[0], by_dest_len_desc);
  v->hidden = calloc(p->nhidden + 1, sizeof *v->hidden);
  if (v->hidden == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  for (size_t i = 0; i < p->nhidden; i++)
    if ((v->hidden[v->nhidden++] = strdup(p->hidden[i])) == NULL)
      return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  return 0;
}

/* The directory holding a hidden path, opened in the view without following
 * anything, for its identity. */
static int hidden_parent_identity(const struct vfs *v, const char *hidden, struct stat *st,
                                  const char **name)
{
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", hidden);
  char *slash = strrchr(parent, '/');
  if (slash == NULL)
    return -1;
  *name = hidden + (slash - parent) + 1;
  if (slash == parent)
    parent[1] = '\0';
  else
    *slash = '\0';
  const struct vfs_mount *m = vfs_mount_of(v, parent);
  const char *rel = m->dest_len == 1 ? parent + 1 : parent + m->dest_len;
  if (*rel == '/')
    rel++;
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  cleanup_close int fd = (int)syscall(SYS_openat2, m->fd, rel[0] ? rel : ".", &how, sizeof how);
  return fd < 0 || fstat(fd, st) < 0 ? -1 : 0;
}

static int add_filter_name(struct vfs *v, const struct stat *st, const char *name)
{
  struct vfs_listing_filter *f = NULL;
  for (size_t i = 0; i < v->nfilters; i++)
    if (v->filters[i].dev == st->st_dev && v->filters[i].ino == st->st_ino)
      f = &v->filters[i];
  if (f == NULL) {
    struct vfs_listing_filter *grown = realloc(v->filters, (v->nfilters + 1) * sizeof *grown);
    if (grown == NULL)
      return -1;
    v->filters = grown;
    f = &v->filters[v->nfilters++];
    *f = (struct vfs_listing_filter){.dev = st->st_dev, .ino = st->st_ino};
  }
  char **names = realloc(f->names, (f->nnames + 1) * sizeof *names);
  if (names == NULL)
    return -1;
  f->names = names;
  if ((f->names[f->nnames] = strdup(name)) == NULL)
    return -1;
  f->nnames++;
  return 0;
}

/* Hidden entries must be absent from their parent's listing: remember each
 * such parent by identity (getdents64 is filtered for those only). */
static int build_listing_filters(struct vfs *v, usbox_err_t *err)
{
  for (size_t i = 0; i < v->nhidden; i++) {
    struct stat st;
    const char *name;
    if (hidden_parent_identity(v, v->hidden[i], &st, &name) < 0)
      continue; /* its parent is not in the view: nothing to list */
    if (add_filter_name(v, &st, name) < 0)
      return usbox_err_set(err, ENOMEM, "allocating listing filters");
  }
  return 0;
}

const struct vfs_listing_filter *vfs_listing_filter(const struct vfs *v, dev_t dev, ino_t ino)
{
  for (size_t i = 0; i < v->nfilters; i++)
    if (v->filters[i].dev == dev && v->filters[i].ino == ino)
      return &v->filters[i];
  return NULL;
}

size_t vfs_filter_dirents(const struct vfs_listing_filter *f, void *buf, size_t len,
                          size_t name_off)
{
  char *p = buf;
  size_t in = 0, out = 0;
  /* both layouts keep d_reclen at offset 16 (after d_ino and d_off) */
  while (in + name_off <= len) {
    unsigned short reclen;
    memcpy(&reclen, p + in + 16, sizeof reclen);
    if (reclen <= name_off || in + reclen > len)
      break; /* malformed: keep nothing past it */
    const char *name = p + in + name_off;
    bool drop = false;
    for (size_t i = 0; i < f->nnames && !drop; i++)
      drop = strncmp(name, f->names[i], reclen - name_off) == 0;
    if (!drop) {
      if (out != in)
        memmove(p + out, p + in, reclen);
      out += reclen;
    }
    in += reclen;
  }
  return out;
}

int vfs_set_agent(struct vfs *v, pid_t agent, usbox_err_t *err)
{
  if (build_listing_filters(v, err) < 0)
    return -1;
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)agent);
  if (stat(path, &st) < 0)
    return usbox_err_set(err, errno, "reading the agent's mount namespace");
  v->agent_mntns = st.st_ino;
  v->agent_mntns_dev = st.st_dev;
  return 0;
}

void vfs_destroy(struct vfs *v)
{
  for (size_t i = 0; i < v->nmounts; i++) {
    free(v->mounts[i].dest);
    if (v->mounts[i].fd >= 0)
      close(v->mounts[i].fd);
  }
  v->nmounts = 0;
  for (size_t i = 0; i < v->nhidden; i++)
    free(v->hidden[i]);
  free(v->hidden);
  v->hidden = NULL;
  v->nhidden = 0;
  for (size_t i = 0; i < v->nfilters; i++) {
    for (size_t j = 0; j < v->filters[i].nnames; j++)
      free(v->filters[i].names[j]);
    free(v->filters[i].names);
  }
  free(v->filters);
  v->filters = NULL;
  v->nfilters = 0;
}

bool vfs_is_hidden(const struct vfs *v, const char *view)
{
  for (size_t i = 0; i < v->nhidden; i++)
    if (strcmp(v->hidden[i], view) == 0)
      return true;
  return false;
}

const struct vfs_mount *vfs_mount_of(const struct vfs *v, const char *view)
{
  for (size_t i = 0; i < v->nmounts; i++) {
    const struct vfs_mount *m = &v->mounts[i];
    if (m->dest_len == 1 ||
        (strncmp(view, m->dest, m->dest_len) == 0 &&
         (view[m->dest_len] == '\0' || view[m->dest_len] == '/')))
      return m;
  }
  return NULL; /* no "/" mount: cannot happen after policy_finish */
}

void vfs_node_release(struct vfs_node *n)
{
  if (n->fd >= 0)
    close(n->fd);
  n->fd = -1;
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

/* ---- policy checks ---- */

int vfs_check_entry(const struct vfs *v, const struct vfs_node *parent, const char *name,
                    enum vfs_entry_op op)
{
  size_t len = strcspn(name, "/");
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    return 0; /* the kernel refuses these itself, with the right errno */
  char view[PATH_MAX];
  int n = snprintf(view, sizeof view, "%s%s%.*s", parent->view,
                   strcmp(parent->view, "/") == 0 ? "" : "/", (int)len, name);
  if (n < 0 || (size_t)n >= sizeof view)
    return -ENAMETOOLONG;
  if (vfs_is_hidden(v, view))
    return -ENOENT;
  const struct vfs_mount *m = vfs_mount_of(v, view);
  if (m != parent->mount && strcmp(m->dest, view) == 0)
    return op == VFS_CREATE ? -EEXIST : -EBUSY; /* a mount point of the view */
  if (!parent->mount->writable)
    return -EROFS;
  return 0;
}

int vfs_check_modify(const struct vfs_node *obj)
{
  /* an object with no path (a pipe, a socket) is not part of any mount */
  return obj->mount == NULL || obj->mount->writable ? 0 : -EROFS;
}

/* ---- lookups ---- */

static int prepare(struct sentry_call *call, const char *path, int vflags)
{
  if (call_validate(call) < 0) /* invariant 2: memory read, now check the id */
    return -ESRCH;
  if (path[0] == '\0' && !(vflags & VFS_EMPTY_PATH))
    return -ENOENT;
  return task_assume_identity(call);
}

int vfs_lookup(struct sentry_call *call, int dirfd, const char *path, int vflags,
               struct vfs_node *out)
{
  int r = prepare(call, path, vflags);
  if (r < 0)
    return r;
  struct walker w;
  r = walker_start(&w, call, dirfd, path, vflags);
  if (r == 0)
    r = walker_run(&w, vflags, out);
  walker_release(&w);
  return r;
}

int vfs_lookup_parent(struct sentry_call *call, int dirfd, const char *path,
                      struct vfs_node *parent, char name[NAME_MAX + 2])
{
  int r = prepare(call, path, 0);
  if (r < 0)
    return r;
  struct walker w;
  r = walker_start(&w, call, dirfd, path, 0);
  if (r == 0)
    r = walker_run_parent(&w, parent, name);
  walker_release(&w);
  return r;
}

void vfs_opened_release(struct vfs_opened *o)
{
  if (o->fd >= 0)
    close(o->fd);
  if (o->parent_fd >= 0)
    close(o->parent_fd);
  o->fd = o->parent_fd = -1;
}

void vfs_opened_undo(struct vfs_opened *o)
{
  if (o->parent_fd >= 0)
    unlinkat(o->parent_fd, o->name, 0);
}

/* Whether opening with these flags changes the filesystem (as opposed to
 * writing to a device, a FIFO or a socket, which a read-only mount allows). */
static bool open_modifies(const struct stat *st, int oflags)
{
  if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
    return false;
  return (oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC);
}

/* Reopen a resolved object with real open flags, through the sentry's own
 * /proc/self/fd (its own fd: no agent string involved). */
static int reopen(const struct vfs_node *n, int oflags, struct vfs_opened *out)
{
  if (S_ISLNK(n->st.st_mode))
    return (oflags & O_PATH) ? -EOPNOTSUPP : -ELOOP; /* O_NOFOLLOW on a symlink */
  if ((oflags & O_DIRECTORY) && !S_ISDIR(n->st.st_mode))
    return -ENOTDIR;
  if (S_ISDIR(n->st.st_mode) && ((oflags & O_ACCMODE) != O_RDONLY || (oflags & O_CREAT)))
    return -EISDIR;
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", n->fd);
  int flags = (oflags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_NOCTTY | O_CLOEXEC;
  if (oflags & O_PATH) {
    /* The kernel cannot inject O_PATH files (ADDFD takes them with fget,
     * which refuses them): the agent gets a read-only fd of the object. */
    if (S_ISSOCK(n->st.st_mode))
      return -ENXIO;
    flags = O_RDONLY | O_NOCTTY | O_CLOEXEC | (oflags & O_DIRECTORY) |
            (S_ISDIR(n->st.st_mode) || S_ISREG(n->st.st_mode) ? 0 : O_NONBLOCK);
  }
  int fd = open(self, flags);
  if (fd < 0)
    return -errno;
  out->fd = fd;
  out->st = n->st;
  return 0;
}

/* Create a new file: the parent is resolved in the view, the name is
 * created with the kernel following nothing (a symlink that appears there
 * in the meantime makes it ELOOP, and the walk is redone by the caller). */
static int open_create(struct sentry_call *call, struct vfs_node *parent, const char *name,
                       const struct open_how *how, struct vfs_opened *out)
{
  int r = vfs_check_entry(&call->sentry->vfs, parent, name, VFS_CREATE);
  if (r < 0)
    return r;
  struct open_how h = {.flags = (how->flags | O_NOCTTY | O_CLOEXEC | O_EXCL) & ~(uint64_t)O_NOFOLLOW,
                       .mode = how->mode,
                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  long fd = syscall(SYS_openat2, parent->fd, name, &h, sizeof h);
  if (fd < 0)
    return -errno;
  out->fd = (int)fd;
  out->parent_fd = parent->fd;
  parent->fd = -1;
  snprintf(out->name, sizeof out->name, "%s", name);
  return fstat(out->fd, &out->st) < 0 ? -errno : 0;
}

static int lookup_for_open(struct sentry_call *call, int dirfd, const char *path,
                           const struct open_how *how, int vflags, struct vfs_node *out)
{
  int r = prepare(call, path, vflags);
  if (r < 0)
    return r;
  struct walker w;
  r = walker_start_scoped(&w, call, dirfd, path, how->resolve);
  if (r == 0)
    r = walker_run(&w, vflags, out);
  walker_release(&w);
  return r;
}

static int parent_for_open(struct sentry_call *call, int dirfd, const char *path,
                           const struct open_how *how, struct vfs_node *parent,
                           char name[NAME_MAX + 2])
{
  struct walker w;
  int r = walker_start_scoped(&w, call, dirfd, path, how->resolve);
  if (r == 0)
    r = walker_run_parent(&w, parent, name);
  walker_release(&w);
  return r;
}

/* O_CREAT met an ENOENT. If the last component is a dangling symlink, the
 * file is created where it points (as the kernel does, unless O_EXCL or
 * O_NOFOLLOW): *next receives that view path and 1 is returned. Otherwise
 * the file is created here (0), or -errno. */
static int create_or_follow(struct sentry_call *call, int dirfd, const char *path,
                           const struct open_how *how, struct vfs_opened *out,
                           char next[PATH_MAX])
{
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  int r = parent_for_open(call, dirfd, path, how, &parent, name);
  if (r < 0)
    return r;
  struct stat st;
  if (strchr(name, '/') == NULL && fstatat(parent.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISLNK(st.st_mode))
      return -EAGAIN; /* it appeared meanwhile: look it up again */
    if (how->flags & O_EXCL)
      return -EEXIST;
    if ((how->flags & O_NOFOLLOW) || (how->resolve & RESOLVE_NO_SYMLINKS))
      return -ELOOP;
    char target[PATH_MAX];
    ssize_t n = readlinkat(parent.fd, name, target, sizeof target - 1);
    if (n <= 0)
      return n < 0 ? -errno : -ENOENT;
    target[n] = '\0';
    if (target[0] == '/')
      snprintf(next, PATH_MAX, "%s", target);
    else
      view_join(next, parent.view, target);
    return 1;
  }
  r = open_create(call, &parent, name, how, out);
  return r == -ELOOP || r == -EEXIST ? -EAGAIN : r;
}

int vfs_open(struct sentry_call *call, int dirfd, const char *path, const struct open_how *how,
             struct vfs_opened *out)
{
  int oflags = (int)how->flags;
  int vflags = (oflags & O_NOFOLLOW) ? VFS_NOFOLLOW : 0;
  if ((oflags & __O_TMPFILE) == __O_TMPFILE) {
    /* an unnamed file in a directory: the directory must be writable */
    cleanup_node struct vfs_node dir = VFS_NODE_INIT;
    int r = lookup_for_open(call, dirfd, path, how, VFS_DIRECTORY, &dir);
    if (r < 0 || (r = vfs_check_modify(&dir)) < 0)
      return r;
    struct open_how h = {.flags = how->flags | O_CLOEXEC, .mode = how->mode};
    long fd = syscall(SYS_openat2, dir.fd, ".", &h, sizeof h);
    if (fd < 0)
      return -errno;
    out->fd = (int)fd;
    return fstat(out->fd, &out->st) < 0 ? -errno : 0;
  }
  char followed[PATH_MAX];
  int links = 0;
  for (int attempt = 0; attempt < 16; attempt++) {
    cleanup_node struct vfs_node node = VFS_NODE_INIT;
    int r = lookup_for_open(call, dirfd, path, how, vflags, &node);
    if (r == 0) {
      if ((oflags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return -EEXIST;
      if (open_modifies(&node.st, oflags) && (r = vfs_check_modify(&node)) < 0)
        return r;
      return reopen(&node, oflags, out);
    }
    if (r != -ENOENT || !(oflags & O_CREAT))
      return r;
    r = create_or_follow(call, dirfd, path, how, out, followed);
    if (r == 1) { /* a dangling symlink: create its target instead */
      if (++links > 40)
        return -ELOOP;
      path = followed;
      continue;
    }
    if (r != -EAGAIN)
      return r;
  }
  return -ELOOP;
}
