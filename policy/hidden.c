/* Hidden paths, decided by what they are on the host (DEVELOPERS.md,
 * invariant 3: hidden is hidden by identity).
 *
 * A rule names a host path (`--hide ~/.kube`, the built-in secrets). The
 * agent may reach the object behind it under other names: a symlinked
 * parent (/home/u -> /data/u), a bind of an ancestor (`--ro /home/u:/x`), a
 * host bind mount of the same directory elsewhere, the target of a hidden
 * symlink. policy_expand_hidden turns the rules into everything the view
 * must hide:
 *
 *  1. each rule resolved on the host: its parent's symlinks followed (the
 *     canonical path of the entry itself), and a rule that is a symlink
 *     hides its target too, unless a bind names that target explicitly;
 *  2. the other places the host's mount table shows the same directory or
 *     file (every mount of the same filesystem whose root contains it);
 *  3. every view path where one of those appears: each bind whose source
 *     contains it, at the bind's destination (a view path that a deeper
 *     mount covers is not the host's there, and is not hidden);
 *  4. the identity (device and inode) of each that exists, and of the files
 *     below a hidden directory that have other names (hard links), so that
 *     any name the walks did not foresee is caught on the object.
 *
 * The result replaces p->hidden (view paths) and fills p->hidden_ids. A
 * path that does not exist yet is hidden by name from the moment it
 * appears: the sentry decides on canonical view paths, and a hidden path is
 * hidden with everything below it. */
#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "common/dircache.h"
#include "common/strset.h"

/* ---- paths as text ---- */

/* dir + what of path lies below base ("/a/b/c" below "/a" onto "/x": "/x/b/c"). */
static int rebase(const char *path, const char *base, const char *dir, char out[PATH_MAX])
{
  const char *rest = strcmp(base, "/") == 0 ? path : path + strlen(base);
  int n = snprintf(out, PATH_MAX, "%s%s", strcmp(dir, "/") == 0 && rest[0] == '/' ? "" : dir, rest);
  if (n <= 0 || n >= PATH_MAX)
    return -1;
  if (out[0] == '\0')
    strcpy(out, "/");
  return 0;
}

/* The capacity two parallel arrays of n used need for one more: doubled
 * when full (the lists grow one by one, and a realloc at each add copied
 * and freed ~0.5 MB at every start, in pages usbox shares copy-on-write
 * with the sandbox's first process since its clone). */
static size_t cap_for_one_more(size_t n, size_t cap)
{
  return n < cap ? cap : cap != 0 ? 2 * cap : 64;
}

/* The host's directories, each listed once (common/dircache.h): most
 * hidden paths do not exist, and that is known without an lstat each.
 * Valid for one policy_expand_hidden. */
static struct dircache *host_dirs;

static bool no_hard_links(int dirfd);

/* A directory to list, but not /proc or /sys: their listings are long
 * (every process), made up as they are read, and an lstat there is cheap;
 * refused here, the cache answers "may exist" and the caller looks. */
static int open_host_dir(const char *dir, void *ctx)
{
  (void)ctx;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 && no_hard_links(fd)) {
    close(fd);
    errno = EOPNOTSUPP;
    return -1;
  }
  return fd;
}

/* lstat, unless the listing of the parent says there is nothing there. */
static int lstat_listed(const char *path, struct stat *st)
{
  const char *slash = strrchr(path, '/');
  if (slash != NULL && host_dirs != NULL &&
      !dircache_may_exist(host_dirs, slash == path ? "/" : path,
                          slash == path ? 1 : (size_t)(slash - path), slash + 1)) {
    errno = ENOENT;
    return -1;
  }
  return lstat(path, st);
}

/* realpath of every directory asked: the rules share their parents (/root,
 * /root/.config, each home), and each realpath is a readlink per
 * component. Valid for one policy_expand_hidden (host_dirs' lifetime). */
static struct realpaths {
  struct strset index; /* dir -> its slot */
  char **dir, **resolved;
  size_t n, cap;
} *realpaths;

