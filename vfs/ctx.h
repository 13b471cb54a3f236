/* Who the VFS works for: a context of its own (gVisor style: the VFS knows
 * the caller's credentials and how to reach its objects, not the sentry's
 * types). The sentry makes one per intercepted call (sentry/vfs_caller.c),
 * the unit tests their own (tests/unit/test_vfs_ctx.c), and usbox's own
 * questions about the view use vfs_ctx_own().
 *
 * Everything the VFS does for a caller goes through these few hooks: who
 * the caller is now (its ids and capabilities, for the deputy), whether the
 * arguments it read from the caller's memory still stand, a copy of one of
 * its fds, and the notices a blocking wait owes the one who runs it. */
#ifndef USBOX_VFS_CTX_H
#define USBOX_VFS_CTX_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/deputy.h"
#include "vfs/dcache.h"

struct vfs;
struct vfs_ctx;

/* The caller as the VFS needs to know it. */
struct vfs_caller {
  pid_t tgid;                /* its host thread group */
  pid_t ns_tid, ns_tgid;     /* as the sandbox's pid namespace numbers them */
  struct deputy_creds creds; /* what the deputy takes on for it */
  /* Set by identify when the check it made of the caller at the call's
   * start also found the walk cache's watch fd (dcache.watch_fd) without
   * events, or when it told so already in this call; left false, the
   * cache reads its events before its next answer (dcache_note_changes). */
  bool no_watch_events;
};
/* identify(): also read the caller's RLIMIT_FSIZE now (creds.fsize_limit;
 * otherwise DEPUTY_NO_FSIZE_LIMIT) */
#define VFS_CALLER_FSIZE 0x1

/* A working directory's name as the kernel gave it (a view path), for
 * the directory dev:ino, while the view's cwd epoch was `epoch`
 * (vfs/walk.c, cwd_view_name). */
struct vfs_cwd {
  uint64_t epoch;
  dev_t dev;
  ino_t ino;
  char view[PATH_MAX];
};

struct vfs_caller_ops {
  /* The arguments read from the caller's memory still stand (seccomp's
   * ID_VALID: the call is still pending): 0, or -ESRCH. Every lookup and
   * open checks it before acting (invariant 2). */
  int (*validate)(struct vfs_ctx *ctx);
  /* Who the caller is now: 0, -ESRCH when it is gone, or another -errno. */
  int (*identify)(struct vfs_ctx *ctx, unsigned what, struct vfs_caller *out);
  /* A copy of the caller's fd (pidfd_getfd): a new fd, or -errno (-EBADF). */
  int (*getfd)(struct vfs_ctx *ctx, int fd);
  /* Send the caller what the kernel would (SIGXFSZ). */
  void (*signal)(struct vfs_ctx *ctx, int sig);
  /* The operation about to start may block for long (a FIFO open). */
  void (*may_block)(struct vfs_ctx *ctx);
  /* The wait about to start (on) or just ended (off) may be cut short by a
   * signal for the caller. */
  void (*interruptible)(struct vfs_ctx *ctx, bool on);
  /* Optional: where the caller keeps the name of its working directory the
   * VFS gave it last (cwd_get: 0, or -1 when none is kept), for as long as
   * the caller is the same thread. */
  int (*cwd_get)(struct vfs_ctx *ctx, struct vfs_cwd *out);
  void (*cwd_put)(struct vfs_ctx *ctx, const struct vfs_cwd *in);
  /* A working directory change is unsettled: settle those of threads that
   * ended since (vfs_cwd_settled). */
  void (*cwd_settle_ended)(struct vfs_ctx *ctx);
};

struct vfs_ctx {
  struct vfs *vfs;
  const struct vfs_caller_ops *ops;
  pid_t tid;   /* the calling thread (host tid); 0: usbox itself */
  void *owner; /* the ops' own state */
  /* Set when the VFS answered ENOENT because a hide rule matched (by path
   * or identity): that rule's name (vfs_hidden_by), for the caller's audit
   * and report; the agent sees ENOENT like for any missing path. Cleared
   * when a walk starts, so it speaks of the last walk. */
  const char *hidden_by;
  /* The walk cache's last answer to this call (vfs/dcache.h). */
  struct dcache_seen dcache_seen;
};

/* -ENOENT for something rule hides, noted in ctx (vfs_ctx.hidden_by). */
static inline int vfs_hidden_enoent(struct vfs_ctx *ctx, const char *rule)
{
  ctx->hidden_by = rule;
  return -ENOENT;
}

/* A question usbox asks about the view for its own sake (no agent thread):
 * its own credentials, no memory to validate, no fds to take. */
struct vfs_ctx vfs_ctx_own(struct vfs *v);

/* The caller's identity (ops->identify). Every request the VFS makes for
 * the caller asks it first: so the walk cache hears of the changes made
 * before the call began before it answers (vfs_caller.no_watch_events). */
int vfs_caller(struct vfs_ctx *ctx, unsigned what, struct vfs_caller *out);

/* Only the caller's credentials. */
static inline int vfs_caller_creds(struct vfs_ctx *ctx, unsigned what, struct deputy_creds *out)
{
  struct vfs_caller me;
  int r = vfs_caller(ctx, what, &me);
  if (r == 0)
    *out = me.creds;
  return r;
}

/* Whether the caller is still there: 0 or -ESRCH (another -errno when it
 * cannot be read). */
static inline int vfs_caller_ready(struct vfs_ctx *ctx)
{
  struct vfs_caller me;
  return vfs_caller(ctx, 0, &me);
}

/* Where an operation acts, for the capabilities the deputy may use there
 * (deputy_scope): a writable place of the view, and the host's files. */
struct vfs_place {
  bool writable;
  bool host_backed;
};
/* The place of a mount (NULL: none known, so nothing is overridden). */
#define VFS_PLACE(m)                                                                               \
  ((m) != NULL ? (struct vfs_place){(m)->writable, (m)->host_backed}                               \
               : (struct vfs_place){false, true})

/* deputy_enter(flags) with the caller's credentials, scoped to where the
 * operation acts: every host operation the VFS performs itself for the
 * caller happens between this and deputy_leave(). 0 or -errno (then
 * nothing is to be done). */
int vfs_deputy_enter(struct vfs_ctx *ctx, struct vfs_place where, unsigned flags);

/* An operation the VFS performs itself as the caller: expr must give 0 (or
 * a length) or -errno, and is evaluated before deputy_leave can change
 * errno. */
#define VFS_AS_CALLER(ctx, where, flags, expr)                                                          \
  ({                                                                                             \
    long as_r_ = vfs_deputy_enter((ctx), (where), (flags));                                               \
    if (as_r_ == 0) {                                                                            \
      as_r_ = (long)(expr);                                                                      \
      deputy_leave();                                                                            \
    }                                                                                            \
    as_r_;                                                                                       \
  })

/* The same with credentials already taken and scoped (a gofer request's
 * ident, which vfs_gofer scoped to its mount). */
#define VFS_AS_IDENT(ident, flags, expr)                                                           \
  ({                                                                                             \
    long as_r_ = deputy_enter((ident), (flags));                                                 \
    if (as_r_ == 0) {                                                                            \
      as_r_ = (long)(expr);                                                                      \
      deputy_leave();                                                                            \
    }                                                                                            \
    as_r_;                                                                                       \
  })

#endif
