/* The sandbox's filesystem view and path resolution (docs/vfs.md).
 *
 * The view is a mount table built from the policy: each entry is a
 * destination in the view and an O_PATH fd of that mount's root *in the
 * agent's own mount namespace* (vfs/mountns.c builds it to mirror the table,
 * and hands the fds over at start). Every path the agent passes is walked
 * here, on the sentry's copy of the string:
 *
 *  - the walk keeps a canonical view directory (no symlink, no "." or "..")
 *    and applies ".." to it as text, so ".." never leaves the view's root and
 *    ".." at a bind's root goes to the view parent;
 *  - runs of components inside one mount are resolved by the kernel with
 *    openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
 *    from that mount's fd: the kernel follows nothing; a symlink stops the
 *    run and is read and spliced in the view (40 at most, absolute targets
 *    restart at the view root);
 *  - hidden paths answer ENOENT; mount destinations switch mounts;
 *  - /proc is walked by vfs/proc.c: self and thread-self mean the agent
 *    thread, magic links are turned into view paths or into the object the
 *    agent itself holds, and only for the sandbox's own processes.
 * Handlers act on the resolved fds (fstat, mkdirat(parent, name), ...) after
 * the checks here (vfs_check_*) say the view allows it. */
#ifndef USBOX_VFS_VFS_H
#define USBOX_VFS_VFS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/error.h"
#include "policy/policy.h"

struct sentry_call;
struct open_how;

enum vfs_mount_kind {
  VFS_MOUNT_FS,   /* a directory tree (bind, tmpfs, /dev) */
  VFS_MOUNT_FILE, /* a single bound file */
  VFS_MOUNT_PROC, /* procfs: walked by vfs/proc.c */
};

struct vfs_mount {
  char *dest; /* canonical view path */
  size_t dest_len;
  enum vfs_mount_kind kind;
  bool writable;
  int fd; /* O_PATH root of the mount in the agent's mount namespace */
};

#define VFS_MAX_MOUNTS 64

/* A directory whose listing the view changes: the names it must not show
 * (hidden entries), by the directory's identity in the agent's namespace. */
struct vfs_listing_filter {
  dev_t dev;
  ino_t ino;
  char **names;
  size_t nnames;
};

struct vfs {
  struct vfs_mount mounts[VFS_MAX_MOUNTS]; /* longest destination first */
  size_t nmounts;
  char **hidden; /* canonical view paths, owned */
  size_t nhidden;
  ino_t agent_mntns; /* inode of the agent's mount namespace (nsfs) */
  dev_t agent_mntns_dev;
  struct vfs_listing_filter *filters;
  size_t nfilters;
};

/* The mount destinations the agent process opens and hands over, in order:
 * the policy's mounts, then /dev, /dev/shm and /proc. Both sides compute the
 * list with this function. Returns the count (<= VFS_MAX_MOUNTS). */
size_t vfs_mount_dests(const struct policy *p, const char *dests[VFS_MAX_MOUNTS],
                       bool writable[VFS_MAX_MOUNTS]);

/* Take ownership of fds[] (one per vfs_mount_dests entry) and of nothing
 * else; the hidden list is copied from the policy. */
int vfs_init(struct vfs *v, const struct policy *p, const int *fds, size_t nfds,
             usbox_err_t *err);
/* Record the agent's mount namespace (magic links of /proc are followed
 * only for processes in it). */
int vfs_set_agent(struct vfs *v, pid_t agent, usbox_err_t *err);
void vfs_destroy(struct vfs *v);

/* lookup flags */
#define VFS_NOFOLLOW 0x1   /* do not follow a trailing symlink */
#define VFS_EMPTY_PATH 0x2 /* "" names dirfd itself (AT_EMPTY_PATH) */
#define VFS_DIRECTORY 0x4  /* must be a directory */

/* A resolved object: which mount holds it, its canonical view path, an O_PATH
 * fd of it (sentry-owned) and its stat. */
