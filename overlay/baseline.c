#include "overlay/baseline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

int host_open_parent(int dirfd, const char *rel, const char **name)
{
  const char *slash = strrchr(rel, '/');
  *name = slash == NULL ? rel : slash + 1;
  if (slash == NULL)
    return fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%.*s", (int)(slash - rel), rel);
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, dirfd, parent, &how, sizeof how);
}

int host_lstat(int dirfd, const char *rel, struct stat *st)
{
  const char *name;
  cleanup_close int parent = host_open_parent(dirfd, rel, &name);
  if (parent < 0)
    return -1;
  return fstatat(parent, name, st, AT_SYMLINK_NOFOLLOW);
}

void baseline_of_host(int source_fd, const char *rel, struct baseline_entry *out)
{
  struct stat st;
  memset(out, 0, sizeof *out);
  if (host_lstat(source_fd, rel, &st) < 0)
    return;
  out->present = true;
  out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  out->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
  out->size = (uint64_t)st.st_size;
  out->ino = (uint64_t)st.st_ino;
  out->mode = st.st_mode;
}

bool baseline_same(const struct baseline_entry *a, const struct baseline_entry *b)
{
  if (a->present != b->present)
    return false;
  if (!a->present)
    return true;
  /* a directory changes (mtime) whenever the host adds a file in it: that
   * file is judged on its own; the directory only by what it is */
  if (S_ISDIR(a->mode) && S_ISDIR(b->mode))
    return a->ino == b->ino;
  return a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns && a->size == b->size &&
         a->ino == b->ino && a->mode == b->mode;
}

static int by_rel(const void *a, const void *b)
{
  return strcmp(((const struct baseline_entry *)a)->rel, ((const struct baseline_entry *)b)->rel);
}

/* One record: a header line, then the path's bytes and a newline (a path
 * may hold any byte but NUL). */
static int read_record(FILE *f, struct baseline_entry *e)
{
  char kind;
  long long mt, ct;
  unsigned long long size, ino;
  unsigned mode;
  size_t len;
  if (fscanf(f, "%c %lld %lld %llu %llu %o %zu\n", &kind, &mt, &ct, &size, &ino, &mode, &len) != 7 ||
      len == 0 || len >= PATH_MAX)
    return -1;
  *e = (struct baseline_entry){.present = kind == 'P', .mtime_ns = mt, .ctime_ns = ct,
                               .size = size, .ino = ino, .mode = mode};
  e->rel = malloc(len + 1);
  if (e->rel == NULL || fread(e->rel, 1, len, f) != len || fgetc(f) != '\n') {
    free(e->rel);
    return -1;
  }
  e->rel[len] = '\0';
  return 0;
}

int baseline_load(const char *layer_dir, struct baseline *b, usbox_err_t *err)
{
  b->v = NULL;
  b->n = 0;
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/baseline", layer_dir);
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL)
    return errno == ENOENT ? 0 : usbox_err_set(err, errno, "reading %s", path);
  for (;;) {
    struct baseline_entry e;
    if (read_record(f, &e) < 0)
      break;
    struct baseline_entry *grown = realloc(b->v, (b->n + 1) * sizeof *grown);
    if (grown == NULL) {
      free(e.rel);
      baseline_free(b);
      return usbox_err_set(err, ENOMEM, "reading %s", path);
    }
    b->v = grown;
    b->v[b->n++] = e;
  }
  if (b->n > 1)
    qsort(b->v, b->n, sizeof *b->v, by_rel);
  return 0;
}

void baseline_free(struct baseline *b)
{
  for (size_t i = 0; i < b->n; i++)
    free(b->v[i].rel);
  free(b->v);
  b->v = NULL;
  b->n = 0;
}

const struct baseline_entry *baseline_find(const struct baseline *b, const char *rel)
{
  struct baseline_entry key = {.rel = (char *)rel};
  return b->n == 0 ? NULL : bsearch(&key, b->v, b->n, sizeof *b->v, by_rel);
}

void baseline_append(FILE *f, const struct baseline_entry *e)
{
  fprintf(f, "%c %" PRId64 " %" PRId64 " %" PRIu64 " %" PRIu64 " %o %zu\n%s\n",
          e->present ? 'P' : 'A', e->mtime_ns, e->ctime_ns, e->size, e->ino, e->mode,
          strlen(e->rel), e->rel);
}

struct record_walk {
  const struct baseline *known;
  int source_fd;
  FILE *out;
};

static void record_below(struct record_walk *w, int dir, const char *rel)
{
  cleanup_closedir DIR *d = fdopendir(dup(dir));
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char sub[PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >= (int)sizeof sub)
      continue;
    if (baseline_find(w->known, sub) == NULL) {
      struct baseline_entry now;
      baseline_of_host(w->source_fd, sub, &now);
      now.rel = sub;
      baseline_append(w->out, &now);
    }
    if (e->d_type == DT_DIR) {
      cleanup_close int child = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0)
        record_below(w, child, sub);
    }
  }
}

int baseline_record_layer(const char *layer_dir, const char *source, usbox_err_t *err)
{
  struct baseline known;
  if (baseline_load(layer_dir, &known, err) < 0)
    return -1;
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/upper", layer_dir);
  cleanup_close int upper = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int src = open(source, O_PATH | O_DIRECTORY | O_CLOEXEC);
  snprintf(path, sizeof path, "%s/baseline", layer_dir);
  cleanup_fclose FILE *out = fopen(path, "ae");
  if (upper < 0 || src < 0 || out == NULL) {
    baseline_free(&known);
    return usbox_err_set(err, errno, "recording the host's state for %s", source);
  }
  struct record_walk w = {.known = &known, .source_fd = src, .out = out};
  record_below(&w, upper, "");
  baseline_free(&known);
  return 0;
}

int baseline_refresh(const char *layer_dir, const char *source, char *const *rels, size_t n,
                     usbox_err_t *err)
{
  struct baseline b;
  if (baseline_load(layer_dir, &b, err) < 0)
    return -1;
  cleanup_close int src = open(source, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/baseline", layer_dir);
  snprintf(tmp, sizeof tmp, "%s/baseline.new", layer_dir);
  FILE *out = fopen(tmp, "we");
  if (src < 0 || out == NULL) {
    if (out != NULL)
      fclose(out);
    baseline_free(&b);
    return usbox_err_set(err, errno, "rewriting %s", path);
  }
  for (size_t i = 0; i < b.n; i++) {
    bool replaced = false;
    for (size_t j = 0; j < n && !replaced; j++)
      replaced = strcmp(b.v[i].rel, rels[j]) == 0;
    if (!replaced)
      baseline_append(out, &b.v[i]);
  }
  for (size_t j = 0; j < n; j++) {
    struct baseline_entry now;
    baseline_of_host(src, rels[j], &now);
    now.rel = rels[j];
    baseline_append(out, &now);
  }
  baseline_free(&b);
  if (fclose(out) != 0 || rename(tmp, path) < 0)
    return usbox_err_set(err, errno, "rewriting %s", path);
  return 0;
}
