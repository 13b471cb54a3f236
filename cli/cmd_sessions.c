/* usbox sessions [--json]: the overlay sessions kept on this host, with
 * their size and age. */
#include <cjson/cJSON.h>
#include <string.h>
#include <time.h>

#include "cli/review_args.h"
#include "cli/verbs.h"

static void print_table(const struct session_info *v, size_t n)
{
  printf("%-24s %10s %-20s %s\n", "NAME", "SIZE", "CREATED", "STATE");
  time_t now = time(NULL);
  for (size_t i = 0; i < n; i++) {
    char when[32] = "-";
    struct tm tm;
    if (v[i].created != 0 && localtime_r(&v[i].created, &tm) != NULL)
      strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    double kib = (double)v[i].bytes / 1024;
    char size[32];
    snprintf(size, sizeof size, kib < 1024 ? "%.0fK" : "%.1fM", kib < 1024 ? kib : kib / 1024);
    long age = v[i].created != 0 ? (long)(now - v[i].created) : -1;
    printf("%-24s %10s %-20s %s%s", v[i].name, size, when,
           v[i].in_use ? "in use" : "kept", v[i].name[0] == '.' ? " (a run without --session)" : "");
    if (age >= 0)
      printf(" (%ldh%02ldm old)", age / 3600, age / 60 % 60);
    putchar('\n');
  }
}

int cmd_sessions(int argc, char **argv)
{
  bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
  if (argc > 2 || (argc == 2 && !json)) {
    fprintf(stderr, "usbox: sessions: usage: usbox sessions [--json]\n");
    return REVIEW_EXIT_ERROR;
  }
  struct session_info *v;
  size_t n;
  usbox_err_t err = {0};
  if (session_list(&v, &n, &err) < 0) {
    usbox_err_print(&err);
    return REVIEW_EXIT_ERROR;
  }
  if (!json) {
    print_table(v, n);
  } else {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "name", v[i].name);
      cJSON_AddNumberToObject(o, "bytes", (double)v[i].bytes);
      cJSON_AddNumberToObject(o, "created", (double)v[i].created);
      cJSON_AddBoolToObject(o, "in_use", v[i].in_use);
      cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(arr);
    printf("%s\n", text != NULL ? text : "[]");
    free(text);
    cJSON_Delete(arr);
  }
  free(v);
  return 0;
}
