/* The gofer protocol: how the sentry asks the gofer to touch the host.
 * Documented in gofer/PROTOCOL.md; this header is the wire format.
 *
 * Transport: SOCK_SEQPACKET unix sockets, one message per request and per
 * reply, fds in SCM_RIGHTS. Each sentry receiver thread has its own
 * connection, so a connection carries one request at a time.
 *
 * Paths are mount-relative and canonical: no leading '/', no empty, '.' or
 * '..' component, each component at most NAME_MAX bytes. The gofer walks
 * them with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS) from the mount's root fd: it follows nothing, and
 * says where a symlink stopped it (GOFER_AT_LINK) so that the sentry can
 * follow it in the view. */
#ifndef USBOX_GOFER_PROTOCOL_H
#define USBOX_GOFER_PROTOCOL_H

#include <limits.h>
#include <linux/stat.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/deputy.h"

#define GOFER_MAGIC 0x55534731u /* "USG1" */
#define GOFER_MAX_DATA 65536 /* xattr values, readlink text, statfs */

enum gofer_op {
  GOFER_WALK = 1,   /* path: lstat it (statx) after walking */
  GOFER_OPEN,       /* path [+ O_CREAT in flags: create the last component]; fd back */
  GOFER_ACCESS,     /* path; arg0 = mode, arg1 = 1 to check with real ids */
  GOFER_READLINK,   /* path; data back */
  GOFER_STATFS,     /* path; struct statfs back as data */
  GOFER_MKDIR,      /* path = parent/name; arg0 = mode */
  GOFER_MKNOD,      /* path = parent/name; arg0 = mode, arg1 = dev */
  GOFER_UNLINK,     /* path = parent/name; flags = AT_REMOVEDIR or 0 */
  GOFER_RENAME,     /* path, path2 (both parent/name); flags = RENAME_* */
  GOFER_LINK,       /* path (existing, not followed), path2 = parent/name */
  GOFER_SYMLINK,    /* path = parent/name, data = target text */
  GOFER_CHMOD,      /* path; arg0 = mode */
  GOFER_CHOWN,      /* path; arg0 = uid, arg1 = gid */
  GOFER_UTIMENS,    /* path; data = struct timespec[2] or empty for "now" */
  GOFER_TRUNCATE,   /* path; arg0 = length */
  GOFER_GETXATTR,   /* path, path2 = name; arg0 = size; data back */
  GOFER_SETXATTR,   /* path, path2 = name, data = value; flags = XATTR_* */
  GOFER_LISTXATTR,  /* path; arg0 = size; data back */
  GOFER_REMOVEXATTR,/* path, path2 = name */
  GOFER_INOTIFY,    /* path; an inotify fd in SCM_RIGHTS; arg0 = mask */
  GOFER_TMPFILE,    /* path = directory; flags, arg0 = mode; fd back */
  GOFER_PROC_FOLLOW,/* path in a procfs mount: open the magic link's object (O_PATH) */
  GOFER_CANCEL,     /* arg0 = id of a request still running on this connection */
  GOFER_OP_MAX,
};

/* path walk flags (gofer_req.walk) */
#define GOFER_NOFOLLOW_LAST 0x1 /* the last component may be a symlink: act on it */
#define GOFER_NO_XDEV 0x2       /* the agent asked RESOLVE_NO_XDEV */
/* GOFER_WALK only: once at the object, check access as GOFER_ACCESS does
 * (arg0 = mode, arg1 = 1 for the real ids); val = 0 or -errno. Saves the
 * second round trip of access() and execve. */
#define GOFER_WALK_ACCESS 0x4
/* GOFER_WALK only: walk with the agent's real ids (and, for a non-root real
 * uid, no capabilities), as access() resolves its path */
#define GOFER_WALK_REAL_IDS 0x8
/* GOFER_WALK only, not on procfs: keep what the walk went through for the
 * sentry's walk cache (vfs/dcache.c). The walk goes one component at a time
 * and sends back, in SCM_RIGHTS, O_PATH fds of each directory it looked a
 * name up in (the mount root first) and, when it reached it, of the object;
 * in the data, after the link text (if any) at keep_off, one
 * gofer_keep_snap per directory, taken before the lookup in it. A walk of
 * more than GOFER_MAX_KEEP components is an ordinary walk (nkeep 0). */
#define GOFER_WALK_KEEP 0x10
/* What a walk's statx asks for (gofer/ops.c, and the walk cache's fresh
 * reads of the same objects, vfs/dcache.c) */
