#include "limits/freezer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "limits/cgroupfs.h"

#define V1_FREEZER "/sys/fs/cgroup/freezer"

static bool is_v2(const char *path)
{
  char file[PATH_MAX + 32];
  snprintf(file, sizeof file, "%s/cgroup.freeze", path);
  return access(file, F_OK) == 0;
}

int limits_freezer_create(const char *name, pid_t member, char *path, size_t size,
                          usbox_err_t *err)
{
  char own[PATH_MAX], pid[32];
  snprintf(pid, sizeof pid, "%d", (int)member);
  int rc = -ENOENT;
  for (int v2 = 1; v2 >= 0; v2--) {
    const char *mnt = v2 ? cgroupfs_v2_mount() : V1_FREEZER;
    if (mnt == NULL || cgroupfs_self(v2 ? NULL : "freezer", own) < 0)
      continue;
    snprintf(path, size, "%s%s/%s", mnt, own, name);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
      rc = -errno;
      continue;
    }
    /* a v1 freezer mount that is really v2 (or the reverse) is not used */
    if (is_v2(path) == (v2 != 0) && (rc = cgroupfs_write(path, "cgroup.procs", pid)) == 0)
      return 0;
    rmdir(path);
  }
  return usbox_err_set(err, -rc, "no freezer cgroup for the container (cgroup v2 or v1 freezer)");
}

int limits_freezer_frozen(const char *path)
{
  char text[4096];
  bool v2 = is_v2(path);
  if (cgroupfs_read(path, v2 ? "cgroup.freeze" : "freezer.state", text, sizeof text) < 0)
    return -1;
  return v2 ? text[0] == '1' : strncmp(text, "THAWED", 6) != 0;
}

/* Whether the kernel has finished: cgroup.events "frozen 1|0", or
 * freezer.state FROZEN/THAWED. */
static bool settled(const char *path, bool frozen)
{
  char text[4096];
  if (is_v2(path))
    return cgroupfs_read(path, "cgroup.events", text, sizeof text) == 0 &&
           strstr(text, frozen ? "frozen 1" : "frozen 0") != NULL;
  return cgroupfs_read(path, "freezer.state", text, sizeof text) == 0 &&
         strncmp(text, frozen ? "FROZEN" : "THAWED", 6) == 0;
}

static void wait_settled(const char *path, bool frozen)
{
  for (int i = 0; i < 5000 && !settled(path, frozen); i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
}

int limits_freezer_set(const char *path, bool frozen, usbox_err_t *err)
{
  int rc = is_v2(path) ? cgroupfs_write(path, "cgroup.freeze", frozen ? "1" : "0")
                       : cgroupfs_write(path, "freezer.state", frozen ? "FROZEN" : "THAWED");
  if (rc < 0)
    return usbox_err_set(err, -rc, "%s %s", frozen ? "freezing" : "thawing", path);
  wait_settled(path, frozen);
  if (!settled(path, frozen))
    return usbox_err_set(err, ETIMEDOUT, "%s %s", frozen ? "freezing" : "thawing", path);
  return 0;
}

void limits_freezer_remove(const char *path)
{
  usbox_err_t ignored;
  if (path[0] == '\0' || limits_freezer_frozen(path) < 0)
    return;
  limits_freezer_set(path, false, &ignored);
  for (int i = 0; i < 5000 && rmdir(path) < 0 && errno == EBUSY; i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
}
