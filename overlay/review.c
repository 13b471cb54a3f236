#include "overlay/review.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "overlay/baseline.h"
#include "overlay/user_xattr.h"

/* ---- reading a layer ---- */

struct walk {
  struct review *r;
  size_t layer;
  int source;     /* the host tree, O_PATH */
  char **made;    /* mount points usbox made (not the agent's) */
  size_t nmade;
  usbox_err_t *err;
};

static bool is_whiteout(const struct stat *st)
{
  return S_ISCHR(st->st_mode) && st->st_rdev == 0;
}

static bool is_opaque(int dirfd)
{
  char v[4];
  ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof v);
  if (n < 0)
    n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

/* a + "/" + b, without doubling a slash; a "" is b itself */
static char *join(const char *a, const char *b)
{
  if (a[0] == '\0')
    return strdup(b);
  char *out;
  bool slash = a[strlen(a) - 1] == '/';
  return asprintf(&out, "%s%s%s", a, slash ? "" : "/", b) < 0 ? NULL : out;
}

static int add_change(struct walk *w, enum change_kind kind, const char *rel, mode_t old_mode,
                      mode_t new_mode)
{
  struct review *r = w->r;
  struct change *grown = realloc(r->v, (r->n + 1) * sizeof *grown);
  if (grown == NULL)
    return usbox_err_set(w->err, ENOMEM, "collecting changes");
  r->v = grown;
  struct change *c = &r->v[r->n];
  *c = (struct change){.kind = kind, .layer = w->layer, .old_mode = old_mode,
                       .new_mode = new_mode,
                       .content = kind != CHANGE_MODE && kind != CHANGE_XATTRS,
                       .xattrs = kind == CHANGE_XATTRS};
  c->rel = strdup(rel);
  c->path = join(r->layers[w->layer].source, rel);
  if (c->rel == NULL || c->path == NULL) {
    free(c->rel);
    free(c->path);
    return usbox_err_set(w->err, ENOMEM, "collecting changes");
  }
  r->n++;
  return 0;
}

static bool was_made(const struct walk *w, const char *rel)
{
  for (size_t i = 0; i < w->nmade; i++)
    if (strcmp(w->made[i], rel) == 0)
      return true;
  return false;
}

/* Whether two files hold the same bytes. */
static bool same_bytes(int a, int b)
{
  char x[65536], y[65536];
  for (;;) {
    ssize_t n = read(a, x, sizeof x);
    if (n < 0 || n != read(b, y, (size_t)n))
      return false;
    if (n == 0)
      return true;
    if (memcmp(x, y, (size_t)n) != 0)
      return false;
  }
}

static bool same_target(int adir, const char *aname, int bdir, const char *bname)
{
  char x[PATH_MAX], y[PATH_MAX];
  ssize_t n = readlinkat(adir, aname, x, sizeof x);
  ssize_t m = readlinkat(bdir, bname, y, sizeof y);
  return n >= 0 && n == m && memcmp(x, y, (size_t)n) == 0;
}

/* Whether the user attributes of the upper's name and the host's rel
 * differ (regular files and directories: a FIFO is not opened). */
