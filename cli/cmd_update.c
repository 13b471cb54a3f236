/* usbox update [--resources FILE|-] [--memory N] [--pids-limit N]
 *              [--cpu-quota N] [--cpu-period N] ID
 * runc's update: a container's limits changed while it runs, in its own
 * cgroups (limits/cgroup.c). Engines pass a LinuxResources object
 * (--resources, "-" for stdin); its fields usbox does not apply are noted
 * in the log. A flag for a resource usbox does not limit is an error. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"
#include "common/cleanup.h"
#include "oci/spec.h"

enum { OPT_RESOURCES = 'r', OPT_MEMORY = 256, OPT_PIDS, OPT_QUOTA, OPT_PERIOD, OPT_UNSUPPORTED };

static void note_to_log(void *ctx, const char *fmt, ...)
{
  (void)ctx;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  oci_log(&cli_runtime, "warning", "%s", line);
}

/* a number for a flag: -1 (no limit) or more */
static int flag_number(const char *flag, const char *text, double *v, usbox_err_t *err)
{
  char *end;
  *v = strtod(text, &end);
  if (end == text || *end != '\0' || *v < -1)
    return usbox_err_set(err, EINVAL, "%s %s: not a number (-1: no limit)", flag, text);
  return 0;
}

struct flags {
  const char *resources;
  double quota, period;
  bool have_quota;
};

static int parse_flag(int c, const char *name, struct flags *f, struct oci_update *u,
                      usbox_err_t *err)
{
  double v;
  switch (c) {
  case OPT_RESOURCES: f->resources = optarg; return 0;
  case OPT_MEMORY:
    u->set[LIMITS_MEMORY] = true;
    if (strcmp(optarg, "-1") == 0)
      return u->limits.memory = 0, 0;
    return limits_parse_size("--memory", optarg, &u->limits.memory, err);
  case OPT_PIDS:
    if (flag_number("--pids-limit", optarg, &v, err) < 0)
      return -1;
    u->set[LIMITS_PIDS] = v != 0;
    u->limits.pids = v < 0 ? 0 : (long)v;
    return 0;
  case OPT_QUOTA:
    f->have_quota = true;
    return flag_number("--cpu-quota", optarg, &f->quota, err);
  case OPT_PERIOD: return flag_number("--cpu-period", optarg, &f->period, err);
  default:
    return usbox_err_set(err, 0, "update: --%s is not supported by usbox (docs/oci.md)", name);
  }
}

int cmd_update(int argc, char **argv)
{
  static const struct option options[] = {
      {"resources", required_argument, NULL, OPT_RESOURCES}, {"memory", required_argument, NULL, OPT_MEMORY},
      {"pids-limit", required_argument, NULL, OPT_PIDS}, {"cpu-quota", required_argument, NULL, OPT_QUOTA},
      {"cpu-period", required_argument, NULL, OPT_PERIOD},
      {"memory-swap", required_argument, NULL, OPT_UNSUPPORTED},
      {"memory-reservation", required_argument, NULL, OPT_UNSUPPORTED},
      {"kernel-memory", required_argument, NULL, OPT_UNSUPPORTED},
      {"kernel-memory-tcp", required_argument, NULL, OPT_UNSUPPORTED},
      {"cpu-share", required_argument, NULL, OPT_UNSUPPORTED},
      {"cpu-rt-period", required_argument, NULL, OPT_UNSUPPORTED},
      {"cpu-rt-runtime", required_argument, NULL, OPT_UNSUPPORTED},
      {"cpuset-cpus", required_argument, NULL, OPT_UNSUPPORTED},
      {"cpuset-mems", required_argument, NULL, OPT_UNSUPPORTED},
      {"blkio-weight", required_argument, NULL, OPT_UNSUPPORTED},
      {"l3-cache-schema", required_argument, NULL, OPT_UNSUPPORTED},
      {"mem-bw-schema", required_argument, NULL, OPT_UNSUPPORTED},
      {NULL, 0, NULL, 0}};
  struct flags f = {.period = 100000};
  struct oci_update u = {0};
  usbox_err_t err = {0};
  int c, index = 0;
  optind = 1;
  while ((c = getopt_long_only(argc, argv, "+r:", options, &index)) != -1)
    if (c == '?' || parse_flag(c, options[index].name, &f, &u, &err) < 0)
      return err.msg[0] != '\0' ? oci_fail(&cli_runtime, &err) : OCI_EXIT_ERROR;
  const char *id = cli_container_id("update", argc, argv, optind);
  if (id == NULL)
    return OCI_EXIT_ERROR;
  if (f.resources != NULL) {
    cleanup_free char *json = oci_read_text(f.resources, 1u << 20, &err);
    if (json == NULL || oci_update_parse(json, &u, note_to_log, NULL, &err) < 0)
      return oci_fail(&cli_runtime, &err);
  }
  if (f.have_quota && f.quota != 0) {
    u.set[LIMITS_CPU] = true;
    u.limits.cpus = f.quota < 0 ? 0 : f.quota / (f.period > 0 ? f.period : 100000);
  }
  return oci_update(&cli_runtime, id, &u, &err) < 0 ? oci_fail(&cli_runtime, &err) : 0;
}
