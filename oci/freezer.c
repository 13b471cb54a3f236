#include "oci/freezer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

/* Where a hierarchy is mounted: fstype "cgroup2", or a v1 "cgroup" whose
 * options name the controller. */
static int find_mount(bool v2, char *out, size_t size)
{
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096];
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    char mnt[PATH_MAX], fstype[64], opts[1024];
    const char *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
        sscanf(dash + 3, "%63s %*s %1023s", fstype, opts) != 2)
      continue;
    bool match = v2 ? strcmp(fstype, "cgroup2") == 0
                    : strcmp(fstype, "cgroup") == 0 && strstr(opts, "freezer") != NULL;
    if (match) {
      snprintf(out, size, "%s", mnt);
      return 0;
    }
  }
  return -1;
}

/* This process's cgroup in that hierarchy (/proc/self/cgroup). */
static int own_cgroup(bool v2, char *out, size_t size)
{
  cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
  char line[4096];
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *controllers = strchr(line, ':');
    char *path = controllers ? strchr(controllers + 1, ':') : NULL;
    if (path == NULL)
      continue;
    *path++ = '\0';
    controllers++;
    bool match = v2 ? controllers[0] == '\0' : strstr(controllers, "freezer") != NULL;
    if (match) {
      snprintf(out, size, "%s", strcmp(path, "/") == 0 ? "" : path);
      return 0;
    }
  }
  return -1;
}

static int write_file(const char *dir, const char *file, const char *text)
{
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    return -1;
  return 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t size)
{
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return 0;
}

static bool is_v2(const char *path)
{
  char file[PATH_MAX + 32];
  snprintf(file, sizeof file, "%s/cgroup.freeze", path);
  return access(file, F_OK) == 0;
}

int oci_freezer_create(const char *name, pid_t member, char *path, size_t size, usbox_err_t *err)
{
  char mnt[PATH_MAX], own[PATH_MAX];
  for (int v2 = 1; v2 >= 0; v2--) {
    if (find_mount(v2, mnt, sizeof mnt) < 0 || own_cgroup(v2, own, sizeof own) < 0)
      continue;
    snprintf(path, size, "%s%s/%s", mnt, own, name);
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
      continue;
    if ((v2 && !is_v2(path)) || (!v2 && is_v2(path))) {
      rmdir(path);
      continue;
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)member);
    if (write_file(path, "cgroup.procs", pid) == 0)
      return 0;
    rmdir(path);
  }
  return usbox_err_set(err, errno, "no freezer cgroup for the container (cgroup v2 or v1 freezer)");
}

int oci_freezer_frozen(const char *path)
{
  char text[4096];
  if (is_v2(path)) {
    if (read_file(path, "cgroup.freeze", text, sizeof text) < 0)
      return -1;
    return text[0] == '1';
  }
  if (read_file(path, "freezer.state", text, sizeof text) < 0)
    return -1;
  return strncmp(text, "THAWED", 6) != 0;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Whether the kernel has finished: cgroup.events "frozen 1|0", or
 * freezer.state FROZEN/THAWED. */
static bool settled(const char *path, bool frozen)
{
  char text[4096];
  if (is_v2(path))
    return read_file(path, "cgroup.events", text, sizeof text) == 0 &&
           strstr(text, frozen ? "frozen 1" : "frozen 0") != NULL;
  return read_file(path, "freezer.state", text, sizeof text) == 0 &&
         strncmp(text, frozen ? "FROZEN" : "THAWED", 6) == 0;
}

int oci_freezer_set(const char *path, bool frozen, usbox_err_t *err)
{
  bool v2 = is_v2(path);
  int rc = v2 ? write_file(path, "cgroup.freeze", frozen ? "1" : "0")
              : write_file(path, "freezer.state", frozen ? "FROZEN" : "THAWED");
  if (rc < 0)
    return usbox_err_set(err, errno, "%s %s", frozen ? "freezing" : "thawing", path);
  for (int i = 0; i < 5000 && !settled(path, frozen); i++)
    sleep_ms(1);
  if (!settled(path, frozen))
    return usbox_err_set(err, ETIMEDOUT, "%s %s", frozen ? "freezing" : "thawing", path);
  return 0;
}

void oci_freezer_remove(const char *path)
{
  usbox_err_t ignored;
  if (path[0] == '\0' || oci_freezer_frozen(path) < 0)
    return;
  oci_freezer_set(path, false, &ignored);
  for (int i = 0; i < 5000 && rmdir(path) < 0 && errno == EBUSY; i++)
    sleep_ms(1);
}
