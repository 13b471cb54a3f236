/* What the host had at a path of a kept session (--session) the first time
 * the agent changes it there: `usbox commit` compares the host with that
 * (overlay/baseline.h). Noted by the VFS's change checks (vfs_check_entry,
 * vfs_check_modify) on a copy-on-write mount, before the change is made;
 * what a call the kernel performs on an fd changes (an fchmod that copies
 * a file up) is recorded when the run ends instead. */
#ifndef USBOX_VFS_OVERLAY_TRACK_H
#define USBOX_VFS_OVERLAY_TRACK_H

#include "common/error.h"

struct overlay_track;

/* The session's layers, as the sandbox's first process made them; NULL
 * (and 0) when there is nothing to track. */
int overlay_track_open(const char *session_dir, struct overlay_track **out, usbox_err_t *err);
void overlay_track_close(struct overlay_track *t);
/* Record the host's state at host_path unless already recorded. */
void overlay_track_note(struct overlay_track *t, const char *host_path);

#endif
