#include "vfs/overlay_track.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strset.h"
#include "overlay/baseline.h"
#include "overlay/session.h"

struct overlay_track {
  pthread_mutex_t lock;
  struct session_layer *layers;
  size_t n;
  int *sources;        /* per layer: the host tree, O_PATH */
  FILE **out;          /* per layer: its baseline, appended to */
  struct strset *seen; /* per layer: paths recorded (keys owned in keys) */
  char **keys;
  size_t nkeys, capkeys;
};

/* A copy of rel the tracker owns (the sets keep pointers), or NULL. */
static const char *keep_key(struct overlay_track *t, const char *rel)
{
  if (t->nkeys == t->capkeys) {
    size_t cap = t->capkeys ? 2 * t->capkeys : 64;
    char **grown = realloc(t->keys, cap * sizeof *grown);
    if (grown == NULL)
      return NULL;
    t->keys = grown;
    t->capkeys = cap;
  }
  char *key = strdup(rel);
  if (key != NULL)
    t->keys[t->nkeys++] = key;
  return key;
}

static int load_seen(struct overlay_track *t, size_t l, usbox_err_t *err)
{
  struct baseline b;
  if (baseline_load(t->layers[l].dir, &b, err) < 0)
    return -1;
  int rc = strset_init(&t->seen[l], b.n + 16);
  for (size_t i = 0; rc == 0 && i < b.n; i++) {
    size_t v;
    const char *key = keep_key(t, b.v[i].rel);
    rc = key == NULL ? -1 : strset_insert(&t->seen[l], key, strlen(key), &v);
  }
  baseline_free(&b);
  return rc < 0 ? usbox_err_set(err, ENOMEM, "tracking the session") : 0;
}

int overlay_track_open(const char *session_dir, struct overlay_track **out, usbox_err_t *err)
{
  *out = NULL;
  struct session s = {.lock_fd = -1};
  snprintf(s.dir, sizeof s.dir, "%s", session_dir);
  struct overlay_track *t = calloc(1, sizeof *t);
  if (t == NULL)
    return usbox_err_set(err, ENOMEM, "tracking the session");
  pthread_mutex_init(&t->lock, NULL);
  if (session_layers(&s, &t->layers, &t->n, err) < 0) {
    overlay_track_close(t);
    return -1;
  }
  t->sources = calloc(t->n + 1, sizeof *t->sources);
  t->out = calloc(t->n + 1, sizeof *t->out);
  t->seen = calloc(t->n + 1, sizeof *t->seen);
  if (t->sources == NULL || t->out == NULL || t->seen == NULL) {
    overlay_track_close(t);
    return usbox_err_set(err, ENOMEM, "tracking the session");
  }
  for (size_t l = 0; l < t->n; l++) {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/baseline", t->layers[l].dir);
    t->sources[l] = open(t->layers[l].source, O_PATH | O_DIRECTORY | O_CLOEXEC);
    t->out[l] = fopen(path, "ae");
    if (t->sources[l] < 0 || t->out[l] == NULL || load_seen(t, l, err) < 0) {
      usbox_err_set(err, errno, "tracking the session's layer of %s", t->layers[l].source);
      overlay_track_close(t);
      return -1;
    }
  }
  *out = t;
  return 0;
}

void overlay_track_close(struct overlay_track *t)
{
  if (t == NULL)
    return;
  for (size_t l = 0; l < t->n; l++) {
    if (t->sources != NULL && t->sources[l] > 0)
      close(t->sources[l]);
    if (t->out != NULL && t->out[l] != NULL)
      fclose(t->out[l]);
    if (t->seen != NULL)
      strset_free(&t->seen[l]);
  }
  for (size_t i = 0; i < t->nkeys; i++)
    free(t->keys[i]);
  free(t->keys);
  free(t->sources);
  free(t->out);
  free(t->seen);
  free(t->layers);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

/* The layer holding host_path (the longest source above it), and the path
 * below it. */
static size_t layer_of(const struct overlay_track *t, const char *host_path, const char **rel)
{
  size_t best = t->n, best_len = 0;
  for (size_t l = 0; l < t->n; l++) {
    const char *src = t->layers[l].source;
    size_t n = strcmp(src, "/") == 0 ? 0 : strlen(src);
    if (strncmp(host_path, src, n) == 0 && host_path[n] == '/' && (best == t->n || n > best_len))
      best = l, best_len = n;
  }
  if (best < t->n)
    *rel = host_path + best_len + 1;
  return best;
}

void overlay_track_note(struct overlay_track *t, const char *host_path)
{
  const char *rel = "";
  size_t l = layer_of(t, host_path, &rel);
  if (l == t->n || rel[0] == '\0')
    return;
  pthread_mutex_lock(&t->lock);
  size_t v;
  uint64_t h = strset_hash(STRSET_HASH_INIT, rel, strlen(rel));
  const char *key;
  if (!strset_find(&t->seen[l], rel, strlen(rel), h, &v) && (key = keep_key(t, rel)) != NULL &&
      strset_insert(&t->seen[l], key, strlen(key), &v) == 0) {
    struct baseline_entry now;
    baseline_of_host(t->sources[l], rel, &now);
    now.rel = (char *)key;
    baseline_append(t->out[l], &now);
    fflush(t->out[l]);
  }
  pthread_mutex_unlock(&t->lock);
}
