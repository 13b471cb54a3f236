/* The sandbox's cgroups: v2 where the controller is there and can be
 * enabled below usbox's own cgroup, v1 otherwise, rlimits as a last resort.
 * Only made when a limit asks for them: a run without limits touches no
 * cgroup (its pid namespace already ends every process with it).
 *
 * In each hierarchy the sandbox's cgroup D (usbox-<pid>) is a small tree:
 *   D                    --cpus: the agent's CPU and usbox's for it
 *   D/sandbox            --memory: the agent's and the gofer's
 *   D/sandbox/agent      the sandbox's processes; --pids applies here
 *   D/sandbox/gofer      the gofer: the host objects it makes for the agent
 *                        (a symlink flood in the private /tmp) are charged
 *                        where the agent's own would be
 *   D/usbox              usbox itself (the sentry)
 * So the work done for the agent counts against its limits as the kernel's
 * work for a native process would. The sentry's own memory is not under
 * --memory: once a tmpfs flood has filled it and the OOM killer has ended
 * the agent, usbox must still be able to tear the sandbox down (a sentry
 * in there was the next victim). usbox goes back to its own cgroup before
 * D is emptied and removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "limits/cgroupfs.h"
#include "limits/limits.h"

static const char *const v2_name[] = {"memory", "pids", "cpu"};
static const char *const v1_mount[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                       "/sys/fs/cgroup/cpu"};

int cgroupfs_write(const char *dir, const char *file, const char *text)
{
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = write(fd, text, strlen(text));
  return n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
}

int cgroupfs_read(const char *dir, const char *file, char *buf, size_t size)
{
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = read(fd, buf, size - 1);
  if (n < 0)
    return -errno;
  buf[n] = '\0';
  return 0;
}

/* usbox's own cgroup in a hierarchy: v1 by controller name, v2 for NULL. */
int cgroupfs_self(const char *controller, char out[PATH_MAX])
{
  cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
  char line[PATH_MAX + 64];
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c2 = '\0';
    const char *ctrls = c1 + 1;
    bool match = controller == NULL ? *ctrls == '\0' : false;
    for (char *save = NULL, *c = controller ? strtok_r((char *)ctrls, ",", &save) : NULL; c;
         c = strtok_r(NULL, ",", &save))
      match = match || strcmp(c, controller) == 0;
    if (match) {
      snprintf(out, PATH_MAX, "%s", strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1);
      return 0;
    }
  }
  return -ENOENT;
}

const char *cgroupfs_v2_mount(void)
{
  if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
    return "/sys/fs/cgroup";
  if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
    return "/sys/fs/cgroup/unified";
  return NULL;
}

/* D's descendants, parents first */
static const char *const leaves[] = {"sandbox", "sandbox/agent", "sandbox/gofer", "usbox"};
#define NLEAVES (sizeof leaves / sizeof leaves[0])

static void kill_members(const char *dir)
{
  for (int round = 0; round < 200; round++) {
    char procs[4096];
    if (cgroupfs_read(dir, "cgroup.procs", procs, sizeof procs) < 0 || procs[0] == '\0')
      break;
    for (char *save = NULL, *p = strtok_r(procs, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
      kill((pid_t)atoi(p), SIGKILL);
    nanosleep(&(struct timespec){0, 5000000}, NULL);
  }
}

static void remove_dir(const char *dir)
{
  for (int i = 0; i < 400 && rmdir(dir) < 0 && errno == EBUSY; i++)
    nanosleep(&(struct timespec){0, 5000000}, NULL);
}

/* Below a v1 dir (v2: cgroup.kill did it), kill, then (unless keep)
 * remove, deepest first: whatever tree a usbox of this or an earlier
 * version made. */
static void walk_tree(const char *dir, bool killed, bool keep, int depth)
{
  cleanup_closedir DIR *d = depth < 8 ? opendir(dir) : NULL;
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    char sub[PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) < (int)sizeof sub)
      walk_tree(sub, killed, keep, depth + 1);
  }
  if (!killed)
    kill_members(dir);
  if (!keep)
    remove_dir(dir);
}


/* SIGKILL everything in D's tree until it is empty, then remove it. usbox
 * is not in it any more (limits_destroy, or a usbox that died). */
