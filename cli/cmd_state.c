/* usbox state ID: the OCI state of a container as JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"
#include "oci/state.h"

int cmd_state(int argc, char **argv)
{
  const char *id = cli_container_id("state", argc, argv, 1);
  if (id == NULL)
    return OCI_EXIT_ERROR;
  usbox_err_t err = {0};
  struct oci_state st;
  if (oci_state_read(cli_runtime.root, id, &st, &err) < 0)
    return oci_fail(&cli_runtime, &err);
  char *text = oci_state_json(&st, oci_state_status(cli_runtime.root, &st));
  oci_state_free(&st);
  if (text == NULL)
    return OCI_EXIT_ERROR;
  printf("%s\n", text);
  free(text);
  return 0;
}
