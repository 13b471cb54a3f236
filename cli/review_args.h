/* What the review verbs (diff, commit, discard) share: the session named
 * on the command line, opened and locked, and paths to select. */
#ifndef USBOX_CLI_REVIEW_ARGS_H
#define USBOX_CLI_REVIEW_ARGS_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "overlay/session.h"
#include "policy/policy.h"

#define REVIEW_EXIT_ERROR 125

/* Paths from argv made absolute (from the current directory) and
 * normalised, in place of the originals; 0 or -1 with a message. */
static inline int review_paths(char **paths, int n, const char *verb)
{
  for (int i = 0; i < n; i++) {
    char joined[PATH_MAX * 2], cwd[PATH_MAX];
    if (paths[i][0] != '/' && getcwd(cwd, sizeof cwd) == NULL)
      return -1;
    snprintf(joined, sizeof joined, "%s%s%s", paths[i][0] == '/' ? "" : cwd,
             paths[i][0] == '/' ? "" : "/", paths[i]);
    char norm[PATH_MAX];
    if (policy_normalize(joined, norm, sizeof norm) < 0) {
      fprintf(stderr, "usbox: %s: path %s is too long\n", verb, paths[i]);
      return -1;
    }
    paths[i] = strdup(norm);
    if (paths[i] == NULL)
      return -1;
  }
  return 0;
}

/* Open and lock the session argv names (a review never creates one). */
static inline int review_open(struct session *s, const char *name, const char *verb)
{
  usbox_err_t err = {0};
  if (name == NULL) {
    fprintf(stderr, "usbox: %s: which session? (usbox sessions lists them)\n", verb);
    return -1;
  }
  if (session_open(s, name, true, &err) < 0) {
    usbox_err_print(&err);
    return -1;
  }
  return 0;
}

#include "overlay/review.h"

/* What a verb does with the collected changes: 0, 1 (commit: conflicts)
 * or -1 with err. */
typedef int (*review_fn)(const struct review *r, void *arg, usbox_err_t *err);

/* SESSION [PATHS...] from argv[first]: open the session, collect its
 * changes (at or below PATHS), hand them to fn, close. */
static inline int review_session(char **argv, int argc, int first, const char *verb, review_fn fn,
                                 void *arg, usbox_err_t *err)
{
  struct session s;
  if (review_open(&s, first < argc ? argv[first] : NULL, verb) < 0)
    return -1;
  char **paths = argv + first + 1;
  int npaths = argc - first - 1;
  struct review r;
  int rc = review_paths(paths, npaths, verb);
  if (rc == 0 && (rc = review_collect(&s, paths, (size_t)npaths, &r, err)) == 0) {
    rc = fn(&r, arg, err);
    review_free(&r);
  }
  session_close(&s, true);
  return rc;
}

#endif
