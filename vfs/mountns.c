#include "vfs/mountns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "common/log.h"
#include "common/dircache.h"
#include "vfs/overlay_mount.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

const char *const mountns_dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty",
                                         NULL};

static int sys_mount_setattr(int fd, const char *path, unsigned flags, uint64_t set)
{
  struct mount_attr attr = {.attr_set = set};
  return (int)syscall(SYS_mount_setattr, fd, path, flags, &attr, sizeof attr);
}

/* A directory (or file) inside the tree rooted at root, reached without
 * following any symlink: mount destinations are taken literally. With
 * create, missing directories on the way (and the last one, of the given
 * type) are made, which works where the tree is writable: inside the private
 * /tmp or a writable bind, never on the read-only host. */
static int open_in_tree(int root, const char *view_path, bool create, mode_t type)
{
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  const char *rel = view_path[0] == '/' ? view_path + 1 : view_path;
  if (rel[0] == '\0')
    return dup(root);
  int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof how);
  if (fd >= 0 || errno != ENOENT || !create)
    return fd;
  cleanup_close int dir = dup(root);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", rel);
  for (char *save = NULL, *c = strtok_r(path, "/", &save); c != NULL;) {
    char *next = strtok_r(NULL, "/", &save);
    bool last = next == NULL;
    int made = (!last || S_ISDIR(type)) ? mkdirat(dir, c, 0755) : mknodat(dir, c, S_IFREG | 0644, 0);
    if (made < 0 && errno != EEXIST)
      return -1;
    int sub = (int)syscall(SYS_openat2, dir, c, &how, sizeof how);
    if (sub < 0)
      return -1;
    close(dir);
    dir = sub;
    c = next;
  }
  return steal_fd(&dir);
}

static int attach(int mnt, int root, const char *dest, mode_t type, usbox_err_t *err)
{
  cleanup_close int target = open_in_tree(root, dest, true, type);
  if (target < 0)
    return usbox_err_set(err, errno,
                         "mount point %s does not exist in the view and cannot be made there "
                         "(its parent is read-only)",
                         dest);
  if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return usbox_err_set(err, errno, "mounting at %s", dest);
  return 0;
}

/* A tmpfs the agent can write (/tmp, --tmpfs, /dev/shm) holds at most
 * --memory, or a quarter of the host's RAM without it (the kernel's default
 * is half, for each one). Its pages are charged to whoever writes them:
 * the agent, or the gofer, whose cgroup is under the agent's --memory
 * (limits/cgroup.c). */
static unsigned long long writable_tmpfs_size(const struct policy *p)
{
  if (p->limits.memory != 0)
    return p->limits.memory;
  struct sysinfo si;
  if (sysinfo(&si) < 0)
    return 0;
  unsigned long long ram = (unsigned long long)si.totalram * si.mem_unit;
  return ram / 4 > 16ull << 20 ? ram / 4 : 16ull << 20;
}

/* size: bytes, 0 for the kernel's default */
static int new_tmpfs(const char *mode, bool readonly, unsigned long long size, usbox_err_t *err)
{
  cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0)
    return usbox_err_set(err, errno, "fsopen(tmpfs)");
  char size_text[32];
  snprintf(size_text, sizeof size_text, "%llu", size);
  if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
      (size != 0 && fsconfig(fs, FSCONFIG_SET_STRING, "size", size_text, 0) < 0) ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return usbox_err_set(err, errno, "creating a tmpfs");
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC,
                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0));
  if (mnt < 0)
    return usbox_err_set(err, errno, "fsmount(tmpfs)");
  return mnt;
}

