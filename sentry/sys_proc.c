/* Process family. */
#include <errno.h>
#include <sys/syscall.h>

#include "sentry/sentry.h"
#include "sentry/sys_common.h"

/* An id argument (a register: nothing of the agent's memory) that is
 * neither "unchanged" ((id_t)-1) nor the one id mapped. */
static bool foreign(uint64_t arg, uint32_t only)
{
  uint32_t id = (uint32_t)arg;
  return only != (uint32_t)-1 && id != (uint32_t)-1 && id != only;
}

/* sentry.h, only_uid: the ids a set*id call names, against the one mapped */
static bool names_foreign_id(const struct sentry_call *call)
{
  uint32_t u = (uint32_t)call->sentry->only_uid, g = (uint32_t)call->sentry->only_gid;
  const uint64_t *a = call->args;
  switch (call->nr) {
  case SYS_setuid: return foreign(a[0], u);
  case SYS_setreuid: return foreign(a[0], u) || foreign(a[1], u);
  case SYS_setresuid: return foreign(a[0], u) || foreign(a[1], u) || foreign(a[2], u);
  case SYS_setgid: return foreign(a[0], g);
  case SYS_setregid: return foreign(a[0], g) || foreign(a[1], g);
  case SYS_setresgid: return foreign(a[0], g) || foreign(a[1], g) || foreign(a[2], g);
  default: return false;
  }
}

/* umask, set*id, setgroups, capset: the kernel performs them. The sentry
 * only learns that the task's umask or credentials are about to change and
 * drops what it cached (task.h), so that its next file operation for any
 * agent thread re-reads them. No agent memory is read to decide anything,
 * so letting the kernel perform the call is safe (invariant 1). */
struct sc_result sys_cred_change(struct sentry_call *call)
{
  task_cache_invalidate(&call->sentry->tasks);
  if (names_foreign_id(call))
    return sc_errno(EPERM);
  return sc_kernel_must_perform();
}
