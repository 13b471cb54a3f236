/* /proc in the view. The sentry walks it one component at a time because
 * two things there would otherwise be resolved as the *gofer* or the
 * *sentry*, not the agent:
 *
 *  - "self" and "thread-self" in the procfs root: replaced by the agent
 *    thread's own tgid (and tid), as its pid namespace numbers them;
 *  - magic links (/proc/PID/{cwd,root,exe}, fd/N, task/TID/..., ns/...,
 *    map_files/...): never followed raw. They are used only for processes in
 *    the sandbox's own mount namespace (other pids do not exist for it; the
 *    sandbox's init, pid 1, is not the agent's to look into: EACCES); one whose kernel
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
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/sentry.h"
#include "sentry/task.h"
#include "vfs/walk.h"

static bool in_proc_root(const struct walker *w, const struct vfs_mount *m)
{
  return strcmp(w->cur, m->dest) == 0;
}

/* The pid whose /proc directory holds a path ("/proc/123/fd/4" -> 123), or 0. */
static long owner_pid(const struct vfs_mount *m, const char *view)
{
  const char *p = view + m->dest_len;
  if (*p != '/')
    return 0;
  char *end;
  long pid = strtol(p + 1, &end, 10);
  return (end != p + 1 && (*end == '\0' || *end == '/')) ? pid : 0;
}

/* The object behind a magic link, as the gofer opens it (O_PATH). */
static int follow_magic(struct walker *w, const struct vfs_mount *m, const char *rel,
                        int *fd, struct stat *st)
{
  struct gofer_rep rep;
  int r = vfs_gofer(w->call, GOFER_PROC_FOLLOW, m, rel, NULL, 0, 0, 0, 0, NULL, 0, -1, &rep, NULL,
                    0, fd);
  if (r < 0)
    return r;
  if (rep.err || *fd < 0)
    return rep.err ? -rep.err : -EIO;
  if (fstat(*fd, st) < 0) {
    int e = errno;
    close(*fd);
    return -e;
  }
  return 0;
}

