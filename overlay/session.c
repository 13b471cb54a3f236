#include "overlay/session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "overlay/baseline.h"

int session_root(char out[PATH_MAX], usbox_err_t *err)
{
  const char *state = getenv("USBOX_STATE_DIR");
  int n;
  if (state != NULL && state[0] == '/')
    n = snprintf(out, PATH_MAX, "%s/sessions", state);
  else if (state != NULL && state[0] != '\0')
    return usbox_err_set(err, EINVAL, "USBOX_STATE_DIR must be an absolute path: %s", state);
  else if (geteuid() == 0)
    n = snprintf(out, PATH_MAX, "/var/lib/usbox/sessions");
  else if (getenv("XDG_STATE_HOME") != NULL && getenv("XDG_STATE_HOME")[0] == '/')
    n = snprintf(out, PATH_MAX, "%s/usbox/sessions", getenv("XDG_STATE_HOME"));
  else if (getenv("HOME") != NULL && getenv("HOME")[0] == '/')
    n = snprintf(out, PATH_MAX, "%s/.local/state/usbox/sessions", getenv("HOME"));
  else
    return usbox_err_set(err, ENOENT, "no place for sessions: set USBOX_STATE_DIR or HOME");
  if (n < 0 || n >= PATH_MAX)
    return usbox_err_set(err, ENAMETOOLONG, "the sessions directory's path is too long");
  return 0;
}

int session_check_name(const char *name, usbox_err_t *err)
{
  size_t n = strlen(name);
  bool ok = n >= 1 && n <= 64 && name[0] != '.';
  for (size_t i = 0; ok && i < n; i++)
    ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
         (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i]) != NULL;
  if (!ok)
    return usbox_err_set(err, EINVAL,
                         "session name '%s': use 1-64 letters, digits, '.', '_' or '-', not "
                         "starting with '.'",
                         name);
  return 0;
}

/* mkdir -p, each made 0700 (the sessions hold the agent's work). */
static int make_dirs(const char *path)
{
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *c = buf + 1;; c++) {
    if (*c != '/' && *c != '\0')
      continue;
    char saved = *c;
    *c = '\0';
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
      return -1;
    *c = saved;
    if (saved == '\0')
      return 0;
  }
}

static int write_text(const char *path, const char *text)
{
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  size_t n = strlen(text);
  return fd >= 0 && write(fd, text, n) == (ssize_t)n ? 0 : -1;
}

int session_open(struct session *s, const char *name, bool must_exist, usbox_err_t *err)
{
  memset(s, 0, sizeof *s);
  s->lock_fd = -1;
  char root[PATH_MAX];
  if (session_root(root, err) < 0)
    return -1;
  if (name != NULL && session_check_name(name, err) < 0)
    return -1;
  s->anonymous = name == NULL;
  if (name != NULL)
    snprintf(s->name, sizeof s->name, "%s", name);
  else
    snprintf(s->name, sizeof s->name, ".run-%ld", (long)getpid());
  if (snprintf(s->dir, sizeof s->dir, "%s/%s", root, s->name) >= (int)sizeof s->dir)
    return usbox_err_set(err, ENAMETOOLONG, "session path too long");
  struct stat st;
  if (stat(s->dir, &st) < 0) {
    if (errno != ENOENT || must_exist)
      return usbox_err_set(err, errno, "session %s", s->name);
    if (make_dirs(s->dir) < 0)
      return usbox_err_set(err, errno, "making the session directory %s", s->dir);
    s->created = true;
    char path[PATH_MAX + 16], text[32];
    snprintf(path, sizeof path, "%s/created", s->dir);
    snprintf(text, sizeof text, "%lld\n", (long long)time(NULL));
    if (write_text(path, text) < 0) {
      usbox_err_set(err, errno, "writing %s", path);
      session_close(s, false);
      return -1;
    }
  }
  char lock[PATH_MAX + 8];
  snprintf(lock, sizeof lock, "%s/lock", s->dir);
  s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
    int e = errno;
    session_close(s, !s->created);
    if (e == EWOULDBLOCK)
      return usbox_err_set(err, EBUSY, "session %s is in use by another usbox", name);
    return usbox_err_set(err, e, "locking session %s", s->name);
  }
  return 0;
}

