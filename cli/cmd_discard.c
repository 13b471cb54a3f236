/* usbox discard SESSION: remove a session and everything the agent wrote
 * in it (nothing on the host changes). */
#include <errno.h>

#include "cli/review_args.h"
#include "cli/verbs.h"

int cmd_discard(int argc, char **argv)
{
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usbox: discard: usage: usbox discard SESSION\n");
    return REVIEW_EXIT_ERROR;
  }
  struct session s;
  if (review_open(&s, argv[1], "discard") < 0)
    return REVIEW_EXIT_ERROR;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", s.dir);
  /* the lock is a file of the session: removed with it, while held */
  int rc = session_remove_tree(dir);
  session_close(&s, true);
  if (rc < 0) {
    fprintf(stderr, "usbox: discard: removing %s: %s\n", dir, strerror(errno));
    return REVIEW_EXIT_ERROR;
  }
  printf("discarded %s\n", argv[1]);
  return 0;
}
