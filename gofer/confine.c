#include "gofer/confine.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/landlock.h"
#include "common/log.h"
#include "platform/seccomp_filter.h"

/* Files beneath the mounts only; nothing is executed, no device made. */
static int restrict_landlock(const struct gofer_mount *mounts, size_t n, usbox_err_t *err)
{
  int abi = landlock_abi();
  if (abi == 0) {
    usbox_warn("Landlock is not available: the gofer runs without it");
    return 0;
  }
  uint64_t handled = landlock_fs_rights(abi);
  /* no TCP at all; no signals to, no abstract sockets of, anything outside */
  int ruleset = landlock_ruleset(abi, true, true, err);
  if (ruleset < 0)
    return -1;
  uint64_t allowed = handled & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                                 LANDLOCK_ACCESS_FS_MAKE_BLOCK);
  /* a bound file takes only the rights a file can have */
  uint64_t file_rights = handled & (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                    LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV);
  for (size_t i = 0; i < n; i++) {
    if (mounts[i].fd < 0)
      continue; /* a mount served elsewhere (/proc: by the sentry) */
    struct stat st;
    bool dir = fstat(mounts[i].fd, &st) == 0 && S_ISDIR(st.st_mode);
    uint64_t rights = mounts[i].procfs ? (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
                      : dir              ? allowed
                                         : file_rights;
    if (landlock_allow(ruleset, abi, mounts[i].fd, rights, err) < 0) {
      close(ruleset);
      return usbox_err_wrap(err, "mount %zu", i);
    }
  }
  return landlock_enforce(ruleset, err);
}

int gofer_confine(const struct gofer_mount *mounts, size_t n, usbox_err_t *err)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return usbox_err_set(err, errno, "PR_SET_NO_NEW_PRIVS");
  if (restrict_landlock(mounts, n, err) < 0)
    return -1;
  struct bpf_program prog;
  usbox_filter_prebuilt_gofer(&prog);
  struct sock_fprog fprog = {.len = prog.len, .filter = prog.insns};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
    return usbox_err_set(err, errno, "installing the gofer's filter");
  return 0;
}
