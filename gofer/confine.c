#include "gofer/confine.h"

#include <errno.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "platform/seccomp_filter.h"

/* Debian 12's headers predate Landlock ABI 4-7: values from the kernel UAPI. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct ll_path_beneath {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

int landlock_abi(void)
{
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : (int)abi;
}

static uint64_t fs_rights(int abi)
{
  uint64_t r = (1ULL << 13) - 1; /* ABI 1: execute .. make_sym */
  if (abi >= 2)
    r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5)
    r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return r;
}

/* Files beneath the mounts only; nothing is executed, no device made. */
static int restrict_landlock(const struct gofer_mount *mounts, size_t n, usbox_err_t *err)
{
  int abi = landlock_abi();
  if (abi == 0) {
    usbox_warn("Landlock is not available: the gofer runs without it");
    return 0;
  }
  uint64_t handled = fs_rights(abi);
  struct ll_ruleset_attr attr = {.handled_access_fs = handled};
  size_t size = sizeof(uint64_t);
  if (abi >= 4) { /* no TCP at all */
    attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
    size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) { /* no signals to, no abstract sockets of, anything outside */
    attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0)
    return usbox_err_set(err, errno, "landlock_create_ruleset");
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
    struct ll_path_beneath rule = {
        .allowed_access = mounts[i].procfs
                              ? (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
                          : dir ? allowed
                                : file_rights,
        .parent_fd = mounts[i].fd,
    };
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0) {
      int e = errno;
      close(ruleset);
      return usbox_err_set(err, e, "landlock_add_rule for mount %zu", i);
    }
  }
  long r = syscall(SYS_landlock_restrict_self, ruleset, 0);
  int e = errno;
  close(ruleset);
  return r < 0 ? usbox_err_set(err, e, "landlock_restrict_self") : 0;
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