static char *realpath_cached(const char *dir, char resolved[PATH_MAX]);

/* realpath(dir), from its parent's (cached, so the rules' shared parents
 * are resolved once) and one lstat of its last name, which the parent's
 * listing often answers without a system call: glibc's realpath reads
 * every component as a link (a readlink each, most failing with EINVAL).
 * A symlink, or a path that is not plain absolute text, goes to realpath
 * itself. */
static char *realpath_from_parent(const char *dir, char resolved[PATH_MAX])
{
  const char *slash = strrchr(dir, '/');
  if (dir[0] != '/' || strcmp(dir, "/") == 0 || slash[1] == '\0' || strstr(dir, "//") != NULL ||
      strstr(dir, "/./") != NULL || strstr(dir, "/../") != NULL || strcmp(slash, "/.") == 0 ||
      strcmp(slash, "/..") == 0)
    return realpath(dir, resolved);
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
  if (realpath_cached(parent, resolved) == NULL)
    return NULL; /* errno: the parent's */
  size_t plen = strcmp(resolved, "/") == 0 ? 0 : strlen(resolved);
  if (plen + strlen(slash) >= PATH_MAX)
    return realpath(dir, resolved);
  memcpy(resolved + plen, slash, strlen(slash) + 1);
  struct stat st;
  if (lstat_listed(resolved, &st) < 0)
    return NULL;
  if (S_ISLNK(st.st_mode)) {
    char link[PATH_MAX];
    memcpy(link, resolved, strlen(resolved) + 1);
    return realpath(link, resolved);
  }
  return resolved;
}

static char *realpath_cached(const char *dir, char resolved[PATH_MAX])
{
  struct realpaths *c = realpaths;
  size_t len = strlen(dir), at;
  if (c != NULL && strset_find(&c->index, dir, len, strset_hash(STRSET_HASH_INIT, dir, len), &at))
    return c->resolved[at] != NULL ? strcpy(resolved, c->resolved[at]) : NULL;
  char *r = c != NULL ? realpath_from_parent(dir, resolved) : realpath(dir, resolved);
  if (c == NULL)
    return r;
  size_t cap = cap_for_one_more(c->n, c->cap);
  if (cap != c->cap) {
    char **d = realloc(c->dir, cap * sizeof *d);
    if (d != NULL)
      c->dir = d;
    char **v = d != NULL ? realloc(c->resolved, cap * sizeof *v) : NULL;
    if (v == NULL)
      return r; /* not cached: still right */
    c->resolved = v;
    c->cap = cap;
  }
  char **d = c->dir, **v = c->resolved;
  if ((d[c->n] = strdup(dir)) == NULL)
    return r;
  v[c->n] = r != NULL ? strdup(r) : NULL; /* a failure is remembered too */
  at = c->n;
  if (strset_insert(&c->index, d[c->n], len, &at) == 0)
    c->n++;
  else
    free(d[c->n]), free(v[c->n]);
  return r;
}

static void realpaths_free(struct realpaths *c)
{
  for (size_t i = 0; i < c->n; i++)
    free(c->dir[i]), free(c->resolved[i]);
  free(c->dir);
  free(c->resolved);
  strset_free(&c->index);
}

/* The canonical host path of path's *entry*: every symlink in its parents
 * followed, the last component kept as it is. Parents that do not exist
 * are kept as text after the deepest one that does. */