static void empty_and_remove(const char *dir)
{
  bool killed = cgroupfs_write(dir, "cgroup.kill", "1") == 0; /* v2: the whole subtree */
  walk_tree(dir, killed, false, 0);
}

/* D and its leaves. */
static int make_dirs(const char *dir)
{
  if (mkdir(dir, 0755) < 0)
    return -errno;
  for (size_t i = 0; i < NLEAVES; i++) {
    char leaf[PATH_MAX + 16];
    snprintf(leaf, sizeof leaf, "%s/%s", dir, leaves[i]);
    if (mkdir(leaf, 0755) < 0) {
      int e = errno;
      empty_and_remove(dir);
      return -e;
    }
  }
  return 0;
}

/* The usbox pid a cgroup of usbox's is named after: "usbox-<pid>" (a
 * sandbox's limits) or "usbox-oci-<pid>" (a container's freezer, named
 * after its monitor); 0 for any other name. */
static pid_t owner_of(const char *name)
{
  const char *digits = strncmp(name, "usbox-oci-", 10) == 0 ? name + 10
                       : strncmp(name, "usbox-", 6) == 0    ? name + 6
                                                            : NULL;
  char *end;
  long pid = digits != NULL ? strtol(digits, &end, 10) : 0;
  return digits != NULL && end != digits && *end == '\0' && pid > 0 && pid <= INT_MAX
             ? (pid_t)pid
             : 0;
}

/* Below parent, the cgroups of usbox `pid` (or, for 0, of every usbox
 * that is gone: SIGKILLed, crashed). */
static void remove_owned(const char *parent, pid_t pid)
{
  cleanup_closedir DIR *d = opendir(parent);
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    pid_t owner = owner_of(de->d_name);
    if (owner == 0 || (pid != 0 && owner != pid) ||
        (pid == 0 && (kill(owner, 0) == 0 || errno != ESRCH)))
      continue;
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/%s", parent, de->d_name) < (int)sizeof dir)
      empty_and_remove(dir);
  }
}

/* in every hierarchy usbox may have used, whichever limits this run asks
 * (and the v1 freezer of containers) */
static void remove_in_every_hierarchy(pid_t pid)
{
  char self[PATH_MAX], base[PATH_MAX];
  const char *mnt = cgroupfs_v2_mount();
  if (mnt != NULL && cgroupfs_self(NULL, self) == 0) {
    snprintf(base, sizeof base, "%s%s", mnt, self);
    remove_owned(base, pid);
  }
  for (int k = 0; k <= LIMITS_NCONTROLLERS; k++) {
    const char *mount = k < LIMITS_NCONTROLLERS ? v1_mount[k] : "/sys/fs/cgroup/freezer";
    const char *name = k < LIMITS_NCONTROLLERS ? v2_name[k] : "freezer";
    if (access(mount, W_OK) == 0 && cgroupfs_self(name, self) == 0) {
      snprintf(base, sizeof base, "%s%s", mount, self);
      remove_owned(base, pid);
    }
  }
}

void limits_remove_stale(void)
{
  remove_in_every_hierarchy(0);
}

void limits_remove_of(pid_t usbox_pid)
{
  if (usbox_pid > 0)
    remove_in_every_hierarchy(usbox_pid);
}

/* a limit of kind k is asked for */
static bool limited(const struct limits_config *c, enum limits_controller k)
{
  return k == LIMITS_MEMORY ? c->memory != 0 : k == LIMITS_PIDS ? c->pids != 0 : c->cpus != 0;
}

/* a cgroup of kind k is made (limited, or to be limited later) */
static bool wanted(const struct limits_config *c, enum limits_controller k)
{
  return c->updatable || limited(c, k);
}

/* v1 memory: memsw may never be below the memory limit, so it is raised
 * first and lowered last (one of the two writes fails harmlessly); -1
 * is no limit. */
static int write_memory_v1(const char *dir, const char *v)
{
  cgroupfs_write(dir, "memory.memsw.limit_in_bytes", v); /* where swap accounting exists */
  int r = cgroupfs_write(dir, "memory.limit_in_bytes", v);
  if (r == 0)
    cgroupfs_write(dir, "memory.memsw.limit_in_bytes", v); /* no escape into swap */
  return r;
}

