/* Process family. */
#include <errno.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"
#include "sentry/task.h"

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
/* Setting the host clock is never the agent's (EPERM, as without
 * CAP_SYS_TIME), but the kernel checks the arguments first, in this order
 * (kernel/time/time.c, settimeofday and do_sys_settimeofday64): the
 * timeval is read (EFAULT), its microseconds checked (EINVAL), the
 * timezone read (EFAULT), the seconds checked (EINVAL), then the right.
 * Nothing is performed: only what the sentry read decides the errno. */
static int settime_errno(struct sentry_call *call, uint64_t tv_addr, uint64_t tz_addr, bool nsec)
{
  struct {
    int64_t sec, frac;
  } tv;
  int r = tv_addr != 0 ? agent_read(call, tv_addr, &tv, sizeof tv) : 0;
  if (r < 0)
    return -r;
  int64_t frac_max = nsec ? 1000000000 : 1000000;
  if (tv_addr != 0 && (tv.frac < 0 || tv.frac >= frac_max))
    return EINVAL;
  struct timezone tz;
  if (tz_addr != 0 && (r = agent_read(call, tz_addr, &tz, sizeof tz)) < 0)
    return -r;
  /* timespec64_valid_settod: no negative time, nothing past the end of
   * ktime (KTIME_SEC_MAX less 30 years of headroom) */
  int64_t settod_max = INT64_MAX / 1000000000 - 30LL * 365 * 86400;
  if (tv_addr != 0 && (tv.sec < 0 || tv.sec >= settod_max))
    return EINVAL;
  return EPERM;
}

struct sc_result sys_settimeofday(struct sentry_call *call)
{
  return sc_errno(settime_errno(call, call->args[0], call->args[1], false));
}

/* clock_settime (kernel/time/posix-timers.c): a clock that cannot be set
 * is EINVAL before anything is read; CLOCK_REALTIME takes settimeofday's
 * checks; a CPU clock (negative ids) is never set (EPERM), and a clock
 * named by an fd (CLOCKFD) is one the sandbox cannot hold (a device):
 * EINVAL, as for an fd that is no clock. */
struct sc_result sys_clock_settime(struct sentry_call *call)
{
  clockid_t which = (clockid_t)ARG_INT(call, 0);
  if (which != CLOCK_REALTIME && which >= 0)
    return sc_errno(EINVAL);
  if (which < 0) {
    struct timespec ts;
    int r = agent_read(call, call->args[1], &ts, sizeof ts);
    return sc_errno(r < 0 ? -r : (which & 7) == 3 /* CLOCKFD */ ? EINVAL : EPERM);
  }
  return sc_errno(settime_errno(call, call->args[1], 0, true));
}

/* setns: namespaces are the sandbox's (invariant 4), so the answer is
 * EPERM, the kernel's to a caller without the right; but the kernel first
 * looks at the fd (EBADF; EINVAL if it is neither a namespace file nor a
 * pidfd) and the flags (EINVAL if they name another namespace type than
 * the file, or none a pidfd takes). Asked of the sentry's copy of the fd:
 * NS_GET_NSTYPE and fstatfs change nothing. */
#define SETNS_FLAGS                                                                                \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWPID |      \
   CLONE_NEWCGROUP | CLONE_NEWTIME)
#define PIDFS_MAGIC 0x50494446

struct sc_result sys_setns(struct sentry_call *call)
{
  int fd = ARG_INT(call, 0), flags = ARG_INT(call, 1);
  cleanup_close int held = fd < 0 ? -EBADF : task_getfd(call, fd);
  if (held < 0)
    return held == -ESRCH ? sc_gone() : sc_errno(EBADF);
  int type = ioctl(held, NS_GET_NSTYPE);
  if (type >= 0)
    return sc_errno(flags != 0 && flags != type ? EINVAL : EPERM);
  struct statfs sf;
  if (fstatfs(held, &sf) == 0 && sf.f_type == PIDFS_MAGIC)
    return sc_errno(flags == 0 || (flags & ~SETNS_FLAGS) ? EINVAL : EPERM);
  return sc_errno(EINVAL);
}

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

/* ---- kernel keys: add_key, request_key ----
 * Keyrings are shared with the host (invariant 4): EPERM, as for a caller
 * the kernel refuses; but the kernel reads the arguments first
 * (security/keys/keyctl.c), so a bad pointer is EFAULT and a bad string
 * EINVAL before that. Only what the sentry read decides the errno. */
#define KEY_STRING_MAX 4096 /* KEY_MAX_DESC_SIZE, PAGE_SIZE */

/* key_get_type_from_user: 1-31 characters, not starting with '.' */
static int key_type_errno(struct sentry_call *call, uint64_t addr, char type[32])
{
  ssize_t n = agent_read_string(call, addr, type, 32);
  if (n == -ESRCH)
    return ESRCH;
  if (n == -ENAMETOOLONG || n == 0)
    return EINVAL;
  if (n < 0)
    return EFAULT;
  return type[0] == '.' ? EPERM : 0;
}

/* strndup_user: EFAULT, or EINVAL past max; *first its first character */
static int key_string_errno(struct sentry_call *call, uint64_t addr, char *first)
{
  static __thread char buf[KEY_STRING_MAX + 1];
  ssize_t n = agent_read_string(call, addr, buf, sizeof buf);
  if (n == -ESRCH)
    return ESRCH;
  if (n == -ENAMETOOLONG)
    return EINVAL;
  if (n < 0)
    return EFAULT;
  *first = buf[0];
  return 0;
}

/* copy_from_user of the whole payload: EFAULT if any page is unreadable */
static int key_payload_errno(struct sentry_call *call, uint64_t addr, uint64_t len)
{
  char probe;
  for (uint64_t off = 0; off < len; off = (off | 4095) + 1) {
    int r = agent_read(call, addr + off, &probe, 1);
    if (r < 0)
      return r == -ESRCH ? ESRCH : EFAULT;
  }
  return len > 0 && agent_read(call, addr + len - 1, &probe, 1) < 0 ? EFAULT : 0;
}

static struct sc_result key_answer(int err)
{
  return err == ESRCH ? sc_gone() : sc_errno(err);
}

struct sc_result sys_add_key(struct sentry_call *call)
{
  char type[32], first = 0;
  uint64_t plen = call->args[3];
  if (plen > 1024 * 1024 - 1)
    return sc_errno(EINVAL);
  int e = key_type_errno(call, call->args[0], type);
  if (e == 0 && call->args[1] != 0 && (e = key_string_errno(call, call->args[1], &first)) == 0 &&
      first == '.' && strncmp(type, "keyring", 7) == 0)
    e = EPERM;
  if (e == 0 && call->args[2] != 0)
    e = key_payload_errno(call, call->args[2], plen);
  return key_answer(e != 0 ? e : EPERM);
}

struct sc_result sys_request_key(struct sentry_call *call)
{
  char type[32], first;
  int e = key_type_errno(call, call->args[0], type);
  if (e == 0)
    e = key_string_errno(call, call->args[1], &first);
  if (e == 0 && call->args[2] != 0)
    e = key_string_errno(call, call->args[2], &first);
  return key_answer(e != 0 ? e : EPERM);
}