static int canonical_entry(const char *path, char out[PATH_MAX])
{
  char head[PATH_MAX];
  snprintf(head, sizeof head, "%s", path);
  char *slash = strrchr(head, '/');
  if (slash == NULL || slash[1] == '\0')
    return -1;
  char tail[PATH_MAX];
  snprintf(tail, sizeof tail, "%s", slash); /* "/name" */
  *slash = '\0';
  for (;;) {
    char resolved[PATH_MAX];
    if (realpath_cached(head[0] != '\0' ? head : "/", resolved) != NULL) {
      int n = snprintf(out, PATH_MAX, "%s%s", strcmp(resolved, "/") == 0 ? "" : resolved, tail);
      return n > 0 && n < PATH_MAX ? 0 : -1;
    }
    /* not there: move one more component of head into tail */
    char *cut = strrchr(head, '/');
    if (cut == NULL)
      return -1;
    char moved[PATH_MAX];
    int n = snprintf(moved, sizeof moved, "%s%s", cut, tail);
    if (n <= 0 || n >= (int)sizeof moved)
      return -1;
    memcpy(tail, moved, (size_t)n + 1);
    *cut = '\0';
  }
}

/* ---- the list being built ---- */

struct hidden_set {
  char **paths; /* canonical paths, in the order added */
  size_t *rule; /* per path: the rule it comes from (policy.hide_rules) */
  size_t n, cap;
  struct strset index; /* the same, to find one without a scan */
};

/* path, from rule (a path met again keeps its first rule). */
static int set_add(struct hidden_set *s, const char *path, size_t rule, usbox_err_t *err)
{
  size_t len = strlen(path), at;
  if (s->index.cap == 0 && strset_init(&s->index, 256) < 0)
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  if (strset_find(&s->index, path, len, strset_hash(STRSET_HASH_INIT, path, len), &at))
    return 0;
  size_t cap = cap_for_one_more(s->n, s->cap);
  if (cap != s->cap) {
    char **paths = realloc(s->paths, cap * sizeof *paths);
    if (paths != NULL)
      s->paths = paths;
    size_t *rules = paths != NULL ? realloc(s->rule, cap * sizeof *rules) : NULL;
    if (rules == NULL)
      return usbox_err_set(err, ENOMEM, "allocating the hidden list");
    s->rule = rules;
    s->cap = cap;
  }
  if ((s->paths[s->n] = strdup(path)) == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  s->rule[s->n] = rule;
  at = s->n;
  if (strset_insert(&s->index, s->paths[s->n], len, &at) < 0) {
    free(s->paths[s->n]);
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  }
  s->n++;
  return 0;
}

static void set_free(struct hidden_set *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->paths[i]);
  free(s->paths);
  free(s->rule);
  strset_free(&s->index);
  s->paths = NULL;
  s->rule = NULL;
  s->n = s->cap = 0;
}

static bool bound_source(const struct policy *p, const char *host_path)
{
  for (size_t i = 0; i < p->nmounts; i++)
    if (p->mounts[i].kind == MOUNT_BIND && strcmp(p->mounts[i].source, host_path) == 0)
      return true;
  return false;
}

static const struct policy_mount *view_mount_of(const struct policy *p, const char *view);
static int resolve_host(const struct policy *p, const char *rule, size_t why,
                        struct hidden_set *out, usbox_err_t *err);

/* Step 1: the rule on the host. A rule names a path as the sandbox sees it
 * (`--rw S:/work --hide /work/secrets` hides S/secrets) and, as the host
 * sees it, the same path (`--hide ~/.kube`): both are resolved. */
static int resolve_rule(const struct policy *p, const char *rule, size_t why,
                        struct hidden_set *out, usbox_err_t *err)
{
  const struct policy_mount *m = view_mount_of(p, rule);
  if (m != NULL && m->kind == MOUNT_BIND && strcmp(m->dest, m->source) != 0) {
    char host[PATH_MAX];
    if (rebase(rule, m->dest, m->source, host) == 0 && resolve_host(p, host, why, out, err) < 0)
      return -1;
  }
  return resolve_host(p, rule, why, out, err);
}

/* A host path: its entry's canonical path, and a symlink's target (why:
 * the rule that hides them). */
