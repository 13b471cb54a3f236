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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/proc_status.h"
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

/* The object behind a magic link, as the gofer opens it (O_PATH): as the
 * agent thread, or (own) as the sentry, for the sentry's own questions
 * about a sandbox process (whose answer the agent does not get). */
static int follow_magic_as(struct walker *w, const struct vfs_mount *m, const char *rel,
                           bool own, int *fd, struct stat *st)
{
  struct vfs_ctx usbox_own = vfs_ctx_own(w->v);
  struct gofer_rep rep;
  int r = vfs_gofer(own ? &usbox_own : w->ctx,
                    &(struct vfs_gofer_req){.op = GOFER_PROC_FOLLOW, .mount = m, .rel = rel},
                    &rep, NULL, 0, fd);
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

static int follow_magic(struct walker *w, const struct vfs_mount *m, const char *rel,
                        int *fd, struct stat *st)
{
  return follow_magic_as(w, m, rel, false, fd, st);
}

/* The stat of what /proc/PID/LINK points to, asked as the sentry (its own
 * question about a sandbox process, whose answer the agent does not get). */
static int magic_stat_own(struct walker *w, const struct vfs_mount *m, long pid, const char *link,
                          struct stat *st)
{
  char rel[64];
  snprintf(rel, sizeof rel, "%ld/%s", pid, link);
  int fd;
  int r = follow_magic_as(w, m, rel, true, &fd, st);
  if (r == 0)
    close(fd);
  return r;
}

static bool in_sandbox_mntns(struct walker *w, const struct vfs_mount *m, long pid)
{
  if (pid == 1)
    return true; /* usbox's init, pid 1 of the sandbox's procfs (not dumpable: not asked) */
  struct stat st;
  return magic_stat_own(w, m, pid, "ns/mnt", &st) == 0 && st.st_ino == w->v->agent_mntns &&
         st.st_dev == w->v->agent_mntns_dev;
}

/* The parent of a zombie (or dead) process, from /proc/PID/stat read as
 * the sentry, or 0 if PID is not one: a zombie has no namespaces left to
 * ask about. */
static long zombie_parent(struct walker *w, const struct vfs_mount *m, long pid)
{
  char rel[64];
  snprintf(rel, sizeof rel, "%ld/stat", pid);
  struct vfs_ctx own = vfs_ctx_own(w->v);
  struct gofer_rep rep;
  int fd = -1;
  int r = vfs_gofer(&own,
                    &(struct vfs_gofer_req){.op = GOFER_OPEN, .mount = m, .rel = rel,
                                            .flags = O_RDONLY},
                    &rep, NULL, 0, &fd);
  if (r < 0 || rep.err || fd < 0)
    return 0;
  char text[512];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0)
    return 0;
  text[n] = '\0';
  const char *close_paren = strrchr(text, ')'); /* the name may hold ')' */
  char state;
  long ppid;
  if (close_paren == NULL || sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2)
    return 0;
  return state == 'Z' || state == 'X' ? ppid : 0;
}

/* Whether that process lives in the sandbox's mount namespace (asked as
 * the sentry: a process that dropped its ids is not dumpable, and the
 * agent's own /proc/self must still work, as the kernel lets a process see
 * itself). A zombie, which has no namespaces any more, is the sandbox's
 * if its parent is (a zombie's parent is alive, or the sandbox's init):
 * a parent waiting for its child to die watches /proc/PID/stat show Z. */
static bool is_sandbox_process(struct walker *w, const struct vfs_mount *m, long pid)
{
  if (in_sandbox_mntns(w, m, pid))
    return true;
  long parent = zombie_parent(w, m, pid);
  return parent > 0 && parent != pid && in_sandbox_mntns(w, m, parent);
}

