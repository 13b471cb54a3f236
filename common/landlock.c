#include "common/landlock.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

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

uint64_t landlock_fs_rights(int abi)
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

int landlock_ruleset(int abi, bool handle_tcp, bool scoped, usbox_err_t *err)
{
  struct ll_ruleset_attr attr = {.handled_access_fs = landlock_fs_rights(abi)};
  size_t size = sizeof(uint64_t);
  if (abi >= 4 && handle_tcp) {
    attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
    size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6 && scoped) {
    attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
    size = sizeof attr;
  }
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0)
    return usbox_err_set(err, errno, "landlock_create_ruleset");
  return ruleset;
}

int landlock_allow(int ruleset, int abi, int fd, uint64_t rights, usbox_err_t *err)
{
  struct ll_path_beneath rule = {.allowed_access = rights & landlock_fs_rights(abi),
                                 .parent_fd = fd};
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
    return usbox_err_set(err, errno, "landlock_add_rule");
  return 0;
}

int landlock_enforce(int ruleset, usbox_err_t *err)
{
  long r = syscall(SYS_landlock_restrict_self, ruleset, 0);
  int e = errno;
  close(ruleset);
  return r < 0 ? usbox_err_set(err, e, "landlock_restrict_self") : 0;
}
