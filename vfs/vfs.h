/* The sandbox's filesystem view and path resolution (docs/vfs.md).
 *
 * The view is a mount table built from the policy; the mounts themselves
 * (their roots in the agent's own mount namespace, which vfs/mountns.c builds
 * to mirror the table) are held by the gofer, not by the sentry. Every path
 * the agent passes is walked here, on the sentry's copy of the string:
 *
 *  - the walk keeps a canonical view directory (no symlink, no "." or "..")
 *    and applies ".." to it as text, so ".." never leaves the view's root and
 *    ".." at a bind's root goes to the view parent;
 *  - runs of components inside one mount go to the gofer, which walks them
 *    following nothing (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 *    RESOLVE_NO_MAGICLINKS) and says where a symlink stopped it; the sentry
 *    splices the link's text in the view (40 at most, absolute targets
 *    restart at the view root);
 *  - hidden paths answer ENOENT; mount destinations switch mounts;
 *  - /proc is walked one component at a time (vfs/proc.c): self and
 *    thread-self mean the agent thread, magic links are turned into view
 *    paths or into the object the agent itself holds, and only for the
 *    sandbox's own processes.
 * The operations (vfs_op_*) check what the view allows (vfs_check_*) and ask
 * the gofer to act; objects the agent itself holds (an fd given with
 * AT_EMPTY_PATH, a pipe behind /proc/self/fd/N) are acted on directly. */
#ifndef USBOX_VFS_VFS_H
#define USBOX_VFS_VFS_H

#include <limits.h>
#include <linux/stat.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/strset.h"
#include "policy/policy.h"
#include "vfs/ctx.h"
#include "vfs/dcache.h"
#include "vfs/dev_alias.h"

struct vfs_ctx;
struct open_how;
struct overlay_track;
struct gofer_client;
struct gofer_rep;

enum vfs_mount_kind {
  VFS_MOUNT_FS,   /* a directory tree (bind, tmpfs, /dev) */
  VFS_MOUNT_FILE, /* a single bound file */
  VFS_MOUNT_PROC, /* procfs: walked by vfs/proc.c */
};

struct vfs_mount {
  char *dest; /* canonical view path */
  char *source; /* a bind's host path (canonical), else NULL */
  size_t dest_len;
  enum vfs_mount_kind kind;
  bool writable;
  /* the host's files (a bind), as opposed to the sandbox's own tmpfs: what
   * the agent writes there must never become setuid, setgid or carry file
   * capabilities (vfs_safe_mode) */
  bool host_backed;
  /* copy-on-write (--overlay): a change copies the host's file up first */
  bool overlay;
  struct overlay_track *track; /* a kept session's records (vfs/overlay_track.h), or NULL */
  uint64_t mnt_id; /* its root's mount in the agent's namespace (statx STATX_MNT_ID) */
  uint64_t mnt_id_unique; /* the same mount's unique id (never reused), or 0 */
  int index; /* the gofer's number for it (vfs_mount_dests order) */
};

#define VFS_MAX_MOUNTS 64

/* The directory a hidden path is in, identified where the agent sees it
 * (the sandbox's first process, inside the view, reports it at start-up:
 * vfs_identify_hidden_parents). listed: a directory reached following no
 * symlink, whose listing must leave the hidden name out. */
struct vfs_hidden_parent {
  bool listed;
  uint64_t dev, ino;
};
#define VFS_MAX_REPORTED_HIDDEN 96

/* A directory whose listing the view changes: the names it must not show
 * (hidden entries), by the directory's identity in the agent's namespace. */
struct vfs_listing_filter {
  dev_t dev;
  ino_t ino;
  char **names;
  size_t nnames;
};

/* The hidden paths, indexed: by path (is this view path, or one of its
 * ancestors, hidden) and by parent directory (which names a listing of it
 * leaves out), so that a few hundred hidden paths cost a hash lookup per
 * component, not a scan. Groups are the distinct parents, numbered in the
 * order of the hidden list (both sides of the start-up report agree). */
