/* usbox diff SESSION [--stat | --json] [PATHS...]: what a session's
 * overlay changes on the host (overlay/review.h). */
#include <getopt.h>

#include "cli/review_args.h"
#include "cli/verbs.h"
#include "overlay/review.h"

static int print_changes(const struct review *r, void *format, usbox_err_t *err)
{
  return review_print(r, *(enum review_format *)format, stdout, err);
}

int cmd_diff(int argc, char **argv)
{
  static const struct option options[] = {{"stat", no_argument, NULL, 's'},
                                          {"json", no_argument, NULL, 'j'},
                                          {NULL, 0, NULL, 0}};
  enum review_format format = REVIEW_PATCH;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (c == 's' || c == 'j') {
      format = c == 's' ? REVIEW_STAT : REVIEW_JSON;
      continue;
    }
    fprintf(stderr, "usbox: diff: option '%s' is not known (--stat, --json)\n", argv[optind - 1]);
    return REVIEW_EXIT_ERROR;
  }
  usbox_err_t err = {0};
  int rc = review_session(argv, argc, optind, "diff", print_changes, &format, &err);
  if (rc < 0 && err.msg[0] != '\0')
    usbox_err_print(&err);
  return rc < 0 ? REVIEW_EXIT_ERROR : 0;
}
