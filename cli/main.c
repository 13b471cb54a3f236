/* usbox: a userspace syscall-interception sandbox for AI agents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"
#include "gofer/gofer.h"
#include "oci/state.h"
#include "sentry/supervisor.h"

#ifndef USBOX_VERSION
#define USBOX_VERSION "0.1.0"
#endif

struct verb {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct verb verbs[] = {
    {"exec", cmd_exec, "run a program in the sandbox"},
    {"syscalls", cmd_syscalls, "print what the sandbox does with each system call"},
    {"check", cmd_check, "probe which layers of the sandbox this host supports"},
    {"diff", cmd_diff, "what an --overlay session changes on the host (docs/overlay.md)"},
    {"commit", cmd_commit, "apply an --overlay session's changes to the host"},
    {"discard", cmd_discard, "remove an --overlay session"},
    {"sessions", cmd_sessions, "list the --overlay sessions kept on this host"},
    {"policy", cmd_policy, "check a policy file, or show the default policy, as JSON"},
    {"create", cmd_create, "OCI: create a container from a bundle (docs/oci.md)"},
    {"start", cmd_start, "OCI: start a created container"},
    {"run", cmd_run, "OCI: create, start and wait for a container"},
    {"state", cmd_state, "OCI: a container's state as JSON"},
    {"kill", cmd_kill, "OCI: send a signal to a container"},
    {"delete", cmd_delete, "OCI: remove a stopped (or, forced, any) container"},
    {"list", cmd_list, "OCI: the containers"},
    {"ps", cmd_ps, "OCI: a container's processes"},
    {"spec", cmd_spec, "OCI: write a config.json to start from"},
    {"features", cmd_features, "OCI: what this runtime supports, as JSON"},
    {"pause", cmd_pause, "OCI: freeze a container's processes"},
    {"resume", cmd_resume, "OCI: thaw a paused container"},
    {"update", cmd_update, "OCI: change a running container's limits"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "show this help"},
};

struct oci_runtime cli_runtime = {.root = OCI_DEFAULT_ROOT};
bool cli_global_options_given;

const char *cli_container_id(const char *verb, int argc, char **argv, int optind)
{
  if (optind != argc - 1) {
    fprintf(stderr, "usbox: %s: %s container id\n", verb, optind >= argc ? "missing the" : "one");
    return NULL;
  }
  return argv[optind];
}

static int cmd_version(int argc, char **argv)
{
  (void)argc, (void)argv;
  printf("usbox %s\nspec: %s\n", USBOX_VERSION, OCI_VERSION);
  return 0;
}

static int cmd_help(int argc, char **argv)
{
  (void)argc, (void)argv;
  printf("usage: usbox [GLOBAL OPTIONS] VERB [OPTIONS] ...\n\nverbs:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
  printf("\nglobal options (runc's; for the OCI verbs):\n"
         "  --root DIR          container state (default " OCI_DEFAULT_ROOT ")\n"
         "  --log FILE          the runtime's log\n"
         "  --log-format FMT    text (default) or json\n"
         "  --debug             log more, also on stderr\n"
         "  --systemd-cgroup    accepted (usbox makes its own cgroups)\n"
         "\n`usbox VERB --help` describes a verb's options. Documentation: docs/cli.md, docs/oci.md\n");
  return 0;
}

/* "--name VALUE" or "--name=VALUE" (and "-name", as runc's flag parser
 * takes it): the value, advancing *i; NULL if argv[*i] is not that option. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
  const char *a = argv[*i] + (argv[*i][1] == '-' ? 2 : 1);
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
    return NULL;
  if (a[n] == '=')
    return a + n + 1;
  if (*i + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

/* runc's global options, before the verb. Returns the verb's index. */
static int global_options(int argc, char **argv)
{
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--help") != 0 &&
         strcmp(argv[i], "-h") != 0 && strcmp(argv[i], "--version") != 0 && strcmp(argv[i], "-v") != 0;
       i++) {
    bool missing = false;
    const char *v;
    const char *a = argv[i] + (argv[i][1] == '-' ? 2 : 1);
    if ((v = option_value(argc, argv, &i, "root", &missing)) != NULL)
      cli_runtime.root = v;
    else if ((v = option_value(argc, argv, &i, "log", &missing)) != NULL)
      cli_runtime.log = v;
    else if ((v = option_value(argc, argv, &i, "log-format", &missing)) != NULL) {
      if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
        fprintf(stderr, "usbox: --log-format must be text or json, not '%s'\n", v);
        return -1;
      }
      cli_runtime.log_json = strcmp(v, "json") == 0;
    } else if ((v = option_value(argc, argv, &i, "rootless", &missing)) != NULL ||
               (v = option_value(argc, argv, &i, "criu", &missing)) != NULL) {
      /* accepted: usbox decides rootless by itself; no checkpointing */
    } else if (strcmp(a, "debug") == 0) {
      cli_runtime.debug = true;
    } else if (strcmp(a, "systemd-cgroup") == 0) {
      /* accepted: usbox makes its own cgroups (docs/oci.md) */
    } else {
      fprintf(stderr, "usbox: global option '%s' is not known%s\n", argv[i],
              missing ? " or lacks its value" : "");
      return -1;
    }
  }
  return i;
}

int main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[0], GOFER_ARGV0) == 0)
    gofer_exec_main(argc, argv); /* started by a sandbox's gofer_fork */
  /* the gofer runs usbox's own program afresh after its fork */
  gofer_set_program("/proc/self/exe");
  int first = global_options(argc, argv);
  if (first < 0) /* runc's options: runc's exit code */
    return OCI_EXIT_ERROR;
  cli_global_options_given = first > 1;
  if (first >= argc) {
    cmd_help(0, NULL);
    return USBOX_EXIT_ERROR;
  }
  if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0)
    return cmd_help(0, NULL);
  if (strcmp(argv[first], "--version") == 0 || strcmp(argv[first], "-v") == 0)
    return cmd_version(0, NULL);
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[first], verbs[i].name) == 0)
      return verbs[i].run(argc - first, argv + first);
  fprintf(stderr, "usbox: unknown verb '%s' (try 'usbox help')\n", argv[first]);
  return USBOX_EXIT_ERROR;
}
