/* The walk cache: the gofer's answers to walks (GOFER_WALK) the sentry has
 * had recently, answered again without a gofer trip while nothing they
 * depend on has changed (docs/vfs.md, "The walk cache").
 *
 * An answer depends on the directories the walk looked names up in (their
 * entries, and their permissions for the caller's credentials) and on the
 * object it reached. The gofer keeps both for the cache (GOFER_WALK_KEEP):
 * an O_PATH fd of each directory with its ctime taken before the lookup in
 * it, and an O_PATH fd of the object. A hit checks that every directory's
 * ctime is what it was (any change to a directory's entries, mode, owner,
 * ACL or xattrs sets it; with multigrain timestamps, Linux 6.13, a change
 * right after the ctime was read always shows as a new value) and reads the
 * object's attributes afresh from its fd. So the answer is the one the gofer
 * would give now, for the same credentials (part of the key). A directory
 * watched (vfs/dirwatch.h, dcache.watch_fd) whose mark had no event since its
 * ctime was last found as recorded needs no statx (docs/vfs.md).
 *
 * Only filesystems with multigrain timestamps are cached (ext4, xfs, btrfs,
 * tmpfs on Linux 6.13 or later); walks that check access or use the real
 * ids, /proc and single bound files are never cached. Bounded: at most
 * DCACHE_MAX_ENTRIES answers and a budget of fds (an eighth of the fd
 * limit, at most DCACHE_MAX_FDS); when either is reached, answers are
 * dropped until a quarter of it is free. */
#ifndef USBOX_VFS_DCACHE_H
#define USBOX_VFS_DCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/stat.h>

#include "common/deputy.h"
#include "gofer/protocol.h"

#define DCACHE_MAX_ENTRIES 2048
#define DCACHE_MAX_FDS 2048
#define DCACHE_BUCKETS 4096
#define DCACHE_MAX_CREDS 8
#define DCACHE_MAX_ROOTS 64 /* as GOFER_MAX_MOUNTS */

struct dcache_entry; /* dcache.c */
struct dcache_dir;

/* The last answer one call had from the cache, with the object's attributes
 * it read then: asked for again in the same call (the parent a walk just
 * reached, then the directory a create or an unlink acts in), the answer is
 * given without checking every directory again. What the call does then is
 * as of that check, a few microseconds older: the same as if it had acted
 * right after it (an answer can always change right after a check; the
 * check only makes it the host's at one moment). Zeroed with the call's
 * context, never carried to another call. */
struct dcache_seen {
  const struct dcache_entry *entry;
  uint64_t gen; /* the entry's: a freed entry's address can come back */
  struct statx obj;
  bool attrs; /* obj was read then (not only the answer's identity) */
};

struct dcache_stats {
  unsigned long hits, misses, stale, inserted, flushes;
  unsigned long local; /* misses the sentry answered with lookups of its own */
  unsigned long relooked; /* steps in a changed directory looked up again, unchanged */
  unsigned long checked;  /* directory ctimes read to check an answer */
  unsigned long quiet;    /* directory checks its watch made needless (no event since) */
  unsigned long named;    /* ... or whose events since named other entries only */
};

#define DCACHE_MAX_DEVS 16
struct dcache_dev {
  dev_t dev;
  bool mgtime;
  bool notify; /* its changes reach fsnotify (not an overlay's: its layers change unseen) */
  bool fsid_known; /* fsid: its filesystem's, as watch keys begin (vfs/dirwatch.h) */
  unsigned char fsid[8];
};

#define DCACHE_WATCH_BUCKETS 256
struct dcache_watch; /* dcache.c */

