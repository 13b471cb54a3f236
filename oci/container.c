/* The container's life (oci/runtime.h). `create` forks the monitor, which
 * runs the sandbox exactly as `usbox exec` does (sentry/supervisor.c) with
 * a gate before the agent's execve: it reports "created" to `create`
 * through a pipe, then waits on the start FIFO, which `start` writes. */
#include "oci/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "limits/limits.h"
#include "limits/freezer.h"
#include "oci/hooks.h"
#include "oci/spec.h"
#include "oci/state.h"
#include "policy/seccomp_profile.h"
#include "sentry/supervisor.h"

struct monitor {
  const struct oci_runtime *rt;
  const struct creating *c;
  int report_w; /* to `create`: "OK <init pid>" or the error, then closed */
  char fifo[PATH_MAX];
  int fifo_r;   /* the start FIFO, open before "created": `start` finds a reader */
  const char *console_socket;
  int console_fd;  /* connected to it (monitor_prepare), or -1 */
  int exec_listen; /* the exec socket, bound (monitor_prepare), or -1 */
  int log_fd;      /* the kept --log (monitor_prepare), or -1 */
  uid_t peer_uid[2]; /* who may use it, as the monitor sees them */
};

struct creating {
  const struct oci_runtime *rt;
  const struct oci_create_options *o;
  struct oci_spec spec;
  struct policy policy;
  struct bpf_program profile; /* linux.seccomp compiled (insns NULL: none) */
  unsigned profile_flags;
  char dir[PATH_MAX];
};

static struct monitor *the_monitor; /* for the error sinks */

/* Before "created": errors go to `create`, which prints them. */
static void report_sink(const char *line)
{
  if (the_monitor->report_w >= 0)
    dprintf(the_monitor->report_w, "%s\n", line);
}

/* After: the container's stderr is not usbox's; the log is. */
static void log_sink(const char *line)
{
  oci_log(the_monitor->rt, "error", "%s", line);
}

/* A start called off: `create` or `start` tells why; the log only notes it. */
static void called_off_sink(const char *line)
{
  oci_log(the_monitor->rt, "info", "%s", line);
}

/* prestart and createRuntime: on the host, once the container's
 * namespaces exist, before `create` returns. Their state names the
 * sandbox's first process, whose namespaces are the container's (Docker's
 * network hook joins its network namespace through /proc/PID/ns/net). */
static int run_create_hooks(const struct creating *c, pid_t init, usbox_err_t *err)
{
  if (c->spec.hooks == NULL || strcmp(c->spec.hooks, "{}") == 0)
    return 0;
  struct oci_state st = {.pid = init, .owner = geteuid(), .annotations = c->spec.annotations};
  snprintf(st.id, sizeof st.id, "%s", c->o->id);
  snprintf(st.bundle, sizeof st.bundle, "%s", c->spec.bundle);
  snprintf(st.rootfs, sizeof st.rootfs, "%s", c->spec.rootfs);
  cleanup_free char *state = oci_state_json(&st, OCI_CREATING);
  if (state == NULL)
    return usbox_err_set(err, ENOMEM, "the hooks' state");
  if (oci_hooks_run(c->spec.hooks, "prestart", state, err) < 0 ||
      oci_hooks_run(c->spec.hooks, "createRuntime", state, err) < 0)
    return -1;
  return 0;
}

static int monitor_created(void *ctx, pid_t init, int master, int init_ctl, usbox_err_t *err)
{
  struct monitor *m = ctx;
  /* `exec` into the container, and the hooks that run inside it: served
   * from here on (the init takes the requests already while it waits for
   * the start) */
  struct oci_exec_server_options eo = {.rt = m->rt, .dir = m->c->dir, .listen_fd = m->exec_listen,
                                       .init_ctl = init_ctl,
                                       .peer_uid = {m->peer_uid[0], m->peer_uid[1]}};
  m->exec_listen = -1;
  if (oci_exec_server_start(&eo, err) < 0) {
    if (master >= 0)
      close(master);
    return -1;
  }
  if (master >= 0) {
    int rc = oci_console_send(m->console_fd, master, m->console_socket, err);
    close(master);
    if (rc < 0)
      return -1;
  }
  /* the hooks on the host (prestart, createRuntime) and the freezer are
   * `create`'s: it has the host's rights, which this process may have
   * left for a user namespace */
  dprintf(m->report_w, "OK %d\n", (int)init);
  close(m->report_w);
  m->report_w = -1;
  usbox_err_sink = log_sink;
  return 0;
}

