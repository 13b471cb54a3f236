/* usbox exec [OPTIONS] [--] PROGRAM [ARGS...] */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/verbs.h"
#include "common/log.h"
#include "limits/limits.h"
#include "cli/exec_overlay.h"
#include "cli/exec_preset.h"
#include "platform/profile_filter.h"
#include "policy/policy.h"
#include "policy/preset.h"
#include "policy/seccomp_profile.h"
#include "sentry/supervisor.h"

static void usage(FILE *out)
{
  fprintf(out,
          "usage: usbox exec [OPTIONS] [--] PROGRAM [ARGS...]\n"
          "\n"
          "Run PROGRAM in the sandbox. The host is visible read-only, /tmp is private,\n"
          "the home is copy-on-write (writes kept in memory, gone at exit),\n"
          "secrets (~/.ssh, ~/.aws, ~/.npmrc, histories, /etc/shadow, docker.sock, the\n"
          "ssh-agent, /run/user/UID, ...) do not exist.\n"
          "Its exit status is usbox's; killed by signal N gives 128+N; usbox's own errors\n"
          "give 125, a program that cannot be run 126, one that is not found 127.\n"
          "\n"
          "presets (the isolation guide's risk levels; options after one override it):\n"
          "  --preset LEVEL    low: only the program itself runs, the home read-only,\n"
          "                    1G/128 pids/1 CPU; medium: the current directory writable,\n"
          "                    4G/1024 pids; high: everything copy-on-write (--overlay),\n"
          "                    2G/256 pids/1 CPU, every decision audited; critical: only\n"
          "                    what --policy FILE lists (it must set limits and exec.allow)\n"
          "\n"
          "view:\n"
          "  --rw PATH[:DEST]  bind PATH writable (at DEST, default the same path)\n"
          "  --ro PATH[:DEST]  bind PATH read-only\n"
          "  --hide PATH       PATH does not exist in the sandbox (secret files and sockets\n"
          "                    are hidden by default; binding one shows it)\n"
          "  --tmpfs DEST      a fresh, private, writable directory at DEST\n"
          "  --policy FILE     read these settings from a JSON file (docs/policy.md)\n"
          "  --overlay[=MODE]  copy-on-write: what is not a --rw bind reads the host and\n"
          "                    writes to a layer of its own; the host is unchanged until\n"
          "                    `usbox commit` (docs/overlay.md). MODE: disk (default),\n"
          "                    memory[:SIZE] (a tmpfs, gone at exit), none\n"
          "  --session NAME    keep the overlay (on disk) as session NAME, or go on from\n"
          "                    it: usbox diff|commit|discard NAME, usbox sessions\n"
          "  --home MODE       the agent's $HOME: overlay (default: copy-on-write in memory,\n"
          "                    kept with --session; secrets in it stay hidden) or ro\n"
          "\n"
          "network (default: none but the sandbox's own loopback):\n"
          "  --net-allow HOST[:PORT][/any-protocol]  allow connections to HOST (IP, CIDR,\n"
          "                    localhost, name, *.domain) on PORT (N, A-B or *; default any);\n"
          "                    a name allows TCP that names it (TLS SNI, HTTP Host) unless\n"
          "                    /any-protocol; repeatable\n"
          "  --net MODE        filtered (default), none, or host (no filtering: unsafe)\n"
          "  --dns-upstream ADDR[:PORT]  resolver for allowed names (default: the host's)\n"
          "\n"
          "environment (default: usbox's, minus names that look secret: a word such as\n"
          "TOKEN, SECRET, PASSWORD or API_KEY in them, SSH_AUTH_SOCK, ...; docs/policy.md):\n"
          "  --env NAME=VALUE  set NAME; repeatable\n"
          "  --env NAME        pass usbox's NAME even if it looks secret\n"
          "  --unsetenv NAME   do not pass NAME\n"
          "  --clearenv        start from an empty environment (then only --env)\n"
          "\n"
          "process:\n"
          "  --cap-add CAP     keep capability CAP; repeatable;\n"
          "                    ALL keeps all but CAP_NET_ADMIN and CAP_NET_RAW, which stay\n"
          "                    dropped unless --net host (sockets moved to the host's\n"
          "                    network would act there with them)\n"
          "  --cap-drop CAP    do not keep CAP; ALL: none but those --cap-add names. A root\n"
          "                    agent keeps CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL and\n"
          "                    NET_BIND_SERVICE unless dropped: root in its writable places\n"
          "                    (the first four count nowhere else); others keep none\n"
          "  --hostname NAME   the sandbox's host name (default: usbox)\n"
          "  --chdir DIR       start the program in DIR (a path of the view); without it,\n"
          "                    the current directory, or the home if the view lacks it\n"
          "  --user USER[:GROUP]  run the program as USER (a number or a host name; no\n"
          "                    supplementary groups); needs usbox run as root\n"
          "  --seccomp-profile FILE  a Docker/OCI seccomp profile, on top of usbox's own\n"
          "                    filter: it can deny more calls, never allow one usbox denies\n"
          "  --exec-deny GLOB  refuse to run a program (or #! interpreter) whose real path\n"
          "                    matches GLOB (EACCES); repeatable. Rules are resolved in the\n"
          "                    view: --exec-deny /bin/sh refuses what /bin/sh leads to,\n"
          "                    by any name. * does not cross /, ** is any depth\n"
          "  --exec-allow GLOB run only programs and interpreters that match an allow rule\n"
          "                    (the program itself included); deny wins; repeatable\n"
          "\n"
          "limits (cgroup v2, else v1, else rlimits with a warning):\n"
          "  --memory SIZE     memory of the whole sandbox (512M, 2G); killed: exit 137\n"
          "  --pids N          processes and threads of the sandbox\n"
          "  --cpus N          CPUs' worth of time (0.5, 2)\n"
          "  --timeout SECS    wall time, then SIGTERM, then SIGKILL after the grace: exit 124\n"
          "  --timeout-grace SECS  between SIGTERM and SIGKILL (default 5)\n"
          "  --nofile N        open files per process\n"
          "  --limits MODE     strict (default: a limit that cannot be enforced is an error)\n"
          "                    or best-effort\n"
          "\n"
          "output:\n"
          "  --audit FILE      append one JSON line per sandbox decision to FILE (-: stderr)\n"
          "  --audit-max SIZE  stop writing it at SIZE (default 100M; the last line says so)\n"
          "  -v, --verbose     say how many variables were withheld; at exit, print the\n"
          "                    calls by decision and what was refused (hidden and missing\n"
          "                    paths, destinations, names), each with its rule\n"
          "                    (-vv: debug messages)\n"
          "  -q, --quiet       no warnings\n"
          "  -h, --help        this help\n");
}