struct vfs_hidden_index {
  struct strset paths;   /* hidden view path -> its index */
  struct strset parents; /* parent directory -> its group */
  size_t *next_in_group; /* per hidden path: the next of its group, or SIZE_MAX */
  size_t *group_first;   /* per group: its first hidden path */
  size_t *parent_len;    /* per hidden path: the length of its parent's path */
  size_t ngroups;
};
int vfs_hidden_index_build(struct vfs_hidden_index *x, char *const *hidden, size_t n);
void vfs_hidden_index_free(struct vfs_hidden_index *x);

struct vfs {
  struct vfs_mount mounts[VFS_MAX_MOUNTS]; /* longest destination first */
  size_t nmounts;
  char **hidden; /* canonical view paths, owned: each hides itself and all below it */
  size_t nhidden;
  size_t *hidden_rule; /* per hidden path: its rule, an index into hide_rules */
  char **hide_rules;   /* the policy's rules as named (policy.hide_rules), owned */
  size_t nhide_rules;
  struct vfs_hidden_index hidden_index;
  struct policy_hidden_id *hidden_ids; /* hidden objects by identity (policy/hidden.c) */
  size_t nhidden_ids;
  /* Devices with a hidden non-directory that may have a name the hidden
   * list does not know (more than one link at start, or not watched for a
   * new one: vfs_hidden_alias_possible); all of them past the array. */
  dev_t hidden_alias_devs[8];
  size_t nhidden_alias_devs;
  bool hidden_alias_anywhere;
  size_t nhidden_watched; /* hidden non-directories watched for a second name */
  struct vfs_dev_alias aliases[VFS_MAX_DEV_ALIASES]; /* --overlay's (vfs/dev_alias.h) */
  size_t naliases;
  struct overlay_track *track;
  ino_t agent_mntns; /* inode of the agent's mount namespace (nsfs) */
  uint64_t agent_mntns_id; /* its id (NS_GET_MNTNS_ID), for statmount; 0: unknown */
  dev_t agent_mntns_dev;
  struct vfs_listing_filter *filters;
  size_t nfilters;
  struct gofer_client *gofer;
  /* /proc is not host storage: the sentry serves it itself, with the same
   * operations the gofer runs (gofer/ops.c), on the procfs of the agent's
   * namespace. The gofer, confined by Landlock, could not read the
   * agent's magic links anyway. */
  struct gofer_state *proc_state;
  dev_t proc_dev;
  struct dcache dcache; /* recent walks, answered without the gofer (vfs/dcache.h) */
  /* Working directories' names the callers keep (vfs/walk.c): valid for
   * one epoch; none kept or used while a change is unsettled. */
  uint64_t cwd_epoch;
  unsigned cwd_unsettled;
};

/* An agent thread's working directory may be moving: the sentry let the
 * kernel perform a chdir or fchdir, which it does after the sentry's
 * answer. Every name kept so far is stale, and none is kept or used until
 * the matching vfs_cwd_settled (that thread's next call, or its end). */
void vfs_cwd_changing(struct vfs *v);
void vfs_cwd_settled(struct vfs *v);

/* The mount destinations the agent process opens and hands over, in order:
 * the policy's mounts, then /dev, /dev/shm, /dev/mqueue and /proc. Both
 * sides compute the list with this function. Returns the count (<= VFS_MAX_MOUNTS). */
size_t vfs_mount_dests(const struct policy *p, const char *dests[VFS_MAX_MOUNTS],
                       bool writable[VFS_MAX_MOUNTS], bool host_backed[VFS_MAX_MOUNTS]);

/* What the policy alone decides (the hidden list, its index, the walk
 * cache): made while the sandbox's first process builds the view. */
int vfs_prepare(struct vfs *v, const struct policy *p, struct gofer_client *gofer,
                usbox_err_t *err);
/* The mount table, once the view exists: fds[] (one per vfs_mount_dests
 * entry) are looked at for their kind; only the procfs one is kept (dup'ed):
 * the gofer holds the rest. */
int vfs_set_mounts(struct vfs *v, const struct policy *p, const int *fds, size_t nfds,
                   usbox_err_t *err);
/* Both (tests). */
int vfs_init(struct vfs *v, const struct policy *p, const int *fds, size_t nfds,
             struct gofer_client *gofer, usbox_err_t *err);
/* Record the agent's mount namespace (magic links of /proc are followed
 * only for processes in it) and build the listing filters: from parents[]
 * (one per distinct parent of the hidden paths, in the index's group order)
 * when nparents says they were all reported, else by asking the gofer. */