/* Signals that only inform (a child, a window) do not end the wait. */
static bool ends_wait(int sig)
{
  return sig != SIGCHLD && sig != SIGWINCH && sig != SIGURG && sig != SIGCONT;
}

/* The start FIFO's read end goes: at the end of the wait without a go,
 * or (the gate's `started`) once the container's process has executed or
 * failed to; `start`, which waits for that (oci_release), then returns
 * with the process there for `kill` to find. */
static void monitor_close_start_fifo(void *ctx)
{
  struct monitor *m = ctx;
  if (m->fifo_r >= 0)
    close(m->fifo_r), m->fifo_r = -1;
}

static int monitor_wait_start(void *ctx, int sigfd, usbox_err_t *err)
{
  struct monitor *m = ctx;
  int fifo = m->fifo_r; /* kept open on a go, until monitor_close_start_fifo */
  for (;;) {
    struct pollfd p[2] = {{.fd = fifo, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0 && errno != EINTR)
      return usbox_err_set(err, errno, "waiting for the start");
    char byte;
    if ((p[0].revents & POLLIN) && read(fifo, &byte, 1) == 1) {
      unlink(m->fifo); /* the container runs: `start` sees the FIFO go */
      if (byte != OCI_START_CALL_OFF)
        return 0;
      monitor_close_start_fifo(m);
      /* a hook inside the container failed: its process never runs, the
       * sandbox goes as on any end */
      usbox_err_sink = called_off_sink;
      return usbox_err_set(err, 0, "container %s: its start was called off", m->c->o->id);
    }
    struct signalfd_siginfo si;
    if ((p[1].revents & POLLIN) && read(sigfd, &si, sizeof si) == sizeof si &&
        ends_wait((int)si.ssi_signo)) {
      unlink(m->fifo);
      monitor_close_start_fifo(m);
      return (int)si.ssi_signo;
    }
  }
}

/* The container's network, IPC and UTS namespaces, entered by the monitor
 * itself: a pod's by path (linux.namespaces), or new IPC and UTS ones. It
 * does so while it has one thread (setns needs that) and before it forks
 * the gofer and the sandbox's first process, which inherit them:
 * - the state's pid is the monitor's, so /proc/PID/ns/{net,ipc,uts} of a
 *   usbox container are the container's, and the engine points a pod's
 *   other containers there;
 * - the network: the sandbox still has a namespace of its own with only a
 *   loopback (netstack-shim); what its policy allows leaves through
 *   sockets the sentry makes in the monitor's namespace, the pod's, so
 *   with the pod's addresses and routes.
 * Safe: the paths come from the engine's config.json, as with runc; setns
 * refuses a file that is not a namespace of that kind; the monitor runs
 * with the engine's privileges, never the agent's. */
static int enter_namespaces(const struct oci_spec *s, const struct policy *p, bool *made,
                            usbox_err_t *err)
{
  static const int types[OCI_NS_KINDS] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS};
  static const char *const names[OCI_NS_KINDS] = {"network", "ipc", "uts"};
  /* without root, namespaces are made in the sandbox's own user namespace
   * (its first process makes IPC and UTS ones, as `usbox exec` does); a
   * path cannot be joined from there */
  *made = geteuid() == 0;
  for (int k = 0; !*made && k < OCI_NS_KINDS; k++)
    if (s->ns_path[k] != NULL)
      return usbox_err_set(err, EPERM, "joining the %s namespace %s needs root", names[k],
                           s->ns_path[k]);
  if (!*made)
    return 0;
  /* with a user namespace the paths are joined here all the same, while
   * the monitor has the host's root (a namespace the host's user
   * namespace owns cannot be joined from inside another); the new ones
   * are made in it (monitor_in_userns) */
  for (int k = 0; k < OCI_NS_KINDS; k++) {
    if (s->ns_path[k] == NULL) {
      if (!s->userns && k != OCI_NS_NET && unshare(types[k]) < 0)
        return usbox_err_set(err, errno, "making the container's %s namespace", names[k]);
      continue;
    }
    cleanup_close int fd = open(s->ns_path[k], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, types[k]) < 0)
      return usbox_err_set(err, errno, "joining the %s namespace %s", names[k], s->ns_path[k]);
  }
  /* a pod's UTS namespace keeps its name unless the config names one (set
   * here, with the host's rights over it); a new one is named where it is
   * made */
  bool new_uts = s->ns_path[OCI_NS_UTS] == NULL;
  if ((new_uts ? !s->userns : s->hostname) && sethostname(p->hostname, strlen(p->hostname)) < 0)
    return usbox_err_set(err, errno, "setting the host name %s", p->hostname);
  return 0;
}

