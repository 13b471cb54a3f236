/* usbox kill [--all] ID [SIGNAL]: SIGTERM by default, as runc. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"

int cmd_kill(int argc, char **argv)
{
  static const struct option options[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
  bool all = false;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long_only(argc, argv, "a", options, NULL)) != -1) {
    if (c != 'a') {
      fprintf(stderr, "usbox: kill: option '%s' is not known\n", argv[optind - 1]);
      return OCI_EXIT_ERROR;
    }
    all = true;
  }
  if (optind >= argc || optind + 2 < argc) {
    fprintf(stderr, "usbox: kill: usage: usbox kill [--all] ID [SIGNAL]\n");
    return OCI_EXIT_ERROR;
  }
  const char *id = argv[optind];
  const char *name = optind + 1 < argc ? argv[optind + 1] : "TERM";
  int sig = oci_signal_number(name);
  usbox_err_t err = {0};
  if (sig < 0) {
    usbox_err_set(&err, 0, "unknown signal '%s'", name);
    return oci_fail(&cli_runtime, &err);
  }
  return oci_kill(&cli_runtime, id, sig, all, &err) < 0 ? oci_fail(&cli_runtime, &err) : 0;
}
