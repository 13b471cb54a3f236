#include "vfs/overlay_mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "overlay/session.h"
#include "vfs/dcache.h"

void overlay_state_init(struct overlay_state *o)
{
  memset(o, 0, sizeof *o);
  o->memory_fd = -1;
}

void overlay_state_free(struct overlay_state *o)
{
  if (o->memory_fd >= 0)
    close(o->memory_fd);
  o->memory_fd = -1;
}

bool overlay_fstype_ok(const char *fstype)
{
  static const char *const ok[] = {"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "tmpfs",
                                   "zfs", "vfat", "exfat", "ntfs3", "nfs", "nfs4", "overlay",
                                   "jfs", "reiserfs", "bcachefs", NULL};
  for (size_t i = 0; ok[i] != NULL; i++)
    if (strcmp(fstype, ok[i]) == 0)
      return true;
  return false;
}

/* The tmpfs every upper of --overlay=memory lives in: the agent's writes
 * there count against its cap (or /tmp's default). */
static int memory_fs(const struct policy *p, struct overlay_state *o, usbox_err_t *err)
{
  if (o->memory_fd >= 0)
    return 0;
  uint64_t size = p->overlay.size;
  struct sysinfo si;
  if (size == 0)
    size = p->limits.memory != 0 ? p->limits.memory
           : sysinfo(&si) == 0   ? (uint64_t)si.totalram * si.mem_unit / 4
                                 : 1ull << 30;
  cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  char text[32];
  snprintf(text, sizeof text, "%llu", (unsigned long long)size);
  if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", text, 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return usbox_err_set(err, errno, "making the overlay's memory");
  o->memory_fd = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (o->memory_fd < 0)
    return usbox_err_set(err, errno, "making the overlay's memory");
  return 0;
}

/* The owner of st on name, where it can be given: in a user namespace
 * (usbox without root) an owner that is not mapped there stays usbox's. */
static int chown_like(int dir, const char *name, const struct stat *st)
{
  if (fchownat(dir, name, st->st_uid, st->st_gid, 0) == 0)
    return 0;
  return errno == EINVAL || errno == EPERM ? 0 : -1;
}