static int new_devpts(usbox_err_t *err)
{
  cleanup_close int fs = fsopen("devpts", FSOPEN_CLOEXEC);
  if (fs < 0)
    return usbox_err_set(err, errno, "fsopen(devpts)");
  if (fsconfig(fs, FSCONFIG_SET_FLAG, "newinstance", NULL, 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "ptmxmode", "0666", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0620", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return usbox_err_set(err, errno, "creating the sandbox's devpts");
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  if (mnt < 0)
    return usbox_err_set(err, errno, "fsmount(devpts)");
  return mnt;
}

/* Every bind is nosuid and nodev: a device node or a setuid file that
 * exists on the host in a visible place is a plain file in the sandbox
 * (only the synthetic /dev binds the few devices it allows, with devices). */
static int bind_into(int root, const char *source, const char *dest, bool writable,
                     bool devices, usbox_err_t *err)
{
  struct stat st;
  if (stat(source, &st) < 0)
    return usbox_err_set(err, errno, "bind source %s", source);
  cleanup_close int mnt = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (mnt < 0)
    return usbox_err_set(err, errno, "cloning %s", source);
  uint64_t attrs = MOUNT_ATTR_NOSUID | (devices ? 0 : MOUNT_ATTR_NODEV) |
                   (writable ? 0 : MOUNT_ATTR_RDONLY);
  if (sys_mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, attrs) < 0)
    return usbox_err_set(err, errno, "making %s %s", source,
                         writable ? "nosuid, nodev" : "read-only");
  return attach(mnt, root, dest, S_ISDIR(st.st_mode) ? S_IFDIR : S_IFREG, err);
}

/* /dev/mqueue: the mqueue filesystem of the sandbox's own IPC namespace.
 * The kernel ties an mqueue superblock to the IPC namespace of the process
 * that opens the filesystem (fsopen), and this process is in the
 * sandbox's IPC namespace before it builds the view (launch.c unshares
 * one, or an OCI container's monitor made or joined it, a pod's), so
 * the queues listed here are the ones the agent's mq_open makes (the same
 * superblock as the namespace's internal mount), never the host's.
 * Writable: the queues are the agent's own to make and remove; nosuid,
 * nodev, noexec. A kernel without POSIX message queues gets an empty
 * directory, read-only with the rest of /dev. */
static int build_mqueue(int dev, usbox_err_t *err)
{
  cleanup_close int fs = fsopen("mqueue", FSOPEN_CLOEXEC);
  if (fs < 0 && errno == ENODEV)
    return mkdirat(dev, "mqueue", 0755) < 0 ? usbox_err_set(err, errno, "creating /dev/mqueue")
                                            : 0;
  if (fs < 0)
    return usbox_err_set(err, errno, "fsopen(mqueue)");
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return usbox_err_set(err, errno, "creating the sandbox's mqueue filesystem");
  cleanup_close int mnt =
      fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0)
    return usbox_err_set(err, errno, "fsmount(mqueue)");
  return attach(mnt, dev, "/mqueue", S_IFDIR, err);
}

/* /dev: a tmpfs with the host's harmless device nodes bound in, devpts,
 * a private /dev/shm, the sandbox's /dev/mqueue and the usual symlinks.
 * Read-only once built (the mounts on it keep their own flags). */