/* The value of limit k in a v2 or v1 file of D's tree (cgroup.c's top). */
static int write_limit(const struct limits_config *c, enum limits_controller k, const char *d,
                       bool v2)
{
  char v[64], dir[PATH_MAX + 16];
  int r;
  switch (k) {
  case LIMITS_MEMORY:
    snprintf(dir, sizeof dir, "%s/sandbox", d);
    snprintf(v, sizeof v, "%llu", (unsigned long long)c->memory);
    if (!v2)
      return write_memory_v1(dir, c->memory != 0 ? v : "-1");
    if ((r = cgroupfs_write(dir, "memory.max", c->memory != 0 ? v : "max")) < 0)
      return r;
    /* where swap accounting exists: none under a limit */
    cgroupfs_write(dir, "memory.swap.max", c->memory != 0 ? "0" : "max");
    return 0;
  case LIMITS_PIDS:
    snprintf(dir, sizeof dir, "%s/sandbox/agent", d);
    snprintf(v, sizeof v, "%ld", c->pids);
    return cgroupfs_write(dir, "pids.max", c->pids != 0 ? v : "max");
  case LIMITS_CPU: {
    long period = 100000, quota = c->cpus != 0 ? (long)(c->cpus * (double)period) : -1;
    if (quota >= 0 && quota < 1000)
      quota = 1000;
    if (v2) {
      snprintf(v, sizeof v, "%ld %ld", quota, period);
      return cgroupfs_write(d, "cpu.max", quota >= 0 ? v : "max 100000");
    }
    snprintf(v, sizeof v, "%ld", period);
    if ((r = cgroupfs_write(d, "cpu.cfs_period_us", v)) < 0)
      return r;
    snprintf(v, sizeof v, "%ld", quota);
    return cgroupfs_write(d, "cpu.cfs_quota_us", v);
  }
  default:
    return -EINVAL;
  }
}

/* v2: controller k enabled from base down to where its limit is written */
static int enable_v2(const char *base, const char *dir, enum limits_controller k)
{
  char enable[16], sandbox[PATH_MAX + 16];
  snprintf(enable, sizeof enable, "+%s", v2_name[k]);
  snprintf(sandbox, sizeof sandbox, "%s/sandbox", dir);
  int r = cgroupfs_write(base, "cgroup.subtree_control", enable);
  if (r == 0 && k != LIMITS_CPU)
    r = cgroupfs_write(dir, "cgroup.subtree_control", enable);
  if (r == 0 && k == LIMITS_PIDS)
    r = cgroupfs_write(sandbox, "cgroup.subtree_control", enable);
  return r;
}

/* v2: the sandbox's cgroup below usbox's own, with the controllers that
 * can be enabled there (and pids for its agent leaf). */
static void try_v2(struct limits *l)
{
  const char *mnt = cgroupfs_v2_mount();
  char self[PATH_MAX], base[PATH_MAX];
  if (mnt == NULL || cgroupfs_self(NULL, self) < 0)
    return;
  snprintf(base, sizeof base, "%s%s", mnt, self);
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/usbox-%d", base, (int)getpid()) >= (int)sizeof dir ||
      make_dirs(dir) < 0)
    return;
  snprintf(l->v2, sizeof l->v2, "%s", dir);
  snprintf(l->home_v2, sizeof l->home_v2, "%s", base);
  char available[512];
  if (cgroupfs_read(base, "cgroup.controllers", available, sizeof available) < 0)
    return;
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++) {
    char word[16];
    snprintf(word, sizeof word, " %s ", v2_name[k]);
    char padded[520];
    snprintf(padded, sizeof padded, " %s ", available);
    padded[strcspn(padded, "\n")] = ' ';
    if (!wanted(&l->config, k) || strstr(padded, word) == NULL)
      continue;
    /* EBUSY when usbox's cgroup holds processes itself: then v1 */
    if (enable_v2(base, dir, k) == 0 && write_limit(&l->config, k, dir, true) == 0)
      l->on_v2[k] = true;
  }
}

static int try_v1(struct limits *l, enum limits_controller k)
{
  char self[PATH_MAX], base[PATH_MAX];
  if (access(v1_mount[k], W_OK) < 0 || cgroupfs_self(v2_name[k], self) < 0)
    return -EACCES;
  snprintf(base, sizeof base, "%s%s", v1_mount[k], self);
  char *dir = l->v1[k];
  if (snprintf(dir, PATH_MAX, "%s/usbox-%d", base, (int)getpid()) >= PATH_MAX)
    return -ENAMETOOLONG;
  int r = make_dirs(dir);
  if (r < 0) {
    dir[0] = '\0';
    return r;
  }
  r = write_limit(&l->config, k, dir, false);
  if (r < 0) {
    empty_and_remove(dir);
    dir[0] = '\0';
    return r;
  }
  snprintf(l->home_v1[k], PATH_MAX, "%s", base);
  return 0;
}

