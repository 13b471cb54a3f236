#include "sentry/backstop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/landlock.h"
#include "common/log.h"

/* Writable directories: everything but making device nodes. */
static uint64_t dir_write_rights(int abi)
{
  return landlock_fs_rights(abi) & ~(uint64_t)(LANDLOCK_ACCESS_FS_MAKE_CHAR |
                                               LANDLOCK_ACCESS_FS_MAKE_BLOCK);
}

/* rights beneath path, if path exists in the view */
static int allow_path(int ruleset, int abi, const char *path, uint64_t dir_rights,
                      usbox_err_t *err)
{
  cleanup_close int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : usbox_err_set(err, errno, "opening %s for Landlock", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return usbox_err_set(err, errno, "%s", path);
  uint64_t rights = S_ISDIR(st.st_mode) ? dir_rights : dir_rights & LL_FS_FILE;
  if (landlock_allow(ruleset, abi, fd, rights, err) < 0)
    return usbox_err_wrap(err, "%s", path);
  return 0;
}

/* POSIX message queues. mq_open opens a file of the IPC namespace's own
 * mqueue filesystem through the namespace's internal mount, which no path
 * of the view reaches, and Landlock checks that open as any other: without
 * a rule there it is EACCES. The sandbox's IPC namespace is its own
 * (entered before this), so its queues are only the sandbox's. A mount of
 * that filesystem made here (fsopen: the same superblock as the
 * namespace's internal mount and as the view's /dev/mqueue) gives its root
 * for the rule; it is never attached anywhere, and closed at once. No
 * mqueue in this kernel: nothing to allow. */
static int allow_mqueue(int ruleset, int abi, usbox_err_t *err)
{
  cleanup_close int fs = (int)syscall(SYS_fsopen, "mqueue", FSOPEN_CLOEXEC);
  if (fs < 0)
    return 0;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return usbox_err_set(err, errno, "making the sandbox's mqueue filesystem for Landlock");
  cleanup_close int root = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (root < 0)
    return usbox_err_set(err, errno, "making the sandbox's mqueue filesystem for Landlock");
  if (landlock_allow(ruleset, abi, root, dir_write_rights(abi), err) < 0)
    return usbox_err_wrap(err, "the sandbox's message queues");
  return 0;
}

/* An overlaid "/" (--overlay) is writable in the view, but /proc, /dev
 * and /sys are not part of it: a rule on "/" would reach them, so each of
 * its other top-level directories gets one instead. What the agent makes at
 * the top level itself is made by the gofer, not under this domain. */
static int allow_overlay_root(int ruleset, int abi, usbox_err_t *err)
{
  cleanup_closedir DIR *d = opendir("/");
  if (d == NULL)
    return usbox_err_set(err, errno, "listing the view's root");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    static const char *const skip[] = {".", "..", "proc", "dev", "sys", NULL};
    bool skipped = e->d_type != DT_DIR;
    for (size_t i = 0; skip[i] != NULL && !skipped; i++)
      skipped = strcmp(e->d_name, skip[i]) == 0;
    char path[NAME_MAX + 2];
    snprintf(path, sizeof path, "/%s", e->d_name);
    if (!skipped && allow_path(ruleset, abi, path, dir_write_rights(abi), err) < 0)
      return -1;
  }
  return 0;
}

int backstop_landlock(const struct policy *p, int *abi, usbox_err_t *err)
{
  *abi = landlock_abi();
  if (*abi == 0) {
    usbox_warn("Landlock is not available on this kernel: the agent runs without it");
    return 0;
  }
  bool filtered = p->net.mode != NET_MODE_HOST;
  int ruleset = landlock_ruleset(*abi, filtered, true, err);
  if (ruleset < 0)
    return -1;
  uint64_t devices = LL_FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                     LANDLOCK_ACCESS_FS_IOCTL_DEV;
  int r = allow_path(ruleset, *abi, "/", LL_FS_READ, err);
  for (size_t i = 0; r == 0 && i < p->nmounts; i++)
    if (p->mounts[i].overlay && p->mounts[i].writable && strcmp(p->mounts[i].dest, "/") == 0)
      r = allow_overlay_root(ruleset, *abi, err);
    else if (p->mounts[i].writable)
      r = allow_path(ruleset, *abi, p->mounts[i].dest, dir_write_rights(*abi), err);
  if (r == 0)
    r = allow_path(ruleset, *abi, "/dev", devices, err);
  if (r == 0)
    r = allow_path(ruleset, *abi, "/dev/shm", dir_write_rights(*abi), err);
  if (r == 0)
    r = allow_mqueue(ruleset, *abi, err);
  if (r < 0) {
    close(ruleset);
    return -1;
  }
  return landlock_enforce(ruleset, err);
}

