/* usbox list [--format table|json] [--quiet]: the containers under --root.
 * usbox ps [--format table|json] ID: the pids of one. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"
#include "oci/state.h"

static int parse_format(const char *verb, int argc, char **argv, bool *json, bool *quiet)
{
  static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {NULL, 0, NULL, 0}};
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long_only(argc, argv, "f:q", options, NULL)) != -1) {
    if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0)) {
      *json = strcmp(optarg, "json") == 0;
    } else if (c == 'q' && quiet != NULL) {
      *quiet = true;
    } else {
      fprintf(stderr, "usbox: %s: option '%s' is not known (--format table|json%s)\n", verb,
              argv[optind - 1], quiet != NULL ? ", --quiet" : "");
      return -1;
    }
  }
  return 0;
}

int cmd_list(int argc, char **argv)
{
  bool json = false, quiet = false;
  if (parse_format("list", argc, argv, &json, &quiet) < 0)
    return OCI_EXIT_ERROR;
  size_t n;
  char **ids = oci_state_list(cli_runtime.root, &n);
  cJSON *all = cJSON_CreateArray();
  if (!json && !quiet)
    printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  for (size_t i = 0; i < n; i++) {
    struct oci_state st;
    usbox_err_t err;
    if (oci_state_read(cli_runtime.root, ids[i], &st, &err) == 0) {
      enum oci_status status = oci_state_status(cli_runtime.root, &st);
      char *text = oci_state_json(&st, status);
      if (json && text != NULL)
        cJSON_AddItemToArray(all, cJSON_Parse(text));
      else if (quiet)
        printf("%s\n", st.id);
      else
        printf("%-24s %-8d %-10s %-40s %s\n", st.id, status == OCI_STOPPED ? 0 : (int)st.pid,
               oci_status_name(status), st.bundle, st.created);
      free(text);
      oci_state_free(&st);
    }
    free(ids[i]);
  }
  free(ids);
  if (json) {
    char *text = cJSON_Print(all);
    printf("%s\n", text != NULL ? text : "[]");
    free(text);
  }
  cJSON_Delete(all);
  return 0;
}

int cmd_ps(int argc, char **argv)
{
  bool json = false;
  if (parse_format("ps", argc, argv, &json, NULL) < 0)
    return OCI_EXIT_ERROR;
  const char *id = cli_container_id("ps", argc, argv, optind);
  if (id == NULL)
    return OCI_EXIT_ERROR;
  usbox_err_t err = {0};
  size_t n;
  pid_t *pids = oci_container_pids(&cli_runtime, id, &n, &err);
  if (pids == NULL)
    return oci_fail(&cli_runtime, &err);
  if (json) {
    printf("[");
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i ? "," : "", (int)pids[i]);
    printf("]\n");
  } else {
    printf("PID\n");
    for (size_t i = 0; i < n; i++)
      printf("%d\n", (int)pids[i]);
  }
  free(pids);
  return 0;
}