enum {
  OPT_RW = 256,
  OPT_RO,
  OPT_HIDE,
  OPT_TMPFS,
  OPT_POLICY,
  OPT_AUDIT,
  OPT_AUDIT_MAX,
  OPT_NET_ALLOW,
  OPT_NET,
  OPT_DNS_UPSTREAM,
  OPT_CAP_ADD,
  OPT_CAP_DROP,
  OPT_HOSTNAME,
  OPT_USER,
  OPT_CHDIR,
  OPT_TESTONLY_PASS,
  OPT_TESTONLY_HOLD_WRITABLE,
  OPT_MEMORY,
  OPT_PIDS,
  OPT_CPUS,
  OPT_TIMEOUT,
  OPT_TIMEOUT_GRACE,
  OPT_NOFILE,
  OPT_LIMITS,
  OPT_ENV,
  OPT_UNSETENV,
  OPT_CLEARENV,
  OPT_SECCOMP_PROFILE,
  OPT_OVERLAY,
  OPT_SESSION,
  OPT_HOME,
  OPT_PRESET,
  OPT_EXEC_ALLOW,
  OPT_EXEC_DENY,
};

static int apply_option(struct policy *p, int opt, const char *arg, usbox_err_t *err)
{
  switch (opt) {
  case OPT_RW:
    return policy_add_bind(p, arg, true, err);
  case OPT_RO:
    return policy_add_bind(p, arg, false, err);
  case OPT_HIDE:
    return policy_add_hidden(p, arg, err);
  case OPT_TMPFS:
    return policy_add_tmpfs(p, arg, err);
  case OPT_POLICY:
    return policy_load_file(p, arg, err);
  case OPT_NET_ALLOW:
    return net_policy_add_allow(&p->net, arg, err);
  case OPT_NET:
    return net_policy_set_mode(&p->net, arg, err);
  case OPT_DNS_UPSTREAM:
    return net_policy_set_dns_upstream(&p->net, arg, err);
  case OPT_CAP_ADD:
    return policy_add_cap(p, arg, err);
  case OPT_CAP_DROP:
    return policy_drop_cap(p, arg, err);
  case OPT_HOSTNAME:
    return policy_set_hostname(p, arg, err);
  case OPT_USER:
    return policy_set_user(p, arg, err);
  case OPT_CHDIR:
    return policy_set_cwd(p, arg, err);
  case OPT_MEMORY:
    return limits_parse_memory(&p->limits, arg, err);
  case OPT_PIDS:
    return limits_parse_pids(&p->limits, arg, err);
  case OPT_CPUS:
    return limits_parse_cpus(&p->limits, arg, err);
  case OPT_TIMEOUT:
    return limits_parse_timeout(&p->limits, arg, err);
  case OPT_TIMEOUT_GRACE:
    return limits_parse_grace(&p->limits, arg, err);
  case OPT_NOFILE:
    return limits_parse_nofile(&p->limits, arg, err);
  case OPT_LIMITS:
    return limits_parse_mode(&p->limits, arg, err);
  case OPT_ENV:
    return env_policy_add(&p->env, arg, err);
  case OPT_UNSETENV:
    return env_policy_unset(&p->env, arg, err);
  case OPT_CLEARENV:
    p->env.clear = true;
    return 0;
  case OPT_SECCOMP_PROFILE:
    return policy_set_seccomp_profile(p, arg, err);
  case OPT_OVERLAY:
    return policy_set_overlay(p, arg, err);
  case OPT_HOME:
    return policy_set_home(p, arg, err);
  case OPT_PRESET:
    return policy_apply_preset(p, arg, err);
  case OPT_EXEC_ALLOW:
    return exec_rules_add(&p->exec, true, arg, "--exec-allow", err);
  case OPT_EXEC_DENY:
    return exec_rules_add(&p->exec, false, arg, "--exec-deny", err);
  }
  return 0;
}

