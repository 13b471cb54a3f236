/* start, kill, delete and ps of a container, through its state directory
 * (oci/state.h). */
#include "oci/runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "limits/limits.h"
#include "limits/freezer.h"
#include "oci/hooks.h"
#include "oci/state.h"

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static bool has_hooks(const struct oci_state *st)
{
  return st->hooks != NULL && strcmp(st->hooks, "{}") != 0;
}

/* The state a hook gets: with the pid of the sandbox's first process,
 * whose namespaces are the container's (none once it is stopped). */
static char *hook_state_json(const struct oci_state *st, enum oci_status status)
{
  struct oci_state hook_state = *st;
  hook_state.pid = status == OCI_STOPPED ? 0 : st->init_pid;
  return oci_state_json(&hook_state, status);
}

/* poststart and poststop: a failure is a warning, and the life goes on
 * (runtime-spec). */
static void run_hooks_warning(const struct oci_runtime *rt, const struct oci_state *st,
                              const char *kind, enum oci_status status)
{
  if (!has_hooks(st))
    return;
  cleanup_free char *state = hook_state_json(st, status);
  usbox_err_t err = {0};
  if (state != NULL && oci_hooks_run(st->hooks, kind, state, &err) < 0)
    oci_log(rt, "warning", "%s", err.msg);
}

/* startContainer: inside the container, before its process is let go. */
static int run_start_hooks(const struct oci_runtime *rt, const struct oci_state *st,
                           usbox_err_t *err)
{
  if (!has_hooks(st))
    return 0;
  cleanup_free char *state = hook_state_json(st, OCI_CREATED);
  if (state == NULL)
    return usbox_err_set(err, ENOMEM, "the hooks' state");
  struct oci_hooks_inside o = {.rt = rt, .id = st->id, .hooks_json = st->hooks,
                               .kind = "startContainer", .state_json = state};
  return oci_hooks_run_inside(&o, err);
}

/* A start that failed: the container's process must not run. Its start
 * is called off, and the monitor ends the sandbox as on any end (its
 * processes, its cgroups): the container is stopped, and deletable, once
 * the monitor is gone, which is waited for (10 s at most). */
static void call_off(const struct oci_runtime *rt, const struct oci_state *st)
{
  usbox_err_t ignored;
  if (oci_release(rt, st->id, false, &ignored) < 0 &&
      oci_process_start_time(st->pid) == st->start_time)
    kill(st->pid, SIGKILL); /* not waiting any more: fail closed */
  for (int i = 0; i < 10000 && oci_process_start_time(st->pid) == st->start_time; i++)
    sleep_ms(1);
}

/* A container's state and its status now. */
static int load(const struct oci_runtime *rt, const char *id, struct oci_state *st,
                enum oci_status *status, usbox_err_t *err)
{
  if (oci_state_read(rt->root, id, st, err) < 0)
    return -1;
  *status = oci_state_status(rt->root, st);
  return 0;
}

int oci_start(const struct oci_runtime *rt, const char *id, usbox_err_t *err)
{
  struct oci_state st;
  enum oci_status status;
  if (load(rt, id, &st, &status, err) < 0)
    return -1;
  if (status != OCI_CREATED) {
    oci_state_free(&st);
    return usbox_err_set(err, 0, "cannot start container %s: it is %s, not created", id,
                         oci_status_name(status));
  }
  int rc = run_start_hooks(rt, &st, err);
  if (rc < 0) {
    call_off(rt, &st);
    usbox_err_wrap(err, "cannot start container %s", id);
  } else {
    rc = oci_release(rt, id, true, err);
  }
  if (rc == 0)
    run_hooks_warning(rt, &st, "poststart", OCI_RUNNING);
  oci_state_free(&st);
  return rc;
}

/* After the go: until the monitor closes the FIFO's read end, which it
 * does once the container's process has executed (or could not), or
 * exits. So `start` returns with the process there, as runc's does: a
 * `kill` right after it reaches that process, never only what a hook left
 * or a monitor that has no process to pass the signal to yet. A pipe's
 * writer sees POLLERR when no reader is left. 10 s at most: the go is
 * given, and a start that slow is still a start. */
static void wait_started(int fifo_w)
{
  struct pollfd p = {.fd = fifo_w, .events = 0};
  poll(&p, 1, 10000);
}

