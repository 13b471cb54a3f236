#include "common/dircache.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

void dircache_init(struct dircache *c, int (*open_dir)(const char *dir, void *ctx), void *ctx)
{
  memset(c, 0, sizeof *c);
  c->open_dir = open_dir;
  c->ctx = ctx;
}

void dircache_free(struct dircache *c)
{
  for (size_t i = 0; i < c->n; i++) {
    free(c->lists[i].dir);
    free(c->lists[i].names);
    strset_free(&c->lists[i].set);
  }
  free(c->lists);
  strset_free(&c->dirs);
  memset(c, 0, sizeof *c);
}

/* Read every name of dir into l (the names' storage first, then the set
 * over it, so that its pointers stay put). */
static void list_dir(struct dircache *c, struct dircache_list *l)
{
  int fd = c->open_dir(l->dir, c->ctx);
  l->missing = fd < 0 && (errno == ENOENT || errno == ENOTDIR);
  cleanup_closedir DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return;
  }
  size_t used = 0, cap = 0, count = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name) + 1;
    if (used + len > cap) {
      cap = (used + len) * 2;
      char *grown = realloc(l->names, cap);
      if (grown == NULL)
        return;
      l->names = grown;
    }
    memcpy(l->names + used, de->d_name, len);
    used += len, count++;
  }
  if (strset_init(&l->set, count) < 0)
    return;
  for (size_t off = 0, i = 0; off < used; off += strlen(l->names + off) + 1, i++)
    if (strset_insert(&l->set, l->names + off, strlen(l->names + off), &i) < 0)
      return;
  l->readable = true;
}

bool dircache_may_exist(struct dircache *c, const char *dir, size_t dirlen, const char *name)
{
  size_t idx = c->n;
  if (c->dirs.cap == 0 && strset_init(&c->dirs, 32) < 0)
    return true;
  if (!strset_find(&c->dirs, dir, dirlen, strset_hash(STRSET_HASH_INIT, dir, dirlen), &idx)) {
    if (c->n == c->cap) {
      size_t cap = c->cap ? 2 * c->cap : 32;
      struct dircache_list *grown = realloc(c->lists, cap * sizeof *grown);
      if (grown == NULL)
        return true;
      c->lists = grown, c->cap = cap;
    }
    struct dircache_list *l = &c->lists[c->n];
    memset(l, 0, sizeof *l);
    if ((l->dir = strndup(dir, dirlen)) == NULL)
      return true;
    idx = c->n++;
    /* the set keeps the directory's own copy of its name */
    if (strset_insert(&c->dirs, l->dir, dirlen, &idx) < 0)
      return true;
    return true; /* asked once: the caller's own lookup is cheaper than a listing */
  }
  struct dircache_list *l = &c->lists[idx];
  if (!l->listed) { /* asked again: one listing now answers the rest */
    l->listed = true;
    list_dir(c, l);
  }
  size_t value;
  size_t len = strlen(name);
  if (l->missing)
    return false;
  return !l->readable || strset_find(&l->set, name, len, strset_hash(STRSET_HASH_INIT, name, len),
                                     &value);
}
