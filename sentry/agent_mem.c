#include "sentry/agent_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/deputy.h"
#include "platform/unotify.h"
#include "sentry/sentry.h"
#include "sentry/task.h"

#define PAGE 4096u

/* process_vm_* checks ptrace access with the thread's real ids and, for
 * an agent of usbox's own uid, its permitted set: a lingering deputy
 * scope (common/deputy.h) passes that. Where the check wants more (an
 * agent of another uid, or one that is not dumpable: CAP_SYS_PTRACE in
 * the effective set), EPERM; then once more with the thread's own set. */
static ssize_t vm_read(pid_t tid, uint64_t addr, void *buf, size_t len)
{
  struct iovec local = {.iov_base = buf, .iov_len = len};
  struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
  ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  if (n < 0 && errno == EPERM && deputy_unlinger())
    n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  return n < 0 ? -errno : n;
}

ssize_t agent_read_string(struct sentry_call *call, uint64_t addr, char *buf, size_t size)
{
  call->unchecked_reads++;
  if (addr == 0)
    return -EFAULT;
  size_t got = 0;
  while (got < size) {
    /* never ask across a page boundary: the next page may be unmapped while
     * the string ends before it */
    size_t chunk = PAGE - (size_t)((addr + got) % PAGE);
    if (chunk > size - got)
      chunk = size - got;
    ssize_t n = vm_read(call->tid, addr + got, buf + got, chunk);
    if (n == -ESRCH)
      return -ESRCH;
    if (n <= 0)
      return -EFAULT;
    char *nul = memchr(buf + got, '\0', (size_t)n);
    if (nul != NULL)
      return nul - buf;
    got += (size_t)n;
    if ((size_t)n < chunk)
      return -EFAULT;
  }
  return -ENAMETOOLONG;
}

ssize_t agent_read_path(struct sentry_call *call, int slot, uint64_t addr)
{
  char *buf = call->path[slot];
  ssize_t n = agent_read_string(call, addr, buf, sizeof call->path[slot]);
  if (n < 0)
    buf[0] = '\0';
  if (slot == 0)
    call->audit_arg = buf;
  return n;
}

int agent_read(struct sentry_call *call, uint64_t addr, void *buf, size_t len)
{
  call->unchecked_reads++;
  ssize_t n = vm_read(call->tid, addr, buf, len);
  if (n == -ESRCH)
    return -ESRCH;
  return n == (ssize_t)len ? 0 : -EFAULT;
}

int agent_write(struct sentry_call *call, uint64_t addr, const void *buf, size_t len)
{
  if (len == 0)
    return 0;
  struct iovec local = {.iov_base = (void *)buf, .iov_len = len};
  struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
  ssize_t n = process_vm_writev(call->tid, &local, 1, &remote, 1, 0);
  if (n < 0 && errno == EPERM && deputy_unlinger()) /* as vm_read */
    n = process_vm_writev(call->tid, &local, 1, &remote, 1, 0);
  if (n < 0 && errno == ESRCH)
    return -ESRCH;
  return n == (ssize_t)len ? 0 : -EFAULT;
}

int call_validate(struct sentry_call *call)
{
  if (call->unchecked_reads == 0)
    return 0;
  /* The caller's record, looked up now, after the reads: its check proves
   * them as ID_VALID would (call_task), and a record read now is proven by
   * an ID_VALID that follows its pidfd_open. A record looked up before the
   * reads proves nothing of them: ID_VALID. */
  if (call->task == NULL && call->tid != 0) {
    if (call_task(call) == -ESRCH)
      return -ENOENT;
    if (call->unchecked_reads == 0)
      return 0;
  }
  int r = unotify_id_valid(call->sentry->listener, call->id);
  if (r == 0)
    call->unchecked_reads = 0;
  return r;
}
