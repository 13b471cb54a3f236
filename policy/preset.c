#include "policy/preset.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* low: an API-only agent. It runs its own program and nothing else (no
 * shell, no other interpreter: exec.allow is the program, cmd_exec.c),
 * writes nowhere on the host (home read-only), reaches only the hosts
 * --net-allow names, in small limits. */
static void low(struct policy *p)
{
  p->overlay.cow_home = false;
  p->exec_program_only = true;
  p->limits.memory = 1ull << 30;
  p->limits.pids = 128;
  p->limits.cpus = 1;
}

/* medium: code execution in a workspace: the current directory writable,
 * the home copy-on-write, larger limits. */
static int medium(struct policy *p, usbox_err_t *err)
{
  p->overlay.cow_home = true;
  p->limits.memory = 4ull << 30;
  p->limits.pids = 1024;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL)
    return usbox_err_set(err, errno, "--preset medium: the current directory");
  for (size_t i = 0; i < p->nmounts; i++)
    if (p->mounts[i].dest != NULL && strcmp(p->mounts[i].dest, cwd) == 0)
      return 0; /* already said (a policy read back, or a flag before) */
  if (policy_add_bind(p, ".", true, err) < 0)
    return -1;
  p->mounts[p->nmounts - 1].from_preset = true;
  return 0;
}

/* high: shell access. Everything copy-on-write (a person reviews with usbox
 * diff), tight limits, every decision in the audit log. */
static void high(struct policy *p)
{
  p->overlay.mode = OVERLAY_DISK;
  p->limits.memory = 2ull << 30;
  p->limits.pids = 256;
  p->limits.cpus = 1;
  p->audit_all = true;
}

/* critical: nothing that an explicit policy does not list (checked when the
 * policy is complete: policy_check_preset), every decision audited. */
static void critical(struct policy *p)
{
  p->overlay.cow_home = false;
  p->default_hidden = true;
  p->audit_all = true;
}

int policy_apply_preset(struct policy *p, const char *name, usbox_err_t *err)
{
  snprintf(p->preset, sizeof p->preset, "%s", name);
  if (strcmp(name, "low") == 0)
    low(p);
  else if (strcmp(name, "medium") == 0)
    return medium(p, err);
  else if (strcmp(name, "high") == 0)
    high(p);
  else if (strcmp(name, "critical") == 0)
    critical(p);
  else
    return usbox_err_set(err, 0, "--preset %s: expected low, medium, high or critical", name);
  return 0;
}

int policy_check_preset(const struct policy *p, usbox_err_t *err)
{
  if (strcmp(p->preset, "critical") != 0)
    return 0;
  if (!p->from_file)
    return usbox_err_set(err, 0, "--preset critical: give the whole policy with --policy FILE");
  if (p->limits.memory == 0 || p->limits.pids == 0 || p->limits.timeout == 0)
    return usbox_err_set(err, 0, "--preset critical: the policy must set limits.memory, "
                                      "limits.pids and limits.timeout");
  if (p->exec.nallow == 0)
    return usbox_err_set(err, 0, "--preset critical: the policy must list the programs "
                                      "that may run (exec.allow)");
  if (p->net.mode == NET_MODE_HOST)
    return usbox_err_set(err, 0, "--preset critical: --net host is not allowed");
  return 0;
}
