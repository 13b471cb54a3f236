/* The view walker (the engine of vfs.c and ops.c). Internal to vfs/. */
#ifndef USBOX_VFS_WALK_H
#define USBOX_VFS_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "gofer/protocol.h"
#include "vfs/vfs.h"

#define WALK_MAX_LINKS 40 /* as the kernel (MAXSYMLINKS) */

struct walker {
  struct vfs_ctx *ctx;
  struct vfs *v;
  char cur[PATH_MAX];      /* canonical view path reached so far; "" = the object has no path */
  int obj_fd;              /* the agent's dirfd object (identity), owned, or -1 */
  struct stat obj_st;      /* its fstat when taken as a directory to start from */
  bool obj_st_valid;
  char rest[PATH_MAX * 2]; /* components still to walk */
  int links;
  uint64_t resolve;         /* the agent's own RESOLVE_* flags (openat2) */
  char scope[PATH_MAX];     /* start directory for RESOLVE_BENEATH / RESOLVE_IN_ROOT */
  char link_text[PATH_MAX]; /* a synthesized symlink's target (vfs_node.link) */
  /* When set, the last run is sent as an OPEN with these flags instead of a
   * WALK: the gofer walks and opens in one request (opened_fd). */
  int final_open_flags;
  bool final_open;
  int opened_fd;
  /* When >= 0 (an access mode), the last run's WALK also checks access
   * (GOFER_WALK_ACCESS): the result lands in vfs_node.access_err. */
  int final_access_mode;
  bool final_access_real; /* with the real ids (access() without AT_EACCESS) */
  /* The walk's object is a parent (walker_run_parent): its identity and
   * type are all that is used, the kernel checks the rest as it acts */
  bool ident_only;
};

/* Position the walker at the start of path: "/" for absolute paths, the
 * agent thread's cwd for AT_FDCWD, the agent's dirfd otherwise (its identity
 * taken with pidfd_getfd, its view path from the kernel's name for it). */
int walker_start(struct walker *w, struct vfs_ctx *ctx, int dirfd, const char *path,
                 int vflags);
int walker_start_scoped(struct walker *w, struct vfs_ctx *ctx, int dirfd, const char *path,
                        uint64_t resolve);
/* Walk to the object (vflags: VFS_NOFOLLOW, VFS_DIRECTORY). */
int walker_run(struct walker *w, int vflags, struct vfs_node *out);
/* Walk to the parent of the last component. */
int walker_run_parent(struct walker *w, struct vfs_node *parent, char name[NAME_MAX + 2]);
void walker_release(struct walker *w);

/* What a step of the walk did, when it did not fail (then it gives -errno). */
enum walk_step {
  WALK_GO_ON = 0,     /* the ordinary walk goes on with the next component */
  WALK_REWRITTEN = 1, /* what is left to walk was rewritten (a link spliced in): again */
  WALK_ANSWERED = 2,  /* out holds the answer */
};

/* /proc (proc.c): one component inside the procfs mount. WALK_REWRITTEN
 * when it consumed the component itself (spliced self, or turned a magic
 * link into a view path), WALK_ANSWERED when out is the answer, WALK_GO_ON
 * when the ordinary walk should go on, or -errno. rest must already hold
 * what follows the component. */
int proc_component(struct walker *w, const char *comp, bool last, bool follow,
                   struct vfs_node *out);
/* A magic link the gofer met while walking: what it means (proc.c):
 * WALK_REWRITTEN, WALK_ANSWERED or -errno. */
int proc_magic(struct walker *w, const char *link_view, const char *text, bool last,
               struct vfs_node *out);

/* /proc/PID/{mountinfo,mounts,mountstats} opened as fd: replaced by a
 * read-only copy (a memfd) without the view's masks (mount points at hidden
 * paths) and without the bind sources' host paths; anything else is left.
 * 0 or -errno. */
int proc_mount_table(struct vfs_ctx *ctx, const char *view, int *fd);

/* helpers shared with proc.c */
void walker_set_cur(struct walker *w, const char *view);
int walker_splice(struct walker *w, const char *target);
void view_join(char out[PATH_MAX], const char *dir, const char *name);

#endif