/* Whether that process lives in the sandbox's mount namespace. */
static bool is_sandbox_process(struct walker *w, const struct vfs_mount *m, long pid)
{
  if (pid == 1)
    return true; /* usbox's init, pid 1 of the sandbox's procfs (not dumpable: not asked) */
  char rel[64];
  snprintf(rel, sizeof rel, "%ld/ns/mnt", pid);
  int fd;
  struct stat st;
  if (follow_magic(w, m, rel, &fd, &st) < 0)
    return false;
  close(fd);
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

static bool all_digits(const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Entries of /proc/PID (and of /proc/PID/task/TID) that the kernel guards
 * with a ptrace access check. */
static bool ptrace_guarded(const char *name)
{
  static const char *const guarded[] = {
      "mem", "environ", "auxv", "maps", "smaps", "smaps_rollup", "numa_maps", "pagemap",
      "stack", "syscall", "personality", "io", "fd", "fdinfo", "map_files", "cwd", "root",
      "exe", "ns", "timers", "timerslack_ns", "attr", "coredump_filter", "mountinfo", "mounts",
      "mountstats", "clear_refs", "ksm_stat", "ksm_merging_pages", "patch_state", NULL};
  for (size_t i = 0; guarded[i] != NULL; i++)
    if (strcmp(name, guarded[i]) == 0)
      return true;
  return false;
}

/* "/proc/PID" or "/proc/PID/task/TID": the process directory cur is in,
 * with its pid, or 0. */
static long process_dir(const struct walker *w, const struct vfs_mount *m)
{
  const char *p = w->cur + m->dest_len;
  char *end;
  if (*p != '/')
    return 0;
  long pid = strtol(p + 1, &end, 10);
  if (end == p + 1)
    return 0;
  if (*end == '\0')
    return pid;
  if (strncmp(end, "/task/", 6) == 0 && all_digits(end + 6))
    return pid;
  return 0;
}

/* The agent thread may look into another sandbox process's guarded entries
 * only as the kernel's ptrace check would let it: the same uid and gid on
 * every side, or CAP_SYS_PTRACE. The sentry opens /proc with its own
 * privileges, so it must ask this question itself. */
static int may_ptrace_read(struct walker *w, const struct vfs_mount *m, long pid)
{
  int r = call_task(w->call);
  if (r < 0)
    return r;
  const struct task *me = w->call->task;
  if (pid == me->ns_tgid)
    return 0;
  /* pid 1 is usbox's init (sentry/launch.c), not dumpable: not the agent's
   * to look into, whatever its privileges */
  if (pid == 1)
    return -EACCES;
  if (me->cap_eff & (1ull << 19)) /* CAP_SYS_PTRACE */
    return 0;
  char rel[64];
  snprintf(rel, sizeof rel, "%ld/status", pid);
  int fd;
  struct stat st;
  /* the target's ids, read through the gofer's op code (local for /proc) */
  struct gofer_rep rep;
  r = vfs_gofer(w->call, GOFER_OPEN, m, rel, NULL, 0, O_RDONLY, 0, 0, NULL, 0, -1, &rep, NULL, 0,
                &fd);
  if (r < 0 || rep.err || fd < 0)
    return -EACCES;
  char text[4096];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  (void)st;
  if (n <= 0)
    return -EACCES;
  text[n] = '\0';
  struct task target;
  memset(&target, 0, sizeof target);
  if (task_parse_status(text, &target) < 0)
    return -EACCES;
  uid_t uid = me->creds.fsuid;
  gid_t gid = me->creds.fsgid;
  bool same = target.creds.uid == uid && target.creds.euid == uid && target.creds.suid == uid &&
              target.creds.gid == gid && target.creds.egid == gid && target.creds.sgid == gid;
  return same ? 0 : -EACCES;
}

int proc_component(struct walker *w, const char *comp, bool last, bool follow,
                   struct vfs_node *out)
{
  const struct vfs_mount *m = vfs_mount_of(w->v, w->cur);
  if (in_proc_root(w, m) && all_digits(comp)) {
    /* Processes outside the sandbox do not exist for the agent (as in a pid
     * namespace of its own): nothing of theirs is reachable, whatever the
     * sentry's own privileges would allow. */
    long pid = strtol(comp, NULL, 10);
    if (!is_sandbox_process(w, m, pid))
      return -ENOENT;
    return 0;
  }
  long pid = process_dir(w, m);
  if (pid > 0 && ptrace_guarded(comp)) {
    int r = may_ptrace_read(w, m, pid);
    if (r < 0)
      return r;
  }
  if (!in_proc_root(w, m) || (strcmp(comp, "self") != 0 && strcmp(comp, "thread-self") != 0))
    return 0; /* the gofer walks it; it reports magic links to proc_magic */
  int r = self_link_text(w, comp[0] == 't');
  if (r < 0)
    return r;
  if (last && !follow) { /* lstat/readlink of the link itself */
    struct gofer_rep rep;
    r = vfs_gofer(w->call, GOFER_WALK, m, comp, NULL, GOFER_NOFOLLOW_LAST, 0, 0, 0, NULL, 0, -1,
                  &rep, NULL, 0, NULL);
    if (r < 0 || rep.err)
      return r < 0 ? r : -rep.err;
    out->mount = m;
    view_join(out->view, w->cur, comp);
    out->stx = rep.stx;
    vfs_statx_to_stat(&rep.stx, &out->st);
    snprintf(out->link, sizeof out->link, "%s", w->link_text);
    return 2;
  }
  r = walker_splice(w, w->link_text);
  return r < 0 ? r : 1;
}

/* /proc/PID/fd/N (or .../task/TID/fd/N) of the caller's own process: the
 * very open file (pidfd_getfd), whose access mode bounds a re-open.
 * -ENOENT when it is something else (another process, map_files, an O_PATH
 * fd that pidfd_getfd cannot take): then the link is followed instead. */
static int own_open_file(struct walker *w, long pid, const char *link_view, int *fd,
                         struct stat *st, int *mode)
{
  const char *fdpart = strstr(link_view, "/fd/");
  int r = call_task(w->call);
  if (r < 0)
    return r;
  if (fdpart == NULL || pid != w->call->task->ns_tgid || !all_digits(fdpart + 4))
    return -ENOENT;
  int local = task_getfd(w->call, atoi(fdpart + 4));
  if (local < 0)
    return local == -ESRCH ? local : -ENOENT;
  int fl = fcntl(local, F_GETFL);
  if (fl < 0 || fstat(local, st) < 0) {
    close(local);
    return -ENOENT;
  }
  *mode = fl & O_ACCMODE;
  *fd = local;
  return 0;
}

int proc_magic(struct walker *w, const char *link_view, const char *text, bool last,
               struct vfs_node *out)
{
  if (w->resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS))
    return -ELOOP;
  if (w->resolve & RESOLVE_BENEATH)
    return -EXDEV;
  const struct vfs_mount *m = vfs_mount_of(w->v, link_view);
  long pid = owner_pid(m, link_view);
  if (pid <= 0 || !is_sandbox_process(w, m, pid))
    return -EACCES;
  static const char deleted[] = " (deleted)";
  size_t n = strlen(text);
  bool gone = n > sizeof deleted - 1 && strcmp(text + n - (sizeof deleted - 1), deleted) == 0;
  /* fd/N as the last component means the file the agent holds, wherever it
   * lives (stdio usbox was given may be outside the view): reopening what
   * one holds is what the kernel does too */
  bool fd_link = strstr(link_view, "/fd/") != NULL || strstr(link_view, "/map_files/") != NULL;
  if (text[0] == '/' && !gone && !(fd_link && last)) {
    /* a path in the view (the agent's root is the view's root): walk it */
    int r = walker_splice(w, text);
    return r < 0 ? r : 1;
  }
  if (!last)
    return -ENOTDIR;
  /* the object itself, as the agent holds it */
  int fd;
  struct stat st;
  int r = own_open_file(w, pid, link_view, &fd, &st, &out->held_mode);
  if (r == -ENOENT)
    r = follow_magic(w, m, vfs_mount_rel(m, link_view), &fd, &st);
  if (r < 0)
    return r;
  out->from_fd_link = fd_link;
  out->mount = NULL;
  out->view[0] = '\0';
  out->obj_fd = fd;
  out->st = st;
  memset(&out->stx, 0, sizeof out->stx);
  return 2;
}