static int build_dev(int root, unsigned long long shm_size, bool shm_bound, usbox_err_t *err)
{
  cleanup_close int dev = new_tmpfs("0755", false, 1 << 20, err);
  if (dev < 0)
    return -1;
  for (size_t i = 0; mountns_dev_nodes[i] != NULL; i++) {
    char host[64];
    snprintf(host, sizeof host, "/dev/%s", mountns_dev_nodes[i]);
    if (access(host, F_OK) < 0)
      continue;
    if (bind_into(dev, host, host + 4, true, true, err) < 0)
      return -1;
  }
  /* ptys of the sandbox's own: a new devpts instance (the host's is not
   * reachable, and its ptmx is usually mode 0), /dev/ptmx its ptmx */
  cleanup_close int pts = new_devpts(err);
  if (pts < 0 || attach(pts, dev, "/pts", S_IFDIR, err) < 0)
    return -1;
  if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
    return usbox_err_set(err, errno, "creating /dev/ptmx");
  /* /dev/shm: a tmpfs of the sandbox's own, or (a bind given for it, as
   * an engine's pod-wide shm directory) only the mount point, which the
   * bind covers once /dev is in place */
  if (shm_bound) {
    if (mkdirat(dev, "shm", 01777) < 0)
      return usbox_err_set(err, errno, "creating /dev/shm");
  } else {
    cleanup_close int shm = new_tmpfs("1777", false, shm_size, err);
    if (shm < 0 || attach(shm, dev, "/shm", S_IFDIR, err) < 0)
      return -1;
  }
  if (build_mqueue(dev, err) < 0)
    return -1;
  static const char *const links[][2] = {{"fd", "/proc/self/fd"},
                                         {"stdin", "/proc/self/fd/0"},
                                         {"stdout", "/proc/self/fd/1"},
                                         {"stderr", "/proc/self/fd/2"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlinkat(links[i][1], dev, links[i][0]) < 0)
      return usbox_err_set(err, errno, "creating /dev/%s", links[i][0]);
  if (sys_mount_setattr(dev, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID) < 0)
    return usbox_err_set(err, errno, "making /dev read-only");
  return attach(dev, root, "/dev", S_IFDIR, err);
}

/* /proc: a procfs of the sandbox's own pid namespace (the caller is its
 * pid 1), so the kernel shows only the sandbox's processes. What can change
 * the host through /proc (sysctl, sysrq, irq affinity, bus) is read-only.
 * Mounted before the hidden paths are masked: in a user namespace the
 * kernel allows a new procfs only while an existing one is fully visible. */
static int build_proc(int root, usbox_err_t *err)
{
  cleanup_close int fs = fsopen("proc", FSOPEN_CLOEXEC);
  if (fs < 0)
    return usbox_err_set(err, errno, "fsopen(proc)");
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return usbox_err_set(err, errno, "creating the sandbox's procfs");
  cleanup_close int proc =
      fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (proc < 0)
    return usbox_err_set(err, errno, "fsmount(proc)");
  static const char *const readonly[] = {"sys", "sysrq-trigger", "irq", "bus"};
  for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
    cleanup_close int sub = open_tree(proc, readonly[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (sub < 0 && errno == ENOENT)
      continue;
    cleanup_close int target = openat(proc, readonly[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 || target < 0 || sys_mount_setattr(sub, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) < 0 ||
        move_mount(sub, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return usbox_err_set(err, errno, "making /proc/%s read-only", readonly[i]);
  }
  return attach(proc, root, "/proc", S_IFDIR, err);
}

/* Cover each hidden path that exists in the tree: an empty read-only
 * directory or file takes its place (the sentry answers ENOENT for it; this
 * is what the kernel sees if anything reaches it another way). */
static int mask_one(int root, struct dircache *listed, const char *path, int empty_dir,
                    int files, usbox_err_t *err);

/* A directory of the tree rooted at *ctx, opened for listing (dircache). */
static int open_tree_dir(const char *dir, void *ctx)
{
  cleanup_close int at = open_in_tree(*(int *)ctx, dir, false, 0);
  return at < 0 ? -1 : openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int mask_hidden(int root, const struct policy *p, usbox_err_t *err)
{
  cleanup_close int empty_dir = new_tmpfs("0555", true, 0, err);
  if (empty_dir < 0)
    return -1;
  cleanup_close int files = new_tmpfs("0755", false, 0, err);
  if (files < 0)
    return -1;
  cleanup_close int empty = openat(files, "empty", O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (empty < 0)
    return usbox_err_set(err, errno, "creating the mask file");
  /* most hidden paths do not exist: one listing of each parent says which
   * do, rather than an open each */
  struct dircache listed;
  dircache_init(&listed, open_tree_dir, &root);
  int rc = 0;
  for (size_t i = 0; i < p->nhidden && rc == 0; i++)
    rc = mask_one(root, &listed, p->hidden[i], empty_dir, files, err);
  dircache_free(&listed);
  return rc;
}

/* Cover one hidden path, if it is there: an empty read-only directory or
 * file takes its place. */
static int mask_one(int root, struct dircache *listed, const char *path, int empty_dir,
                    int files, usbox_err_t *err)
{
  const char *slash = strrchr(path, '/');
  if (slash != NULL && !dircache_may_exist(listed, slash == path ? "/" : path,
                                           slash == path ? 1 : (size_t)(slash - path), slash + 1))
    return 0;
  cleanup_close int target = open_in_tree(root, path, false, 0);
  if (target < 0)
    return 0; /* not there (or behind a symlink): nothing to cover */
  struct stat st;
  if (fstat(target, &st) < 0 || S_ISLNK(st.st_mode))
    return 0;
  cleanup_close int mask =
      S_ISDIR(st.st_mode) ? open_tree(empty_dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)
                          : open_tree(files, "empty", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (mask < 0)
    return usbox_err_set(err, errno, "preparing the mask of %s", path);
  if (sys_mount_setattr(mask, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) < 0 ||
      move_mount(mask, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return usbox_err_set(err, errno, "masking %s", path);
  return 0;
}

/* A file of the tree, bound over itself noexec (its other flags kept). */
static int bind_noexec(int file, const char *rule, usbox_err_t *err)
{
  cleanup_close int mnt = open_tree(file, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (mnt < 0 || sys_mount_setattr(mnt, "", AT_EMPTY_PATH, MOUNT_ATTR_NOEXEC) < 0 ||
      move_mount(mnt, "", file, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return usbox_err_set(err, errno, "making %s (--exec-deny) non-executable", rule);
  return 0;
}

/* A wildcard deny rule's files: below the directory its literal part
 * resolves to (as the sentry resolves it), each regular file whose path
 * from there matches the rest of the glob. Symlinks are not followed (a
 * file's canonical path passes none); bounded, as `**` could name a whole
 * tree: past the bounds the sentry's check is all there is. */
struct noexec_walk {
  const char *rule, *rest; /* the glob, and "/" + what follows its literal part */
  size_t depth_max, scanned, bound;
  usbox_err_t *err;
};

#define NOEXEC_SCAN_MAX 20000
#define NOEXEC_BIND_MAX 256

/* A place where the agent's own files are written through to the host or
 * a tmpfs (a --rw bind, /tmp): a wildcard rule's files there are left to
 * the sentry, as a file bound over itself cannot be removed or renamed
 * over (EBUSY) and a deny rule by name is no boundary for files the agent
 * can copy anyway. Read-only mounts and copy-on-write overlays are held. */
static bool agents_own_place(int dir)
{
  struct statfs sf;
  return fstatfs(dir, &sf) == 0 && !(sf.f_flags & ST_RDONLY) && sf.f_type != OVERLAYFS_SUPER_MAGIC;
}

static int noexec_below(struct noexec_walk *w, int dir, char *rel, size_t len, size_t depth)
{
  cleanup_close int scan = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_closedir DIR *d = scan < 0 ? NULL : fdopendir(scan);
  if (d != NULL)
    scan = -1; /* the DIR has it */
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (++w->scanned > NOEXEC_SCAN_MAX || w->bound >= NOEXEC_BIND_MAX)
      return 0;
    size_t n = strlen(de->d_name);
    if (len + 1 + n >= PATH_MAX)
      continue;
    rel[len] = '/';
    memcpy(rel + len + 1, de->d_name, n + 1);
    struct stat st = {.st_mode = de->d_type == DT_REG ? S_IFREG : de->d_type == DT_DIR ? S_IFDIR : 0};
    if (de->d_type == DT_UNKNOWN && fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (S_ISREG(st.st_mode) && exec_glob_match(w->rest, rel) && !agents_own_place(dir)) {
      cleanup_close int file = openat(dir, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (file >= 0 && bind_noexec(file, w->rule, w->err) < 0)
        return -1;
      w->bound++;
    } else if (S_ISDIR(st.st_mode) && depth + 1 < w->depth_max) {
      cleanup_close int sub = openat(dir, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0 && noexec_below(w, sub, rel, len + 1 + n, depth + 1) < 0)
        return -1;
    }
  }
  rel[len] = '\0';
  return 0;
}

/* The programs deny rules name, non-executable in the kernel's view as
 * well: a bind of each file over itself, noexec. The sentry refuses them on
 * the object its own walk resolved (sentry/sys_exec.c); this is what the
 * kernel finds if a racing thread swaps execve's path after that check,
 * rewrites a script's #! line, or asks ld.so to load one (execve and the
 * kernel's open of an interpreter give EACCES, a mapping for execution
 * EPERM), whatever name or symlink leads there. A rule's literal part is
 * resolved in the tree, symlinks followed, as the sentry resolves it; a
 * wildcard rule's files are those that match below it when the sandbox
 * starts, outside the agent's own writable places (one the agent makes
 * later under another name escapes a deny rule by name anyway). Allow lists are the sentry's alone
 * (docs/security.md, "Exec rules"). */
static int noexec_denied(int root, const struct policy *p, usbox_err_t *err)
{
  for (size_t i = 0; i < p->exec.ndeny; i++) {
    const char *glob = p->exec.deny[i].glob;
    size_t lit = exec_glob_literal_len(glob);
    char prefix[PATH_MAX];
    if (lit >= sizeof prefix || strcmp(glob, "/") == 0)
      continue;
    memcpy(prefix, glob, lit);
    prefix[lit] = '\0';
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    cleanup_close int target = (int)syscall(SYS_openat2, root, lit > 1 ? prefix + 1 : ".", &how,
                                            sizeof how);
    struct stat st;
    if (target < 0 || fstat(target, &st) < 0)
      continue; /* nothing there to run */
    if (glob[lit] == '\0') { /* literal */
      if (S_ISREG(st.st_mode) && bind_noexec(target, glob, err) < 0)
        return -1;
      continue;
    }
    if (!S_ISDIR(st.st_mode))
      continue;
    const char *rest = glob + lit; /* "/" + the wildcard components */
    size_t components = 0;
    for (const char *c = rest; *c != '\0'; c++)
      components += *c == '/';
    struct noexec_walk w = {.rule = glob, .rest = rest, .err = err,
                            .depth_max = strstr(rest, "/**") != NULL ? 16 : components};
    char rel[PATH_MAX] = "";
    if (noexec_below(&w, target, rel, 0, 0) < 0)
      return -1;
    if (w.scanned > NOEXEC_SCAN_MAX || w.bound >= NOEXEC_BIND_MAX)
      usbox_debug("--exec-deny %s: past %d entries or %d files, the rest is the sentry's check",
                  glob, NOEXEC_SCAN_MAX, NOEXEC_BIND_MAX);
  }
  return 0;
}

/* Attach the finished tree and make it the root; the old root goes away. */
static int pivot_into(int root, usbox_err_t *err)
{
  if (move_mount(root, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return usbox_err_set(err, errno, "attaching the view");
  if (chdir("/tmp") < 0)
    return usbox_err_set(err, errno, "entering the view");
  /* pivot_root(".", "."): the old root ends up under the new one, and is
   * detached right away */
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    return usbox_err_set(err, errno, "pivot_root into the view");
  if (umount2(".", MNT_DETACH) < 0)
    return usbox_err_set(err, errno, "detaching the host root");
  if (chdir("/") < 0)
    return usbox_err_set(err, errno, "chdir /");
  return 0;
}

/* ---- --overlay: the host mounts below an overlaid bind ---- */

/* mountinfo's escapes (\040 for a space) undone in place */
static void unescape(char *s)
{
  char *o = s;
  for (char *c = s; *c != '\0'; c++) {
    if (c[0] == '\\' && c[1] >= '0' && c[1] <= '7' && c[2] >= '0' && c[3] >= '0') {
      *o++ = (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0'));
      c += 3;
    } else {
      *o++ = *c;
    }
  }
  *o = '\0';
}

/* Whether the view puts a mount of its own at or above view (so the host's
 * mount there is not shown). */
static bool view_replaces(const struct policy *p, const char *owner_dest, const char *view)
{
  static const char *const fixed[] = {"/dev", "/proc"};
  for (size_t i = 0; i < 2; i++)
    if (path_at_or_below(view, fixed[i]))
      return true;
  for (size_t i = 0; i < p->nmounts; i++)
    if (strcmp(p->mounts[i].dest, owner_dest) != 0 && strcmp(p->mounts[i].dest, "/") != 0 &&
        path_at_or_below(view, p->mounts[i].dest))
      return true;
  return false;
}

struct submount_walk {
  const struct policy *p;
  struct overlay_state *ov;
  int root;
  const char *source, *dest;
  bool readonly; /* a points-only overlay: its submounts stay read-only binds */
  char covered[32][PATH_MAX]; /* host mounts bound whole (their children come along) */
  int ncovered;
};

static int add_submount(struct submount_walk *w, const char *host, const char *fstype,
                        usbox_err_t *err)
{
  for (int i = 0; i < w->ncovered; i++)
    if (path_at_or_below(host, w->covered[i]))
      return 0;
  char view[PATH_MAX];
  const char *rest = strcmp(w->source, "/") == 0 ? host : host + strlen(w->source);
  snprintf(view, sizeof view, "%s%s", strcmp(w->dest, "/") == 0 ? "" : w->dest, rest);
  if (view_replaces(w->p, w->dest, view))
    return 0;
  if (!w->readonly && overlay_fstype_ok(fstype)) {
    int mnt = overlay_make(w->p, w->ov, host, err);
    if (mnt < 0)
      return -1;
    int rc = attach(mnt, w->root, view, S_IFDIR, err);
    close(mnt);
    return rc;
  }
  /* proc, sysfs, cgroup, ...: read-only, as without --overlay */
  cleanup_close int mnt = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (mnt < 0)
    return 0; /* gone, or not ours to clone: the directory shows empty */
  if (sys_mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE,
                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
    return usbox_err_set(err, errno, "making %s read-only", host);
  if (w->ncovered < 32)
    snprintf(w->covered[w->ncovered++], PATH_MAX, "%s", host);
  return attach(mnt, w->root, view, S_IFDIR, err);
}

/* The host's mounts strictly below source (an overlay holds one mount
 * only), each under dest: overlaid too where its filesystem allows. */
static int overlay_submounts(int root, const struct policy *p, struct overlay_state *ov,
                             const struct policy_mount *m, usbox_err_t *err)
{
  const char *source = m->source, *dest = m->dest;
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return usbox_err_set(err, errno, "reading /proc/self/mountinfo");
  struct submount_walk *w = calloc(1, sizeof *w);
  if (w == NULL)
    return usbox_err_set(err, ENOMEM, "overlay");
  *w = (struct submount_walk){.p = p, .ov = ov, .root = root, .source = source, .dest = dest,
                              .readonly = m->points_only};
  char line[8192];
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
    char mountpoint[PATH_MAX], fstype[64];
    const char *sep = strstr(line, " - ");
    if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", mountpoint) != 1 ||
        sscanf(sep + 3, "%63s", fstype) != 1)
      continue;
    unescape(mountpoint);
    if (strcmp(mountpoint, source) != 0 && path_at_or_below(mountpoint, source))
      rc = add_submount(w, mountpoint, fstype, err);
  }
  free(w);
  return rc;
}

/* The view's root: the host's (or the policy's) tree, read-only or
 * overlaid. */
static int make_root(const struct policy *p, struct overlay_state *ov, usbox_err_t *err)
{
  for (size_t i = 0; i < p->nmounts; i++) {
    const struct policy_mount *m = &p->mounts[i];
    if (strcmp(m->dest, "/") != 0)
      continue;
    if (m->overlay) {
      int root = overlay_make(p, ov, m->source, err);
      if (root >= 0 && overlay_submounts(root, p, ov, m, err) < 0) {
        close(root);
        return -1;
      }
      return root;
    }
    int root = open_tree(AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (root < 0)
      return usbox_err_set(err, errno, "cloning the root %s", m->source);
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (m->writable ? 0 : MOUNT_ATTR_RDONLY);
    if (sys_mount_setattr(root, "", AT_EMPTY_PATH | AT_RECURSIVE, attrs) < 0) {
      close(root);
      return usbox_err_set(err, errno, "making the root read-only");
    }
    return root;
  }
  return usbox_err_set(err, EINVAL, "the policy has no root mount");
}

static int overlay_into(int root, const struct policy *p, struct overlay_state *ov,
                        const struct policy_mount *m, usbox_err_t *err)
{
  cleanup_close int mnt = overlay_make(p, ov, m->source, err);
  if (mnt < 0 || attach(mnt, root, m->dest, S_IFDIR, err) < 0)
    return -1;
  return overlay_submounts(root, p, ov, m, err);
}

/* The overlays made only to hold mount points are read-only from here on,
 * as the binds they stand for (their mounts on top keep their own flags). */
static int seal_points_only(int root, const struct policy *p, usbox_err_t *err)
{
  for (size_t i = 0; i < p->nmounts; i++) {
    if (!p->mounts[i].points_only)
      continue;
    cleanup_close int at = strcmp(p->mounts[i].dest, "/") == 0 ? dup(root)
                                                               : open_in_tree(root, p->mounts[i].dest, false, 0);
    if (at < 0 || sys_mount_setattr(at, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) < 0)
      return usbox_err_set(err, errno, "making %s read-only again", p->mounts[i].dest);
  }
  return 0;
}

int mountns_build_view(const struct policy *p, struct mountns_build *b,
                       struct mountns_result *out, usbox_err_t *err)
{
  b->root = -1;
  out->ntmpfs = 0;
  if (unshare(CLONE_NEWNS) < 0)
    return usbox_err_set(err, errno, "unshare(CLONE_NEWNS)");
  /* nothing done from here on propagates back to the host */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return usbox_err_set(err, errno, "making mounts private");
  overlay_state_init(&out->overlay);
  cleanup_close int root = make_root(p, &out->overlay, err);
  if (root < 0)
    return -1;
  if (build_dev(root, writable_tmpfs_size(p), policy_has_mount_at(p, "/dev/shm"), err) < 0)
    return usbox_err_wrap(err, "building /dev");
  /* policy order is parents first (policy_finish sorts by depth) */
  for (size_t i = 0; i < p->nmounts; i++) {
    const struct policy_mount *m = &p->mounts[i];
    if (strcmp(m->dest, "/") == 0)
      continue;
    if (m->kind == MOUNT_BIND && m->overlay) {
      if (overlay_into(root, p, &out->overlay, m, err) < 0)
        return -1;
    } else if (m->kind == MOUNT_BIND) {
      if (bind_into(root, m->source, m->dest, m->writable, false, err) < 0)
        return -1;
    } else {
      int t = new_tmpfs("1777", false, writable_tmpfs_size(p), err);
      if (t < 0)
        return -1;
      if (attach(t, root, m->dest, S_IFDIR, err) < 0) {
        close(t);
        return -1;
      }
      if (out->ntmpfs < MOUNTNS_MAX_TMPFS)
        out->tmpfs_fd[out->ntmpfs++] = t; /* stays open: the sentry's side */
      else
        close(t);
    }
  }
  if (build_proc(root, err) < 0 || noexec_denied(root, p, err) < 0)
    return -1;
  b->root = root;
  root = -1;
  return 0;
}

int mountns_enter_built(const struct policy *p, struct mountns_build *b,
                        struct mountns_result *out, usbox_err_t *err)
{
  cleanup_close int root = b->root;
  b->root = -1;
  if (mask_hidden(root, p, err) < 0)
    return -1;
  if (seal_points_only(root, p, err) < 0 || pivot_into(root, err) < 0)
    return -1;
  overlay_state_free(&out->overlay); /* the overlays hold their upper layers */
  return 0;
}

int mountns_chdir(const char *cwd, const char *fallback, usbox_err_t *err)
{
  if (chdir(cwd) == 0)
    return 0;
  if (fallback == NULL)
    return usbox_err_set(err, errno,
                         "the directory %s is not visible in the sandbox (bind it: --ro DIR, "
                         "--rw DIR)",
                         cwd);
  const char *to = chdir(fallback) == 0 ? fallback : chdir("/") == 0 ? "/" : NULL;
  if (to == NULL)
    return usbox_err_set(err, errno, "no directory to start the program in");
  usbox_warn("the current directory %s is not in the sandbox's view: the program starts in %s "
             "(--chdir DIR, or bind it: --ro . or --rw .)",
             cwd, to);
  return 0;
}
