#include "vfs/ctx.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vfs/vfs.h"

int vfs_caller(struct vfs_ctx *ctx, unsigned what, struct vfs_caller *out)
{
  out->no_watch_events = false;
  int r = ctx->ops->identify(ctx, what, out);
  if (r == 0 && !out->no_watch_events && ctx->vfs != NULL)
    dcache_note_changes(&ctx->vfs->dcache);
  return r;
}

/* ---- usbox's own questions: nothing to validate or take from anyone ---- */

static int own_validate(struct vfs_ctx *ctx)
{
  (void)ctx;
  return 0; /* no agent memory was read */
}

static int own_identify(struct vfs_ctx *ctx, unsigned what, struct vfs_caller *out)
{
  (void)ctx, (void)what;
  memset(out, 0, sizeof *out);
  out->tgid = getpid();
  deputy_own_creds(&out->creds);
  return 0;
}

static int own_getfd(struct vfs_ctx *ctx, int fd)
{
  (void)ctx, (void)fd;
  return -EBADF; /* usbox's own questions name no agent fd */
}

static void own_signal(struct vfs_ctx *ctx, int sig)
{
  (void)ctx, (void)sig;
}

static void own_notice(struct vfs_ctx *ctx)
{
  (void)ctx;
}

static void own_interruptible(struct vfs_ctx *ctx, bool on)
{
  (void)ctx, (void)on;
}

static const struct vfs_caller_ops own_ops = {
    .validate = own_validate,
    .identify = own_identify,
    .getfd = own_getfd,
    .signal = own_signal,
    .may_block = own_notice,
    .interruptible = own_interruptible,
};

struct vfs_ctx vfs_ctx_own(struct vfs *v)
{
  return (struct vfs_ctx){.vfs = v, .ops = &own_ops, .tid = 0, .owner = NULL};
}

int vfs_deputy_enter(struct vfs_ctx *ctx, struct vfs_place where, unsigned flags)
{
  struct vfs_caller me;
  int r = vfs_caller(ctx, 0, &me);
  if (r < 0)
    return r;
  deputy_scope(&me.creds, where.writable, where.host_backed);
  return deputy_enter(&me.creds, flags);
}