/* Neither cgroup version: an rlimit where one can stand in, with a warning. */
static int fall_back(struct limits *l, enum limits_controller k, usbox_err_t *err)
{
  switch (k) {
  case LIMITS_MEMORY:
    /* RLIMIT_AS is no memory limit: it counts address space, which runtimes
     * reserve far beyond what they use (node dies at 512M), per process */
    if (!l->config.best_effort)
      return usbox_err_set(err, EPERM,
                           "--memory cannot be enforced here (no writable memory cgroup; "
                           "--limits best-effort limits each process's address space instead)");
    l->rlimit_memory = true;
    usbox_warn("--memory: no cgroup can be written here; RLIMIT_AS limits each process's "
               "address space instead (not their sum; --limits best-effort)");
    return 0;
  case LIMITS_PIDS:
    l->rlimit_pids = true;
    usbox_warn("--pids: no cgroup can be written here; RLIMIT_NPROC limits the processes of "
               "your user instead (all of them, not only the sandbox's)");
    return 0;
  default:
    if (l->config.best_effort) {
      usbox_warn("--cpus: no cgroup can be written here and no rlimit expresses it: not enforced "
                 "(--limits best-effort)");
      return 0;
    }
    return usbox_err_set(err, EPERM,
                         "--cpus cannot be enforced here (no writable cgroup cpu controller; "
                         "--limits best-effort runs without it)");
  }
}

int limits_create(struct limits *l, const struct limits_config *c, usbox_err_t *err)
{
  memset(l, 0, sizeof *l);
  l->config = *c;
  bool any = false;
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++)
    any = any || wanted(c, k);
  if (!any)
    return 0;
  limits_remove_stale();
  try_v2(l);
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++) {
    if (!wanted(c, k) || l->on_v2[k] || try_v1(l, k) == 0 || !limited(c, k))
      continue;
    if (fall_back(l, k, err) < 0) {
      limits_destroy(l);
      return -1;
    }
  }
  return 0;
}

/* pid into leaf of every hierarchy the sandbox has a cgroup in */
static int join_leaf(struct limits *l, pid_t pid, const char *leaf, usbox_err_t *err)
{
  char text[32], dir[PATH_MAX + 16];
  snprintf(text, sizeof text, "%d", (int)pid);
  int r;
  if (l->v2[0]) {
    snprintf(dir, sizeof dir, "%s/%s", l->v2, leaf);
    if ((r = cgroupfs_write(dir, "cgroup.procs", text)) < 0)
      return usbox_err_set(err, -r, "joining the cgroup %s", dir);
  }
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++)
    if (l->v1[k][0]) {
      snprintf(dir, sizeof dir, "%s/%s", l->v1[k], leaf);
      if ((r = cgroupfs_write(dir, "cgroup.procs", text)) < 0)
        return usbox_err_set(err, -r, "joining the cgroup %s", dir);
    }
  return 0;
}

/* D's own cgroup.procs too: v2 asks for write access at the common
 * ancestor of a moved process's old and new cgroup (D: the new process
 * starts in D/usbox, usbox's own leaf); v1 asks it of the file written,
 * and that the writer's euid be the moved process's uid */
static int delegate_dir(const char *d, uid_t uid, gid_t gid, usbox_err_t *err)
{
  static const char *const dirs[] = {"", "/sandbox/agent", "/sandbox/gofer", "/usbox"};
  static const char *const files[] = {"cgroup.procs", "tasks"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
      char path[PATH_MAX + 64];
      snprintf(path, sizeof path, "%s%s/%s", d, dirs[i], files[f]);
      if (chown(path, uid, gid) < 0 && !(errno == ENOENT && f == 1))
        return usbox_err_set(err, errno, "delegating %s", path);
    }
  return 0;
}

