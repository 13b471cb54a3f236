/* createContainer and startContainer: the OCI hooks that run inside the
 * container (oci/hooks.h). Each is started as `usbox exec ID` starts a
 * process: through the monitor's exec socket, which asks the sandbox's
 * init to fork it (sentry/init_ctl.h). So it is born inside every layer
 * the container's process is inside (namespaces, view, Landlock, usbox's
 * filter and sentry, cgroups, no_new_privs, the container's user and
 * capabilities and seccomp profile) and holds fds 0-2 only: never more
 * than a process `exec` starts. Nothing of it runs on the host.
 *
 * Its stdin is a pipe carrying the state; its stdout and stderr a pipe
 * whose lines go to the runtime's log (or stderr without one), read until
 * the hook ends, not until EOF: a process it left behind in the container
 * may hold that pipe, but never the runtime's own stdio, which an engine
 * may read to its end. */
#include "oci/hooks.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "oci/exec_wire.h"
#include "oci/runtime.h"

#define HOOK_MAX_LINES 256 /* of its output, logged; the rest is read and dropped */

struct hook_run {
  const struct oci_hooks_inside *o;
  int index;
  const char *path;
  int sock;  /* to the monitor: closing it kills the hook */
  int in_w;  /* the state, written as the hook reads it; -1 once done */
  int out_r; /* its stdout and stderr; -1 once done */
  size_t state_off;
  char line[1024]; /* the output line being read */
  size_t line_len;
  char last[256]; /* its last line, for the error message */
  int lines;
  int status; /* its wait status once it ended */
};

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static unsigned long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* The hook as a process object: its args (argv[0] defaults to its path),
 * its env and nothing else: the user, capabilities and rlimits are the
 * container's process's, which the init has. */
static char *process_json(const cJSON *hook, const char *path)
{
  cJSON *p = cJSON_CreateObject();
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(hook, "args");
  const cJSON *env = cJSON_GetObjectItemCaseSensitive(hook, "env");
  cJSON *a = cJSON_GetArraySize(args) > 0 ? cJSON_Duplicate(args, 1) : cJSON_CreateArray();
  if (cJSON_GetArraySize(args) == 0)
    cJSON_AddItemToArray(a, cJSON_CreateString(path));
  cJSON_AddItemToObject(p, "args", a);
  cJSON_AddItemToObject(p, "env", env != NULL ? cJSON_Duplicate(env, 1) : cJSON_CreateArray());
  cJSON_AddStringToObject(p, "cwd", "/");
  char *text = cJSON_PrintUnformatted(p);
  cJSON_Delete(p);
  return text;
}

static void emit_line(struct hook_run *h)
{
  h->line[h->line_len] = '\0';
  h->line_len = 0;
  if (h->line[0] == '\0')
    return;
  snprintf(h->last, sizeof h->last, "%s", h->line);
  if (++h->lines > HOOK_MAX_LINES)
    return;
  const char *more = h->lines == HOOK_MAX_LINES ? " (its further output is not logged)" : "";
  if (h->o->rt->log != NULL)
    oci_log(h->o->rt, "info", "hook %s[%d]: %s%s", h->o->kind, h->index, h->line, more);
  else
    fprintf(stderr, "usbox: hook %s[%d]: %s%s\n", h->o->kind, h->index, h->line, more);
}

/* What the hook wrote, as far as it can be read now; at EOF or, once it
 * ended (final), when nothing more is there, the pipe is closed (a
 * process it left behind that keeps writing gets 64 KiB more read). */
static void pump_output(struct hook_run *h, bool final)
{
  char buf[4096];
  ssize_t n;
  int reads = 0;
  while (h->out_r >= 0 && (!final || reads++ < 16) && (n = read(h->out_r, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN && !final)
        return;
      break;
    }
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n' || h->line_len == sizeof h->line - 1)
        emit_line(h);
      if (buf[i] != '\n')
        h->line[h->line_len++] = (unsigned char)buf[i] < 0x20 && buf[i] != '\t' ? '?' : buf[i];
    }
  }
  if (h->line_len > 0)
    emit_line(h);
  close_fd(&h->out_r);
}

/* The state, as far as the pipe takes it now; closed once all of it is
 * written, or when the hook will not read it (EPIPE: it closed its stdin). */
static void pump_state(struct hook_run *h)
{
  size_t len = strlen(h->o->state_json);
  while (h->in_w >= 0 && h->state_off < len) {
    ssize_t n = write(h->in_w, h->o->state_json + h->state_off, len - h->state_off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n < 0)
      break;
    h->state_off += (size_t)n;
  }
  close_fd(&h->in_w);
}

/* One reply of the monitor's: 1 once the hook has ended (h->status), 0
 * while it runs, -1 when it could not start or the monitor is gone. */
