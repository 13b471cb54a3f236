/* usbox commit SESSION [--force] [PATHS...]: apply a session's changes to
 * the host (overlay/review.h). Exit 1 when a conflict stopped it. */
#include <errno.h>
#include <getopt.h>

#include "cli/review_args.h"
#include "cli/verbs.h"
#include "overlay/review.h"

int cmd_commit(int argc, char **argv)
{
  static const struct option options[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  bool force = false;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
    if (c == 'f') {
      force = true;
      continue;
    }
    fprintf(stderr, "usbox: commit: option '%s' is not known (--force)\n", argv[optind - 1]);
    return REVIEW_EXIT_ERROR;
  }
  struct session s;
  if (review_open(&s, optind < argc ? argv[optind] : NULL, "commit") < 0)
    return REVIEW_EXIT_ERROR;
  char **paths = argv + optind + 1;
  int npaths = argc - optind - 1;
  usbox_err_t err = {0};
  struct review r;
  int rc = review_paths(paths, npaths, "commit");
  if (rc == 0 && (rc = review_collect(&s, paths, (size_t)npaths, &r, &err)) == 0) {
    rc = review_commit(&r, force, stdout, &err);
    if (rc == 0 && r.n == 0)
      printf("nothing to commit\n");
    review_free(&r);
  }
  session_close(&s, true);
  if (rc != 0 && err.msg[0] != '\0')
    usbox_err_print(&err);
  return rc == 0 ? 0 : rc == 1 ? 1 : REVIEW_EXIT_ERROR;
}