/* How the view's overlays show the host's objects (from the start-up
 * report): hidden identities are compared through them. */
void vfs_set_dev_aliases(struct vfs *v, const struct vfs_dev_alias *a, size_t n);
/* A kept session's tracker for the copy-on-write mounts; the VFS owns it. */
void vfs_set_overlay_track(struct vfs *v, struct overlay_track *t);
int vfs_set_agent(struct vfs *v, pid_t agent, const struct vfs_hidden_parent *parents,
                  int nparents, usbox_err_t *err);

/* In the sandbox's first process, inside the view: each distinct parent of
 * the policy's hidden paths. Returns how many were filled, or -1 when there
 * are more than max (then the sentry asks the gofer). */
int vfs_identify_hidden_parents(const struct policy *p, struct vfs_hidden_parent *out, int max);
void vfs_destroy(struct vfs *v);
/* The walk cache's watch fd, for the caller to close off the exit path
 * (dcache_take_watch_fd); -1: none. */
int vfs_take_watch_fd(struct vfs *v);

/* lookup flags */
#define VFS_NOFOLLOW 0x1   /* do not follow a trailing symlink */
#define VFS_EMPTY_PATH 0x2 /* "" names dirfd itself (AT_EMPTY_PATH) */
#define VFS_DIRECTORY 0x4  /* must be a directory */
/* The caller reads the object's attributes only (stat, statx): with
 * VFS_EMPTY_PATH and "", the agent's fd is that object and its name in the
 * view is not asked of the kernel (node.mount NULL, as for a pipe) */
#define VFS_ATTRS_ONLY 0x8

/* A resolved object: which mount holds it and its canonical view path (or,
 * for an object the agent holds that has no path, mount NULL and obj_fd),
 * its stat, and for /proc/self and thread-self the link text the sentry
 * answers itself. */
struct vfs_node {
  const struct vfs_mount *mount;
  char view[PATH_MAX];
  struct stat st;
  struct statx stx;
  int obj_fd; /* the agent's own object (AT_EMPTY_PATH, a pipe in /proc): acted on directly */
  /* obj_fd came from /proc/PID/fd/N: the access mode (O_RDONLY, O_WRONLY,
   * O_RDWR) of the agent's open file when known (its own process: obj_fd
   * is then that very open file), else -1. A re-open gets no more. */
  int held_mode;
  bool from_fd_link;
  char link[40];
  /* vfs_lookup_access: the gofer checked access while walking to it */
  bool access_done;
  int access_err; /* then: 0 or -errno */
};

void vfs_node_release(struct vfs_node *n);
#define cleanup_node __attribute__((cleanup(vfs_node_release)))
#define VFS_NODE_INIT {.mount = NULL, .obj_fd = -1, .held_mode = -1, .link = ""}

/* Resolve path (relative to the agent's dirfd, or its cwd for AT_FDCWD).
 * Checks the call is still valid first (invariant 2). 0 or -errno. */
int vfs_lookup(struct vfs_ctx *ctx, int dirfd, const char *path, int vflags,
               struct vfs_node *out);

/* vfs_lookup, and the access check vfs_op_access(mode, real_ids) would make,
 * in the same gofer request when it can (out->access_done says whether it
 * did; if not, call vfs_op_access). mode -1: no check (vfs_lookup). */
int vfs_lookup_access(struct vfs_ctx *ctx, int dirfd, const char *path, int vflags,
                      int mode, bool real_ids, struct vfs_node *out);

/* The same for a path the sentry made itself (absolute, never agent memory). */
int vfs_lookup_quiet(struct vfs_ctx *ctx, const char *path, struct vfs_node *out);

/* Resolve all but the last component: *parent is the directory (resolved,
 * canonical) and name its last component (with a trailing "/" when the path
 * ended in slashes, so the kernel applies its meaning). */
int vfs_lookup_parent(struct vfs_ctx *ctx, int dirfd, const char *path,
                      struct vfs_node *parent, char name[NAME_MAX + 2]);

/* What vfs_open made: the fd to inject and, when the call created the file,
 * where, so that a failed injection can take it back (vfs_opened_undo). */
