/* usbox itself (an OCI monitor: the sentry and the gofer it forks, the
 * sandbox's first process) moves into the container's user namespace
 * once the work that needs the host's root is done (supervisor.c). The
 * kernel then gives every host operation done for the agent (invariant 2)
 * exactly the rights of the agent's ids and capabilities there: a
 * capability counts only over files whose owner the maps reach, and ids
 * are shown as the agent sees them. */
#include "sentry/supervisor.h"

#include <errno.h>
#include <sys/resource.h>

#include "limits/limits.h"
#include "sentry/launch.h"

/* What the agent may be given that only the host's root may grant, and
 * which the namespace's root no longer can: room under the hard rlimits
 * the process asks (set to the letter in the agent, launch.c), and an
 * oom_score_adj below the present one. Both go to usbox itself first;
 * its children inherit them. Safe: the values are the engine's
 * config.json's, as runc sets them for the container's init. */
static int grant_before(const struct policy_process *proc, usbox_err_t *err)
{
  for (size_t i = 0; i < proc->nrlimits; i++) {
    struct rlimit now;
    if (getrlimit(proc->rlimits[i].resource, &now) < 0)
      return usbox_err_set(err, errno, "getrlimit %d", proc->rlimits[i].resource);
    if (now.rlim_max != RLIM_INFINITY &&
        (proc->rlimits[i].hard == RLIM_INFINITY || proc->rlimits[i].hard > now.rlim_max)) {
      now.rlim_max = proc->rlimits[i].hard;
      if (setrlimit(proc->rlimits[i].resource, &now) < 0)
        return usbox_err_set(err, errno, "raising the hard rlimit %d", proc->rlimits[i].resource);
    }
  }
  /* a lowering needs the host's CAP_SYS_RESOURCE, held now (the sandbox's
   * first process sets the same value again: launch.c) */
  return proc->oom_score_adj < 0 ? launch_set_oom_score_adj(proc, err) : 0;
}

int supervisor_enter_userns(const struct exec_config *cfg, struct limits *limits,
                            usbox_err_t *err)
{
  const struct userns_config *u = cfg->userns;
  int64_t root_uid = userns_to_host(u->uid, u->nuid, 0);
  int64_t root_gid = userns_to_host(u->gid, u->ngid, 0);
  if (root_uid < 0 || root_gid < 0) /* the config's loader said so already */
    return usbox_err_set(err, EINVAL, "the user namespace maps no uid or gid 0");
  if (grant_before(&cfg->policy->process, err) < 0 ||
      limits_delegate(limits, (uid_t)root_uid, (gid_t)root_gid, err) < 0 ||
      userns_enter(u, err) < 0)
    return -1;
  if (cfg->gate != NULL && cfg->gate->in_userns != NULL)
    return cfg->gate->in_userns(cfg->gate->ctx, err);
  return 0;
}
