/* Closing fds whose release is slow, without waiting for it.
 *
 * The last close of an fsnotify group (an inotify or fanotify fd) that has
 * marks waits for an SRCU grace period (fsnotify_destroy_group ->
 * fsnotify_wait_marks_destroyed): 1-24 ms for inotify, ~0.4 ms for
 * fanotify on the reference VM. At exit the same wait happens in
 * exit_files, before the caller's wait4 returns, so exiting without
 * closing does not help. */
#ifndef USBOX_COMMON_CLOSE_DETACHED_H
#define USBOX_COMMON_CLOSE_DETACHED_H

#include <stddef.h>

#define CLOSE_DETACHED_MAX 4

/* Closes fds[0..n) here (negative ones skipped; at most CLOSE_DETACHED_MAX
 * handed on), leaving their last references to one short-lived child that
 * holds nothing else (every other fd closed first, so no pipe of the
 * caller's is kept open) and releases them after this process has gone on.
 * Nobody waits for the child: it ends as a zombie of this process or, once
 * this process has exited, of its reaper. If the clone fails, the fds are
 * closed here, slowly. For a process at its end only: the child shares its
 * memory (no copy of it), and its argument strings are blanked for good so
 * that the child, which outlives it, never shows its command line. Call it
 * from a process that has left any cgroup it will remove (the child starts
 * in the caller's cgroups). */
void close_detached(const int *fds, size_t n);

#endif
