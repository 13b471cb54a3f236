/* usbox start ID: the created container's process runs. */
#include "cli/oci_args.h"
#include "cli/verbs.h"

int cmd_start(int argc, char **argv)
{
  const char *id = cli_container_id("start", argc, argv, 1);
  if (id == NULL)
    return OCI_EXIT_ERROR;
  usbox_err_t err = {0};
  return oci_start(&cli_runtime, id, &err) < 0 ? oci_fail(&cli_runtime, &err) : 0;
}
