/* The kernel backstops the agent's first process applies to itself (and so
 * to everything it starts) before the seccomp filter: Landlock restricted to
 * the view's read and write sets, and capabilities dropped. They hold if the
 * sentry ever passes to the kernel a call it should have decided itself. */
#ifndef USBOX_SENTRY_BACKSTOP_H
#define USBOX_SENTRY_BACKSTOP_H

#include <stdint.h>

#include "common/error.h"
#include "policy/policy.h"

/* Landlock over the view (after pivot_root, with no_new_privs set): the
 * whole view readable and executable, the writable mounts, /dev/shm and the
 * device nodes writable; with a filtered network no TCP bind or connect of
 * the agent's own (the sentry makes them); signals and abstract unix sockets
 * scoped to the sandbox. Without Landlock: a warning, and 0. Sets *abi. */
int backstop_landlock(const struct policy *p, int *abi, usbox_err_t *err);

/* Every capability not in keep (bit N = capability N) leaves the bounding,
 * ambient, inheritable, permitted and effective sets: a root agent is root
 * without privileges, and gets none back at execve. */
int backstop_drop_caps(uint64_t keep, const struct policy_process *proc, usbox_err_t *err);

/* The same for a process started in a running sandbox (sentry/init_ctl.h),
 * which may lack CAP_SETPCAP: then the bounding set is left as it is (the
 * permitted set, no_new_privs and usbox's own bounding set still hold). */
int backstop_reduce_caps(uint64_t keep, const struct policy_process *proc, usbox_err_t *err);

/* proc's uid, gid and groups (set_user), each set only where it differs. */
int backstop_switch_user(const struct policy_process *proc, usbox_err_t *err);

#endif
