/* Hidden paths that appear on the host while the sandbox runs.
 *
 * The sentry refuses a hidden path by its canonical view path from the
 * moment it exists (vfs_is_hidden needs no object). What the kernel itself
 * resolves for the agent (execve, chdir, an interpreter's path) sees the
 * agent's mount namespace, where hidden paths are masked at start; a hidden
 * path made on the host later (a `aws configure`, a new ~/.kube) would be
 * there unmasked. This watcher keeps the masks in step: a fanotify mark
 * (vfs/dirwatch.h) on the deepest existing directory above every hidden
 * path the host backs, and on a creation or a rename into place, a
 * short-lived helper enters the agent's namespaces and mounts the mask
 * (vfs/mountns.c does the same at start). Between the creation and the mask (a fork and a mount, about a
 * millisecond) only the kernel's own resolution could reach it, and only by
 * winning a race against the sentry's check (docs/security.md). */
#ifndef USBOX_SENTRY_HIDDEN_WATCH_H
#define USBOX_SENTRY_HIDDEN_WATCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/strset.h"
#include "vfs/dirwatch.h"
#include "vfs/vfs.h"

struct hidden_watch {
  int notify_fd;          /* a vfs/dirwatch.h group; -1: nothing to watch */
  int mntns_fd, userns_fd; /* the agent's namespaces (userns: -1 when usbox has root) */
  char *const *hidden; /* the view's hidden paths (the policy's, which outlives the watch) */
  char **host;  /* per hidden path: the host path behind it, or NULL */
  int *wd;      /* per hidden path: the watch on its deepest existing ancestor */
  ino_t *ino;   /* per hidden path: the inode there when last seen (0: none) */
  size_t n;
  struct strset watched; /* directories watched already -> wd (keys in watched_dirs) */
  char **watched_dirs;
  size_t nwatched;
  struct dirwatch_key *keys; /* by wd: the watched inodes, as their events name them */
  size_t nkeys;
  unsigned long masked; /* masks the helper mounted (for -v and tests) */
};

/* Watch every hidden path of the view the host backs (p's, finished: the
 * host paths are resolved): before the sandbox's first process masks them,
 * so that none made on the host after its masks goes unseen, and while it
 * makes its namespaces, rather than on its way to the agent's start. */
int hidden_watch_arm(struct hidden_watch *hw, const struct policy *p, usbox_err_t *err);
/* Where masks go: agent is the sandbox's first process, in its namespaces
 * now (they are the agent's). */
int hidden_watch_start(struct hidden_watch *hw, pid_t agent, bool new_user, usbox_err_t *err);
/* The watch fd is readable: mask what appeared. */
void hidden_watch_event(struct hidden_watch *hw);
/* The watch fd, taken out for the caller to close off the exit path (with
 * marks, its last close waits for a grace period: common/close_detached.h);
 * -1: none. */
int hidden_watch_take_fd(struct hidden_watch *hw);
/* Closes what is left (the watch fd too, if not taken) and frees it. */
void hidden_watch_stop(struct hidden_watch *hw);

#endif
