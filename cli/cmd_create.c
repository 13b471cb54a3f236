/* usbox create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] ID
 * usbox run [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] [--detach] ID
 * (runc's: `run` is create, start and, unless detached, wait and delete) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"

enum { OPT_BUNDLE = 256, OPT_PID_FILE, OPT_CONSOLE, OPT_NO_PIVOT, OPT_NO_KEYRING, OPT_PRESERVE,
       OPT_DETACH, OPT_KEEP };

static int parse(const char *verb, int argc, char **argv, struct oci_create_options *o,
                 bool *detach, bool *keep)
{
  static const struct option options[] = {
      {"bundle", required_argument, NULL, OPT_BUNDLE},  {"b", required_argument, NULL, OPT_BUNDLE},
      {"pid-file", required_argument, NULL, OPT_PID_FILE},
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},    {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
      {"detach", no_argument, NULL, OPT_DETACH},        {"d", no_argument, NULL, OPT_DETACH},
      {"keep", no_argument, NULL, OPT_KEEP},            {NULL, 0, NULL, 0},
  };
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long_only(argc, argv, "", options, NULL)) != -1) {
    switch (c) {
    case OPT_BUNDLE: o->bundle = optarg; break;
    case OPT_PID_FILE: o->pid_file = optarg; break;
    case OPT_CONSOLE: o->console_socket = optarg; break;
    case OPT_NO_PIVOT: /* usbox's view is always entered with pivot_root */
    case OPT_NO_KEYRING: /* keyctl is denied to the agent: no keyring either way */
      break;
    case OPT_PRESERVE: {
      usbox_err_t err = {0};
      if (oci_preserve_parse(optarg, &o->preserve_fds, &err) < 0) {
        oci_fail(&cli_runtime, &err);
        return -1;
      }
      break;
    }
    case OPT_DETACH:
      if (detach == NULL)
        goto unknown;
      *detach = true;
      break;
    case OPT_KEEP:
      if (keep == NULL)
        goto unknown;
      *keep = true;
      break;
    default:
    unknown:
      fprintf(stderr, "usbox: %s: option '%s' is not known or lacks its argument\n", verb,
              argv[optind - 1]);
      return -1;
    }
  }
  o->id = cli_container_id(verb, argc, argv, optind);
  return o->id == NULL ? -1 : 0;
}

int cmd_create(int argc, char **argv)
{
  struct oci_create_options o = {0};
  if (parse("create", argc, argv, &o, NULL, NULL) < 0)
    return OCI_EXIT_ERROR;
  usbox_err_t err = {0};
  pid_t monitor;
  if (oci_create(&cli_runtime, &o, &monitor, &err) < 0)
    return oci_fail(&cli_runtime, &err);
  return 0;
}

int cmd_run(int argc, char **argv)
{
  struct oci_create_options o = {0};
  bool detach = false, keep = false;
  if (parse("run", argc, argv, &o, &detach, &keep) < 0)
    return OCI_EXIT_ERROR;
  usbox_err_t err = {0};
  pid_t monitor;
  if (oci_create(&cli_runtime, &o, &monitor, &err) < 0)
    return oci_fail(&cli_runtime, &err);
  if (oci_start(&cli_runtime, o.id, &err) < 0) {
    oci_fail(&cli_runtime, &err);
    oci_delete(&cli_runtime, o.id, true, &err);
    return OCI_EXIT_ERROR;
  }
  if (detach)
    return 0;
  int status = 0;
  while (waitpid(monitor, &status, 0) < 0)
    ;
  if (!keep && oci_delete(&cli_runtime, o.id, false, &err) < 0)
    oci_fail(&cli_runtime, &err);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
