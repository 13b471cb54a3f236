/* usbox pause ID / usbox resume ID: the container's processes frozen in
 * their cgroup (limits/freezer.h), and thawed. */
#include "cli/oci_args.h"
#include "cli/verbs.h"

static int pause_or_resume(const char *verb, int argc, char **argv, bool pause)
{
  const char *id = cli_container_id(verb, argc, argv, 1);
  if (id == NULL)
    return OCI_EXIT_ERROR;
  usbox_err_t err = {0};
  return oci_pause(&cli_runtime, id, pause, &err) < 0 ? oci_fail(&cli_runtime, &err) : 0;
}

int cmd_pause(int argc, char **argv)
{
  return pause_or_resume("pause", argc, argv, true);
}

int cmd_resume(int argc, char **argv)
{
  return pause_or_resume("resume", argc, argv, false);
}
