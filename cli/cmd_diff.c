/* usbox diff SESSION [--stat | --json] [PATHS...]: what a session's
 * overlay changes on the host (overlay/review.h). */
#include <getopt.h>

#include "cli/review_args.h"
#include "cli/verbs.h"
#include "overlay/review.h"

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
  struct session s;
  if (review_open(&s, optind < argc ? argv[optind] : NULL, "diff") < 0)
    return REVIEW_EXIT_ERROR;
  char **paths = argv + optind + 1;
  int npaths = argc - optind - 1;
  usbox_err_t err = {0};
  struct review r;
  int rc = review_paths(paths, npaths, "diff");
  if (rc == 0 && (rc = review_collect(&s, paths, (size_t)npaths, &r, &err)) == 0) {
    rc = review_print(&r, format, stdout, &err);
    review_free(&r);
  }
  session_close(&s, true);
  if (rc < 0 && err.msg[0] != '\0')
    usbox_err_print(&err);
  return rc < 0 ? REVIEW_EXIT_ERROR : 0;
}
