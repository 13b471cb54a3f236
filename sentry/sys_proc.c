/* Process family. */
#include <errno.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

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

/* adjtimex, clock_adjtime: reading the clock's state is anyone's right
 * natively, changing it needs CAP_SYS_TIME, which the agent never has for
 * the host's clock. The sentry reads the struct once, and for a query
 * (modes 0, or ADJ_OFFSET_SS_READ) asks the kernel on its own copy, which
 * changes nothing, and writes the answer back; anything else gets the
 * kernel's answer to a caller without the right (timekeeping_validate_timex:
 * EINVAL for ADJ_ADJTIME without SINGLESHOT, else EPERM). */
struct sc_result sys_adjtimex(struct sentry_call *call)
{
  bool clock = call->nr == SYS_clock_adjtime;
  uint64_t addr = call->args[clock ? 1 : 0];
  struct timex tx;
  int r = agent_read(call, addr, &tx, sizeof tx);
  if (r < 0)
    return sc_errno(-r);
  /* the kernel's own bits: ADJ_ADJTIME 0x8000, its single-shot 0x0001 */
  if (tx.modes != 0 && tx.modes != ADJ_OFFSET_SS_READ)
    return sc_errno((tx.modes & 0x8000) && !(tx.modes & 0x0001) ? EINVAL : EPERM);
  if (call_validate(call) < 0)
    return sc_gone();
  int state = clock ? (int)syscall(SYS_clock_adjtime, (clockid_t)ARG_INT(call, 0), &tx)
                    : adjtimex(&tx);
  if (state < 0)
    return sc_errno(errno);
  r = agent_write(call, addr, &tx, sizeof tx);
  return r < 0 ? sc_errno(-r) : sc_ok(state);
}