/* The agent's environment, once, before anything starts; -v says how many
 * of usbox's variables it does not get, and -vv their names (never a
 * value). */
static int agent_environment(const struct policy *p, struct env_result *env, usbox_err_t *err)
{
  if (env_build(&p->env, environ, env, err) < 0)
    return -1;
  if (env->nwithheld > 0)
    usbox_info("the agent's environment: %zu secret-looking variable%s withheld "
               "(--env NAME passes one)",
               env->nwithheld, env->nwithheld == 1 ? "" : "s");
  for (size_t i = 0; i < env->nwithheld; i++)
    usbox_debug("withheld from the agent's environment: %.*s",
                (int)strcspn(env->withheld[i], "="), env->withheld[i]);
  return 0;
}

/* The seccomp profile, compiled once the agent's capabilities are known
 * (its includes/excludes name capabilities), before anything starts. */
static int seccomp_profile(const struct policy *p, struct bpf_program *out, unsigned *flags,
                           usbox_err_t *err)
{
  out->insns = NULL;
  out->len = 0;
  *flags = 0;
  if (p->seccomp_profile == NULL)
    return 0;
  struct seccomp_profile_source src = {.file = p->seccomp_profile, .name = p->seccomp_profile};
  return seccomp_profile_compile(&src, p->keep_caps, out, flags, err);
}

