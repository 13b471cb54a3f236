/* The fields usbox takes from /proc/TID/status: a thread's ids as the
 * kernel numbers them, its umask, credentials and effective capabilities.
 * Read by the sentry (what it acts as for an agent thread, sentry/task.c)
 * and by the VFS (whether one sandbox process may look into another's
 * guarded /proc entries, vfs/proc.c). */
#ifndef USBOX_COMMON_PROC_STATUS_H
#define USBOX_COMMON_PROC_STATUS_H

#include <stdint.h>
#include <sys/types.h>

#define PROC_MAX_GROUPS 64

struct proc_ids {
  uid_t uid, euid, suid, fsuid;
  gid_t gid, egid, sgid, fsgid;
  int ngroups; /* -1: more than PROC_MAX_GROUPS (usbox then refuses to act) */
  gid_t groups[PROC_MAX_GROUPS];
};

struct proc_status {
  pid_t tgid;
  pid_t ns_tid, ns_tgid; /* in the innermost pid namespace (tgid when there is one) */
  mode_t umask;
  struct proc_ids creds;
  uint64_t cap_eff;
};

/* Parse a /proc/PID/status text: 0, or -EINVAL when a field usbox needs
 * (Tgid, Umask, Uid, Gid, Groups) is missing or malformed. */
int proc_status_parse(const char *text, struct proc_status *out);

#endif
