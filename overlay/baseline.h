/* What the host had at a path of a layer when usbox first recorded it
 * (overlay/session.h): `usbox commit` refuses a path whose host copy has
 * changed since, unless --force. Records are taken when a run ends, for
 * every entry of the upper layer that has none yet. */
#ifndef USBOX_OVERLAY_BASELINE_H
#define USBOX_OVERLAY_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/error.h"

struct baseline_entry {
  char *rel;    /* below the layer's source, no leading '/' */
  bool present; /* the host had something there */
  int64_t mtime_ns, ctime_ns;
  uint64_t size, ino;
  uint32_t mode;
};

struct baseline {
  struct baseline_entry *v;
  size_t n;
};

int baseline_load(const char *layer_dir, struct baseline *b, usbox_err_t *err);
void baseline_free(struct baseline *b);
const struct baseline_entry *baseline_find(const struct baseline *b, const char *rel);
/* The host object at rel now, as a record (present false if absent). */
void baseline_of_host(int source_fd, const char *rel, struct baseline_entry *out);
bool baseline_same(const struct baseline_entry *a, const struct baseline_entry *b);
/* One record, at the end of a layer's baseline file. */
#include <stdio.h>
void baseline_append(FILE *f, const struct baseline_entry *e);
/* Add records for the upper's entries that have none. */
int baseline_record_layer(const char *layer_dir, const char *source, usbox_err_t *err);
/* Replace the records of rels (after a commit changed the host there). */
int baseline_refresh(const char *layer_dir, const char *source, char *const *rels, size_t n,
                     usbox_err_t *err);

/* lstat of rel below the directory dirfd, following no symlink on the way:
 * 0, or -1 with errno. */
int host_lstat(int dirfd, const char *rel, struct stat *st);
/* The directory holding rel (no symlink followed), opened O_PATH; *name
 * points at rel's last component. */
int host_open_parent(int dirfd, const char *rel, const char **name);

#endif
