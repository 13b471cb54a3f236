/* Masks for hidden paths that appear after start (hidden_watch.h). */
#include "sentry/hidden_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "vfs/dirwatch.h"

/* The host path behind a hidden view path, from the policy's mounts as the
 * view will have them (dests: vfs_mount_dests; the longest destination
 * above it, as vfs_mount_of picks): through the bind that shows it; NULL
 * for the sandbox's own filesystems (a tmpfs, /dev, /proc), whose contents
 * the agent makes. */
static char *host_path_of(const struct policy *p, const char *const *dests, size_t ndests,
                          const char *view)
{
  size_t best = ndests, best_len = 0;
  for (size_t i = 0; i < ndests; i++) {
    size_t len = strlen(dests[i]);
    if (path_at_or_below(view, dests[i]) && (best == ndests || len > best_len))
      best = i, best_len = len;
  }
  if (best >= p->nmounts || p->mounts[best].kind != MOUNT_BIND || p->mounts[best].source == NULL)
    return NULL;
  const char *source = p->mounts[best].source;
  const char *rel = best_len == 1 ? view + 1 : view[best_len] == '/' ? view + best_len + 1 : "";
  char host[PATH_MAX];
  int n = snprintf(host, sizeof host, "%s%s%s", strcmp(source, "/") == 0 ? "" : source,
                   rel[0] ? "/" : "", rel);
  return n > 0 && n < (int)sizeof host ? strdup(host) : NULL;
}

/* The index of key among the watched inodes, added if new; -1: no room. */
static int key_index(struct hidden_watch *hw, const struct dirwatch_key *key)
{
  for (size_t i = 0; i < hw->nkeys; i++)
    if (dirwatch_key_eq(&hw->keys[i], key))
      return (int)i; /* the same inode by another path (a bind, a link) */
  struct dirwatch_key *grown = realloc(hw->keys, (hw->nkeys + 1) * sizeof *grown);
  if (grown == NULL)
    return -1;
  hw->keys = grown;
  hw->keys[hw->nkeys] = *key;
  return (int)hw->nkeys++;
}

/* The watch on directory dir: its inode marked (vfs/dirwatch.h), found
 * again by the key its events carry. -1: none (gone, not a directory). */
static int mark_dir(struct hidden_watch *hw, const char *dir)
{
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct dirwatch_key key;
  int w = -1;
  /* the key and the mark from one fd: the same inode whatever the path does */
  if (dirwatch_key_of(fd, &key) == 0 &&
      dirwatch_mark(hw->notify_fd, fd, DIRWATCH_NAMES, true) == 0)
    w = key_index(hw, &key);
  close(fd);
  return w;
}

/* One watch per directory: most hidden paths share their parent. */
static int watch_dir(struct hidden_watch *hw, const char *dir)
{
  size_t len = strlen(dir), wd;
  if (strset_find(&hw->watched, dir, len, strset_hash(STRSET_HASH_INIT, dir, len), &wd))
    return (int)wd;
  int w = mark_dir(hw, dir);
  if (w < 0)
    return -1;
  char **grown = realloc(hw->watched_dirs, (hw->nwatched + 1) * sizeof *grown);
  if (grown == NULL)
    return w;
  hw->watched_dirs = grown;
  if ((grown[hw->nwatched] = strdup(dir)) == NULL)
    return w;
  wd = (size_t)w;
  if (strset_insert(&hw->watched, grown[hw->nwatched], len, &wd) == 0)
    hw->nwatched++;
  else
    free(grown[hw->nwatched]);
  return w;
}

/* Watch the parent of host if it exists (a hidden path removed and made
 * again must be masked again), else its deepest existing ancestor. */
static int watch_above(struct hidden_watch *hw, const char *host)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", host);
  for (;;) {
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
      return -1;
    if (slash == dir)
      slash[1] = '\0';
    else
      *slash = '\0';
    int wd = watch_dir(hw, dir);
    if (wd >= 0 || strcmp(dir, "/") == 0)
      return wd;
  }
}

/* ---- the helper, inside the agent's namespaces ---- */

static int sys_mount_setattr(int fd, unsigned flags, uint64_t set)
{
  struct mount_attr attr = {.attr_set = set};
  return (int)syscall(SYS_mount_setattr, fd, "", flags, &attr, sizeof attr);
}

/* An empty read-only tmpfs, or a read-only empty file from one, over target:
 * what vfs/mountns.c puts on hidden paths at start. Plain system calls only
 * (this runs in a child of a threaded process). */
