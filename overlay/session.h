/* Sessions of --overlay (docs/overlay.md): where the copy-on-write layers
 * of a sandbox live on the host, so that a person can review them
 * (overlay/review.h) and a later run can go on from them.
 *
 *   STATE/sessions/NAME/lock           held (flock) while a run or a review uses it
 *   STATE/sessions/NAME/created        when it was made (seconds since the epoch)
 *   STATE/sessions/NAME/layers/ESC/    one layer per host tree overlaid: ESC is the
 *       source                         host path it covers ('/' and '%' escaped)
 *       upper/ work/                   overlayfs's upper and work directories
 *       baseline                       the host's files as first recorded (conflicts)
 *       made                           mount points usbox made in it (not the agent's)
 *
 * STATE is $USBOX_STATE_DIR, else /var/lib/usbox for root, else
 * $XDG_STATE_HOME/usbox (~/.local/state/usbox). The sessions directory is
 * hidden from every sandbox (policy_finish is given it). */
#ifndef USBOX_OVERLAY_SESSION_H
#define USBOX_OVERLAY_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

struct session {
  char name[72];
  char dir[PATH_MAX];
  bool anonymous; /* no --session: removed when the run ends */
  bool created;   /* made by this open */
  int lock_fd;
};

/* STATE/sessions, made absolute (nothing is created). */
int session_root(char out[PATH_MAX], usbox_err_t *err);
/* A name a person can type: 1-64 of [A-Za-z0-9._-], not starting with '.'. */
int session_check_name(const char *name, usbox_err_t *err);
/* Open (making it if needed) and lock the session name, or an anonymous one
 * (name NULL). must_exist: review verbs, which never create. A session in
 * use by another run: EBUSY with a message. */
int session_open(struct session *s, const char *name, bool must_exist, usbox_err_t *err);
/* Release it; an anonymous session, or one made by a start that failed
 * (keep false), is removed. */
void session_close(struct session *s, bool keep);

/* ESC for a host path: '%' -> %25, '/' -> %2F. */
void session_escape(const char *path, char *out, size_t size);
/* The layer of host path source: its directory (made, with upper/ and
 * work/, and its source file, if missing). Works on the directory alone, so
 * the sandbox's first process can call it too. */
int session_layer_prepare(const char *session_dir, const char *source, char out[PATH_MAX],
                          usbox_err_t *err);
/* Note in source's layer that usbox made rel (a mount point). */
int session_layer_note_made(const char *session_dir, const char *source, const char *rel,
                            usbox_err_t *err);

/* One layer, as the review verbs see it. */
struct session_layer {
  char source[PATH_MAX]; /* the host path it covers */
  char dir[PATH_MAX];    /* its directory (upper/ is below) */
};
/* The layers of a session, sorted by source. *out is malloc'd. */
int session_layers(const struct session *s, struct session_layer **out, size_t *n,
                   usbox_err_t *err);

/* Record, for every entry of every layer's upper that has no baseline yet,
 * what the host has there now (called when a run ends). */
int session_record_baselines(const struct session *s, usbox_err_t *err);

/* Remove a directory tree (the session's files may be read-only, or
 * overlayfs's work directory mode 0). */
int session_remove_tree(const char *path);
int session_remove_tree_at(int dirfd, const char *name);

/* For `usbox sessions`. */
struct session_info {
  char name[72];
  uint64_t bytes; /* of its upper layers */
  time_t created;
  bool in_use;
};
int session_list(struct session_info **out, size_t *n, usbox_err_t *err);

#endif
