/* The VFS's view of an intercepted call (vfs/ctx.h): the sentry answers the
 * VFS's few questions about its caller from the call's task record. */
#include <string.h>
#include <unistd.h>

#include "sentry/agent_mem.h"
#include "sentry/handler.h"
#include "sentry/sentry.h"
#include "sentry/task.h"

static struct sentry_call *call_of(struct vfs_ctx *ctx)
{
  return ctx->owner;
}

static int call_ctx_validate(struct vfs_ctx *ctx)
{
  return call_validate(call_of(ctx)) < 0 ? -ESRCH : 0;
}

static int call_ctx_identify(struct vfs_ctx *ctx, unsigned what, struct vfs_caller *out)
{
  struct sentry_call *call = call_of(ctx);
  int r = task_deputy_creds(call, (what & VFS_CALLER_FSIZE) ? TASK_CREDS_FSIZE : 0,
                            &out->creds);
  if (r < 0)
    return r;
  /* what call_task's poll saw of the walk cache's watch fd, told once */
  out->no_watch_events = call->task != NULL && !call->watch_events;
  call->watch_events = false;
  if (call->task == NULL) { /* a call of the sentry's own (tid 0) */
    out->tgid = getpid();
    out->ns_tid = out->ns_tgid = 0;
    return 0;
  }
  out->tgid = call->task->tgid;
  out->ns_tid = call->task->ns_tid;
  out->ns_tgid = call->task->ns_tgid;
  return 0;
}

static int call_ctx_getfd(struct vfs_ctx *ctx, int fd)
{
  return task_getfd(call_of(ctx), fd);
}

static void call_ctx_signal(struct vfs_ctx *ctx, int sig)
{
  task_signal(call_of(ctx), sig);
}

static void call_ctx_may_block(struct vfs_ctx *ctx)
{
  (void)ctx;
  sentry_may_block(); /* another receiver takes this one's place */
}

static void call_ctx_interruptible(struct vfs_ctx *ctx, bool on)
{
  (void)ctx;
  sentry_interruptible(on);
}

static int call_ctx_cwd_get(struct vfs_ctx *ctx, struct vfs_cwd *out)
{
  return task_cwd_get(call_of(ctx), out);
}

static void call_ctx_cwd_put(struct vfs_ctx *ctx, const struct vfs_cwd *in)
{
  task_cwd_put(call_of(ctx), in);
}

static void call_ctx_cwd_settle_ended(struct vfs_ctx *ctx)
{
  task_cwd_settle_exited(call_of(ctx));
}

static const struct vfs_caller_ops call_ops = {
    .validate = call_ctx_validate,
    .identify = call_ctx_identify,
    .getfd = call_ctx_getfd,
    .signal = call_ctx_signal,
    .may_block = call_ctx_may_block,
    .interruptible = call_ctx_interruptible,
    .cwd_get = call_ctx_cwd_get,
    .cwd_put = call_ctx_cwd_put,
    .cwd_settle_ended = call_ctx_cwd_settle_ended,
};

void sentry_call_init(struct sentry_call *call, struct sentry *s, uint64_t id, int nr, pid_t tid,
                      const uint64_t args[6])
{
  call->sentry = s;
  call->id = id;
  call->nr = nr;
  call->tid = tid;
  memcpy(call->args, args, sizeof call->args);
  call->task = NULL;
  call->watch_events = false;
  call->unchecked_reads = 0;
  call->audit_arg = NULL;
  call->audit_rule = NULL;
  call->rule_allowed = false;
  call->path[0][0] = call->path[1][0] = '\0';
  call->path_read[0] = call->path_read[1] = false;
  call->fs = (struct vfs_ctx){.vfs = &s->vfs, .ops = &call_ops, .tid = tid, .owner = call};
}