/* --TESTONLY-hold-writable MS (0-10000) */
static int parse_hold_ms(const char *arg, unsigned *out, usbox_err_t *err)
{
  char *end;
  errno = 0;
  unsigned long ms = strtoul(arg, &end, 10);
  if (arg[0] < '0' || arg[0] > '9' || errno != 0 || *end != '\0' || ms > 10000)
    return usbox_err_set(err, EINVAL, "--TESTONLY-hold-writable: not a number of ms up to 10000: %s",
                         arg);
  *out = (unsigned)ms;
  return 0;
}

static int run(int argc, char **argv, struct policy *policy)
{
  static const struct option options[] = {
      {"rw", required_argument, NULL, OPT_RW},
      {"ro", required_argument, NULL, OPT_RO},
      {"hide", required_argument, NULL, OPT_HIDE},
      {"tmpfs", required_argument, NULL, OPT_TMPFS},
      {"policy", required_argument, NULL, OPT_POLICY},
      {"net-allow", required_argument, NULL, OPT_NET_ALLOW},
      {"net", required_argument, NULL, OPT_NET},
      {"dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM},
      {"cap-add", required_argument, NULL, OPT_CAP_ADD},
      {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
      {"hostname", required_argument, NULL, OPT_HOSTNAME},
      {"user", required_argument, NULL, OPT_USER},
      {"chdir", required_argument, NULL, OPT_CHDIR},
      {"TESTONLY-pass", required_argument, NULL, OPT_TESTONLY_PASS},
      {"TESTONLY-hold-writable", required_argument, NULL, OPT_TESTONLY_HOLD_WRITABLE},
      {"memory", required_argument, NULL, OPT_MEMORY},
      {"pids", required_argument, NULL, OPT_PIDS},
      {"cpus", required_argument, NULL, OPT_CPUS},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"timeout-grace", required_argument, NULL, OPT_TIMEOUT_GRACE},
      {"nofile", required_argument, NULL, OPT_NOFILE},
      {"limits", required_argument, NULL, OPT_LIMITS},
      {"env", required_argument, NULL, OPT_ENV},
      {"unsetenv", required_argument, NULL, OPT_UNSETENV},
      {"clearenv", no_argument, NULL, OPT_CLEARENV},
      {"seccomp-profile", required_argument, NULL, OPT_SECCOMP_PROFILE},
      {"overlay", optional_argument, NULL, OPT_OVERLAY},
      {"session", required_argument, NULL, OPT_SESSION},
      {"home", required_argument, NULL, OPT_HOME},
      {"preset", required_argument, NULL, OPT_PRESET},
      {"exec-allow", required_argument, NULL, OPT_EXEC_ALLOW},
      {"exec-deny", required_argument, NULL, OPT_EXEC_DENY},
      {"audit", required_argument, NULL, OPT_AUDIT},
      {"audit-max", required_argument, NULL, OPT_AUDIT_MAX},
      {"verbose", no_argument, NULL, 'v'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct exec_config cfg = {.policy = policy};
  struct overlay_run overlay = {0};
  policy->overlay.cow_home = true; /* --home ro, or a policy's "home", says otherwise */
  int verbosity = 1;
  usbox_err_t err = {0};
  opterr = 0;
  optind = 1;
  int c;
  /* "+": options end at the program's name, so its own flags stay its own */
  while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
    switch (c) {
    case 'v':
      verbosity++;
      break;
    case 'q':
      verbosity = 0;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case OPT_AUDIT:
      cfg.audit_path = optarg;
      break;
    case OPT_AUDIT_MAX:
      if (limits_parse_size("--audit-max", optarg, &cfg.audit_max, &err) < 0) {
        usbox_err_print(&err);
        return USBOX_EXIT_ERROR;
      }
      break;
    case OPT_SESSION:
      overlay.session_name = optarg;
      break;
    case OPT_TESTONLY_PASS: /* undocumented in usage: docs/cli.md says why */
      cfg.test_pass = optarg;
      break;
    case OPT_TESTONLY_HOLD_WRITABLE: /* the same */
      if (parse_hold_ms(optarg, &cfg.test_hold_writable_ms, &err) < 0) {
        usbox_err_print(&err);
        return USBOX_EXIT_ERROR;
      }
      break;
    case OPT_RW:
    case OPT_RO:
    case OPT_HIDE:
    case OPT_TMPFS:
    case OPT_POLICY:
    case OPT_NET_ALLOW:
    case OPT_NET:
    case OPT_DNS_UPSTREAM:
    case OPT_CAP_ADD:
    case OPT_CAP_DROP:
    case OPT_HOSTNAME:
    case OPT_USER:
    case OPT_CHDIR:
    case OPT_MEMORY:
    case OPT_PIDS:
    case OPT_CPUS:
    case OPT_TIMEOUT:
    case OPT_TIMEOUT_GRACE:
    case OPT_NOFILE:
    case OPT_LIMITS:
    case OPT_ENV:
    case OPT_UNSETENV:
    case OPT_CLEARENV:
    case OPT_SECCOMP_PROFILE:
    case OPT_OVERLAY:
    case OPT_HOME:
    case OPT_PRESET:
    case OPT_EXEC_ALLOW:
    case OPT_EXEC_DENY:
      if (apply_option(policy, c, optarg, &err) < 0) {
        usbox_err_print(&err);
        return USBOX_EXIT_ERROR;
      }
      break;
    default:
      if (optopt != 0 && optopt < 256)
        fprintf(stderr, "usbox: exec: option '-%c' is not known\n", optopt);
      else
        fprintf(stderr, "usbox: exec: option '%s' is not known or lacks its argument\n",
                argv[optind - 1]);
      return USBOX_EXIT_ERROR;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "usbox: exec: no program given (usage: usbox exec [OPTIONS] -- PROGRAM)\n");
    return USBOX_EXIT_ERROR;
  }
  usbox_verbosity = verbosity;
  usbox_phase("options read");
  /* the hidden rules are resolved on the host later, by supervisor_exec,
   * while the sandbox's first process makes its namespaces */
  if (overlay_run_prepare(policy, &overlay, &err) < 0 || net_policy_finish(policy, &err) < 0 ||
      policy_finish_rules(policy, &err) < 0) {
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  /* the agent runs as usbox's own user (root when usbox is), or --user's */
  bool as_user = policy->process.set_user;
  if (as_user && geteuid() != 0 && (policy->process.uid != geteuid() ||
                                    policy->process.gid != getegid())) {
    fprintf(stderr, "usbox: --user %u:%u: running the program as another user needs usbox run "
                    "as root\n", (unsigned)policy->process.uid, (unsigned)policy->process.gid);
    return USBOX_EXIT_ERROR;
  }
  policy_resolve_caps(policy, as_user ? policy->process.uid == 0 : geteuid() == 0);
  policy->process.ambient_caps = as_user && policy->process.uid != 0;
  usbox_phase("policy complete (but for the hidden paths)");
  struct env_result env;
  if (agent_environment(policy, &env, &err) < 0) {
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  char audit_buf[PATH_MAX];
  if (policy_check_preset(policy, &err) < 0 ||
      exec_preset_finish(policy, argv + optind, env.envp, &cfg.audit_path, audit_buf, &err) < 0) {
    env_result_free(&env);
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  struct bpf_program profile;
  if (seccomp_profile(policy, &profile, &cfg.profile_flags, &err) < 0) {
    env_result_free(&env);
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  cfg.profile = profile.insns != NULL ? &profile : NULL;
  cfg.count_denials = verbosity >= 2;
  cfg.argv = argv + optind;
  cfg.envp = env.envp;
  cfg.expand_hidden = policy;
  /* the last step before the start: a session is made or locked here */
  int code = overlay_run_start(policy, &overlay, &err) < 0 ? (usbox_err_print(&err), USBOX_EXIT_ERROR)
                                                          : supervisor_exec(&cfg);
  overlay_run_end(&overlay, code, verbosity >= 2);
  env_result_free(&env);
  usbox_filter_free(&profile);
  return code;
}

int cmd_exec(int argc, char **argv)
{
  if (cli_exec_is_oci(argc, argv))
    return cmd_exec_oci(argc, argv);
  struct policy policy;
  policy_init(&policy);
  int code = run(argc, argv, &policy);
  policy_free(&policy);
  return code;
}