int oci_release(const struct oci_runtime *rt, const char *id, bool go, usbox_err_t *err)
{
  char fifo[PATH_MAX + 16];
  snprintf(fifo, sizeof fifo, "%s/%s/start", rt->root, id);
  cleanup_close int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return usbox_err_set(err, errno == ENXIO ? 0 : errno,
                         "cannot start container %s: its monitor is not waiting", id);
  char byte = go ? OCI_START_GO : OCI_START_CALL_OFF;
  if (write(fd, &byte, 1) != 1)
    return usbox_err_set(err, errno, "starting container %s", id);
  /* the FIFO goes with the byte read or not (the monitor holds it open):
   * from here on `state` says running. Removed here, by the caller, with
   * the host's rights: a monitor in a user namespace has lost the right
   * to (its own unlink is then refused, harmlessly) */
  unlink(fifo);
  if (go)
    wait_started(fd);
  return 0;
}

/* The pids in the pid namespace of the sandbox's first process, that one
 * excluded (it is usbox's init, not the container's). */
static pid_t *sandbox_pids(pid_t init, size_t *n)
{
  *n = 0;
  pid_t *pids = calloc(1, sizeof *pids);
  char path[64];
  struct stat ns;
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)init);
  if (pids == NULL || stat(path, &ns) < 0)
    return pids;
  cleanup_closedir DIR *d = opendir("/proc");
  for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
    pid_t pid = (pid_t)atoi(e->d_name);
    struct stat other;
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
    if (pid <= 0 || pid == init || stat(path, &other) < 0 || other.st_ino != ns.st_ino ||
        other.st_dev != ns.st_dev)
      continue;
    pid_t *grown = realloc(pids, (*n + 1) * sizeof *grown);
    if (grown == NULL)
      break;
    pids = grown;
    pids[(*n)++] = pid;
  }
  return pids;
}

pid_t *oci_container_pids(const struct oci_runtime *rt, const char *id, size_t *n, usbox_err_t *err)
{
  *n = 0;
  struct oci_state st;
  enum oci_status status;
  if (load(rt, id, &st, &status, err) < 0)
    return NULL;
  oci_state_free(&st);
  return status == OCI_STOPPED ? calloc(1, sizeof(pid_t)) : sandbox_pids(st.init_pid, n);
}

/* The session of a process, -1 if it is gone. 0 is a session too: the
 * kernel's own, of every process whose ancestors never made one (a
 * machine whose pid 1 never calls setsid, as some CI machines' agents). */
static pid_t session_of(pid_t pid)
{
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  text[n > 0 ? n : 0] = '\0';
  const char *end = strrchr(text, ')'); /* after the name, which may hold anything */
  int session = -1;
  if (end == NULL || sscanf(end + 1, " %*c %*d %*d %d", &session) != 1)
    return -1;
  return (pid_t)session;
}

/* The container's process, a child of the sandbox's init (0: none). The
 * init may have started hooks inside the container before it, and what
 * they left running became its children first. Those, as every process
 * started for `exec`, run in sessions of their own, while the container's
 * process is born in the init's: the first child in the init's session.
 * (A terminal's session is the init's too: it made it.) A container's
 * process that made a session of its own (setsid) leads it: then the
 * first child that leads one. What a hook left is no leader (unless it
 * made a session itself), and a process of `exec` is born after the
 * container's process, so comes after it in the list. */
static pid_t main_process(pid_t init)
{
  char path[80], text[4096];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  text[n > 0 ? n : 0] = '\0';
  pid_t leader = 0, session = session_of(init);
  if (session < 0)
    return 0;
  char *save = NULL;
  for (char *tok = strtok_r(text, " \n", &save); tok != NULL; tok = strtok_r(NULL, " \n", &save)) {
    pid_t pid = (pid_t)atoi(tok), its = session_of(pid);
    if (its == session)
      return pid;
    if (leader == 0 && its == pid)
      leader = pid;
  }
  return leader;
}