int limits_delegate(struct limits *l, uid_t uid, gid_t gid, usbox_err_t *err)
{
  if (l->v2[0] && delegate_dir(l->v2, uid, gid, err) < 0)
    return -1;
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++)
    if (l->v1[k][0] && delegate_dir(l->v1[k], uid, gid, err) < 0)
      return -1;
  l->delegated = true;
  return 0;
}

int limits_attach(struct limits *l, pid_t pid, usbox_err_t *err)
{
  return join_leaf(l, pid, "sandbox/agent", err);
}

int limits_attach_gofer(struct limits *l, pid_t pid, usbox_err_t *err)
{
  return join_leaf(l, pid, "sandbox/gofer", err);
}

/* Back to the cgroups usbox was started in: before D is emptied (its
 * cgroup.kill would end usbox too) and removed. */
static void leave_self(struct limits *l)
{
  if (!l->self_in || l->delegated)
    return;
  char text[32];
  snprintf(text, sizeof text, "%d", (int)getpid());
  if (l->v2[0] && cgroupfs_write(l->home_v2, "cgroup.procs", text) < 0)
    usbox_warn("returning to the cgroup %s: %s", l->home_v2, strerror(errno));
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++)
    if (l->v1[k][0] && cgroupfs_write(l->home_v1[k], "cgroup.procs", text) < 0)
      usbox_warn("returning to the cgroup %s: %s", l->home_v1[k], strerror(errno));
  l->self_in = false;
}

int limits_enter_self(struct limits *l, usbox_err_t *err)
{
  if (!l->v2[0] && !l->v1[LIMITS_MEMORY][0] && !l->v1[LIMITS_PIDS][0] && !l->v1[LIMITS_CPU][0])
    return 0;
  l->self_in = true; /* (partly) in: leave_self undoes what was done */
  if (join_leaf(l, getpid(), "usbox", err) < 0) {
    leave_self(l);
    return -1;
  }
  return 0;
}

static bool leaf_oom_killed(const struct limits *l, const char *leaf)
{
  char text[1024], dir[PATH_MAX + 32];
  int r = -ENOENT;
  if (l->on_v2[LIMITS_MEMORY]) {
    snprintf(dir, sizeof dir, "%s/%s", l->v2, leaf);
    r = cgroupfs_read(dir, "memory.events", text, sizeof text);
  } else if (l->v1[LIMITS_MEMORY][0]) {
    snprintf(dir, sizeof dir, "%s/%s", l->v1[LIMITS_MEMORY], leaf);
    r = cgroupfs_read(dir, "memory.oom_control", text, sizeof text);
  }
  if (r < 0)
    return false;
  const char *p = strstr(text, "oom_kill ");
  return p != NULL && atol(p + 9) > 0;
}

/* "oom_kill N" in memory.events (v2) or memory.oom_control (v1) of the
 * agent's or the gofer's leaf (v1 counts a kill in the victim's own cgroup
 * only) */
bool limits_oom_killed(const struct limits *l)
{
  return leaf_oom_killed(l, "sandbox/agent") || leaf_oom_killed(l, "sandbox/gofer");
}

void limits_destroy(struct limits *l)
{
  leave_self(l);
  if (l->delegated) { /* the sandbox's members go (usbox is in its own
                         leaf still); the cgroups are root's to remove */
    char sandbox[PATH_MAX + 16];
    for (int k = 0; k < LIMITS_NCONTROLLERS; k++)
      if (l->v1[k][0]) {
        snprintf(sandbox, sizeof sandbox, "%s/sandbox", l->v1[k]);
        walk_tree(sandbox, false, true, 0), l->v1[k][0] = '\0';
      }
    if (l->v2[0]) {
      snprintf(sandbox, sizeof sandbox, "%s/sandbox", l->v2);
      walk_tree(sandbox, false, true, 0), l->v2[0] = '\0';
    }
    return;
  }
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++)
    if (l->v1[k][0]) {
      empty_and_remove(l->v1[k]);
      l->v1[k][0] = '\0';
    }
  if (l->v2[0]) {
    empty_and_remove(l->v2);
    l->v2[0] = '\0';
  }
}

int limits_apply_memory_in_child(const struct limits *l, usbox_err_t *err)
{
  if (!l->rlimit_memory)
    return 0;
  struct rlimit rl = {(rlim_t)l->config.memory, (rlim_t)l->config.memory};
  if (setrlimit(RLIMIT_AS, &rl) < 0)
    return usbox_err_set(err, errno, "RLIMIT_AS for --memory");
  return 0;
}