#define GOFER_STATX_MASK (STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID)
#define GOFER_MAX_KEEP 32

/* A directory as the walk found it, before it looked a name up in it: a
 * later change to its entries or its permissions changes its ctime. Its
 * mount (mnt_id: statx's STATX_MNT_ID, 0 when the kernel has none) tells
 * it apart from the same directory seen through another mount, whose
 * flags (read-only, nodev...) are another's: the walk cache keeps one fd
 * per directory and mount. An id is not reused while an fd holds its
 * mount. */
struct gofer_keep_snap {
  uint64_t ino;
  int64_t ctime_sec;
  uint32_t ctime_nsec;
  uint32_t dev_major, dev_minor;
  uint32_t mnt_id;
};
/* A statx's mount id as a gofer_keep_snap holds it. */
static inline uint32_t gofer_snap_mnt_id(const struct statx *x)
{
  return (x->stx_mask & STATX_MNT_ID) ? (uint32_t)x->stx_mnt_id : 0;
}
/* A directory as a statx (STATX_INO | STATX_CTIME | STATX_MNT_ID at
 * least) shows it, as a gofer_keep_snap holds it. */
static inline struct gofer_keep_snap gofer_snap_of(const struct statx *x)
{
  return (struct gofer_keep_snap){.ino = x->stx_ino, .ctime_sec = x->stx_ctime.tv_sec,
                                  .ctime_nsec = x->stx_ctime.tv_nsec,
                                  .dev_major = x->stx_dev_major, .dev_minor = x->stx_dev_minor,
                                  .mnt_id = gofer_snap_mnt_id(x)};
}

struct gofer_req {
  uint32_t magic;
  uint32_t id;
  uint16_t op;
  uint16_t mount;
  uint16_t mount2; /* RENAME, LINK: the second path's mount */
  uint16_t walk;   /* GOFER_NOFOLLOW_LAST, GOFER_NO_XDEV */
  int32_t cpu;     /* where the sender runs: the gofer thread follows it (gofer.c) */
  uint32_t flags;  /* open flags, AT_REMOVEDIR, RENAME_*, XATTR_* */
  uint32_t path_len, path2_len, data_len; /* payload lengths, each string with its NUL */
  uint64_t arg0, arg1;
  /* the agent thread's credentials: the gofer acts as them (common/deputy.h);
   * fsize_limit is read for GOFER_TRUNCATE */
  struct deputy_creds ident;
  /* payload: path\0 path2\0 data */
};

/* reply status */
enum gofer_status {
  GOFER_DONE = 0,      /* err / val say how the operation went */
  GOFER_AT_LINK = 1,   /* component `index` of path (0-based) is a symlink: data = its text */
  GOFER_MAGIC_LINK = 2, /* same, and it is a /proc magic link */
};

struct gofer_rep {
  uint32_t magic;
  uint32_t id;
  int32_t err; /* 0 or a positive errno */
  uint32_t status;
  int64_t val;
  uint32_t index;    /* GOFER_AT_LINK: which component (of the path the op walked) */
  uint32_t which;    /* GOFER_AT_LINK: 0 = path, 1 = path2 */
  uint32_t data_len;
  uint32_t has_stat;
  uint32_t nkeep;     /* GOFER_WALK_KEEP: fds sent (directories, then the object if reached) */
  uint32_t keep_dirs; /* of which directories (each with a gofer_keep_snap) */
  uint32_t keep_off;  /* where the snapshots start in the data (8-aligned) */
  uint32_t pad;
  struct statx stx; /* GOFER_WALK, and the object of GOFER_OPEN */
  /* payload: data; one fd in SCM_RIGHTS for OPEN, TMPFILE, PROC_FOLLOW,
   * nkeep for a GOFER_WALK_KEEP walk */
};

#define GOFER_MAX_MSG (sizeof(struct gofer_req) + 2 * PATH_MAX + GOFER_MAX_DATA + 64)

/* A canonical mount-relative path ("" is the mount root). Shared validator:
 * the gofer refuses anything else (EINVAL). (Unit-tested.) */
bool gofer_path_valid(const char *path, uint32_t len_with_nul);
/* A last component for entry operations: one name, "." and ".." allowed
 * (the kernel refuses them itself), an optional single trailing '/'. */
bool gofer_name_valid(const char *name);

#endif