static int resolve_host(const struct policy *p, const char *rule, size_t why,
                        struct hidden_set *out, usbox_err_t *err)
{
  char entry[PATH_MAX];
  if (canonical_entry(rule, entry) < 0)
    return usbox_err_set(err, ENAMETOOLONG, "hidden path %s: too long", rule);
  if (set_add(out, entry, why, err) < 0)
    return -1;
  struct stat st;
  if (lstat_listed(entry, &st) < 0 || !S_ISLNK(st.st_mode))
    return 0;
  /* a hidden symlink hides what it points to (a ~/.aws that is a link to
   * /srv/creds), unless the user bound that place explicitly */
  char target[PATH_MAX];
  if (realpath(entry, target) == NULL) {
    /* dangling: where it would point, as text, if it appears later */
    char text[PATH_MAX], joined[PATH_MAX * 2];
    ssize_t n = readlink(entry, text, sizeof text - 1);
    if (n <= 0)
      return 0;
    text[n] = '\0';
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", entry);
    *strrchr(dir, '/') = '\0';
    snprintf(joined, sizeof joined, "%s/%s", text[0] == '/' ? "" : dir, text);
    char norm[PATH_MAX];
    if (policy_normalize(joined, norm, sizeof norm) < 0 || canonical_entry(norm, target) < 0)
      return 0;
  }
  if (strcmp(target, "/") == 0 || bound_source(p, target))
    return 0;
  return set_add(out, target, why, err);
}

/* ---- step 2: the host's mount table ---- */

struct mount_line {
  unsigned major, minor;
  char *root;  /* the mount's root inside its filesystem */
  char *point; /* where it is mounted */
};

static void free_mounts(struct mount_line *m, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(m[i].root);
    free(m[i].point);
  }
  free(m);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
  char *w = s;
  for (const char *r = s; *r != '\0'; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
        r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

static int read_mounts(struct mount_line **out, size_t *n)
{
  *out = NULL;
  *n = 0;
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return -errno;
  cleanup_free char *line = NULL, *root = NULL, *point = NULL;
  size_t cap = 0, have = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    root = realloc(root, (size_t)len + 1), point = realloc(point, (size_t)len + 1);
    struct mount_line m;
    if (root == NULL || point == NULL)
      return -ENOMEM;
    if (sscanf(line, "%*u %*u %u:%u %s %s", &m.major, &m.minor, root, point) != 4)
      continue;
    unescape(root);
    unescape(point);
    if (*n == have) {
      have = have ? 2 * have : 32;
      struct mount_line *grown = realloc(*out, have * sizeof *grown);
      if (grown == NULL)
        return -ENOMEM;
      *out = grown;
    }
    m.root = strdup(root), m.point = strdup(point);
    if (m.root == NULL || m.point == NULL) {
      free(m.root), free(m.point);
      return -ENOMEM;
    }
    (*out)[(*n)++] = m;
  }
  return 0;
}

/* The mount a host path is on: the deepest mount point above it, the one
 * mounted last where several are stacked. */
static const struct mount_line *mount_of(const struct mount_line *m, size_t n, const char *path)
{
  const struct mount_line *best = NULL;
  for (size_t i = 0; i < n; i++)
    if (path_at_or_below(path, m[i].point) &&
        (best == NULL || strlen(m[i].point) >= strlen(best->point)))
      best = &m[i];
  return best;
}

/* Every other place the host shows the object at path: a mount of the same
 * filesystem whose root contains it shows it below its mount point; one
 * whose root lies inside it is wholly inside it. */
