/* usbox commit SESSION [--force] [PATHS...]: apply a session's changes to
 * the host (overlay/review.h). Exit 1 when a conflict stopped it. */
#include <errno.h>
#include <getopt.h>

#include "cli/review_args.h"
#include "cli/verbs.h"
#include "overlay/review.h"

static int commit_all(const struct review *r, void *force, usbox_err_t *err)
{
  int rc = review_commit(r, *(bool *)force, stdout, err);
  if (rc == 0 && r->n == 0)
    printf("nothing to commit\n");
  return rc;
}

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
  usbox_err_t err = {0};
  int rc = review_session(argv, argc, optind, "commit", commit_all, &force, &err);
  if (rc != 0 && err.msg[0] != '\0')
    usbox_err_print(&err);
  return rc == 0 ? 0 : rc == 1 ? 1 : REVIEW_EXIT_ERROR;
}
