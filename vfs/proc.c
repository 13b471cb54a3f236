/* /proc in the view. The sentry walks it one component at a time because
 * the kernel would resolve two things there as the *sentry*:
 *
 *  - "self" and "thread-self" in the procfs root: replaced by the agent
 *    thread's own tgid (and tid), as its pid namespace numbers them;
 *  - magic links (/proc/PID/{cwd,root,exe}, fd/N, task/TID/..., ns/...,
 *    map_files/...): never followed raw. They are used only for processes in
 *    the sandbox's own mount namespace (EACCES otherwise); one whose kernel
 *    name is a path is walked again as a view path (so hidden paths and
 *    mounts still apply); one with no path (a pipe, a socket, a deleted
 *    file) is, as the last component, the object the agent itself holds. */
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
#include "sentry/sentry.h"
#include "sentry/task.h"
#include "vfs/walk.h"

static bool in_proc_root(const struct walker *w, const struct vfs_mount *m)
{
  return strcmp(w->cur, m->dest) == 0;
}

static const struct vfs_mount *proc_mount(const struct walker *w)
{
  return vfs_mount_of(w->v, w->cur);
}

/* The pid whose /proc directory holds cur ("/proc/123/fd" -> 123), or 0. */
static long owner_pid(const struct walker *w, const struct vfs_mount *m)
{
  const char *p = w->cur + m->dest_len;
  if (*p != '/')
    return 0;
  char *end;
  long pid = strtol(p + 1, &end, 10);
  return (end != p + 1 && (*end == '\0' || *end == '/')) ? pid : 0;
}

/* Whether that process lives in the sandbox's mount namespace. */
static bool is_sandbox_process(const struct walker *w, const struct vfs_mount *m, long pid)
{
  char rel[64];
  snprintf(rel, sizeof rel, "%ld/ns/mnt", pid);
  struct stat st;
  /* following ns/mnt (a magic link) is what identifies the namespace */
  if (fstatat(m->fd, rel, &st, 0) < 0)
    return false;
  return st.st_ino == w->v->agent_mntns && st.st_dev == w->v->agent_mntns_dev;
}

static int self_link_text(struct walker *w, bool thread)
{
  int r = call_task(w->call);
  if (r < 0)
    return r;
  const struct task *t = w->call->task;
  if (thread)
    snprintf(w->link_text, sizeof w->link_text, "%d/task/%d", (int)t->ns_tgid, (int)t->ns_tid);
  else
    snprintf(w->link_text, sizeof w->link_text, "%d", (int)t->ns_tgid);
  return 0;
}

static int self_component(struct walker *w, const struct vfs_mount *m, const char *comp,
                          bool last, bool follow, struct vfs_node *out, bool *done)
{
  int r = self_link_text(w, comp[0] == 't');
  if (r < 0)
    return r;
  if (last && !follow) { /* lstat/readlink of the link itself */
    int cur = (int)syscall(SYS_openat2, m->fd, comp,
                           &(struct open_how){.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                                              .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS},
                           sizeof(struct open_how));
    if (cur < 0)
      return -errno;
    out->mount = m;
    view_join(out->view, w->cur, comp);
    out->fd = cur;
    snprintf(out->link, sizeof out->link, "%s", w->link_text);
    *done = true;
    return fstat(cur, &out->st) < 0 ? -errno : 1;
  }
  r = walker_splice(w, w->link_text);
  return r < 0 ? r : 1;
}

/* A link under /proc/PID: is it magic? (openat2 refuses to follow a magic
 * link with RESOLVE_NO_MAGICLINKS, and follows an ordinary one.) */
static bool is_magic(int dirfd, const char *comp)
{
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS};
  long fd = syscall(SYS_openat2, dirfd, comp, &how, sizeof how);
  if (fd >= 0) {
    close((int)fd);
    return false;
  }
  return errno == ELOOP;
}

static int magic_component(struct walker *w, const struct vfs_mount *m, int dirfd,
                           const char *comp, bool last, struct vfs_node *out, bool *done)
{
  if (w->resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS))
    return -ELOOP;
  if (w->resolve & RESOLVE_BENEATH)
    return -EXDEV;
  long pid = owner_pid(w, m);
  if (pid <= 0 || !is_sandbox_process(w, m, pid))
    return -EACCES;
  char target[PATH_MAX];
  ssize_t n = readlinkat(dirfd, comp, target, sizeof target - 1);
  if (n < 0)
    return -errno;
  target[n] = '\0';
  static const char deleted[] = " (deleted)";
  bool gone = (size_t)n > sizeof deleted - 1 && strcmp(target + n - (sizeof deleted - 1), deleted) == 0;
  if (target[0] == '/' && !gone) {
    /* a path in the view (the agent's root is the view's root): walk it */
    int r = walker_splice(w, target);
    return r < 0 ? r : 1;
  }
  if (!last)
    return -ENOTDIR;
  /* the object itself, as the agent holds it */
  int fd = openat(dirfd, comp, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  out->mount = NULL;
  out->view[0] = '\0';
  out->fd = fd;
  *done = true;
  return fstat(fd, &out->st) < 0 ? -errno : 1;
}

int proc_component(struct walker *w, const char *comp, bool last, bool follow,
                   struct vfs_node *out, bool *done)
{
  const struct vfs_mount *m = proc_mount(w);
  if (in_proc_root(w, m) && (strcmp(comp, "self") == 0 || strcmp(comp, "thread-self") == 0))
    return self_component(w, m, comp, last, follow, out, done);
  if (!follow)
    return 0; /* the ordinary walk returns the link itself */
  char rel[PATH_MAX];
  const char *base = w->cur + m->dest_len;
  snprintf(rel, sizeof rel, "%s", *base == '/' ? base + 1 : base);
  cleanup_close int dirfd = (int)syscall(
      SYS_openat2, m->fd, rel[0] ? rel : ".",
      &(struct open_how){.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS},
      sizeof(struct open_how));
  if (dirfd < 0)
    return -errno;
  struct stat st;
  if (fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -errno; /* let the ordinary walk report it */
  if (!S_ISLNK(st.st_mode))
    return 0;
  if (is_magic(dirfd, comp))
    return magic_component(w, m, dirfd, comp, last, out, done);
  return 0; /* an ordinary link (/proc/mounts -> self/mounts): the walk reads it */
}
