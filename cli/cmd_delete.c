/* usbox delete [--force] ID: the state goes, with whatever still runs when
 * forced. */
#include <getopt.h>
#include <stdio.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"

int cmd_delete(int argc, char **argv)
{
  static const struct option options[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  bool force = false;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long_only(argc, argv, "f", options, NULL)) != -1) {
    if (c != 'f') {
      fprintf(stderr, "usbox: delete: option '%s' is not known\n", argv[optind - 1]);
      return OCI_EXIT_ERROR;
    }
    force = true;
  }
  const char *id = cli_container_id("delete", argc, argv, optind);
  if (id == NULL)
    return OCI_EXIT_ERROR;
  usbox_err_t err = {0};
  return oci_delete(&cli_runtime, id, force, &err) < 0 ? oci_fail(&cli_runtime, &err) : 0;
}