struct vfs_node {
  const struct vfs_mount *mount; /* NULL for an object with no path (a pipe) */
  char view[PATH_MAX];
  int fd;
  struct stat st;
  char link[40]; /* a symlink the sentry answers itself (/proc/self): its text */
};

void vfs_node_release(struct vfs_node *n);
#define cleanup_node __attribute__((cleanup(vfs_node_release)))
#define VFS_NODE_INIT {.mount = NULL, .fd = -1, .link = ""}

/* Resolve path (relative to the agent's dirfd, or its cwd for AT_FDCWD).
 * Checks the call is still valid first (invariant 2) and takes on the
 * agent's identity. 0 or -errno. */
int vfs_lookup(struct sentry_call *call, int dirfd, const char *path, int vflags,
               struct vfs_node *out);

/* Resolve all but the last component: *parent is the directory (resolved,
 * canonical) and name its last component (with a trailing "/" when the path
 * ended in slashes, so the kernel applies its meaning). */
int vfs_lookup_parent(struct sentry_call *call, int dirfd, const char *path,
                      struct vfs_node *parent, char name[NAME_MAX + 2]);

/* What vfs_open made: the fd to inject and, when the call created the file,
 * where, so that a failed injection can take it back (vfs_opened_undo). */
struct vfs_opened {
  int fd;
  int parent_fd; /* -1 unless created */
  char name[NAME_MAX + 2];
  struct stat st;
};
void vfs_opened_release(struct vfs_opened *o);
void vfs_opened_undo(struct vfs_opened *o);
#define cleanup_opened __attribute__((cleanup(vfs_opened_release)))
#define VFS_OPENED_INIT {.fd = -1, .parent_fd = -1}

/* Open as the agent asked, with openat2(2) semantics, including its own
 * RESOLVE_* flags (the open and openat handlers normalise their flags
 * first). */
int vfs_open(struct sentry_call *call, int dirfd, const char *path, const struct open_how *how,
             struct vfs_opened *out);

/* Policy checks, -errno or 0:
 * create (VFS_CREATE) or remove/rename (VFS_REMOVE) an entry name in parent:
 * ENOENT for hidden paths, EEXIST/EBUSY for mount points of the view, EROFS
 * outside writable mounts; "." and ".." are left to the kernel (which
 * refuses them by itself, with the errno the agent expects). */
enum vfs_entry_op { VFS_CREATE, VFS_REMOVE };
int vfs_check_entry(const struct vfs *v, const struct vfs_node *parent, const char *name,
                    enum vfs_entry_op op);
/* change an object's data or metadata (chmod, truncate, utimes, ...) */
int vfs_check_modify(const struct vfs_node *obj);

bool vfs_is_hidden(const struct vfs *v, const char *view);
/* The filter for a directory, or NULL when its listing is the kernel's. */
const struct vfs_listing_filter *vfs_listing_filter(const struct vfs *v, dev_t dev, ino_t ino);
/* Drop the entries a filter names from a getdents buffer; returns the new
 * length. name_off is where d_name starts in a record: 19 for getdents64's
 * struct linux_dirent64, 18 for the old getdents. (Unit-tested.) */
#define VFS_DIRENT64_NAME 19
#define VFS_DIRENT_NAME 18
size_t vfs_filter_dirents(const struct vfs_listing_filter *f, void *buf, size_t len,
                          size_t name_off);
/* The mount holding a canonical view path. */
const struct vfs_mount *vfs_mount_of(const struct vfs *v, const char *view);

/* The agent's dirfd argument as the kernel reads it (an int). */
static inline int vfs_dirfd_arg(unsigned long long arg)
{
  return (int)(unsigned int)arg;
}

/* Split helper (unit-tested): dir receives the directory part ("." or "/"
 * when there is none); returns a pointer to the last component in path. */
const char *vfs_split_last(const char *path, char *dir, size_t dirsize);

#endif