static int add_mount_aliases(struct hidden_set *s, const char *path, size_t why,
                             const struct mount_line *m, size_t n, usbox_err_t *err)
{
  const struct mount_line *home = mount_of(m, n, path);
  if (home == NULL)
    return 0;
  char fs_path[PATH_MAX]; /* the object's path inside its filesystem */
  if (rebase(path, home->point, home->root, fs_path) < 0)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (&m[i] == home || m[i].major != home->major || m[i].minor != home->minor)
      continue;
    char alias[PATH_MAX];
    if (path_at_or_below(fs_path, m[i].root)) {
      if (rebase(fs_path, m[i].root, m[i].point, alias) < 0)
        continue;
    } else if (path_at_or_below(m[i].root, fs_path)) {
      snprintf(alias, sizeof alias, "%s", m[i].point);
    } else {
      continue;
    }
    if (strcmp(alias, "/") != 0 && set_add(s, alias, why, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- step 3: the view ---- */

/* The mount of the policy that holds a view path (the deepest destination). */
static const struct policy_mount *view_mount_of(const struct policy *p, const char *view)
{
  const struct policy_mount *best = NULL;
  for (size_t i = 0; i < p->nmounts; i++)
    if (path_at_or_below(view, p->mounts[i].dest) &&
        (best == NULL || strlen(p->mounts[i].dest) > strlen(best->dest)))
      best = &p->mounts[i];
  return best;
}

/* Each view path where host path appears: under every bind whose source
 * contains it, unless a deeper mount of the view covers that place. */
static int add_view_paths(const struct policy *p, const char *host, size_t why,
                          struct hidden_set *view, usbox_err_t *err)
{
  for (size_t i = 0; i < p->nmounts; i++) {
    const struct policy_mount *m = &p->mounts[i];
    /* a bind of exactly this object is the user's explicit wish to show it
     * there (a bind of something inside it does not contain it at all) */
    if (m->kind != MOUNT_BIND || !path_at_or_below(host, m->source) || strcmp(host, m->source) == 0)
      continue;
    char at[PATH_MAX];
    if (rebase(host, m->source, m->dest, at) < 0 || strcmp(at, "/") == 0)
      continue;
    if (view_mount_of(p, at) != m)
      continue; /* covered: the view shows another mount there */
    if (set_add(view, at, why, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- step 4: identities ---- */

/* st's object as hidden by rule why; host: the path it was found at, for a
 * non-directory hidden by that path (NULL: one found below a hidden
 * directory, or a directory). */
static int push_identity(struct policy *p, const struct stat *st, size_t why, const char *host,
                         usbox_err_t *err)
{
  for (size_t i = 0; i < p->nhidden_ids; i++)
    if (p->hidden_ids[i].dev == st->st_dev && p->hidden_ids[i].ino == st->st_ino)
      return 0;
  struct policy_hidden_id *grown = realloc(p->hidden_ids, (p->nhidden_ids + 1) * sizeof *grown);
  if (grown == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  p->hidden_ids = grown;
  struct policy_hidden_id id = {.dev = st->st_dev, .ino = st->st_ino, .rule = why,
                                .dir = S_ISDIR(st->st_mode)};
  if (host != NULL && !id.dir && st->st_nlink == 1 && (id.one_link_path = strdup(host)) == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  p->hidden_ids[p->nhidden_ids++] = id;
  return 0;
}

/* Files below a hidden directory that have other names (a hard link made
 * on the host, in a visible place): their identity too. A file with one
 * link has no other name, so only those with more are kept; the walk is
 * bounded (a huge hidden tree is hidden by name below that), and skips
 * what a bind shows explicitly (`--hide ~ --rw ~/project`). */
#define HIDDEN_WALK_MAX 20000
struct linked_walk {
  struct policy *p;
  size_t why; /* the rule that hides the directory */
  size_t budget;
  char path[PATH_MAX];
};

static int add_linked_files(struct linked_walk *lw, int dirfd, int depth, usbox_err_t *err)
{
  cleanup_closedir DIR *d = fdopendir(dirfd);
  if (d == NULL) {
    close(dirfd);
    return 0;
  }
  size_t base = strlen(lw->path);
  struct dirent *de;
  while ((de = readdir(d)) != NULL && lw->budget > 0) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    lw->budget--;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
        push_identity(lw->p, &st, lw->why, NULL, err) < 0)
      return -1;
    if (!S_ISDIR(st.st_mode) || depth >= 16 ||
        snprintf(lw->path + base, sizeof lw->path - base, "/%s", de->d_name) >=
            (int)(sizeof lw->path - base))
      continue;
    if (!bound_source(lw->p, lw->path)) {
      int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0 && add_linked_files(lw, sub, depth + 1, err) < 0)
        return -1;
    }
    lw->path[base] = '\0';
  }
  return 0;
}

/* sysfs and procfs have no link operation: nothing below a hidden
 * directory there has another name (and /sys/firmware alone is hundreds
 * of entries to walk at every start). */
static bool no_hard_links(int dirfd)
{
  struct statfs sfs;
  return fstatfs(dirfd, &sfs) == 0 &&
         ((unsigned long)sfs.f_type == 0x62656572UL /* SYSFS_MAGIC */ ||
          (unsigned long)sfs.f_type == 0x9fa0UL /* PROC_SUPER_MAGIC */);
}

static int add_identity(struct policy *p, const char *host, size_t why, usbox_err_t *err)
{
  struct stat st;
  if (lstat_listed(host, &st) < 0)
    return 0; /* not there (yet): hidden by name */
  if (push_identity(p, &st, why, host, err) < 0)
    return -1;
  if (!S_ISDIR(st.st_mode))
    return 0;
  struct linked_walk lw = {.p = p, .why = why, .budget = HIDDEN_WALK_MAX};
  snprintf(lw.path, sizeof lw.path, "%s", host);
  int fd = open(host, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && no_hard_links(fd)) {
    close(fd);
    return 0;
  }
  return fd < 0 ? 0 : add_linked_files(&lw, fd, 0, err);
}

int policy_expand_hidden(struct policy *p, usbox_err_t *err)
{
  struct hidden_set host = {0}, view = {0};
  struct mount_line *mounts = NULL;
  size_t nmounts = 0;
  int rc = read_mounts(&mounts, &nmounts);
  if (rc < 0) {
    free_mounts(mounts, nmounts);
    return usbox_err_set(err, -rc, "reading the host's mount table");
  }
  struct dircache dirs;
  dircache_init(&dirs, open_host_dir, NULL);
  host_dirs = &dirs;
  struct realpaths rp = {0};
  if (strset_init(&rp.index, 64) == 0)
    realpaths = &rp;
  for (size_t i = 0; i < p->nhidden && rc == 0; i++)
    rc = resolve_rule(p, p->hidden[i], p->hidden_rule[i], &host, err);
  /* aliases of the rules' objects only (not of aliases again) */
  size_t nrules = host.n;
  for (size_t i = 0; i < nrules && rc == 0; i++)
    rc = add_mount_aliases(&host, host.paths[i], host.rule[i], mounts, nmounts, err);
  for (size_t i = 0; i < host.n && rc == 0; i++)
    if ((rc = add_view_paths(p, host.paths[i], host.rule[i], &view, err)) == 0)
      rc = add_identity(p, host.paths[i], host.rule[i], err);
  /* and the rule's own text, as the view path it names: a place the view
   * makes (inside the private /tmp, a --tmpfs) has no host object */
  for (size_t i = 0; i < p->nhidden && rc == 0; i++)
    rc = set_add(&view, p->hidden[i], p->hidden_rule[i], err);
  if (rc == 0) {
    if (p->hidden_given == NULL) { /* freed later (policy.h) */
      p->hidden_given = p->hidden;
      p->hidden_given_rule = p->hidden_rule;
      p->nhidden_given = p->nhidden;
    } else { /* expanded once already */
      for (size_t i = 0; i < p->nhidden; i++)
        free(p->hidden[i]);
      free(p->hidden);
      free(p->hidden_rule);
    }
    p->hidden = view.paths;
    p->hidden_rule = view.rule;
    p->nhidden = view.n;
    view.paths = NULL;
    view.rule = NULL;
    view.n = 0;
  }
  set_free(&host);
  set_free(&view);
  free_mounts(mounts, nmounts);
  host_dirs = NULL;
  dircache_free(&dirs);
  realpaths = NULL;
  realpaths_free(&rp);
  return rc;
}