static int on_reply(struct hook_run *h, usbox_err_t *err)
{
  struct oci_exec_reply r;
  int fd, rc = oci_exec_recv(h->sock, &r, &fd);
  if (fd >= 0)
    close(fd);
  const char *kind = h->o->kind;
  if (rc <= 0)
    return usbox_err_set(err, rc < 0 ? errno : 0, "hook %s[%d] %s: the container's monitor went away",
                         kind, h->index, h->path);
  if (r.ev.event == INIT_EV_FAILED && r.msg[0] != '\0')
    return usbox_err_set(err, 0, "hook %s[%d] %s: %s", kind, h->index, h->path, r.msg);
  if (r.ev.event == INIT_EV_FAILED)
    return usbox_err_set(err, r.ev.value, "hook %s[%d] %s: %s", kind, h->index, h->path,
                         init_stage_name(r.ev.stage));
  if (r.ev.event != INIT_EV_EXIT)
    return 0;
  h->status = r.ev.value;
  return 1;
}

/* Until the hook ends, or its timeout (seconds, 0: none) passes: then it
 * is killed. 0 with h->status, or -1. */
static int wait_hook(struct hook_run *h, int timeout_s, usbox_err_t *err)
{
  unsigned long long deadline = timeout_s > 0 ? now_ms() + (unsigned long long)timeout_s * 1000 : 0;
  for (;;) {
    long left = deadline == 0 ? -1 : (long)(deadline > now_ms() ? deadline - now_ms() : 0);
    struct pollfd p[3] = {{.fd = h->sock, .events = POLLIN},
                          {.fd = h->out_r, .events = POLLIN},
                          {.fd = h->in_w, .events = POLLOUT}};
    int n = poll(p, 3, (int)left);
    if (n < 0 && errno != EINTR)
      return usbox_err_set(err, errno, "waiting for hook %s[%d]", h->o->kind, h->index);
    if (n == 0) {
      /* the monitor kills it (SIGKILL) when it started, or as it starts */
      struct oci_exec_signal kill = {.magic = OCI_EXEC_MAGIC, .signo = SIGKILL};
      send(h->sock, &kill, sizeof kill, MSG_NOSIGNAL);
      return usbox_err_set(err, ETIMEDOUT, "hook %s[%d] %s ran out of time", h->o->kind, h->index,
                           h->path);
    }
    if (p[2].revents != 0)
      pump_state(h);
    if (p[1].revents != 0)
      pump_output(h, false);
    int rc = p[0].revents != 0 ? on_reply(h, err) : 0;
    if (rc != 0)
      return rc < 0 ? -1 : 0;
  }
}

/* Connect to the monitor and hand the hook over with its pipes' ends (the
 * init's copies from then on: this process closes its own). */
static int begin_hook(struct hook_run *h, const cJSON *hook, usbox_err_t *err)
{
  cleanup_free char *json = process_json(hook, h->path);
  if (json == NULL)
    return usbox_err_set(err, ENOMEM, "hook %s[%d]", h->o->kind, h->index);
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "hook %s[%d]: its stdin", h->o->kind, h->index);
  h->in_w = in[1];
  cleanup_close int hook_in = in[0];
  if (pipe2(out, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "hook %s[%d]: its stdout", h->o->kind, h->index);
  h->out_r = out[0];
  cleanup_close int hook_out = out[1];
  if ((h->sock = oci_exec_connect(h->o->rt, h->o->id, err)) < 0)
    return usbox_err_wrap(err, "hook %s[%d] %s", h->o->kind, h->index, h->path);
  int stdio[3] = {hook_in, hook_out, hook_out};
  struct oci_exec_request r = {.json = json, .path = h->path, .stdio = stdio};
  if (oci_exec_send(h->sock, &r, err) < 0)
    return usbox_err_wrap(err, "hook %s[%d] %s", h->o->kind, h->index, h->path);
  fcntl(h->in_w, F_SETFL, O_NONBLOCK);
  fcntl(h->out_r, F_SETFL, O_NONBLOCK);
  return 0;
}

static int run_one(const struct oci_hooks_inside *o, int i, const cJSON *hook, usbox_err_t *err)
{
  struct hook_run h = {.o = o, .index = i, .sock = -1, .in_w = -1, .out_r = -1, .status = -1,
                       .path = cJSON_GetObjectItemCaseSensitive(hook, "path")->valuestring};
  const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(hook, "timeout");
  int rc = begin_hook(&h, hook, err);
  if (rc == 0)
    rc = wait_hook(&h, cJSON_IsNumber(timeout) ? (int)timeout->valuedouble : 0, err);
  pump_output(&h, true);
  close_fd(&h.in_w);
  close_fd(&h.sock); /* a hook still running (out of time) is killed with it */
  int st = h.status;
  if (rc < 0 || (WIFEXITED(st) && WEXITSTATUS(st) == 0))
    return rc;
  usbox_err_set(err, 0, "hook %s[%d] %s failed (%s %d)%s%s", o->kind, i, h.path,
                WIFEXITED(st) ? "exit status" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), h.last[0] ? ": " : "", h.last);
  return usbox_err_printable(err);
}

int oci_hooks_run_inside(const struct oci_hooks_inside *o, usbox_err_t *err)
{
  if (o->hooks_json == NULL)
    return 0;
  cJSON *hooks = cJSON_Parse(o->hooks_json);
  /* a hook that does not read all of its stdin must not end usbox */
  signal(SIGPIPE, SIG_IGN);
  int rc = 0, i = 0;
  const cJSON *h;
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(hooks, o->kind))
  {
    if ((rc = run_one(o, i++, h, err)) < 0)
      break;
  }
  cJSON_Delete(hooks);
  return rc;
}