static int last_cap(void)
{
  cleanup_close int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char text[16] = {0};
  if (fd < 0 || read(fd, text, sizeof text - 1) <= 0)
    return 40; /* CAP_CHECKPOINT_RESTORE, the last one of 6.x kernels */
  return atoi(text);
}

/* The agent's own ids (an OCI process.user): set while this process still
 * has CAP_SETUID and CAP_SETGID, after the bounding set is cut. A uid other
 * than 0 clears the permitted and effective sets (no SECBIT_KEEP_CAPS), so
 * the agent never holds more than root of the sandbox would keep. */
static bool has_effective(int cap)
{
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  return syscall(SYS_capget, &h, d) == 0 && (d[cap / 32].effective & (1u << (cap % 32))) != 0;
}

/* The supplementary groups are already these (in this order). */
static bool same_groups(const struct policy_process *proc)
{
  gid_t now[POLICY_MAX_GROUPS];
  int n = getgroups(POLICY_MAX_GROUPS, now);
  if (n < 0 || (size_t)n != proc->ngroups)
    return false;
  return proc->ngroups == 0 || memcmp(now, proc->groups, proc->ngroups * sizeof now[0]) == 0;
}

/* Each id is set only where it differs: a process started in a running
 * container (sentry/init_ctl.h) as the container's own user needs no
 * CAP_SETUID or CAP_SETGID to stay who it is. */
int backstop_switch_user(const struct policy_process *proc, usbox_err_t *err)
{
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
    return usbox_err_set(err, errno, "getresuid");
  if (!same_groups(proc) && setgroups(proc->ngroups, proc->groups) < 0)
    return usbox_err_set(err, errno, "setting the agent's groups");
  if ((rg != proc->gid || eg != proc->gid || sg != proc->gid) &&
      setresgid(proc->gid, proc->gid, proc->gid) < 0)
    return usbox_err_set(err, errno, "setting the agent's gid %u", (unsigned)proc->gid);
  if ((ru != proc->uid || eu != proc->uid || su != proc->uid) &&
      setresuid(proc->uid, proc->uid, proc->uid) < 0)
    return usbox_err_set(err, errno, "setting the agent's uid %u", (unsigned)proc->uid);
  return 0;
}

static int drop_caps(uint64_t keep, const struct policy_process *proc, bool bounding_if_allowed,
                     usbox_err_t *err)
{
  int last = last_cap();
  /* without CAP_SETPCAP the bounding set stays: with no_new_privs nothing
   * regains a capability past the permitted set at execve anyway */
  if (bounding_if_allowed && !has_effective(CAP_SETPCAP))
    last = -1;
  /* the bounding set first: it needs CAP_SETPCAP, which goes last */
  /* (one already out of it is skipped: dropping needs CAP_SETPCAP even
   * then) */
  for (int cap = 0; cap <= last && cap < 64; cap++)
    if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0 &&
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      return usbox_err_set(err, errno, "dropping capability %d from the bounding set", cap);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return usbox_err_set(err, errno, "clearing the ambient capabilities");
  bool ambient = proc != NULL && proc->set_user && proc->ambient_caps && keep != 0;
  /* a switch away from uid 0 clears the permitted set unless told to keep
   * it (the effective set is made again below) */
  if (ambient && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return usbox_err_set(err, errno, "PR_SET_KEEPCAPS");
  if (proc != NULL && proc->set_user && backstop_switch_user(proc, err) < 0)
    return -1;
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0)
    return usbox_err_set(err, errno, "capget");
  for (int i = 0; i < 2; i++) {
    uint32_t k = (uint32_t)(keep >> (32 * i));
    d[i].permitted &= k;
    /* a non-root program keeps them through execve only as ambient ones,
     * which must be inheritable and permitted */
    d[i].effective = ambient ? d[i].permitted : d[i].effective & k;
    d[i].inheritable = ambient ? d[i].permitted : d[i].inheritable & k;
  }
  if (syscall(SYS_capset, &h, d) < 0)
    return usbox_err_set(err, errno, "capset");
  for (int cap = 0; ambient && cap < 64; cap++)
    if ((keep & (1ull << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 &&
        errno != EINVAL && errno != EPERM)
      return usbox_err_set(err, errno, "keeping capability %d for the agent's user", cap);
  if (ambient)
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  return 0;
}

int backstop_drop_caps(uint64_t keep, const struct policy_process *proc, usbox_err_t *err)
{
  return drop_caps(keep, proc, false, err);
}

int backstop_reduce_caps(uint64_t keep, const struct policy_process *proc, usbox_err_t *err)
{
  return drop_caps(keep, proc, true, err);
}