/* exec_gate.in_userns: the container's own namespaces, made now that the
 * monitor is the user namespace's root, so that they are that namespace's
 * (its root may then set their host name, mount its mqueue). A network
 * without a path is a new one too, as runc makes it: the engine may
 * configure it through /proc/PID/ns/net (podman does with user
 * namespaces); what the policy allows leaves through it. */
static int monitor_in_userns(void *ctx, usbox_err_t *err)
{
  const struct monitor *m = ctx;
  const struct oci_spec *s = &m->c->spec;
  int flags = (s->netns_new ? CLONE_NEWNET : 0) |
              (s->ns_path[OCI_NS_IPC] == NULL ? CLONE_NEWIPC : 0) |
              (s->ns_path[OCI_NS_UTS] == NULL ? CLONE_NEWUTS : 0);
  if (flags != 0 && unshare(flags) < 0)
    return usbox_err_set(err, errno, "making the container's namespaces");
  const char *name = m->c->policy.hostname;
  if (s->ns_path[OCI_NS_UTS] == NULL && sethostname(name, strlen(name)) < 0)
    return usbox_err_set(err, errno, "setting the host name %s", name);
  return 0;
}

/* How the monitor will see host uid `id` in SO_PEERCRED: itself, or (in
 * the container's user namespace) the id the maps give it there, or the
 * overflow uid. */
static uid_t seen_uid(const struct oci_spec *s, uid_t id)
{
  if (!s->userns)
    return id;
  int64_t inside = userns_to_inside(s->idmap.uid, s->idmap.nuid, id);
  if (inside >= 0)
    return (uid_t)inside;
  char text[16] = "65534";
  cleanup_fclose FILE *f = fopen("/proc/sys/kernel/overflowuid", "re");
  if (f != NULL && fgets(text, sizeof text, f) == NULL)
    snprintf(text, sizeof text, "65534");
  return (uid_t)strtoul(text, NULL, 10);
}

/* What the monitor does with the host's rights before anything else (it
 * may lose them for the container's user namespace): the log kept open,
 * the exec socket bound, the start FIFO's reader open (a FIFO opened for
 * writing without a reader fails: `start` finds one from "created" on),
 * the console socket connected. */