static int self_link_text(struct walker *w, bool thread)
{
  struct vfs_caller me;
  int r = vfs_caller(w->ctx, 0, &me);
  if (r < 0)
    return r;
  const struct vfs_caller *t = &me;
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

/* Whether a sandbox process runs a hidden file (a hard link of one, exec'd
 * by a race the mirror could not refuse: docs/security.md): its memory,
 * maps and exe are that file's content, not to be read by its neighbours. */
static bool runs_hidden_program(struct walker *w, const struct vfs_mount *m, long pid)
{
  struct stat st;
  return magic_stat_own(w, m, pid, "exe", &st) == 0 && vfs_is_hidden_id(w->v, st.st_dev, st.st_ino);
}

/* The agent thread may look into another sandbox process's guarded entries
 * only as the kernel's ptrace check would let it: the same uid and gid on
 * every side, or CAP_SYS_PTRACE. The sentry opens /proc with its own
 * privileges, so it must ask this question itself. */
static int may_ptrace_read(struct walker *w, const struct vfs_mount *m, long pid)
{
  struct vfs_caller caller;
  int r = vfs_caller(w->ctx, 0, &caller);
  if (r < 0)
    return r;
  const struct vfs_caller *me = &caller;
  if (pid == me->ns_tgid)
    return 0;
  /* pid 1 is usbox's init (sentry/launch.c), not dumpable: not the agent's
   * to look into, whatever its privileges */
  if (pid == 1)
    return -EACCES;
  if (runs_hidden_program(w, m, pid))
    return -EACCES; /* its memory is a hidden file's content */
  if (me->creds.cap_eff & (1ull << 19)) /* CAP_SYS_PTRACE */
    return 0;
  char rel[64];
  snprintf(rel, sizeof rel, "%ld/status", pid);
  int fd;
  struct stat st;
  /* the target's ids, read through the gofer's op code (local for /proc) */
  struct gofer_rep rep;
  r = vfs_gofer(w->ctx,
                &(struct vfs_gofer_req){.op = GOFER_OPEN, .mount = m, .rel = rel,
                                        .flags = O_RDONLY},
                &rep, NULL, 0, &fd);
  if (r < 0 || rep.err || fd < 0)
    return -EACCES;
  char text[4096];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  (void)st;
  if (n <= 0)
    return -EACCES;
  text[n] = '\0';
  struct proc_status target;
  if (proc_status_parse(text, &target) < 0)
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
    return WALK_GO_ON;
  }
  long pid = process_dir(w, m);
  if (pid > 0 && ptrace_guarded(comp)) {
    int r = may_ptrace_read(w, m, pid);
    if (r < 0)
      return r;
  }
  if (!in_proc_root(w, m) || (strcmp(comp, "self") != 0 && strcmp(comp, "thread-self") != 0))
    return WALK_GO_ON; /* the gofer walks it; it reports magic links to proc_magic */
  int r = self_link_text(w, comp[0] == 't');
  if (r < 0)
    return r;
  if (last && !follow) { /* lstat/readlink of the link itself */
    struct gofer_rep rep;
    r = vfs_gofer(w->ctx,
                  &(struct vfs_gofer_req){.op = GOFER_WALK, .mount = m, .rel = comp,
                                          .walk = GOFER_NOFOLLOW_LAST},
                  &rep, NULL, 0, NULL);
    if (r < 0 || rep.err)
      return r < 0 ? r : -rep.err;
    out->mount = m;
    view_join(out->view, w->cur, comp);
    out->stx = rep.stx;
    vfs_statx_to_stat(&rep.stx, &out->st);
    snprintf(out->link, sizeof out->link, "%s", w->link_text);
    return WALK_ANSWERED;
  }
  r = walker_splice(w, w->link_text);
  return r < 0 ? r : WALK_REWRITTEN;
}

/* /proc/PID/fd/N (or .../task/TID/fd/N) of the caller's own process: the
 * very open file (pidfd_getfd), whose access mode bounds a re-open.
 * -ENOENT when it is something else (another process, map_files, an O_PATH
 * fd that pidfd_getfd cannot take): then the link is followed instead. */
static int own_open_file(struct walker *w, long pid, const char *link_view, int *fd,
                         struct stat *st, int *mode)
{
  const char *fdpart = strstr(link_view, "/fd/");
  struct vfs_caller me;
  int r = vfs_caller(w->ctx, 0, &me);
  if (r < 0)
    return r;
  if (fdpart == NULL || pid != me.ns_tgid || !all_digits(fdpart + 4))
    return -ENOENT;
  int local = w->ctx->ops->getfd(w->ctx, atoi(fdpart + 4));
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
    return r < 0 ? r : WALK_REWRITTEN;
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
  return WALK_ANSWERED;
}