int oci_kill(const struct oci_runtime *rt, const char *id, int sig, bool all, usbox_err_t *err)
{
  struct oci_state st;
  enum oci_status status;
  if (load(rt, id, &st, &status, err) < 0)
    return -1;
  oci_state_free(&st);
  if (status == OCI_STOPPED)
    return usbox_err_set(err, 0, "container %s is not running", id);
  if (all) {
    size_t n;
    cleanup_free pid_t *pids = sandbox_pids(st.init_pid, &n);
    for (size_t i = 0; i < n; i++)
      kill(pids[i], sig);
    if (n > 0 && status != OCI_CREATED)
      return 0;
  }
  /* not started yet (the init's children are then hooks, or what they
   * left): the monitor ends the container on a signal that would end a
   * process (and SIGKILL ends it and the sandbox with it) */
  pid_t target = status == OCI_CREATED ? 0 : main_process(st.init_pid);
  if (target <= 0)
    target = st.pid;
  if (kill(target, sig) < 0)
    return usbox_err_set(err, errno, "signal %d to container %s", sig, id);
  /* as runc: SIGKILL to a paused container takes effect (thawed) */
  if (sig == SIGKILL && status == OCI_PAUSED)
    return limits_freezer_set(st.freezer, false, err);
  return 0;
}

int oci_pause(const struct oci_runtime *rt, const char *id, bool pause, usbox_err_t *err)
{
  struct oci_state st;
  enum oci_status status;
  if (load(rt, id, &st, &status, err) < 0)
    return -1;
  oci_state_free(&st);
  if (status != (pause ? OCI_RUNNING : OCI_PAUSED))
    return usbox_err_set(err, 0, "cannot %s container %s: it is %s", pause ? "pause" : "resume", id,
                         oci_status_name(status));
  if (st.freezer[0] == '\0')
    return usbox_err_set(err, ENOTSUP, "container %s has no freezer cgroup (no cgroup v2 or v1 "
                         "freezer when it was created)", id);
  return limits_freezer_set(st.freezer, pause, err);
}

int oci_delete(const struct oci_runtime *rt, const char *id, bool force, usbox_err_t *err)
{
  struct oci_state st;
  enum oci_status status;
  if (load(rt, id, &st, &status, err) < 0)
    return -1;
  if (status != OCI_STOPPED) {
    if (!force) {
      oci_state_free(&st);
      return usbox_err_set(err, 0, "cannot delete container %s: it is %s (stop it, or --force)",
                           id, oci_status_name(status));
    }
    /* the monitor's death ends the sandbox (fail closed); a paused
     * sandbox is thawed so that its processes can die */
    kill(st.pid, SIGKILL);
    if (status == OCI_PAUSED) {
      usbox_err_t ignored;
      limits_freezer_set(st.freezer, false, &ignored);
    }
    for (int i = 0; i < 10000 && oci_process_start_time(st.pid) == st.start_time; i++)
      sleep_ms(1);
    if (oci_process_start_time(st.pid) == st.start_time) {
      oci_state_free(&st);
      return usbox_err_set(err, 0, "container %s: its monitor %d did not die", id, (int)st.pid);
    }
  }
  /* its processes die with it (PDEATHSIG of its first process, then the
   * pid namespace); wait for them so nothing is left after `delete`. A
   * zombie has ended: whether its reaper (pid 1 here, not usbox) has
   * collected it yet does not matter */
  for (int i = 0; i < 10000 && st.init_pid > 0 && oci_process_start_time(st.init_pid) != 0; i++)
    sleep_ms(1);
  /* a monitor that is a zombie still owns its pid: its cgroups go by name,
   * with whatever is left in them (its reaper may take seconds); one that
   * is gone is found with those of any other monitor that is gone */
  if (oci_process_zombie(st.pid, st.start_time))
    limits_remove_of(st.pid);
  limits_remove_stale();
  limits_freezer_remove(st.freezer); /* thawed first: a frozen process cannot die */
  run_hooks_warning(rt, &st, "poststop", OCI_STOPPED);
  oci_state_free(&st);
  return oci_state_remove(rt->root, id, err);
}

int oci_update(const struct oci_runtime *rt, const char *id, const struct oci_update *u,
               usbox_err_t *err)
{
  struct oci_state st;
  enum oci_status status;
  if (load(rt, id, &st, &status, err) < 0)
    return -1;
  pid_t monitor = st.pid;
  oci_state_free(&st);
  if (status == OCI_STOPPED)
    return usbox_err_set(err, 0, "cannot update container %s: it is stopped", id);
  return limits_update(monitor, &u->limits, u->set, err);
}