static int monitor_prepare(struct monitor *m, usbox_err_t *err)
{
  m->log_fd = oci_log_hold(m->rt);
  m->peer_uid[0] = seen_uid(&m->c->spec, geteuid());
  m->peer_uid[1] = seen_uid(&m->c->spec, 0);
  if ((m->exec_listen = oci_exec_server_bind(m->c->dir, err)) < 0)
    return -1;
  m->fifo_r = open(m->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (m->fifo_r < 0)
    return usbox_err_set(err, errno, "opening %s", m->fifo);
  if (m->console_socket != NULL && m->c->spec.terminal &&
      (m->console_fd = oci_console_connect(m->console_socket, err)) < 0)
    return -1;
  return 0;
}

/* In the monitor: the sandbox, to the end. Never returns. */
static _Noreturn void run_monitor(const struct oci_runtime *rt, struct monitor *m,
                                  const struct creating *c)
{
  const struct oci_spec *s = &c->spec;
  the_monitor = m;
  usbox_err_sink = report_sink;
  /* With a terminal the container's stdio is its pty, not create's: the
   * monitor (and the gofer and init it forks) must not hold create's
   * stdout, which an engine may read to its end (containerd's shim waits
   * for EOF on it before it takes the console) */
  int null = s->terminal ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
  for (int fd = 0; null >= 0 && fd < 3; fd++)
    dup2(null, fd);
  if (null > 2)
    close(null);
  usbox_verbosity = rt->debug ? 3 : 0;
  usbox_err_t err = {0};
  bool uts_ipc_made;
  if (monitor_prepare(m, &err) < 0 || enter_namespaces(s, &c->policy, &uts_ipc_made, &err) < 0) {
    usbox_err_print(&err); /* to `create`, through report_sink */
    _exit(USBOX_EXIT_ERROR);
  }
  struct exec_gate gate = {.console = s->terminal, .created = monitor_created,
                           .wait_start = monitor_wait_start, .started = monitor_close_start_fifo,
                           .in_userns = monitor_in_userns, .ctx = m};
  struct exec_config cfg = {.argv = s->args, .envp = s->env, .policy = &c->policy, .gate = &gate,
                            .profile = c->profile.insns != NULL ? &c->profile : NULL,
                            .profile_flags = c->profile_flags, .uts_ipc_made = uts_ipc_made,
                            .preserve_fds = c->o->preserve_fds,
                            .userns = s->userns ? &s->idmap : NULL};
  /* none of the monitor's own fds stays in the sandbox's first process */
  const int own[] = {m->report_w, m->exec_listen, m->fifo_r, m->console_fd, m->log_fd};
  cfg.own_fds = own;
  cfg.nown_fds = sizeof own / sizeof own[0];
  int code = supervisor_exec(&cfg);
  if (m->report_w >= 0) /* failed before "created" */
    close(m->report_w);
  unlink(m->fifo);
  _exit(code);
}

/* What the monitor said: "OK <init pid>", or an error to pass on. */
static int read_report(int fd, pid_t monitor, pid_t *init, usbox_err_t *err)
{
  char text[2048];
  size_t len = 0;
  ssize_t n;
  /* one line: the sandbox's init, forked before the report, holds a copy
   * of the pipe (it never executes), so no EOF comes after a success */
  text[0] = '\0';
  while (len < sizeof text - 1 && strchr(text, '\n') == NULL &&
         ((n = read(fd, text + len, sizeof text - 1 - len)) > 0 || (n < 0 && errno == EINTR))) {
    len += n > 0 ? (size_t)n : 0;
    text[len] = '\0';
  }
  int pid;
  if (sscanf(text, "OK %d", &pid) == 1 && pid > 0) {
    *init = pid;
    return 0;
  }
  /* its cgroups, by its pid while that is still its own (a monitor in a
   * user namespace cannot remove them itself) */
  siginfo_t si;
  while (waitid(P_PID, monitor, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
    ;
  limits_remove_of(monitor);
  int status;
  waitpid(monitor, &status, 0);
  text[strcspn(text, "\n")] = '\0';
  if (text[0] != '\0')
    return usbox_err_set(err, 0, "%s", text);
  return usbox_err_set(err, 0, "the container's monitor died while starting (status %d)", status);
}

static void now_rfc3339(char *out, size_t size)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, size - n, ".%09ldZ", ts.tv_nsec);
}


static void note_to_log(void *ctx, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  oci_log(ctx, "warning", "%s", line);
}

static bool same_maps(const struct userns_map *a, size_t na, const struct userns_map *b, size_t nb)
{
  return na == nb && memcmp(a, b, na * sizeof *a) == 0;
}

/* A user namespace joined by path (a pod's): its maps are what they are;
 * the config's, if it gives them, must be the same (as runc checks). */
static int joined_userns_maps(struct oci_spec *s, const struct policy *p, usbox_err_t *err)
{
  static struct userns_config joined;
  if (userns_read_maps(s->userns_path, &joined, err) < 0)
    return usbox_err_wrap(err, "config.json: .linux.namespaces");
  if ((s->idmap.nuid != 0 && !same_maps(s->idmap.uid, s->idmap.nuid, joined.uid, joined.nuid)) ||
      (s->idmap.ngid != 0 && !same_maps(s->idmap.gid, s->idmap.ngid, joined.gid, joined.ngid)))
    return usbox_err_set(err, EINVAL, "config.json: .linux.uidMappings: not the maps of the user "
                                      "namespace %s", s->userns_path);
  s->idmap = joined;
  return oci_spec_check_idmap(s, p, err);
}

/* Everything that can be refused is refused here, before anything on the
 * host changes. */
static int validate(struct creating *c, usbox_err_t *err)
{
  const struct oci_create_options *o = c->o;
  if (oci_state_dir(c->rt->root, o->id, c->dir, sizeof c->dir, err) < 0)
    return -1;
  /* fds 3..N+2 open, none a directory (oci/preserve.c says why) */
  if (oci_preserve_check(o->preserve_fds, OCI_PRESERVE_MAX, err) < 0)
    return -1;
  /* the engine's defaults: $USBOX_OCI_CONFIG (which must exist), else
   * /etc/usbox/oci.json if there is one */
  const char *defaults = getenv("USBOX_OCI_CONFIG");
  if (defaults == NULL && access(OCI_DEFAULTS_FILE, F_OK) == 0)
    defaults = OCI_DEFAULTS_FILE;
  struct oci_load_options lo = {.bundle = o->bundle ? o->bundle : ".", .defaults = defaults,
                                .note = note_to_log, .note_ctx = (void *)c->rt};
  if (oci_spec_load(&lo, &c->spec, &c->policy, err) < 0)
    return -1;
  /* the maps name host ids: writing them is root's (without root usbox
   * makes a user namespace of its own, with the caller's one id) */
  if (c->spec.userns && geteuid() != 0)
    return usbox_err_set(err, EPERM, "config.json: .linux.uidMappings: a user namespace with "
                                     "mappings needs root");
  if (c->spec.userns_path != NULL && joined_userns_maps(&c->spec, &c->policy, err) < 0)
    return -1;
  if (c->spec.terminal && o->console_socket == NULL)
    return usbox_err_set(err, EINVAL, "process.terminal is set: --console-socket is needed");
  if (!c->spec.terminal && o->console_socket != NULL)
    return usbox_err_set(err, EINVAL, "--console-socket given, but process.terminal is false");
  if (net_policy_finish(&c->policy, err) < 0 || policy_finish(&c->policy, err) < 0)
    return -1;
  /* on top of usbox's own filter: it can only take calls away */
  struct seccomp_profile_source src = {.text = c->spec.seccomp, .name = "linux.seccomp"};
  if (c->spec.seccomp != NULL &&
      seccomp_profile_compile(&src, c->policy.keep_caps, &c->profile, &c->profile_flags, err) < 0)
    return usbox_err_wrap(err, "config.json: .linux.seccomp");
  return 0;
}

/* createContainer: inside the container, once `create` has done all else
 * (its state names the sandbox's first process, as the host's hooks'). */
static int run_container_hooks(const struct creating *c, const struct oci_state *st,
                               usbox_err_t *err)
{
  if (c->spec.hooks == NULL || strcmp(c->spec.hooks, "{}") == 0)
    return 0;
  struct oci_state hook_state = *st;
  hook_state.pid = st->init_pid;
  cleanup_free char *state = oci_state_json(&hook_state, OCI_CREATING);
  if (state == NULL)
    return usbox_err_set(err, ENOMEM, "the hooks' state");
  struct oci_hooks_inside o = {.rt = c->rt, .id = c->o->id, .hooks_json = c->spec.hooks,
                               .kind = "createContainer", .state_json = state};
  return oci_hooks_run_inside(&o, err);
}

/* A create that fails once the monitor reported "created": its start is
 * called off, so that it takes its sandbox down as on any end (its
 * processes, its cgroups); SIGKILL if it does not wait any more. The
 * freezer, which it does not own, and whatever cgroup of its is left go
 * here while its pid is still its own (ended, not reaped yet). */
static void abandon_monitor(const struct creating *c, const struct oci_state *st)
{
  usbox_err_t ignored;
  if (oci_release(c->rt, c->o->id, false, &ignored) < 0)
    kill(st->pid, SIGKILL);
  siginfo_t si;
  while (waitid(P_PID, st->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
    ;
  limits_freezer_remove(st->freezer);
  limits_remove_of(st->pid);
  waitpid(st->pid, NULL, 0);
}

/* pause/resume: the sandbox's first process in a freezer cgroup of its own
 * before it forks the container's process (without one, the container
 * runs and `pause` says why it cannot); named after the monitor */
static void make_freezer(const struct creating *c, pid_t monitor, struct oci_state *st)
{
  char name[64];
  usbox_err_t ferr = {0};
  snprintf(name, sizeof name, "usbox-oci-%d", (int)monitor);
  if (limits_freezer_create(name, st->init_pid, st->freezer, sizeof st->freezer, &ferr) < 0) {
    oci_log(c->rt, "warning", "%s", ferr.msg);
    st->freezer[0] = '\0';
  }
}

/* Fork the monitor; read its report; record the state. */
static int launch_monitor(struct creating *c, pid_t *monitor, usbox_err_t *err)
{
  struct monitor m = {.rt = c->rt, .c = c, .console_socket = c->o->console_socket, .fifo_r = -1,
                      .console_fd = -1, .exec_listen = -1, .log_fd = -1};
  snprintf(m.fifo, sizeof m.fifo, "%s/start", c->dir);
  if (mkfifo(m.fifo, 0600) < 0)
    return usbox_err_set(err, errno, "making %s", m.fifo);
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "pipe2");
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(report[0]), close(report[1]);
    return usbox_err_set(err, errno, "fork");
  }
  if (pid == 0) {
    close(report[0]);
    m.report_w = report[1];
    run_monitor(c->rt, &m, c);
  }
  close(report[1]);
  struct oci_state st = {.pid = pid, .owner = geteuid(), .annotations = c->spec.annotations,
                         .hooks = c->spec.hooks};
  int rc = read_report(report[0], pid, &st.init_pid, err);
  close(report[0]);
  if (rc < 0)
    return -1;
  snprintf(st.id, sizeof st.id, "%s", c->o->id);
  snprintf(st.bundle, sizeof st.bundle, "%s", c->spec.bundle);
  snprintf(st.rootfs, sizeof st.rootfs, "%s", c->spec.rootfs);
  now_rfc3339(st.created, sizeof st.created);
  st.start_time = oci_process_start_time(pid);
  *monitor = pid;
  make_freezer(c, pid, &st);
  /* the state first: a `create` killed while its hooks run leaves a
   * container that `delete --force` removes */
  if (oci_state_write(c->rt->root, &st, err) < 0 || run_create_hooks(c, st.init_pid, err) < 0 ||
      run_container_hooks(c, &st, err) < 0 ||
      (c->o->pid_file != NULL && oci_write_pid_file(c->o->pid_file, pid, err) < 0)) {
    abandon_monitor(c, &st);
    return -1;
  }
  return 0;
}

int oci_create(const struct oci_runtime *rt, const struct oci_create_options *o, pid_t *monitor,
               usbox_err_t *err)
{
  struct creating c = {.rt = rt, .o = o};
  policy_init(&c.policy);
  int rc = validate(&c, err);
  bool made = false;
  if (rc == 0)
    rc = oci_state_create_dir(rt->root, o->id, err);
  made = rc == 0;
  if (rc == 0)
    rc = oci_spec_make_mount_points(&c.spec, err);
  if (rc == 0)
    rc = launch_monitor(&c, monitor, err);
  if (rc == 0) /* the container holds them now */
    oci_preserve_drop(o->preserve_fds);
  if (rc < 0 && made) {
    usbox_err_t ignored;
    oci_state_remove(rt->root, o->id, &ignored);
  }
  oci_spec_free(&c.spec);
  policy_free(&c.policy);
  usbox_filter_free(&c.profile);
  return rc;
}