struct vfs_opened {
  int fd;
  bool created;
  const struct vfs_mount *mount;
  char entry[PATH_MAX]; /* mount-relative path of the created file */
  /* the object's identity and type (nothing reads the rest: a walk the
   * cache answers leaves them as the cache found them, and of a file this
   * open created (created) they may be zero) */
  struct stat st;
};
void vfs_opened_release(struct vfs_opened *o);
void vfs_opened_undo(struct vfs_ctx *ctx, struct vfs_opened *o);
#define cleanup_opened __attribute__((cleanup(vfs_opened_release)))
#define VFS_OPENED_INIT {.fd = -1, .created = false}

/* Open as the agent asked, with openat2(2) semantics, including its own
 * RESOLVE_* flags (the open and openat handlers normalise their flags
 * first). */
int vfs_open(struct vfs_ctx *ctx, int dirfd, const char *path, const struct open_how *how,
             struct vfs_opened *out);

/* Policy checks, -errno or 0:
 * create (VFS_CREATE) or remove/rename (VFS_REMOVE) an entry name in parent:
 * ENOENT for hidden paths, EEXIST/EBUSY for mount points of the view, EROFS
 * outside writable mounts; "." and ".." are left to the kernel (which
 * refuses them by itself, with the errno the agent expects). */
enum vfs_entry_op { VFS_CREATE, VFS_REMOVE };
/* obj_type: for VFS_REMOVE, the type the call expects to find (S_IFDIR for
 * rmdir and for a directory renamed onto the entry, S_IFREG for any other);
 * a mount point or a hidden holder of that other type answers EISDIR or
 * ENOTDIR, as the kernel checks types before mount points. 0: not known. */
int vfs_check_entry(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                    enum vfs_entry_op op, mode_t obj_type);
/* change an object's data or metadata (chmod, truncate, utimes, ...) */
int vfs_check_modify(const struct vfs_node *obj);

/* An operation found the tree changed since the walk (a symlink appeared on
 * the path): the handler is run again from its copies of the arguments. */
#define VFS_ESTALE_VIEW 4000

/* ---- operations (vfs/ops.c): the gofer acts, or the sentry on the agent's
 * own object. Each returns 0 (or a length) or -errno. ---- */
int vfs_op_access(struct vfs_ctx *ctx, const struct vfs_node *n, int mode, bool real_ids);
ssize_t vfs_op_readlink(struct vfs_ctx *ctx, const struct vfs_node *n, char *buf,
                        size_t size);
int vfs_op_statfs(struct vfs_ctx *ctx, const struct vfs_node *n, void *statfs_out);
int vfs_op_chmod(struct vfs_ctx *ctx, const struct vfs_node *n, mode_t mode);
int vfs_op_chown(struct vfs_ctx *ctx, const struct vfs_node *n, uid_t uid, gid_t gid);
int vfs_op_utimens(struct vfs_ctx *ctx, const struct vfs_node *n,
                   const struct timespec *ts);
int vfs_op_truncate(struct vfs_ctx *ctx, const struct vfs_node *n, off_t len);
ssize_t vfs_op_getxattr(struct vfs_ctx *ctx, const struct vfs_node *n, const char *name,
                        void *buf, size_t size);
int vfs_op_setxattr(struct vfs_ctx *ctx, const struct vfs_node *n, const char *name,
                    const void *value, size_t size, int flags);
ssize_t vfs_op_listxattr(struct vfs_ctx *ctx, const struct vfs_node *n, char *buf,
                         size_t size);
int vfs_op_removexattr(struct vfs_ctx *ctx, const struct vfs_node *n, const char *name);
int vfs_op_inotify(struct vfs_ctx *ctx, const struct vfs_node *n, int ifd, uint32_t mask);
int vfs_op_mkdir(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                 mode_t mode);
int vfs_op_mknod(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                 mode_t mode, dev_t dev);
int vfs_op_unlink(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                  int flags);
int vfs_op_symlink(struct vfs_ctx *ctx, const char *target, const struct vfs_node *parent,
                   const char *name);
int vfs_op_rename(struct vfs_ctx *ctx, const struct vfs_node *from, const char *from_name,
                  const struct vfs_node *to, const char *to_name, unsigned int flags);
/* A hard link of an entry (not followed) or of a resolved object. */
int vfs_op_link(struct vfs_ctx *ctx, const struct vfs_node *from, const char *from_name,
                const struct vfs_node *to, const char *to_name);

