#include "oci/state.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "limits/freezer.h"
#include "oci/spec.h"

const char *oci_status_name(enum oci_status s)
{
  static const char *const names[] = {"creating", "created", "running", "stopped", "paused"};
  return names[s];
}

int oci_state_dir(const char *root, const char *id, char *out, size_t size, usbox_err_t *err)
{
  if (!oci_valid_id(id))
    return usbox_err_set(err, EINVAL, "invalid container id '%s' (letters, digits, _+.-)", id);
  if (snprintf(out, size, "%s/%s", root, id) >= (int)size)
    return usbox_err_set(err, ENAMETOOLONG, "state directory %s/%s", root, id);
  return 0;
}

int oci_state_create_dir(const char *root, const char *id, usbox_err_t *err)
{
  char dir[PATH_MAX];
  if (oci_state_dir(root, id, dir, sizeof dir, err) < 0)
    return -1;
  /* the root and its missing parents, as runc's MkdirAll(root, 0700) */
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", root);
  for (char *slash = path + 1;; slash++) {
    bool last = (slash = strchr(slash, '/')) == NULL;
    if (!last)
      *slash = '\0';
    if (path[0] != '\0' && mkdir(path, 0700) < 0 && errno != EEXIST)
      return usbox_err_set(err, errno, "state root %s", path);
    if (last)
      break;
    *slash = '/';
  }
  if (mkdir(dir, 0700) < 0)
    return errno == EEXIST ? usbox_err_set(err, EEXIST, "container %s already exists", id)
                           : usbox_err_set(err, errno, "state directory %s", dir);
  return 0;
}

/* /proc/PID/stat's state (field 3) and start time (field 22); -1 for no
 * such process. */
static int process_stat(pid_t pid, char *state, unsigned long long *start)
{
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (n <= 0)
    return -1;
  text[n] = '\0';
  /* after the command's closing parenthesis */
  char *p = strrchr(text, ')');
  if (p == NULL || p[1] == '\0' || p[2] == '\0')
    return -1;
  *state = p[2];
  *start = 0;
  for (int field = 3; p != NULL && field <= 22; field++) {
    p = strchr(p + 1, ' ');
    if (field == 22 && p != NULL)
      *start = strtoull(p + 1, NULL, 10);
  }
  return 0;
}

unsigned long long oci_process_start_time(pid_t pid)
{
  char state;
  unsigned long long start;
  if (process_stat(pid, &state, &start) < 0 || state == 'Z' || state == 'X')
    return 0;
  return start;
}

bool oci_process_zombie(pid_t pid, unsigned long long start_time)
{
  char state;
  unsigned long long start;
  return process_stat(pid, &state, &start) == 0 && (state == 'Z' || state == 'X') &&
         start == start_time;
}

/* A JSON object's text into o as name ({} for none or bad text). */
static void add_object(cJSON *o, const char *name, const char *text)
{
  cJSON *v = cJSON_Parse(text != NULL ? text : "{}");
  cJSON_AddItemToObject(o, name, v != NULL ? v : cJSON_CreateObject());
}

/* What the OCI state and state.json share, after their own first fields. */
static void add_common(cJSON *o, const struct oci_state *st)
{
  cJSON_AddStringToObject(o, "bundle", st->bundle);
  cJSON_AddStringToObject(o, "rootfs", st->rootfs);
  cJSON_AddStringToObject(o, "created", st->created);
  cJSON_AddNumberToObject(o, "owner", st->owner);
  add_object(o, "annotations", st->annotations);
}

char *oci_state_json(const struct oci_state *st, enum oci_status status)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  cJSON_AddStringToObject(o, "ociVersion", OCI_VERSION);
  cJSON_AddStringToObject(o, "id", st->id);
  cJSON_AddStringToObject(o, "status", oci_status_name(status));
  cJSON_AddNumberToObject(o, "pid", status == OCI_STOPPED ? 0 : st->pid);
  add_common(o, st);
  char *text = cJSON_Print(o);
  cJSON_Delete(o);
  return text;
}

int oci_state_write(const char *root, const struct oci_state *st, usbox_err_t *err)
{
  char dir[PATH_MAX], tmp[PATH_MAX + 16], path[PATH_MAX + 16];
  if (oci_state_dir(root, st->id, dir, sizeof dir, err) < 0)
    return -1;
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return usbox_err_set(err, ENOMEM, "writing the state");
  cJSON_AddStringToObject(o, "id", st->id);
  cJSON_AddNumberToObject(o, "pid", st->pid);
  cJSON_AddNumberToObject(o, "start_time", (double)st->start_time);
  cJSON_AddNumberToObject(o, "init_pid", st->init_pid);
  cJSON_AddStringToObject(o, "freezer", st->freezer);
  add_common(o, st);
  add_object(o, "hooks", st->hooks);
  cleanup_free char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  snprintf(tmp, sizeof tmp, "%s/.state.json", dir);
  snprintf(path, sizeof path, "%s/state.json", dir);
  cleanup_fclose FILE *f = text == NULL ? NULL : fopen(tmp, "we");
  if (f == NULL || fputs(text, f) < 0 || fflush(f) != 0)
    return usbox_err_set(err, errno ? errno : ENOMEM, "writing %s", tmp);
  if (rename(tmp, path) < 0)
    return usbox_err_set(err, errno, "writing %s", path);
  return 0;
}

