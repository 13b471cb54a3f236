/* Reviewing a session (docs/overlay.md): what its upper layers change on
 * the host (`usbox diff`), and applying it (`usbox commit`). Changes are
 * named by host path; the host is compared as it is now. */
#ifndef USBOX_OVERLAY_REVIEW_H
#define USBOX_OVERLAY_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"
#include "overlay/session.h"

enum change_kind {
  CHANGE_ADDED,
  CHANGE_MODIFIED, /* content, a symlink's target, or the type */
  CHANGE_MODE,     /* only the permission bits */
  CHANGE_DELETED,
  CHANGE_RENAMED,  /* a deleted file and an added one with the same bytes */
  CHANGE_XATTRS,   /* only the user.* extended attributes (overlay/user_xattr.h) */
};

struct change {
  enum change_kind kind;
  char *path;   /* host path */
  char *from;   /* CHANGE_RENAMED: the old host path */
  char *rel;    /* below the layer's source */
  char *from_rel;
  size_t layer;
  mode_t old_mode, new_mode; /* with the type bits; 0: none */
  bool binary;
  bool content; /* CHANGE_MODIFIED: the bytes (or target) differ, not only the mode */
  bool xattrs;  /* the user.* extended attributes differ too */
  bool inside_rename; /* an addition below a renamed directory: its rename applies it */
};

struct review {
  struct session_layer *layers;
  size_t nlayers;
  struct change *v;
  size_t n;
};

/* Every change of the session, in path order; filters (host paths, or
 * NULL) keep those at or below one of them. */
int review_collect(const struct session *s, char *const *filters, size_t nfilters,
                   struct review *r, usbox_err_t *err);
void review_free(struct review *r);

enum review_format { REVIEW_PATCH, REVIEW_STAT, REVIEW_JSON };
int review_print(const struct review *r, enum review_format format, FILE *out, usbox_err_t *err);

/* Apply the changes (all, or none when one conflicts and !force): each file
 * written to a temporary name beside it and renamed into place. Reports on
 * out. Returns 0; 1 when conflicts (named on stderr) stopped it, nothing
 * applied; -1 on an error. */
int review_commit(const struct review *r, bool force, FILE *out, usbox_err_t *err);

#endif