struct dcache {
  pthread_mutex_t lock;
  bool enabled;
  struct dcache_entry *buckets[DCACHE_BUCKETS];
  struct dcache_dir **dir_buckets; /* every directory kept, shared by the entries */
  size_t nentries, nfds, max_fds;
  size_t evict_cursor; /* the next bucket to drop when room is needed */
  struct deputy_creds creds[DCACHE_MAX_CREDS]; /* the credentials entries were made with */
  size_t ncreds;
  struct dcache_dev devs[DCACHE_MAX_DEVS]; /* filesystems asked about (fs_has_mgtime) */
  size_t ndevs;
  uint64_t next_gen; /* for each entry made (dcache_seen) */
  /* O_PATH fds of the view's directory mounts' roots, by mount index (-1:
   * none): each mount root's answer is made from its fd (dcache_set_root) */
  int roots[DCACHE_MAX_ROOTS];
  /* the fanotify group of the kept directories' marks (vfs/dirwatch.h;
   * -1: none): a directory no event was read for since its ctime was
   * checked needs no check (docs/vfs.md). Events are read under the lock
   * when watch_pending says some may wait (dcache_note_changes). */
  int watch_fd;
  bool watch_named; /* its events name the entry changed (dirwatch_open_named) */
  bool watch_files; /* its marks on files hear their link counts change (dcache_watch_file) */
  bool files_changed; /* a file marked with dcache_watch_file changed, or events were lost */
  atomic_bool watch_pending;
  struct dcache_watch *watch_buckets[DCACHE_WATCH_BUCKETS];
  struct dcache_stats stats;
};

/* Enabled when the kernel has multigrain timestamps and USBOX_NO_DCACHE is
 * not set in usbox's environment. */
void dcache_init(struct dcache *c);
/* The watch fd, taken out (-1: none) for the caller to close off the exit
 * path: with marks its last close waits for a grace period
 * (common/close_detached.h). No answer is asked for after it. */
int dcache_take_watch_fd(struct dcache *c);
/* The caller's check at the start of a call found the watch fd readable
 * (or could not say): the events are read before the next answer. Every
 * call that asks the cache must have made that check first (vfs_caller):
 * a change the host made before the call began is then seen by it. */
void dcache_note_changes(struct dcache *c);
/* Marks the inode of non-directory fd in the cache's watch group, so that
 * dcache_files_unchanged hears of any change of its attributes or link
 * count from now on. 0, or -errno (no group, or one that would not hear
 * a link count change: dirwatch_open_named). Before the cache is used. */
int dcache_watch_file(struct dcache *c, int fd);
/* Whether no file marked with dcache_watch_file changed since it was
 * marked: false once one did, or once events may have been lost (for
 * good: nothing says which). Events waiting are read first
 * (dcache_note_changes), so a change made before the current call began
 * is known. */
bool dcache_files_unchanged(struct dcache *c);
/* Whether every object on dev shows dev in stat, as its directories do:
 * the filesystems whose changes reach fsnotify (dcache_dev.notify: ext4,
 * xfs, btrfs, tmpfs) are those; an overlay, whose files show a layer's
 * device, is not. False for a device the cache never asked about. */
bool dcache_dev_plain(struct dcache *c, dev_t dev);
void dcache_destroy(struct dcache *c);
/* The root of mount (a directory), for its answers: the cache keeps a copy
 * of fd. A walk of "" (the root itself, or the first directory a walk
 * starts from, vfs/ops.c local_walk) is then answered from the start
 * without the gofer, as the gofer answers it: the root's attributes from
 * its fd; no name is looked up, so no permission is checked. Only where
 * the cache keeps answers (multigrain timestamps). 0 or -errno. */
int dcache_set_root(struct dcache *c, int mount, int fd);
/* Forget the answers for rel (mount-relative), and with subtree everything
 * below it: the sentry removed or renamed it, and what it held is let go
 * now rather than when the answer is next found stale. A subtree scans the
 * whole cache: only for a directory that moved (a removed one was empty). */
void dcache_forget(struct dcache *c, int mount, const char *rel, bool subtree);

/* Whether a walk request may be served from the cache (its flags, its
 * mount's kind are the caller's to check). */
static inline bool dcache_walk_cacheable(uint16_t walk)
{
  return (walk & ~(uint16_t)GOFER_NOFOLLOW_LAST) == 0;
}

/* An object's fd a walk reached: lent by the cache (the cache's own, kept
 * open until dcache_lend_drop even if its answer is dropped meanwhile:
 * dir or entry set), or the caller's own (closed by dcache_lend_drop).
 * Used, never closed or kept, by whoever has it. */