/* A resolved node as an O_PATH fd of the sentry's (extra: O_DIRECTORY...),
 * for a call the kernel must make on the object itself: opened from the
 * agent's root along the canonical view path following nothing, and checked
 * to be the object the walk found (-VFS_ESTALE_VIEW otherwise). */
int vfs_open_resolved(struct vfs_ctx *ctx, const struct vfs_node *n, int extra);

/* One gofer request for a view operation (vfs_gofer). Fields left out are
 * zero: no second path, no walk flags, no data, no fd to send. */
struct vfs_gofer_req {
  int op; /* GOFER_* */
  const struct vfs_mount *mount;
  const char *rel, *rel2; /* paths relative to the mount; rel2 NULL when absent */
  uint16_t walk;          /* GOFER_NOFOLLOW_LAST, ... */
  uint32_t flags;
  uint64_t arg0, arg1;
  const void *data;
  size_t data_len;
  const int *in_fd; /* an fd to send along, or NULL */
  /* a GOFER_WALK whose object's identity and type are all the caller uses
   * (the parent of a create or a removal): the walk cache may answer with
   * its other attributes as of an earlier walk (dcache_query.attrs) */
  bool ident_only;
};

/* The gofer's answer to a walk or an op, shared by walk.c, proc.c, ops.c:
 * the reply in *rep, its data in rep_data (up to rep_cap), a received fd
 * in *out_fd (NULL: none wanted). */
int vfs_gofer(struct vfs_ctx *ctx, const struct vfs_gofer_req *req, struct gofer_rep *rep,
              char *rep_data, size_t rep_cap, int *out_fd);

/* The rule that hides a canonical view path (a hidden path or below one),
 * as the policy names it ("hide /x", "built-in secret ~/.ssh"); NULL when
 * it is not hidden. */
const char *vfs_hidden_by(const struct vfs *v, const char *view);
/* The rule that hides an object (device and inode) whatever name reached
 * it (a hard link, an alias the policy did not foresee); NULL when none. */
const char *vfs_hidden_id_by(const struct vfs *v, dev_t dev, ino_t ino);
/* Whether a name in a directory on dir_dev (as the directory's stat shows
 * it) may reach a hidden non-directory, which only a second name of it
 * can (its own is hidden by name). False only when every such object a
 * name there can reach has had one name since start: on a plain
 * filesystem (dcache_dev_plain) a name reaches an object on its own
 * device, or is a mount point, which unlink and rename refuse; there
 * each hidden non-directory was found with one link, and its inode is
 * watched for a change of that (dcache_watch_file), none come. */
bool vfs_hidden_alias_possible(struct vfs *v, dev_t dir_dev);
static inline bool vfs_is_hidden(const struct vfs *v, const char *view)
{
  return vfs_hidden_by(v, view) != NULL;
}
static inline bool vfs_is_hidden_id(const struct vfs *v, dev_t dev, ino_t ino)
{
  return vfs_hidden_id_by(v, dev, ino) != NULL;
}
/* Whether a directory is the view's procfs root (its listing names only the
 * sandbox's processes: vfs_filter_proc_root). */
bool vfs_is_proc_root(const struct vfs *v, dev_t dev, ino_t ino);
size_t vfs_filter_proc_root(struct vfs_ctx *ctx, void *buf, size_t len, size_t name_off);
/* The names a directory's listing must not show, by its canonical view
 * path: each hidden path directly in it (fills names, up to max; returns
 * the count). Covers a directory that appeared after start, which the
 * identity filters below cannot know. */
size_t vfs_hidden_names_in(const struct vfs *v, const char *dirview, const char **names,
                           size_t max);
/* The filter for a directory, or NULL when its listing is the kernel's. */
const struct vfs_listing_filter *vfs_listing_filter(const struct vfs *v, dev_t dev, ino_t ino);
/* Drop the entries a filter names from a getdents buffer; returns the new
 * length. name_off is where d_name starts in a record: 19 for getdents64's
 * struct linux_dirent64, 18 for the old getdents. (Unit-tested.) */
#define VFS_DIRENT64_NAME 19
#define VFS_DIRENT_NAME 18
size_t vfs_filter_dirents(const struct vfs_listing_filter *f, void *buf, size_t len,
                          size_t name_off);