void session_close(struct session *s, bool keep)
{
  if (s->dir[0] == '\0')
    return;
  if ((s->anonymous || (s->created && !keep)))
    session_remove_tree(s->dir);
  if (s->lock_fd >= 0)
    close(s->lock_fd);
  s->lock_fd = -1;
  s->dir[0] = '\0';
}

void session_escape(const char *path, char *out, size_t size)
{
  size_t o = 0;
  for (const char *c = path; *c != '\0' && o + 4 < size; c++) {
    if (*c == '/' || *c == '%')
      o += (size_t)snprintf(out + o, size - o, "%%%02X", (unsigned char)*c);
    else
      out[o++] = *c;
  }
  out[o] = '\0';
}

int session_layer_prepare(const char *session_dir, const char *source, char out[PATH_MAX],
                          usbox_err_t *err)
{
  char esc[PATH_MAX];
  session_escape(source, esc, sizeof esc);
  if (snprintf(out, PATH_MAX, "%s/layers/%s", session_dir, esc) >= PATH_MAX)
    return usbox_err_set(err, ENAMETOOLONG, "layer path for %s too long", source);
  char sub[PATH_MAX + 16];
  snprintf(sub, sizeof sub, "%s/upper", out);
  bool fresh = access(sub, F_OK) < 0;
  if (make_dirs(sub) < 0)
    return usbox_err_set(err, errno, "making %s", sub);
  /* the upper's root is the overlay's root: it shows the host's owner and
   * mode there, not the session's 0700 */
  struct stat st;
  if (fresh && (stat(source, &st) < 0 ||
                (chown(sub, st.st_uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM) ||
                chmod(sub, st.st_mode & 07777) < 0))
    return usbox_err_set(err, errno, "making %s like %s", sub, source);
  snprintf(sub, sizeof sub, "%s/work", out);
  if (mkdir(sub, 0700) < 0 && errno != EEXIST)
    return usbox_err_set(err, errno, "making %s", sub);
  snprintf(sub, sizeof sub, "%s/source", out);
  if (access(sub, F_OK) < 0) {
    char text[PATH_MAX + 2];
    snprintf(text, sizeof text, "%s\n", source);
    if (write_text(sub, text) < 0)
      return usbox_err_set(err, errno, "writing %s", sub);
  }
  return 0;
}

int session_layer_note_made(const char *session_dir, const char *source, const char *rel,
                            usbox_err_t *err)
{
  char dir[PATH_MAX];
  if (session_layer_prepare(session_dir, source, dir, err) < 0)
    return -1;
  char path[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/made", dir);
  cleanup_fclose FILE *f = fopen(path, "ae");
  if (f == NULL || fprintf(f, "%s\n", rel) < 0)
    return usbox_err_set(err, errno, "writing %s", path);
  return 0;
}

static int read_line(const char *path, char *out, size_t size)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL || fgets(out, (int)size, f) == NULL)
    return -1;
  out[strcspn(out, "\n")] = '\0';
  return 0;
}

static int by_source(const void *a, const void *b)
{
  return strcmp(((const struct session_layer *)a)->source,
                ((const struct session_layer *)b)->source);
}

