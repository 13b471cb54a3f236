/* Closing an fd whose release is slow, without waiting for it.
 *
 * The last close of an inotify fd that has watches waits for an SRCU grace
 * period (fsnotify_destroy_group -> fsnotify_wait_marks_destroyed): 8-24 ms
 * on the reference VM. At exit the same wait happens in exit_files, before
 * the caller's wait4 returns, so exiting without closing does not help. */
#ifndef USBOX_COMMON_CLOSE_DETACHED_H
#define USBOX_COMMON_CLOSE_DETACHED_H

/* Closes fd here, leaving its last reference to a short-lived child that
 * holds nothing else (every other fd closed first, so no pipe of the
 * caller's is kept open) and releases it after this process has gone on.
 * Nobody waits for the child: it ends as a zombie of this process or, once
 * this process has exited, of its reaper. If the clone fails, fd is closed
 * here, slowly. For a process at its end only: the child shares its memory
 * (no copy of it), and its argument strings are blanked for good so that
 * the child, which outlives it, never shows its command line. Call it from
 * a process that has left any cgroup it will remove (the child starts in
 * the caller's cgroups). */
void close_detached(int fd);

#endif