/* ---- the mount tables ---- */

enum mount_table { TABLE_NONE, TABLE_MOUNTINFO, TABLE_MOUNTS, TABLE_MOUNTSTATS };

static enum mount_table table_of(const char *view)
{
  const char *name = strrchr(view, '/');
  if (name == NULL)
    return TABLE_NONE;
  name++;
  return strcmp(name, "mountinfo") == 0    ? TABLE_MOUNTINFO
         : strcmp(name, "mounts") == 0     ? TABLE_MOUNTS
         : strcmp(name, "mountstats") == 0 ? TABLE_MOUNTSTATS
                                           : TABLE_NONE;
}

/* Field n (0-based, space separated) of a line: where it starts, its length. */
static const char *field(const char *line, int n, size_t *len)
{
  const char *p = line;
  for (int i = 0; i < n && p != NULL; i++) {
    p = strchr(p, ' ');
    if (p != NULL)
      p++;
  }
  if (p == NULL)
    return NULL;
  *len = strcspn(p, " \n");
  return p;
}

/* The mount point a line names, unescaped (\040 and friends), in out. */
static bool line_mount_point(enum mount_table t, const char *line, char out[PATH_MAX])
{
  size_t len;
  const char *f = field(line, t == TABLE_MOUNTINFO ? 4 : t == TABLE_MOUNTS ? 1 : 4, &len);
  if (t == TABLE_MOUNTSTATS && strncmp(line, "device ", 7) != 0)
    return false;
  if (f == NULL || len == 0 || len >= PATH_MAX)
    return false;
  size_t o = 0;
  for (size_t i = 0; i < len && o < PATH_MAX - 1; i++) {
    if (f[i] == '\\' && i + 3 < len && f[i + 1] >= '0' && f[i + 1] <= '3' && f[i + 2] >= '0' &&
        f[i + 2] <= '7' && f[i + 3] >= '0' && f[i + 3] <= '7') {
      out[o++] = (char)((f[i + 1] - '0') * 64 + (f[i + 2] - '0') * 8 + (f[i + 3] - '0'));
      i += 3;
    } else {
      out[o++] = f[i];
    }
  }
  out[o] = '\0';
  return true;
}

/* One line as the agent may see it, appended to out (FILE *). */
static void filter_line(const struct vfs *v, enum mount_table t, const char *line, FILE *out)
{
  char point[PATH_MAX];
  if (line_mount_point(t, line, point) && vfs_is_hidden(v, point))
    return; /* the mask of a hidden path: the path does not exist */
  size_t len;
  const char *root = t == TABLE_MOUNTINFO ? field(line, 3, &len) : NULL;
  if (root == NULL) {
    fputs(line, out);
    return;
  }
  /* a mount's root in its filesystem is where a bind's source is on the
   * host: the view shows the mount, not where it comes from */
  fprintf(out, "%.*s/%s", (int)(root - line), line, root + len);
}

int proc_mount_table(struct vfs_ctx *ctx, const char *view, int *fd)
{
  enum mount_table t = table_of(view);
  if (t == TABLE_NONE)
    return 0;
  cleanup_fclose FILE *in = fdopen(dup(*fd), "re");
  int mem = memfd_create("usbox-mounts", MFD_CLOEXEC);
  cleanup_fclose FILE *out = mem >= 0 ? fdopen(mem, "w") : NULL;
  if (in == NULL || out == NULL) {
    if (mem >= 0 && out == NULL)
      close(mem);
    return -ENOMEM;
  }
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, in) > 0)
    filter_line(ctx->vfs, t, line, out);
  if (fflush(out) != 0)
    return -EIO;
  /* the agent gets it read-only, from the start, as it asked a read */
  char self[40];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fileno(out));
  int ro = open(self, O_RDONLY | O_CLOEXEC);
  if (ro < 0)
    return -errno;
  close(*fd);
  *fd = ro;
  return 0;
}