struct dcache_lend {
  struct dcache *cache;
  int fd;
  struct dcache_dir *dir;
  struct dcache_entry *entry;
};
#define DCACHE_LEND_INIT(c) {.cache = (c), .fd = -1, .dir = NULL, .entry = NULL}
void dcache_lend_drop(struct dcache_lend *obj);
#define cleanup_lend __attribute__((cleanup(dcache_lend_drop)))

/* A walk asked of the cache: mount, rel and walk flags, for creds. attrs:
 * the object's attributes as they are now are wanted (read on each answer,
 * a statx); false when its identity and type are all the caller uses (the
 * parent of a create or a removal, which the kernel checks again as it
 * acts): rep->stx then holds the object's device, inode and type, exact
 * (an fd's object never changes), and its other fields as of the answer's
 * making. */
struct dcache_query {
  int mount;
  const char *rel;
  uint16_t walk;
  const struct deputy_creds *creds;
  bool attrs;
  /* with attrs, of a directory: only its identity and ctime are wanted (a
   * snapshot before a lookup in it), and a ctime no event changed since
   * it was read is as good as one read now */
  bool ctime_only;
};

/* The walk q answered from the cache: true and rep (and the link text into
 * data, up to cap) filled, or false. A walk that meets a link the cache
 * holds on the way is answered there (merged /usr: every /bin/... and
 * /lib/... passes such a link). When the walk reached an object, *obj
 * (NULL: not wanted) gets the cache's O_PATH fd of it, lent (no copy: two
 * system calls fewer), else fd -1. seen (NULL: none) is the call's memory
 * of its last answer, used and updated. */
bool dcache_lookup_obj(struct dcache *c, const struct dcache_query *q, struct gofer_rep *rep,
                       char *data, size_t cap, struct dcache_lend *obj, struct dcache_seen *seen);

/* What a GOFER_WALK_KEEP reply brought: rep, its data (link text at 0, the
 * snapshots at rep->keep_off), and the fds (rep->nkeep, owned by the cache
 * from now on: closed here if not kept). */
struct dcache_answer {
  int mount;
  const char *rel;
  uint16_t walk;
  const struct deputy_creds *creds;
  const struct gofer_rep *rep;
  const char *data;
  const int *fds;
};
void dcache_insert(struct dcache *c, const struct dcache_answer *a);

/* The directory q->rel (q->walk 0), when the cache has a valid answer for
 * it: the cache's own O_PATH fd of it, lent (*held; given back with
 * dcache_lend_drop), and in *stx (NULL: not wanted) its attributes, as q
 * asks (now, or its identity and type); or -1 with nothing lent. Not
 * counted as a walk of the caller's. */
int dcache_dir_hold(struct dcache *c, const struct dcache_query *q, struct statx *stx,
                    struct dcache_seen *seen, struct dcache_lend *held);

/* A walk the sentry finished itself with one lookup in a directory the cache
 * answered (parent_rel, dcache_dir): the answer depends on what the
 * parent's did and on that directory, as dir_snap (taken before the lookup)
 * shows it. dir_fd and obj_fd (-1: none) are the cache's from now on;
 * dir_kept instead of dir_fd: the directory is one the cache keeps, lent
 * to the caller (dcache_lend.dir), and the answer takes a reference on
 * it. Not kept when the parent's answer has gone meanwhile. */
struct dcache_child {
  int mount;
  const char *rel, *parent_rel;
  uint16_t walk;
  const struct deputy_creds *creds;
  const struct gofer_rep *rep;
  const char *link; /* GOFER_AT_LINK: its text */
  int dir_fd;
  struct dcache_dir *dir_kept;
  struct gofer_keep_snap dir_snap;
  int obj_fd;
};
void dcache_insert_child(struct dcache *c, const struct dcache_child *k);
/* A walk the cache missed, answered by such steps (stats.local). */
void dcache_count_local(struct dcache *c);

/* Whether a filesystem of this type (statfs f_type) keeps multigrain
 * ctimes; and telling the cache so for a device it cannot judge by its
 * type: an overlay (--overlay) whose layers both keep them. */
bool dcache_fs_type_has_mgtime(unsigned long f_type);
void dcache_note_dev(struct dcache *c, dev_t dev, bool mgtime);

#endif