static bool xattrs_differ(const struct walk *w, int updir, const char *name, const char *rel)
{
  const char *hname;
  cleanup_close int hparent = host_open_parent(w->source, rel, &hname);
  cleanup_close int h = hparent < 0 ? -1 : openat(hparent, hname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  cleanup_close int u = openat(updir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  return h >= 0 && u >= 0 && !user_xattrs_equal(h, u);
}

/* A change of the mode, of the attributes, or both; or none. */
static int attributes_changed(struct walk *w, const char *rel, mode_t old_mode, mode_t new_mode,
                              bool xattrs)
{
  bool mode = (old_mode & 07777) != (new_mode & 07777);
  if (!mode && !xattrs)
    return 0;
  if (add_change(w, mode ? CHANGE_MODE : CHANGE_XATTRS, rel, old_mode, new_mode) < 0)
    return -1;
  w->r->v[w->r->n - 1].xattrs = xattrs;
  return 0;
}

/* An entry of the upper that the host has too, of the same type. */
static int compare_present(struct walk *w, int updir, const char *name, const char *rel,
                           const struct stat *ust, const struct stat *hst)
{
  bool modified = false;
  if (S_ISREG(ust->st_mode)) {
    const char *hname;
    cleanup_close int hparent = host_open_parent(w->source, rel, &hname);
    cleanup_close int h = hparent < 0 ? -1 : openat(hparent, hname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int u = openat(updir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    modified = ust->st_size != hst->st_size || h < 0 || u < 0 || !same_bytes(h, u);
  } else if (S_ISLNK(ust->st_mode)) {
    const char *hname;
    cleanup_close int hparent = host_open_parent(w->source, rel, &hname);
    modified = hparent < 0 || !same_target(updir, name, hparent, hname);
  }
  bool xattrs = S_ISREG(ust->st_mode) && xattrs_differ(w, updir, name, rel);
  if (modified) {
    if (add_change(w, CHANGE_MODIFIED, rel, hst->st_mode, ust->st_mode) < 0)
      return -1;
    w->r->v[w->r->n - 1].xattrs = xattrs;
    return 0;
  }
  return attributes_changed(w, rel, hst->st_mode, ust->st_mode, xattrs);
}

static int walk_dir(struct walk *w, int updir, const char *rel, bool host_has_dir);

/* The host's entries of rel that an opaque directory no longer shows. */
static int deleted_below_opaque(struct walk *w, int updir, const char *rel)
{
  const char *name;
  cleanup_close int hparent = host_open_parent(w->source, rel, &name);
  cleanup_close int hdir =
      hparent < 0 ? -1 : openat(hparent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_closedir DIR *d = hdir < 0 ? NULL : fdopendir(dup(hdir));
  if (d == NULL)
    return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st, hst;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        fstatat(updir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
        fstatat(hdir, e->d_name, &hst, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    cleanup_free char *sub = join(rel, e->d_name);
    if (sub == NULL || add_change(w, CHANGE_DELETED, sub, hst.st_mode, 0) < 0)
      return -1;
  }
  return 0;
}

static int walk_entry(struct walk *w, int updir, const char *name, const char *rel, bool host_dir)
{
  struct stat ust, hst;
  if (fstatat(updir, name, &ust, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  bool host = host_dir && host_lstat(w->source, rel, &hst) == 0;
  if (is_whiteout(&ust))
    return host ? add_change(w, CHANGE_DELETED, rel, hst.st_mode, 0) : 0;
  if (!S_ISDIR(ust.st_mode)) {
    if (was_made(w, rel) && S_ISREG(ust.st_mode) && ust.st_size == 0)
      return 0;
    if (!host)
      return add_change(w, CHANGE_ADDED, rel, 0, ust.st_mode);
    if ((ust.st_mode & S_IFMT) != (hst.st_mode & S_IFMT))
      return add_change(w, CHANGE_MODIFIED, rel, hst.st_mode, ust.st_mode);
    return compare_present(w, updir, name, rel, &ust, &hst);
  }
  cleanup_close int sub = openat(updir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    return usbox_err_set(w->err, errno, "reading the layer at %s", rel);
  bool host_is_dir = host && S_ISDIR(hst.st_mode);
  if (!host_is_dir && !(was_made(w, rel) && !host)) {
    if (add_change(w, host ? CHANGE_MODIFIED : CHANGE_ADDED, rel, host ? hst.st_mode : 0,
                   ust.st_mode) < 0)
      return -1;
  } else if (host_is_dir && attributes_changed(w, rel, hst.st_mode, ust.st_mode,
                                                xattrs_differ(w, updir, name, rel)) < 0) {
    return -1;
  }
  if (host_is_dir && is_opaque(sub) && deleted_below_opaque(w, sub, rel) < 0)
    return -1;
  return walk_dir(w, sub, rel, host_is_dir);
}

static int walk_dir(struct walk *w, int updir, const char *rel, bool host_has_dir)
{
  struct dirent **names;
  cleanup_close int scan = fcntl(updir, F_DUPFD_CLOEXEC, 3);
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", scan);
  int n = scandir(self, &names, NULL, alphasort);
  if (n < 0)
    return usbox_err_set(w->err, errno, "reading the layer at /%s", rel);
  int rc = 0;
  for (int i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    if (rc == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
      cleanup_free char *sub = join(rel, name);
      rc = sub == NULL ? usbox_err_set(w->err, ENOMEM, "walking") : walk_entry(w, updir, name, sub, host_has_dir);
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

/* ---- collecting ---- */

static void free_lines(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static int read_made(const char *layer_dir, char ***out, size_t *n)
{
  *out = NULL;
  *n = 0;
  char path[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/made", layer_dir);
  cleanup_fclose FILE *f = fopen(path, "re");
  char line[PATH_MAX];
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char **grown = realloc(*out, (*n + 1) * sizeof *grown);
    if (grown == NULL)
      return -1;
    *out = grown;
    if (((*out)[*n] = strdup(line[0] == '/' ? line + 1 : line)) == NULL)
      return -1;
    (*n)++;
  }
  return 0;
}

static int by_path(const void *a, const void *b)
{
  const struct change *x = a, *y = b;
  return strcmp(x->path, y->path);
}

static bool same_file_bytes(const struct review *r, const struct change *del,
                            const struct change *add)
{
  char upper[PATH_MAX * 2];
  snprintf(upper, sizeof upper, "%s/upper/%s", r->layers[add->layer].dir, add->rel);
  cleanup_close int a = open(del->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int b = open(upper, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat x, y;
  return a >= 0 && b >= 0 && fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_size == y.st_size &&
         x.st_size > 0 && same_bytes(a, b);
}

/* add becomes the rename of del (del's strings move to it; del is
 * dropped by drop_moved) */
static void make_rename(struct change *add, struct change *del)
{
  add->kind = CHANGE_RENAMED;
  add->from = del->path;
  add->from_rel = del->rel;
  add->old_mode = del->old_mode;
  del->path = del->rel = NULL;
}

static void drop_moved(struct review *r)
{
  size_t out = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].path != NULL)
      r->v[out++] = r->v[i];
  r->n = out;
}

/* A deleted file and an added one with the same bytes: one rename. */
static void find_renames(struct review *r)
{
  for (size_t i = 0; i < r->n; i++) {
    struct change *del = &r->v[i];
    if (del->kind != CHANGE_DELETED || !S_ISREG(del->old_mode))
      continue;
    for (size_t j = 0; j < r->n; j++) {
      struct change *add = &r->v[j];
      if (add->kind != CHANGE_ADDED || !S_ISREG(add->new_mode) || !same_file_bytes(r, del, add))
        continue;
      make_rename(add, del);
      break;
    }
  }
  drop_moved(r);
}

/* ---- renamed directories ---- */

/* A directory's names (not . and ..), sorted; -1 if unreadable. */
static int names_of(int dir, struct dirent ***names)
{
  cleanup_close int scan = fcntl(dir, F_DUPFD_CLOEXEC, 3);
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", scan);
  int n = scandir(self, names, NULL, alphasort);
  if (n < 0)
    return -1;
  int out = 0;
  for (int i = 0; i < n; i++) {
    if (strcmp((*names)[i]->d_name, ".") == 0 || strcmp((*names)[i]->d_name, "..") == 0)
      free((*names)[i]);
    else
      (*names)[out++] = (*names)[i];
  }
  return out;
}

static bool same_tree(int hdir, int udir, int depth);

/* One entry of both trees: same type and mode, bytes, target, subtree. */
static bool same_entry(int hdir, int udir, const char *name, int depth)
{
  struct stat h, u;
  if (fstatat(hdir, name, &h, AT_SYMLINK_NOFOLLOW) < 0 ||
      fstatat(udir, name, &u, AT_SYMLINK_NOFOLLOW) < 0 || h.st_mode != u.st_mode)
    return false;
  if (S_ISLNK(h.st_mode))
    return same_target(hdir, name, udir, name);
  if (!S_ISREG(h.st_mode) && !S_ISDIR(h.st_mode))
    return false;
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(h.st_mode) ? O_DIRECTORY : 0);
  cleanup_close int a = openat(hdir, name, flags);
  cleanup_close int b = openat(udir, name, flags);
  if (a < 0 || b < 0)
    return false;
  if (S_ISDIR(h.st_mode))
    return same_tree(a, b, depth + 1);
  return h.st_size == u.st_size && same_bytes(a, b) && user_xattrs_equal(a, b);
}

/* Whether the host's directory and the upper's hold the same tree: the
 * same names, each the same (a whiteout in the upper is a difference; an
 * opaque mark is not: the upper's side is an added directory, with no
 * lower below it to hide). Bounded in depth. */
static bool same_tree(int hdir, int udir, int depth)
{
  struct dirent **hn = NULL, **un = NULL;
  int nh = depth > 32 ? -1 : names_of(hdir, &hn);
  int nu = nh < 0 ? -1 : names_of(udir, &un);
  bool same = nh >= 0 && nh == nu && user_xattrs_equal(hdir, udir);
  for (int i = 0; same && i < nh; i++)
    same = strcmp(hn[i]->d_name, un[i]->d_name) == 0 && same_entry(hdir, udir, hn[i]->d_name, depth);
  for (int i = 0; i < nh; i++)
    free(hn[i]);
  for (int i = 0; i < nu; i++)
    free(un[i]);
  free(hn);
  free(un);
  return same;
}

static bool same_dir_tree(const struct review *r, const struct change *del, const struct change *add)
{
  char upper[PATH_MAX * 2];
  snprintf(upper, sizeof upper, "%s/upper/%s", r->layers[add->layer].dir, add->rel);
  cleanup_close int h = open(del->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int u = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return h >= 0 && u >= 0 && del->old_mode == add->new_mode && same_tree(h, u, 0);
}

static bool below(const char *rel, const char *dir)
{
  size_t n = strlen(dir);
  return strncmp(rel, dir, n) == 0 && rel[n] == '/';
}

/* A deleted directory and an added one holding the same tree (a mv the
 * kernel's overlay made a copy of): one rename, which commit makes with
 * one rename(2) on the host; the additions below it go with it. */
static void find_dir_renames(struct review *r)
{
  for (size_t i = 0; i < r->n; i++) {
    struct change *del = &r->v[i];
    if (del->path == NULL || del->kind != CHANGE_DELETED || !S_ISDIR(del->old_mode))
      continue;
    for (size_t j = 0; j < r->n; j++) {
      struct change *add = &r->v[j];
      if (add->kind != CHANGE_ADDED || add->inside_rename || !S_ISDIR(add->new_mode) ||
          add->layer != del->layer || !same_dir_tree(r, del, add))
        continue;
      make_rename(add, del);
      for (size_t k = 0; k < r->n; k++)
        if (r->v[k].path != NULL && r->v[k].kind == CHANGE_ADDED && r->v[k].layer == add->layer &&
            below(r->v[k].rel, add->rel))
          r->v[k].inside_rename = true;
      break;
    }
  }
  drop_moved(r);
}

/* The directory rename an addition goes with, or NULL. */
static const struct change *rename_holding(const struct review *r, const struct change *c)
{
  for (size_t i = 0; c->inside_rename && i < r->n; i++)
    if (r->v[i].kind == CHANGE_RENAMED && S_ISDIR(r->v[i].new_mode) &&
        r->v[i].layer == c->layer && below(c->rel, r->v[i].rel))
      return &r->v[i];
  return NULL;
}

static bool selected(const struct change *c, char *const *filters, size_t n)
{
  if (n == 0)
    return true;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(filters[i]);
    const char *paths[] = {c->path, c->from};
    for (size_t k = 0; k < 2; k++)
      if (paths[k] != NULL && strncmp(paths[k], filters[i], len) == 0 &&
          (paths[k][len] == '\0' || paths[k][len] == '/' || strcmp(filters[i], "/") == 0))
        return true;
  }
  return false;
}

static void free_change(struct change *c)
{
  free(c->path);
  free(c->from);
  free(c->rel);
  free(c->from_rel);
}

static int collect_layer(struct review *r, size_t i, usbox_err_t *err)
{
  char upper_path[PATH_MAX + 8];
  snprintf(upper_path, sizeof upper_path, "%s/upper", r->layers[i].dir);
  cleanup_close int upper = open(upper_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int source = open(r->layers[i].source, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (upper < 0)
    return usbox_err_set(err, errno, "reading %s", upper_path);
  struct walk w = {.r = r, .layer = i, .source = source, .err = err};
  if (read_made(r->layers[i].dir, &w.made, &w.nmade) < 0) {
    free_lines(w.made, w.nmade);
    return usbox_err_set(err, ENOMEM, "reading the layer");
  }
  int rc = walk_dir(&w, upper, "", source >= 0);
  free_lines(w.made, w.nmade);
  return rc;
}

int review_collect(const struct session *s, char *const *filters, size_t nfilters,
                   struct review *r, usbox_err_t *err)
{
  memset(r, 0, sizeof *r);
  if (session_layers(s, &r->layers, &r->nlayers, err) < 0)
    return -1;
  for (size_t i = 0; i < r->nlayers; i++)
    if (collect_layer(r, i, err) < 0) {
      review_free(r);
      return -1;
    }
  find_renames(r);
  find_dir_renames(r);
  /* a directory's rename is applied whole: selecting anything below it
   * selects it, and it selects what is below it */
  bool *keep = calloc(r->n + 1, sizeof *keep);
  if (keep == NULL) {
    review_free(r);
    return usbox_err_set(err, ENOMEM, "collecting changes");
  }
  for (size_t i = 0; i < r->n; i++)
    keep[i] = selected(&r->v[i], filters, nfilters);
  for (size_t i = 0; i < r->n; i++) {
    const struct change *holder = rename_holding(r, &r->v[i]);
    if (holder != NULL && keep[i])
      keep[holder - r->v] = true;
  }
  for (size_t i = 0; i < r->n; i++) {
    const struct change *holder = rename_holding(r, &r->v[i]);
    if (holder != NULL)
      keep[i] = keep[holder - r->v];
  }
  size_t out = 0;
  for (size_t i = 0; i < r->n; i++) {
    if (keep[i])
      r->v[out++] = r->v[i];
    else
      free_change(&r->v[i]);
  }
  free(keep);
  r->n = out;
  if (r->n > 1)
    qsort(r->v, r->n, sizeof *r->v, by_path);
  return 0;
}

void review_free(struct review *r)
{
  for (size_t i = 0; i < r->n; i++)
    free_change(&r->v[i]);
  free(r->v);
  free(r->layers);
  memset(r, 0, sizeof *r);
}

/* ---- printing ---- */

#include <cjson/cJSON.h>
#include <sys/wait.h>

static const char *const kind_letter[] = {"A", "M", "M", "D", "R", "M"};
static const char *const kind_name[] = {"added", "modified", "mode", "deleted", "renamed",
                                        "xattrs"};

static const char *type_name(mode_t m)
{
  return m == 0         ? NULL
         : S_ISDIR(m)  ? "dir"
         : S_ISLNK(m)  ? "symlink"
         : S_ISREG(m)  ? "file"
         : S_ISFIFO(m) ? "fifo"
         : S_ISSOCK(m) ? "socket"
                       : "special";
}

static void upper_path(const struct review *r, const struct change *c, char *out, size_t size)
{
  snprintf(out, size, "%s/upper/%s", r->layers[c->layer].dir, c->rel);
}

/* git's rule: a NUL in the first 8000 bytes makes a file binary */
static bool looks_binary(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char buf[8000];
  ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf);
  return n > 0 && memchr(buf, '\0', (size_t)n) != NULL;
}

/* diff -u of the host's copy and the upper's, to fd out (a text change). */
static int run_diff(const struct review *r, const struct change *c, int out)
{
  char upper[PATH_MAX * 2], a[PATH_MAX + 2], b[PATH_MAX + 2];
  upper_path(r, c, upper, sizeof upper);
  bool old = c->kind == CHANGE_MODIFIED;
  snprintf(a, sizeof a, "a%s", old ? c->path : "/dev/null");
  snprintf(b, sizeof b, "b%s", c->path);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    if (dup2(out, 1) < 0)
      _exit(2);
    execl("/usr/bin/diff", "diff", "-u", "--label", old ? a : "/dev/null", "--label", b,
          old ? c->path : "/dev/null", upper, (char *)NULL);
    _exit(2);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? 0 : -1;
}

static bool text_change(const struct review *r, const struct change *c, bool *binary)
{
  *binary = false;
  if ((c->kind != CHANGE_MODIFIED && c->kind != CHANGE_ADDED) || !S_ISREG(c->new_mode) ||
      (c->kind == CHANGE_MODIFIED && (!S_ISREG(c->old_mode) || !c->content)))
    return false;
  char upper[PATH_MAX * 2];
  upper_path(r, c, upper, sizeof upper);
  *binary = looks_binary(upper) || (c->kind == CHANGE_MODIFIED && looks_binary(c->path));
  return !*binary;
}

static void print_line(const struct change *c, FILE *out)
{
  if (c->kind == CHANGE_RENAMED && S_ISDIR(c->new_mode))
    fprintf(out, "R  %s/ -> %s/", c->from, c->path);
  else if (c->kind == CHANGE_RENAMED)
    fprintf(out, "R  %s -> %s", c->from, c->path);
  else
    fprintf(out, "%s  %s%s", kind_letter[c->kind], c->path, S_ISDIR(c->new_mode | c->old_mode) &&
                                                              !S_ISREG(c->new_mode) ? "/" : "");
  if (c->old_mode != 0 && c->new_mode != 0 && (c->old_mode & 07777) != (c->new_mode & 07777))
    fprintf(out, "  (mode %04o -> %04o)", c->old_mode & 07777, c->new_mode & 07777);
  if (c->kind == CHANGE_MODIFIED && (c->old_mode & S_IFMT) != (c->new_mode & S_IFMT))
    fprintf(out, "  (%s -> %s)", type_name(c->old_mode), type_name(c->new_mode));
  else if (c->kind == CHANGE_ADDED && !S_ISREG(c->new_mode) && !S_ISDIR(c->new_mode) &&
           !S_ISLNK(c->new_mode))
    fprintf(out, "  (%s)", type_name(c->new_mode));
  if (c->xattrs)
    fprintf(out, "  (xattrs)");
}

/* lines added and removed, counted from diff's output */
static void count_lines(const struct review *r, const struct change *c, long *plus, long *minus)
{
  *plus = *minus = 0;
  cleanup_fclose FILE *tmp = tmpfile();
  if (tmp == NULL || run_diff(r, c, fileno(tmp)) < 0)
    return;
  rewind(tmp);
  char line[4096];
  int header = 2;
  while (fgets(line, sizeof line, tmp) != NULL) {
    if (header > 0 && (strncmp(line, "---", 3) == 0 || strncmp(line, "+++", 3) == 0)) {
      header--;
      continue;
    }
    *plus += line[0] == '+';
    *minus += line[0] == '-';
  }
}

static int print_json(const struct review *r, FILE *out, usbox_err_t *err)
{
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; arr != NULL && i < r->n; i++) {
    const struct change *c = &r->v[i];
    if (c->inside_rename)
      continue;
    cJSON *o = cJSON_CreateObject();
    bool binary;
    text_change(r, c, &binary);
    cJSON_AddStringToObject(o, "path", c->path);
    cJSON_AddStringToObject(o, "change", kind_name[c->kind]);
    if (c->from != NULL)
      cJSON_AddStringToObject(o, "from", c->from);
    if (type_name(c->new_mode ? c->new_mode : c->old_mode) != NULL)
      cJSON_AddStringToObject(o, "type", type_name(c->new_mode ? c->new_mode : c->old_mode));
    char mode[8];
    if (c->old_mode != 0) {
      snprintf(mode, sizeof mode, "%04o", c->old_mode & 07777);
      cJSON_AddStringToObject(o, "old_mode", mode);
    }
    if (c->new_mode != 0) {
      snprintf(mode, sizeof mode, "%04o", c->new_mode & 07777);
      cJSON_AddStringToObject(o, "new_mode", mode);
    }
    cJSON_AddBoolToObject(o, "binary", binary);
    cJSON_AddBoolToObject(o, "xattrs", c->xattrs);
    cJSON_AddItemToArray(arr, o);
  }
  char *text = arr == NULL ? NULL : cJSON_Print(arr);
  cJSON_Delete(arr);
  if (text == NULL)
    return usbox_err_set(err, ENOMEM, "printing the changes");
  fprintf(out, "%s\n", text);
  free(text);
  return 0;
}

int review_print(const struct review *r, enum review_format format, FILE *out, usbox_err_t *err)
{
  if (format == REVIEW_JSON)
    return print_json(r, out, err);
  size_t shown = 0;
  for (size_t i = 0; i < r->n; i++) {
    const struct change *c = &r->v[i];
    if (c->inside_rename)
      continue;
    shown++;
    bool binary;
    bool text = text_change(r, c, &binary);
    print_line(c, out);
    if (format == REVIEW_STAT && text) {
      long plus, minus;
      count_lines(r, c, &plus, &minus);
      fprintf(out, "  | +%ld -%ld", plus, minus);
    } else if (binary) {
      fprintf(out, "  (binary)");
    }
    fputc('\n', out);
  }
  if (format == REVIEW_STAT) {
    fprintf(out, "%zu change%s\n", shown, shown == 1 ? "" : "s");
    return 0;
  }
  for (size_t i = 0; i < r->n; i++) {
    bool binary;
    if (r->v[i].inside_rename)
      continue;
    if (!text_change(r, &r->v[i], &binary)) {
      if (binary)
        fprintf(out, "Binary files a%s and b%s differ\n",
                r->v[i].kind == CHANGE_ADDED ? "/dev/null" : r->v[i].path, r->v[i].path);
      continue;
    }
    fflush(out);
    if (run_diff(r, &r->v[i], fileno(out)) < 0)
      return usbox_err_set(err, EIO, "diff(1) failed on %s (is diffutils installed?)",
                           r->v[i].path);
  }
  return 0;
}

/* ---- committing ---- */

#include <stdarg.h>
#include <sys/sendfile.h>

struct commit {
  const struct review *r;
  int *sources; /* per layer: the host tree, O_PATH */
  struct baseline *baselines;
  usbox_err_t *err;
};

/* Why rel cannot be applied without --force, or NULL. */
static const char *conflict_of(const struct commit *k, size_t layer, const char *rel)
{
  struct baseline_entry now;
  baseline_of_host(k->sources[layer], rel, &now);
  const struct baseline_entry *then = baseline_find(&k->baselines[layer], rel);
  if (then == NULL)
    return now.present ? "the host has it, and usbox has no record of what the agent saw there"
                       : NULL;
  if (!baseline_same(then, &now))
    return then->present ? (now.present ? "changed on the host since the agent first saw it"
                                        : "removed on the host since the agent first saw it")
                         : "created on the host since the agent first saw it absent";
  return NULL;
}

static size_t count_conflicts(const struct commit *k, FILE *report)
{
  size_t n = 0;
  for (size_t i = 0; i < k->r->n; i++) {
    const struct change *c = &k->r->v[i];
    const char *why = conflict_of(k, c->layer, c->rel);
    const char *why_from = c->from_rel ? conflict_of(k, c->layer, c->from_rel) : NULL;
    if (why != NULL)
      fprintf(report, "usbox: commit: %s: %s\n", c->path, why);
    if (why_from != NULL)
      fprintf(report, "usbox: commit: %s: %s\n", c->from, why_from);
    n += (why != NULL) + (why_from != NULL);
  }
  return n;
}

/* Remove whatever the host has at name in parent (a tree too). */
static int remove_at(int parent, const char *name)
{
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return -1;
  return session_remove_tree_at(parent, name);
}

static int copy_file(int from, int to)
{
  struct stat st;
  if (fstat(from, &st) < 0)
    return -1;
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = copy_file_range(from, NULL, to, NULL, (size_t)left, 0);
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS))
      n = sendfile(to, from, NULL, (size_t)left);
    if (n <= 0)
      return n == 0 ? 0 : -1;
    left -= n;
  }
  return 0;
}

/* The upper's file (or symlink) written beside name and renamed over it. */
static int write_beside(int parent, const char *name, const char *upper, const struct stat *ust)
{
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".usbox-commit-%ld-%d", (long)getpid(), rand());
  if (S_ISLNK(ust->st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(upper, target, sizeof target - 1);
    if (n < 0)
      return -1;
    target[n] = '\0';
    if (symlinkat(target, parent, tmp) < 0)
      return -1;
    if (fchownat(parent, tmp, ust->st_uid, ust->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
      goto fail;
  } else if (S_ISFIFO(ust->st_mode)) {
    struct timespec times[2] = {ust->st_atim, ust->st_mtim};
    if (mkfifoat(parent, tmp, 0600) < 0)
      return -1;
    if ((fchownat(parent, tmp, ust->st_uid, ust->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM) ||
        fchmodat(parent, tmp, ust->st_mode & 07777, 0) < 0 || utimensat(parent, tmp, times, 0) < 0)
      goto fail;
  } else {
    cleanup_close int from = open(upper, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int to = from < 0 ? -1 : openat(parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (to < 0)
      return -1;
    struct timespec times[2] = {ust->st_atim, ust->st_mtim};
    if (copy_file(from, to) < 0 || (fchown(to, ust->st_uid, ust->st_gid) < 0 && errno != EPERM) ||
        fchmod(to, ust->st_mode & 07777) < 0 || user_xattrs_copy(from, to) < 0 ||
        futimens(to, times) < 0)
      goto fail;
  }
  struct stat hst;
  if (fstatat(parent, name, &hst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(hst.st_mode) &&
      remove_at(parent, name) < 0)
    goto fail;
  if (renameat(parent, tmp, parent, name) < 0)
    goto fail;
  return 0;
fail:;
  int e = errno;
  unlinkat(parent, tmp, 0);
  errno = e;
  return -1;
}

/* The upper's user attributes onto the host's name (a file or directory). */
static int apply_xattrs(int parent, const char *name, const char *upper)
{
  cleanup_close int from = open(upper, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  cleanup_close int to = from < 0 ? -1 : openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  return to < 0 ? -1 : user_xattrs_copy(from, to);
}

static int apply_dir(int parent, const char *name, const char *upper, const struct stat *ust)
{
  struct stat hst;
  if (fstatat(parent, name, &hst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(hst.st_mode) &&
      unlinkat(parent, name, 0) < 0)
    return -1;
  if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
    return -1;
  if (fchownat(parent, name, ust->st_uid, ust->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
    return -1;
  if (apply_xattrs(parent, name, upper) < 0)
    return -1;
  return fchmodat(parent, name, ust->st_mode & 07777, 0);
}

/* A directory's rename, on the host, as one rename(2) (its tree is the
 * upper's, as review found it; an entry at the new name is not replaced). */
static int apply_dir_rename(const struct commit *k, const struct change *c, int parent,
                            const char *name)
{
  const char *from_name;
  cleanup_close int from = host_open_parent(k->sources[c->layer], c->from_rel, &from_name);
  if (from < 0)
    return -1;
  return renameat2(from, from_name, parent, name, RENAME_NOREPLACE);
}

/* One change, apart from a deletion (second pass). */
static int apply_write(const struct commit *k, const struct change *c)
{
  const char *name;
  cleanup_close int parent = host_open_parent(k->sources[c->layer], c->rel, &name);
  if (parent < 0)
    return -1;
  if (c->kind == CHANGE_RENAMED && S_ISDIR(c->new_mode))
    return apply_dir_rename(k, c, parent, name);
  char upper[PATH_MAX * 2];
  upper_path(k->r, c, upper, sizeof upper);
  struct stat ust;
  if (lstat(upper, &ust) < 0)
    return -1;
  if (c->kind == CHANGE_MODE || c->kind == CHANGE_XATTRS) {
    if (S_ISLNK(ust.st_mode))
      return 0;
    if (c->xattrs && apply_xattrs(parent, name, upper) < 0)
      return -1;
    return fchmodat(parent, name, ust.st_mode & 07777, 0);
  }
  if (S_ISDIR(ust.st_mode))
    return apply_dir(parent, name, upper, &ust);
  if (!S_ISREG(ust.st_mode) && !S_ISLNK(ust.st_mode) && !S_ISFIFO(ust.st_mode))
    return errno = EOPNOTSUPP, -1; /* refused before anything was applied (unappliable) */
  return write_beside(parent, name, upper, &ust);
}

static int apply_delete(const struct commit *k, size_t layer, const char *rel)
{
  const char *name;
  cleanup_close int parent = host_open_parent(k->sources[layer], rel, &name);
  return parent < 0 ? (errno == ENOENT ? 0 : -1) : remove_at(parent, name);
}

static int by_path_desc(const void *a, const void *b)
{
  return -by_path(a, b);
}

static int apply_all(const struct commit *k, FILE *out)
{
  const struct review *r = k->r;
  for (size_t i = 0; i < r->n; i++) {
    const struct change *c = &r->v[i];
    if (c->kind != CHANGE_DELETED && !c->inside_rename && apply_write(k, c) < 0)
      return usbox_err_set(k->err, errno, "commit: writing %s", c->path);
  }
  /* deletions last, children before parents: a rename's new name exists
   * before its old one goes */
  struct change *del = calloc(r->n + 1, sizeof *del);
  if (del == NULL)
    return usbox_err_set(k->err, ENOMEM, "commit");
  size_t n = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].kind == CHANGE_DELETED ||
        (r->v[i].kind == CHANGE_RENAMED && !S_ISDIR(r->v[i].new_mode))) /* a directory moved */
      del[n++] = (struct change){.path = r->v[i].kind == CHANGE_RENAMED ? r->v[i].from : r->v[i].path,
                                 .rel = r->v[i].kind == CHANGE_RENAMED ? r->v[i].from_rel : r->v[i].rel,
                                 .layer = r->v[i].layer};
  if (n > 1)
    qsort(del, n, sizeof *del, by_path_desc);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    if (apply_delete(k, del[i].layer, del[i].rel) < 0)
      rc = usbox_err_set(k->err, errno, "commit: removing %s", del[i].path);
  free(del);
  if (rc == 0)
    for (size_t i = 0; i < r->n; i++) {
      if (r->v[i].inside_rename)
        continue;
      fputs("applied ", out);
      print_line(&r->v[i], out);
      fputc('\n', out);
    }
  return rc;
}

/* Changes commit cannot apply: sockets and devices in the upper (a
 * socket the agent bound, a node it could only have made with a
 * capability usbox never leaves it). Named on report, so that a commit
 * applies everything or nothing of this kind. */
static size_t count_unappliable(const struct commit *k, FILE *report)
{
  size_t n = 0;
  for (size_t i = 0; i < k->r->n; i++) {
    const struct change *c = &k->r->v[i];
    char upper[PATH_MAX * 2];
    struct stat ust;
    upper_path(k->r, c, upper, sizeof upper);
    if (c->kind == CHANGE_DELETED || c->inside_rename || lstat(upper, &ust) < 0 || S_ISREG(ust.st_mode) ||
        S_ISDIR(ust.st_mode) || S_ISLNK(ust.st_mode) || S_ISFIFO(ust.st_mode))
      continue;
    fprintf(report, "usbox: commit: %s is a %s: usbox does not commit one\n", c->path,
            S_ISSOCK(ust.st_mode) ? "socket" : "device node");
    n++;
  }
  return n;
}

/* The records of what was applied now say what the host has. */
static int refresh_baselines(const struct commit *k)
{
  const struct review *r = k->r;
  for (size_t l = 0; l < r->nlayers; l++) {
    char **rels = calloc(2 * r->n + 1, sizeof *rels);
    if (rels == NULL)
      return usbox_err_set(k->err, ENOMEM, "commit");
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
      if (r->v[i].layer == l) {
        rels[n++] = r->v[i].rel;
        if (r->v[i].from_rel != NULL)
          rels[n++] = r->v[i].from_rel;
      }
    int rc = n == 0 ? 0 : baseline_refresh(r->layers[l].dir, r->layers[l].source, rels, n, k->err);
    free(rels);
    if (rc < 0)
      return -1;
  }
  return 0;
}

int review_commit(const struct review *r, bool force, FILE *out, usbox_err_t *err)
{
  struct commit k = {.r = r, .err = err};
  k.sources = calloc(r->nlayers + 1, sizeof *k.sources);
  k.baselines = calloc(r->nlayers + 1, sizeof *k.baselines);
  int rc = k.sources == NULL || k.baselines == NULL ? usbox_err_set(err, ENOMEM, "commit") : 0;
  for (size_t l = 0; rc == 0 && l < r->nlayers; l++) {
    k.sources[l] = open(r->layers[l].source, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (k.sources[l] < 0)
      rc = usbox_err_set(err, errno, "commit: the host directory %s", r->layers[l].source);
    else
      rc = baseline_load(r->layers[l].dir, &k.baselines[l], err);
  }
  size_t unappliable = rc == 0 ? count_unappliable(&k, stderr) : 0;
  if (unappliable > 0) {
    usbox_err_set(err, 0, "commit: %zu change%s usbox cannot apply, nothing applied (commit "
                  "other paths, or discard)", unappliable, unappliable == 1 ? "" : "s");
    rc = 1;
  }
  size_t conflicts = rc == 0 && !force ? count_conflicts(&k, stderr) : 0;
  if (conflicts > 0) {
    usbox_err_set(err, 0, "commit: %zu conflict%s, nothing applied (commit other paths, or "
                  "--force)", conflicts, conflicts == 1 ? "" : "s");
    rc = 1;
  }
  if (rc == 0)
    rc = apply_all(&k, out);
  int conflicted = rc;
  if (rc == 0)
    rc = refresh_baselines(&k);
  for (size_t l = 0; l < r->nlayers && k.sources != NULL; l++) {
    if (k.sources[l] > 0)
      close(k.sources[l]);
    if (k.baselines != NULL)
      baseline_free(&k.baselines[l]);
  }
  free(k.sources);
  free(k.baselines);
  return conflicted == 1 ? 1 : rc;
}