static void copy_string(const cJSON *o, const char *name, char *out, size_t size)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  snprintf(out, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* A number from 0 to max, else 0 (a file changed by hand must not make a
 * conversion past the target type) */
static double number(const cJSON *o, const char *name, double max)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max ? v->valuedouble : 0;
}

int oci_state_read(const char *root, const char *id, struct oci_state *st, usbox_err_t *err)
{
  memset(st, 0, sizeof *st);
  char dir[PATH_MAX], path[PATH_MAX + 16], text[64 * 1024];
  if (oci_state_dir(root, id, dir, sizeof dir, err) < 0)
    return -1;
  snprintf(path, sizeof path, "%s/state.json", dir);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? usbox_err_set(err, ENOENT, "container %s does not exist", id)
                           : usbox_err_set(err, errno, "reading %s", path);
  ssize_t n = read(fd, text, sizeof text - 1);
  if (n < 0)
    return usbox_err_set(err, errno, "reading %s", path);
  text[n] = '\0';
  cJSON *o = cJSON_Parse(text);
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return usbox_err_set(err, EINVAL, "%s is not a state file of usbox", path);
  }
  copy_string(o, "id", st->id, sizeof st->id);
  copy_string(o, "bundle", st->bundle, sizeof st->bundle);
  copy_string(o, "rootfs", st->rootfs, sizeof st->rootfs);
  copy_string(o, "created", st->created, sizeof st->created);
  copy_string(o, "freezer", st->freezer, sizeof st->freezer);
  st->pid = (pid_t)number(o, "pid", INT_MAX);
  st->init_pid = (pid_t)number(o, "init_pid", INT_MAX);
  st->start_time = (unsigned long long)number(o, "start_time", 1.8e19);
  st->owner = (uid_t)number(o, "owner", UINT32_MAX);
  st->annotations = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "annotations"));
  st->hooks = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "hooks"));
  cJSON_Delete(o);
  return 0;
}

void oci_state_free(struct oci_state *st)
{
  free(st->annotations);
  free(st->hooks);
  st->annotations = st->hooks = NULL;
}

enum oci_status oci_state_status(const char *root, const struct oci_state *st)
{
  if (st->pid <= 0 || oci_process_start_time(st->pid) != st->start_time)
    return OCI_STOPPED;
  char fifo[PATH_MAX + 16];
  snprintf(fifo, sizeof fifo, "%s/%s/start", root, st->id);
  if (access(fifo, F_OK) == 0)
    return OCI_CREATED;
  return st->freezer[0] != '\0' && limits_freezer_frozen(st->freezer) == 1 ? OCI_PAUSED : OCI_RUNNING;
}

int oci_state_remove(const char *root, const char *id, usbox_err_t *err)
{
  char dir[PATH_MAX];
  if (oci_state_dir(root, id, dir, sizeof dir, err) < 0)
    return -1;
  static const char *const files[] = {"state.json", ".state.json", "start", "exec.sock"};
  cleanup_close int fd = open(dir, O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : usbox_err_set(err, errno, "%s", dir);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (unlinkat(fd, files[i], 0) < 0 && errno != ENOENT)
      return usbox_err_set(err, errno, "removing %s/%s", dir, files[i]);
  if (rmdir(dir) < 0 && errno != ENOENT)
    return usbox_err_set(err, errno, "removing %s", dir);
  return 0;
}

char **oci_state_list(const char *root, size_t *n)
{
  *n = 0;
  cleanup_closedir DIR *d = opendir(root);
  char **names = NULL;
  for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.' || !oci_valid_id(e->d_name))
      continue;
    char **grown = realloc(names, (*n + 1) * sizeof *grown);
    if (grown == NULL)
      break;
    names = grown;
    if ((names[*n] = strdup(e->d_name)) != NULL)
      (*n)++;
  }
  return names;
}

int oci_write_pid_file(const char *path, pid_t pid, usbox_err_t *err)
{
  char tmp[PATH_MAX + 16];
  if (snprintf(tmp, sizeof tmp, "%s.usbox-tmp", path) >= (int)sizeof tmp)
    return usbox_err_set(err, ENAMETOOLONG, "pid file %s", path);
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || dprintf(fd, "%d", (int)pid) < 0 || rename(tmp, path) < 0)
    return usbox_err_set(err, errno, "writing the pid file %s", path);
  return 0;
}