static void mask_one(const char *view)
{
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                         .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int target = (int)syscall(SYS_openat2, AT_FDCWD, view, &how, sizeof how);
  struct statx stx;
  if (target < 0)
    return;
  if (statx(target, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0 ||
      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) || S_ISLNK(stx.stx_mode)) {
    close(target); /* masked already (or a mount of its own), or a link */
    return;
  }
  int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  int mnt = -1, mask = -1;
  if (fs >= 0 && fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) == 0 &&
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt >= 0 && S_ISDIR(stx.stx_mode)) {
    mask = mnt, mnt = -1;
  } else if (mnt >= 0) {
    int f = openat(mnt, "empty", O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
    if (f >= 0) {
      close(f);
      mask = open_tree(mnt, "empty", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    }
  }
  if (mask >= 0 && sys_mount_setattr(mask, AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) == 0)
    move_mount(mask, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int fds[] = {target, fs, mnt, mask};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

static _Noreturn void helper(const struct hidden_watch *hw, const size_t *which, size_t n)
{
  /* a user namespace first (usbox without root owns it, so may enter),
   * then the mount namespace, which also moves root and cwd there */
  if ((hw->userns_fd >= 0 && setns(hw->userns_fd, CLONE_NEWUSER) < 0) ||
      setns(hw->mntns_fd, CLONE_NEWNS) < 0)
    _exit(1);
  for (size_t i = 0; i < n; i++)
    mask_one(hw->hidden[which[i]]);
  _exit(0);
}

static void mask_in_agent(struct hidden_watch *hw, const size_t *which, size_t n)
{
  pid_t pid = fork();
  if (pid == 0)
    helper(hw, which, n);
  if (pid < 0) {
    usbox_warn("cannot mask a hidden path made on the host: fork: %s", strerror(errno));
    return;
  }
  int st;
  while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
    ;
  hw->masked += n;
  usbox_debug("masked %zu hidden path(s) made on the host since start", n);
}

/* ---- the watch ---- */

int hidden_watch_arm(struct hidden_watch *hw, const struct policy *p, usbox_err_t *err)
{
  memset(hw, 0, sizeof *hw);
  hw->notify_fd = hw->mntns_fd = hw->userns_fd = -1;
  hw->hidden = p->hidden;
  hw->n = p->nhidden;
  hw->host = calloc(hw->n + 1, sizeof *hw->host);
  hw->wd = calloc(hw->n + 1, sizeof *hw->wd);
  hw->ino = calloc(hw->n + 1, sizeof *hw->ino);
  if (hw->host == NULL || hw->wd == NULL || hw->ino == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the hidden paths' watch");
  hw->notify_fd = dirwatch_open();
  if (hw->notify_fd < 0)
    return usbox_err_set(err, errno, "watching the hidden paths");
  if (strset_init(&hw->watched, 64) < 0)
    return usbox_err_set(err, ENOMEM, "watching the hidden paths");
  const char *dests[VFS_MAX_MOUNTS];
  bool writable[VFS_MAX_MOUNTS], host_backed[VFS_MAX_MOUNTS];
  size_t ndests = vfs_mount_dests(p, dests, writable, host_backed);
  /* ino[] starts unknown (0): the first event in a directory has the
   * helper look at what is there (it leaves masked paths alone) */
  for (size_t i = 0; i < hw->n; i++) {
    hw->wd[i] = -1;
    if ((hw->host[i] = host_path_of(p, dests, ndests, p->hidden[i])) != NULL)
      hw->wd[i] = watch_above(hw, hw->host[i]);
  }
  return 0;
}

int hidden_watch_start(struct hidden_watch *hw, pid_t agent, bool new_user, usbox_err_t *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)agent);
  hw->mntns_fd = open(path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)agent);
  if (new_user)
    hw->userns_fd = open(path, O_RDONLY | O_CLOEXEC);
  if (hw->mntns_fd < 0 || (new_user && hw->userns_fd < 0))
    return usbox_err_set(err, errno, "watching the hidden paths");
  return 0;
}

/* The watches that fired (or all of them: overflow), from the events. */
struct fired {
  const struct hidden_watch *hw;
  int wds[64];
  size_t n;
  bool overflow;
};

static void note_fired(void *ctx, const struct dirwatch_event *ev)
{
  struct fired *f = ctx;
  int wd = -1;
  for (size_t i = 0; i < f->hw->nkeys && !ev->all && wd < 0; i++)
    if (dirwatch_key_eq(&f->hw->keys[i], &ev->key))
      wd = (int)i;
  bool seen = false;
  for (size_t j = 0; j < f->n && !seen; j++)
    seen = f->wds[j] == wd;
  if (ev->all || f->n == 64)
    f->overflow = true;
  else if (!seen && wd >= 0)
    f->wds[f->n++] = wd;
}

void hidden_watch_event(struct hidden_watch *hw)
{
  char buf[16384] __attribute__((aligned(8)));
  struct fired f = {.hw = hw};
  ssize_t len;
  while ((len = read(hw->notify_fd, buf, sizeof buf)) > 0)
    dirwatch_parse(buf, (size_t)len, note_fired, &f);
  size_t *which = calloc(hw->n + 1, sizeof *which), nwhich = 0;
  if (which == NULL)
    return;
  for (size_t i = 0; i < hw->n; i++) {
    bool hit = f.overflow;
    for (size_t j = 0; j < f.n && !hit; j++)
      hit = hw->wd[i] == f.wds[j];
    if (!hit || hw->host[i] == NULL)
      continue;
    /* a hidden path that is there now and was not (or is another object):
     * the helper masks it; directories on the way are watched as they come */
    struct stat st;
    ino_t now = lstat(hw->host[i], &st) == 0 ? st.st_ino : 0;
    if (now != 0 && now != hw->ino[i])
      which[nwhich++] = i;
    hw->ino[i] = now;
    hw->wd[i] = watch_above(hw, hw->host[i]);
  }
  if (nwhich > 0)
    mask_in_agent(hw, which, nwhich);
  free(which);
}

int hidden_watch_take_fd(struct hidden_watch *hw)
{
  int fd = hw->notify_fd;
  hw->notify_fd = -1;
  return fd;
}

void hidden_watch_stop(struct hidden_watch *hw)
{
  if (hw->notify_fd >= 0) /* (hidden_watch_take_fd: not here, slowly) */
    close(hw->notify_fd);
  int fds[] = {hw->mntns_fd, hw->userns_fd};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  if (!usbox_frees_memory())
    return;
  for (size_t i = 0; i < hw->n && hw->host != NULL; i++)
    free(hw->host[i]);
  free(hw->host);
  free(hw->wd);
  free(hw->ino);
  for (size_t i = 0; i < hw->nwatched; i++)
    free(hw->watched_dirs[i]);
  free(hw->watched_dirs);
  free(hw->keys);
  strset_free(&hw->watched);
  memset(hw, 0, sizeof *hw);
  hw->notify_fd = -1;
}