/* Where an object the agent holds lives: on a mount of its namespace (the
 * view: the kernel applies that mount's flags), on a mount of the host's
 * only (a file usbox was handed, outside the view), or nowhere mounted (a
 * pipe, a socket, a memfd). */
enum vfs_held_place { VFS_HELD_IN_VIEW, VFS_HELD_ON_HOST, VFS_HELD_INTERNAL };
enum vfs_held_place vfs_held_place(struct vfs_ctx *ctx, int fd);
/* vfs_check_modify for any node, one the agent holds included: an object
 * the view does not show writable (outside it, or read-only or hidden
 * there) is not changed through the sentry, whatever fd reached it: -EROFS. */
int vfs_check_modify_as(struct vfs_ctx *ctx, const struct vfs_node *obj);
/* An open file of the agent's (the sentry's copy of it), from one statx:
 * its attributes, where it is held and whether its mount holds the host's
 * files (vfs_node_host_backed). 0 or -errno. */
struct vfs_held {
  struct stat st;
  enum vfs_held_place place;
  bool host_backed;
};
int vfs_held_info(struct vfs_ctx *ctx, int fd, struct vfs_held *out);
/* The place (vfs/ctx.h) of a held file the view lets the agent change:
 * writable, and on the host unless it is the sandbox's own. */
static inline struct vfs_place vfs_held_place_of(const struct vfs_held *h)
{
  return (struct vfs_place){true, h->host_backed};
}
/* vfs_check_modify_as for such a file; *out (NULL: not wanted) gets what
 * vfs_held_info found. */
int vfs_check_modify_fd(struct vfs_ctx *ctx, int fd, struct vfs_held *out);

/* Where a host path shows in the view: the view path of the bind that
 * shows it (the deepest mount there), or -ENOENT. */
int vfs_host_to_view(const struct vfs *v, const char *host, char view[PATH_MAX]);
/* Whether a mount (its id, statx STATX_MNT_ID) is one of the agent's mount
 * namespace, i.e. of the view: an object on any other mount (a file usbox
 * was given as stdin) is outside the view. */
bool vfs_mount_in_view(struct vfs_ctx *ctx, uint64_t mnt_id);
/* Whether an object's mount (its mnt_id) holds the host's files: anything
 * but the sandbox's own tmpfs mounts (an object outside the view included). */
bool vfs_mnt_host_backed(const struct vfs *v, uint64_t mnt_id);
/* Whether a resolved node is the host's (node->mount, or its object's mount). */
bool vfs_node_host_backed(const struct vfs *v, const struct vfs_node *n);
/* The mode an agent may give a file on the host: no setuid bit, and no
 * setgid bit on anything but a directory (where it only passes the group
 * on). The sandbox's own tmpfs keeps what the agent asked. */
static inline mode_t vfs_safe_mode(bool host_backed, mode_t mode, bool is_dir)
{
  if (!host_backed)
    return mode;
  return mode & ~(mode_t)(S_ISUID | (is_dir ? 0 : S_ISGID));
}
/* The file capabilities xattr: never written on the host. */
#define VFS_XATTR_FILE_CAPS "security.capability"
/* Drop the entries of a getdents buffer whose inode is a hidden object of
 * that directory's filesystem (a hard link of a hidden file); returns the
 * new length. */
size_t vfs_filter_hidden_inodes(const struct vfs *v, dev_t dev, void *buf, size_t len,
                                size_t name_off);
/* The mount holding a canonical view path, and the path inside it. */
const struct vfs_mount *vfs_mount_of(const struct vfs *v, const char *view);
const char *vfs_mount_rel(const struct vfs_mount *m, const char *view);
/* struct statx to struct stat, as the kernel's stat would fill it. */
void vfs_statx_to_stat(const struct statx *x, struct stat *st);

/* The agent's dirfd argument as the kernel reads it (an int). */
static inline int vfs_dirfd_arg(unsigned long long arg)
{
  return (int)(unsigned int)arg;
}

/* Split helper (unit-tested): dir receives the directory part ("." or "/"
 * when there is none); returns a pointer to the last component in path. */
const char *vfs_split_last(const char *path, char *dir, size_t dirsize);

#endif
