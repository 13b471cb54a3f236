/* Which names a directory holds, read once with one listing: a few hundred
 * hidden paths in a few dozen directories cost a getdents per directory,
 * not an lstat or open per path, at start-up (policy/hidden.c, the view's
 * masks, the hidden paths' watch). A directory is listed the second time a
 * name in it is asked about: the first answer is "ask" (true), since one
 * lookup is cheaper than a listing (/proc, asked once for /proc/kcore,
 * lists every process). */
#ifndef USBOX_COMMON_DIRCACHE_H
#define USBOX_COMMON_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strset.h"

struct dircache {
  struct strset dirs; /* directory path -> index into lists */
  struct dircache_list {
    char *dir;        /* owned */
    char *names;      /* owned: the names, NUL-separated */
    struct strset set; /* over names; empty when the directory could not be read */
    bool listed;  /* read (a directory asked about once is not) */
    bool readable;
    bool missing; /* the directory does not exist: nor does anything in it */
  } *lists;
  size_t n, cap;
  /* open a directory to list (O_RDONLY | O_DIRECTORY), -1 if it cannot */
  int (*open_dir)(const char *dir, void *ctx);
  void *ctx;
};

void dircache_init(struct dircache *c, int (*open_dir)(const char *dir, void *ctx), void *ctx);
void dircache_free(struct dircache *c);
/* Whether dir/name may exist: false when dir was listed and holds no such
 * name, or does not exist; true when it does, or when dir could not be
 * listed for another reason (ask then). */
bool dircache_may_exist(struct dircache *c, const char *dir, size_t dirlen, const char *name);

#endif