int session_layers(const struct session *s, struct session_layer **out, size_t *n,
                   usbox_err_t *err)
{
  *out = NULL;
  *n = 0;
  char dir[PATH_MAX + 8];
  snprintf(dir, sizeof dir, "%s/layers", s->dir);
  cleanup_closedir DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : usbox_err_set(err, errno, "reading %s", dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    struct session_layer l;
    char src[PATH_MAX + NAME_MAX + 16];
    snprintf(l.dir, sizeof l.dir, "%s/%s", dir, e->d_name);
    snprintf(src, sizeof src, "%s/source", l.dir);
    if (read_line(src, l.source, sizeof l.source) < 0 || l.source[0] != '/')
      continue; /* not a layer usbox made */
    struct session_layer *grown = realloc(*out, (*n + 1) * sizeof *grown);
    if (grown == NULL) {
      free(*out);
      *out = NULL;
      return usbox_err_set(err, ENOMEM, "listing layers");
    }
    *out = grown;
    (*out)[(*n)++] = l;
  }
  if (*n > 1)
    qsort(*out, *n, sizeof **out, by_source);
  return 0;
}

int session_record_baselines(const struct session *s, usbox_err_t *err)
{
  struct session_layer *layers;
  size_t n;
  if (session_layers(s, &layers, &n, err) < 0)
    return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = baseline_record_layer(layers[i].dir, layers[i].source, err);
  free(layers);
  return rc;
}

/* Remove what is below dir (an open directory), then nothing else. */
static void remove_below(int dir)
{
  cleanup_closedir DIR *d = fdopendir(dup(dir));
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (unlinkat(dir, e->d_name, 0) == 0)
      continue;
    int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 && errno == EACCES && fchmodat(dir, e->d_name, 0700, 0) == 0)
      sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) {
      fchmod(sub, 0700);
      remove_below(sub);
      close(sub);
    }
    unlinkat(dir, e->d_name, AT_REMOVEDIR);
  }
}

int session_remove_tree_at(int dirfd, const char *name)
{
  cleanup_close int dir = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0)
    return unlinkat(dirfd, name, 0);
  remove_below(dir);
  return unlinkat(dirfd, name, AT_REMOVEDIR);
}

int session_remove_tree(const char *path)
{
  cleanup_close int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0)
    return unlink(path);
  remove_below(dir);
  return rmdir(path);
}

/* Bytes held below dir (its blocks). */
static uint64_t tree_bytes(int dir)
{
  cleanup_closedir DIR *d = fdopendir(dup(dir));
  if (d == NULL)
    return 0;
  uint64_t total = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    total += (uint64_t)st.st_blocks * 512;
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0)
        total += tree_bytes(sub);
    }
  }
  return total;
}

static void describe(const char *root, const char *name, struct session_info *info)
{
  memset(info, 0, sizeof *info);
  snprintf(info->name, sizeof info->name, "%s", name);
  char path[PATH_MAX * 2];
  char text[32];
  snprintf(path, sizeof path, "%s/%s/created", root, name);
  if (read_line(path, text, sizeof text) == 0)
    info->created = (time_t)atoll(text);
  snprintf(path, sizeof path, "%s/%s/lock", root, name);
  cleanup_close int lock = open(path, O_RDONLY | O_CLOEXEC);
  info->in_use = lock >= 0 && flock(lock, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  snprintf(path, sizeof path, "%s/%s/layers", root, name);
  cleanup_close int layers = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (layers >= 0)
    info->bytes = tree_bytes(layers);
}

int session_list(struct session_info **out, size_t *n, usbox_err_t *err)
{
  *out = NULL;
  *n = 0;
  char root[PATH_MAX];
  if (session_root(root, err) < 0)
    return -1;
  cleanup_closedir DIR *d = opendir(root);
  if (d == NULL)
    return errno == ENOENT ? 0 : usbox_err_set(err, errno, "reading %s", root);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    struct session_info *grown = realloc(*out, (*n + 1) * sizeof *grown);
    if (grown == NULL) {
      free(*out);
      *out = NULL;
      return usbox_err_set(err, ENOMEM, "listing sessions");
    }
    *out = grown;
    describe(root, e->d_name, &(*out)[(*n)++]);
  }
  return 0;
}