/* upper and work directories for the layer of source */
static int layer_dirs(const struct policy *p, struct overlay_state *o, const char *source,
                      char upper[PATH_MAX], char work[PATH_MAX], usbox_err_t *err)
{
  if (p->overlay.mode == OVERLAY_DISK) {
    char dir[PATH_MAX];
    if (session_layer_prepare(p->overlay.dir, source, dir, err) < 0)
      return -1;
    snprintf(upper, PATH_MAX, "%.*s/upper", PATH_MAX - 8, dir);
    snprintf(work, PATH_MAX, "%.*s/work", PATH_MAX - 8, dir);
    return 0;
  }
  if (memory_fs(p, o, err) < 0)
    return -1;
  char name[16];
  snprintf(name, sizeof name, "%d", o->nlayers++);
  cleanup_close int layer = -1;
  if (mkdirat(o->memory_fd, name, 0700) < 0 ||
      (layer = openat(o->memory_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
      mkdirat(layer, "upper", 0700) < 0 || mkdirat(layer, "work", 0700) < 0)
    return usbox_err_set(err, errno, "making the overlay's layer for %s", source);
  /* the upper's root shows as the overlay's: the host's owner and mode */
  struct stat st;
  if (stat(source, &st) < 0 || chown_like(layer, "upper", &st) < 0 ||
      fchmodat(layer, "upper", st.st_mode & 07777, 0) < 0)
    return usbox_err_set(err, errno, "making the overlay's layer for %s", source);
  snprintf(upper, PATH_MAX, "/proc/self/fd/%d/%s/upper", o->memory_fd, name);
  snprintf(work, PATH_MAX, "/proc/self/fd/%d/%s/work", o->memory_fd, name);
  return 0;
}

/* A non-directory of the lower near its top, seen both ways: the alias
 * of its device and inode numbers. No such object: nothing to map. */
static bool probe_at(int lower, int ovl, const char *rel, int depth, struct vfs_dev_alias *a)
{
  cleanup_close int ldir = openat(lower, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int odir = openat(ovl, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_closedir DIR *d = ldir < 0 || odir < 0 ? NULL : fdopendir(dup(ldir));
  if (d == NULL)
    return false;
  char subdirs[4][NAME_MAX + 1];
  int nsub = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat ls, os;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        fstatat(ldir, e->d_name, &ls, AT_SYMLINK_NOFOLLOW) < 0 ||
        fstatat(odir, e->d_name, &os, AT_SYMLINK_NOFOLLOW) < 0 ||
        (ls.st_mode & S_IFMT) != (os.st_mode & S_IFMT))
      continue;
    if (S_ISDIR(ls.st_mode)) {
      if (nsub < 4)
        snprintf(subdirs[nsub++], sizeof subdirs[0], "%s", e->d_name);
      continue;
    }
    /* (a->mgtime, the layers', stays as the caller found it) */
    a->dev = os.st_dev, a->host_dev = ls.st_dev;
    a->ino_xor = (uint64_t)os.st_ino ^ (uint64_t)ls.st_ino;
    return true;
  }
  for (int i = 0; i < nsub && depth > 0; i++) {
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%s", rel, subdirs[i]);
    if (probe_at(lower, ovl, sub, depth - 1, a))
      return true;
  }
  return false;
}

/* Record how the overlay shows the host's objects. With the upper on the
 * lower's filesystem, overlayfs shows every object under its own device
 * with its real inode number; otherwise (xino) with the lower layer's fsid
 * in the top bit, which one object seen both ways confirms, or, in a tree
 * with no file to look at, is taken as overlayfs defines it. */
static int learn_alias(struct overlay_state *o, int lower, int ovl, const char *upper,
                       const char *source, usbox_err_t *err)
{
  struct stat lst, ost, ust;
  if (fstat(lower, &lst) < 0 || fstat(ovl, &ost) < 0 || stat(upper, &ust) < 0)
    return usbox_err_set(err, errno, "overlay of %s", source);
  struct statfs lfs, ufs;
  bool mgtime = fstatfs(lower, &lfs) == 0 && statfs(upper, &ufs) == 0 &&
                dcache_fs_type_has_mgtime((unsigned long)lfs.f_type) &&
                dcache_fs_type_has_mgtime((unsigned long)ufs.f_type);
  struct vfs_dev_alias a = {.dev = ost.st_dev, .host_dev = lst.st_dev, .ino_xor = 0,
                            .mgtime = mgtime};
  if (ust.st_dev != lst.st_dev && !probe_at(lower, ovl, ".", 3, &a))
    a.ino_xor = 1ull << 63;
  if ((a.ino_xor & 0xffffffffull) != 0)
    return usbox_err_set(err, EOPNOTSUPP, "overlay of %s: cannot tell the host's files apart "
                                          "by inode number", source);
  for (int i = 0; i < o->naliases; i++)
    if (o->aliases[i].dev == a.dev && o->aliases[i].ino_xor == a.ino_xor)
      return 0;
  if (o->naliases == VFS_MAX_DEV_ALIASES)
    return usbox_err_set(err, E2BIG, "more than %d overlays", VFS_MAX_DEV_ALIASES);
  o->aliases[o->naliases++] = a;
  return 0;
}

static int configure(int fs, const struct policy *p, const char *lower, const char *upper,
                     const char *work)
{
  if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lower, 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "redirect_dir", "nofollow", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "index", "off", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "metacopy", "off", 0) < 0 ||
      fsconfig(fs, FSCONFIG_SET_STRING, "xino", "on", 0) < 0)
    return -1;
  if (p->overlay.userxattr && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
    return -1;
  return fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
}

int overlay_make(const struct policy *p, struct overlay_state *o, const char *source,
                 usbox_err_t *err)
{
  /* The lower layer: a read-only clone of the host's mount. In a user
   * namespace (usbox without root) the kernel clones no mount inherited
   * from the host (they are locked): the path itself is the lower layer
   * there (overlayfs never writes to it), and a tree with mounts below it
   * cannot be one. */
  bool in_userns = p->overlay.userxattr;
  cleanup_close int lower = in_userns ? open(source, O_PATH | O_DIRECTORY | O_CLOEXEC)
                                      : open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (lower < 0)
    return usbox_err_set(err, errno, "cloning %s for its overlay", source);
  struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
  if (!in_userns && syscall(SYS_mount_setattr, lower, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
    return usbox_err_set(err, errno, "making %s read-only under its overlay", source);
  char upper[PATH_MAX], work[PATH_MAX], lower_path[64];
  if (layer_dirs(p, o, source, upper, work, err) < 0)
    return -1;
  snprintf(lower_path, sizeof lower_path, "/proc/self/fd/%d", lower);
  cleanup_close int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0 || configure(fs, p, in_userns ? source : lower_path, upper, work) < 0) {
    if (in_userns && errno == EINVAL)
      return usbox_err_set(err, errno, "%s cannot be copy-on-write without root (mounts lie "
                                       "below it); run usbox as root, or bind it --ro/--rw",
                           source);
    return usbox_err_set(err, errno, "overlay of %s (upper %s)", source, upper);
  }
  int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (mnt < 0)
    return usbox_err_set(err, errno, "mounting the overlay of %s", source);
  if (learn_alias(o, lower, mnt, upper, source, err) < 0) {
    close(mnt);
    return -1;
  }
  return mnt;
}