int limits_apply_in_child(const struct limits *l, usbox_err_t *err)
{
  const struct limits_config *c = &l->config;
  struct rlimit rl;
  /* --nofile itself is set last, by the caller: here only a hard limit
   * raised to it, which needs CAP_SYS_RESOURCE (lowering later does not) */
  if (c->nofile != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
      rl.rlim_max < (rlim_t)c->nofile) {
    rl.rlim_max = (rlim_t)c->nofile;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
      return usbox_err_set(err, errno, "--nofile %ld", c->nofile);
  }
  if (l->rlimit_pids) {
    rl = (struct rlimit){(rlim_t)c->pids, (rlim_t)c->pids};
    if (setrlimit(RLIMIT_NPROC, &rl) < 0)
      return usbox_err_set(err, errno, "RLIMIT_NPROC for --pids");
  }
  return 0;
}

/* ---- update ---- */

/* The sandbox's cgroup D in one hierarchy, from the line of usbox_pid's
 * /proc/PID/cgroup naming controller (NULL: the v2 line): usbox is in
 * D/usbox, and D is usbox-<pid>. */
static int find_sandbox_dir(pid_t usbox_pid, const char *controller, const char *mount,
                            char out[PATH_MAX])
{
  char path[64], line[PATH_MAX + 64], tail[64];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)usbox_pid);
  snprintf(tail, sizeof tail, "/usbox-%d/usbox", (int)usbox_pid);
  cleanup_fclose FILE *f = fopen(path, "re");
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    /* "ID:CONTROLLERS:PATH" */
    char *ctrls = strchr(line, ':'), *cg = ctrls != NULL ? strchr(ctrls + 1, ':') : NULL;
    if (cg == NULL)
      continue;
    *ctrls++ = '\0';
    *cg++ = '\0';
    bool match = controller == NULL && strcmp(line, "0") == 0 && ctrls[0] == '\0';
    for (char *save = NULL, *c = controller != NULL ? strtok_r(ctrls, ",", &save) : NULL;
         c != NULL && !match; c = strtok_r(NULL, ",", &save))
      match = strcmp(c, controller) == 0;
    size_t n = strlen(cg), t = strlen(tail);
    if (!match || n < t || strcmp(cg + n - t, tail) != 0)
      continue;
    cg[n - strlen("/usbox")] = '\0';
    return snprintf(out, PATH_MAX, "%s%s", mount, cg) < PATH_MAX ? 0 : -ENAMETOOLONG;
  }
  return -ENOENT;
}

/* controller k of the sandbox: its v2 cgroup if k is enabled there, else
 * its v1 one */
static int controller_dir(pid_t usbox_pid, enum limits_controller k, char out[PATH_MAX],
                          bool *v2)
{
  const char *mnt = cgroupfs_v2_mount();
  char enabled[512];
  if (mnt != NULL && find_sandbox_dir(usbox_pid, NULL, mnt, out) == 0 &&
      cgroupfs_read(out, "cgroup.controllers", enabled, sizeof enabled) == 0) {
    char padded[520], word[16];
    snprintf(padded, sizeof padded, " %s ", enabled);
    padded[strcspn(padded, "\n")] = ' ';
    snprintf(word, sizeof word, " %s ", v2_name[k]);
    if (strstr(padded, word) != NULL)
      return *v2 = true, 0;
  }
  *v2 = false;
  return find_sandbox_dir(usbox_pid, v2_name[k], v1_mount[k], out);
}

int limits_update(pid_t usbox_pid, const struct limits_config *c,
                  const bool which[LIMITS_NCONTROLLERS], usbox_err_t *err)
{
  static const char *const what[] = {"memory", "pids", "cpu"};
  for (int k = 0; k < LIMITS_NCONTROLLERS; k++) {
    if (!which[k])
      continue;
    char dir[PATH_MAX];
    bool v2;
    int r = controller_dir(usbox_pid, k, dir, &v2);
    if (r < 0)
      return usbox_err_set(err, -r, "the sandbox has no %s cgroup to update", what[k]);
    if ((r = write_limit(c, k, dir, v2)) < 0)
      return usbox_err_set(err, -r, "updating the %s limit in %s", what[k], dir);
  }
  return 0;
}
