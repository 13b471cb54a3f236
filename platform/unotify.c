#include "platform/unotify.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/profile_filter.h"

int unotify_install(const struct bpf_program *prog, bool *killable)
{
  struct sock_fprog fprog = {.len = prog->len, .filter = prog->insns};
  /* WAIT_KILLABLE_RECV: once the sentry has received a call, ordinary
   * signals wait for its answer (SIGKILL still works). Without it a signal
   * arriving while the sentry performs, say, an O_EXCL create would make the
   * agent restart a call that already took effect. */
  unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  *killable = fd >= 0;
  if (fd < 0 && errno == EINVAL) /* kernel older than 5.19 */
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
  return fd < 0 ? -errno : (int)fd;
}

int unotify_install_profile(const struct bpf_program *prog, unsigned flags)
{
  struct sock_fprog fprog = {.len = prog->len, .filter = prog->insns};
  unsigned long f = (flags & PROFILE_FLAG_LOG) ? SECCOMP_FILTER_FLAG_LOG : 0;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, &fprog) < 0 ? -errno : 0;
}

int unotify_sizes(struct unotify_sizes *out)
{
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
    return -errno;
  /* The kernel's structs may be larger than this build's headers know. */
  out->notif = sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif
                                                                   : sizeof(struct seccomp_notif);
  out->resp = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
                  ? sizes.seccomp_notif_resp
                  : sizeof(struct seccomp_notif_resp);
  return 0;
}

int unotify_set_sync_wakeup(int listener)
{
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) < 0
             ? -errno
             : 0;
}

int unotify_recv(int listener, struct seccomp_notif *req)
{
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0 ? -errno : 0;
}

int unotify_id_valid(int listener, uint64_t id)
{
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 ? -errno : 0;
}

int unotify_respond(int listener, uint64_t id, int64_t val, int err, bool cont)
{
  struct seccomp_notif_resp resp = {
      .id = id,
      .val = cont ? 0 : val,
      .error = cont ? 0 : -err,
      .flags = cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0,
  };
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? -errno : 0;
}

static int addfd(int listener, uint64_t id, int srcfd, bool cloexec, uint32_t flags)
{
  struct seccomp_notif_addfd req = {
      .id = id,
      .flags = flags,
      .srcfd = (uint32_t)srcfd,
      .newfd = 0,
      .newfd_flags = cloexec ? O_CLOEXEC : 0,
  };
  int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &req);
  return r < 0 ? -errno : r;
}

int unotify_addfd_send(int listener, uint64_t id, int srcfd, bool cloexec)
{
  return addfd(listener, id, srcfd, cloexec, SECCOMP_ADDFD_FLAG_SEND);
}

int unotify_addfd(int listener, uint64_t id, int srcfd, bool cloexec)
{
  return addfd(listener, id, srcfd, cloexec, 0);
}
