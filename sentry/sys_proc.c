/* Process family. */
#include "sentry/sentry.h"
#include "sentry/sys_common.h"

/* umask, set*id, setgroups, capset: the kernel performs them. The sentry
 * only learns that the task's umask or credentials are about to change and
 * drops what it cached (task.h), so that its next file operation for any
 * agent thread re-reads them. No agent memory is read to decide anything,
 * so letting the kernel perform the call is safe (invariant 1). */
struct sc_result sys_cred_change(struct sentry_call *call)
{
  task_cache_invalidate(&call->sentry->tasks);
  return sc_kernel_must_perform();
}
