/* `usbox exec ID` (runc's exec): a process started in a running container.
 * The container's monitor asks the sandbox's init to fork it
 * (sentry/init_ctl.h), so it is inside everything the container's process
 * is inside. This side is the process's stand-in for the caller: it hands
 * over its stdio, passes on the signals it gets, and ends with the
 * process's exit code. With --detach it forks a waiter that does this and
 * whose pid goes to --pid-file, as runsc does: engines (conmon, containerd's
 * shim) wait for and signal that pid. */
#include "oci/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "oci/exec_wire.h"
#include "oci/spec.h"
#include "oci/state.h"

int oci_exec_connect(const struct oci_runtime *rt, const char *id, usbox_err_t *err)
{
  char dir[PATH_MAX];
  if (oci_state_dir(rt->root, id, dir, sizeof dir, err) < 0)
    return -1;
  cleanup_close int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/" OCI_EXEC_SOCKET, dirfd);
  if (dirfd < 0 || sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    usbox_err_set(err, errno, "cannot exec in container %s: its monitor does not answer", id);
    if (sock >= 0)
      close(sock);
    return -1;
  }
  return sock;
}

int oci_exec_send(int sock, const struct oci_exec_request *r, usbox_err_t *err)
{
  size_t len = strlen(r->json);
  if (len > OCI_EXEC_MAX_JSON)
    return usbox_err_set(err, E2BIG, "the process object is larger than %d KiB",
                         OCI_EXEC_MAX_JSON / 1024);
  struct oci_exec_hello h = {.magic = r->path != NULL ? OCI_EXEC_HOOK_MAGIC : OCI_EXEC_MAGIC,
                             .json_len = (uint32_t)len};
  struct iovec iov[3] = {{.iov_base = &h, .iov_len = sizeof h},
                         {.iov_base = (void *)r->path, .iov_len = r->path ? strlen(r->path) + 1 : 0},
                         {.iov_base = (void *)r->json, .iov_len = len}};
  struct msghdr hdr = {.msg_iov = iov, .msg_iovlen = 3};
  union fdpass_cmsg_many cm;
  int fds[FDPASS_MAX];
  size_t nfds = 0;
  for (int fd = 0; r->stdio != NULL && fd < 3; fd++)
    fds[nfds++] = r->stdio[fd];
  for (int fd = 3; fd < 3 + r->npreserve && nfds < FDPASS_MAX; fd++)
    fds[nfds++] = fd;
  fdpass_attach_many(&hdr, &cm, fds, nfds);
  if (fdpass_sendmsg(sock, &hdr) < 0)
    return usbox_err_set(err, errno, "sending the process to the container's monitor");
  return 0;
}

int oci_exec_recv(int sock, struct oci_exec_reply *r, int *fd)
{
  int rc = fdpass_recv_record(sock, r, sizeof *r, fd);
  r->msg[sizeof r->msg - 1] = '\0';
  return rc;
}

/* runc's words, which podman reads to tell "not found" (127) and "cannot
 * execute" (126) from other failures. */
static int failure(const struct oci_exec_reply *r, const char *program, usbox_err_t *err)
{
  if (r->msg[0] != '\0')
    return usbox_err_set(err, 0, "%s", r->msg);
  int e = r->ev.value;
  if (r->ev.stage == INIT_STAGE_EXEC && e == ENOENT && strchr(program, '/') == NULL)
    return usbox_err_set(err, 0, "exec failed: unable to start container process: exec: \"%s\": "
                         "executable file not found in $PATH", program);
  if (r->ev.stage == INIT_STAGE_EXEC)
    return usbox_err_set(err, e, "exec failed: unable to start container process: exec: \"%s\"",
                         program);
  return usbox_err_set(err, e, "exec failed: unable to start container process: %s",
                       init_stage_name(r->ev.stage));
}

struct session {
  const struct oci_exec_options *o;
  const char *program;
  bool terminal;
  int sock;
};

/* Until the process runs: its terminal to the console socket, then
 * STARTED (0) or why not (-1). */
static int wait_started(struct session *s, usbox_err_t *err)
{
  for (;;) {
    struct oci_exec_reply r;
    int fd, rc = oci_exec_recv(s->sock, &r, &fd);
    if (rc <= 0)
      return usbox_err_set(err, rc < 0 ? errno : 0, "the container's monitor went away");
    if (r.ev.event == INIT_EV_PTY && fd >= 0) {
      rc = oci_send_console(s->o->console_socket, fd, err);
      close(fd);
      if (rc < 0)
        return -1;
      continue;
    }
    if (fd >= 0)
      close(fd);
    if (r.ev.event == INIT_EV_STARTED)
      return 0;
    if (r.ev.event == INIT_EV_FAILED)
      return failure(&r, s->program, err);
  }
}

/* Signals a stand-in passes on: all but those that report on itself. */
static void forwarded_set(sigset_t *set)
{
  sigfillset(set);
  static const int own[] = {SIGCHLD, SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGKILL, SIGSTOP};
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
    sigdelset(set, own[i]);
}

/* Until the process ends: its exit code (128+N for signal N; 137 if the
 * sandbox ended under it). */
static int wait_exit(struct session *s, int sigfd)
{
  for (;;) {
    struct pollfd p[2] = {{.fd = s->sock, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0)
      continue;
    struct signalfd_siginfo si;
    while ((p[1].revents & POLLIN) && read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
      struct oci_exec_signal sig = {.magic = OCI_EXEC_MAGIC, .signo = (int32_t)si.ssi_signo};
      send(s->sock, &sig, sizeof sig, MSG_NOSIGNAL);
    }
    if (p[0].revents == 0)
      continue;
    struct oci_exec_reply r;
    int fd, rc = oci_exec_recv(s->sock, &r, &fd);
    if (fd >= 0)
      close(fd);
    if (rc <= 0)
      return 128 + SIGKILL;
    if (r.ev.event == INIT_EV_EXIT)
      return WIFEXITED(r.ev.value) ? WEXITSTATUS(r.ev.value)
             : WIFSIGNALED(r.ev.value) ? 128 + WTERMSIG(r.ev.value) : 128 + SIGKILL;
  }
}

/* Connect, hand over the process and stdio, wait until it runs. */
static int begin(const struct oci_runtime *rt, struct session *s, usbox_err_t *err)
{
  s->sock = oci_exec_connect(rt, s->o->id, err);
  if (s->sock < 0)
    return -1;
  static const int stdio[3] = {0, 1, 2};
  struct oci_exec_request r = {.json = s->o->process_json, .stdio = s->terminal ? NULL : stdio,
                               .npreserve = s->o->preserve_fds};
  if (oci_exec_send(s->sock, &r, err) < 0) {
    close(s->sock);
    s->sock = -1;
    return -1;
  }
  /* the process has its own copies now: a pipe passed in ends when it
   * closes it, not when this stand-in does */
  oci_preserve_drop(s->o->preserve_fds);
  if (wait_started(s, err) < 0) {
    close(s->sock);
    s->sock = -1;
    return -1;
  }
  return 0;
}

/* --detach: the waiter (the child) does the session; the caller returns
 * once it says the process runs, with its pid in the pid file. */
static int detach(const struct oci_runtime *rt, struct session *s, int sigfd, usbox_err_t *err)
{
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "pipe2");
  pid_t waiter = fork();
  if (waiter < 0)
    return usbox_err_set(err, errno, "fork");
  if (waiter == 0) {
    close(report[0]);
    setsid(); /* the caller's terminal's signals are not its */
    usbox_err_t e = {0};
    if (begin(rt, s, &e) < 0) {
      dprintf(report[1], "%s%s%s", e.msg, e.code ? ": " : "", e.code ? strerror(e.code) : "");
      _exit(OCI_EXIT_ERROR);
    }
    close(report[1]);
    /* the caller's stdio belong to the process now, not to this stand-in */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; null >= 0 && fd < 3; fd++)
      dup2(null, fd);
    _exit(wait_exit(s, sigfd));
  }
  close(report[1]);
  char msg[512] = "";
  ssize_t n = read(report[0], msg, sizeof msg - 1);
  close(report[0]);
  if (n != 0) {
    msg[n > 0 ? n : 0] = '\0';
    waitpid(waiter, NULL, 0);
    return usbox_err_set(err, 0, "%s", n > 0 ? msg : "the exec waiter failed");
  }
  if (s->o->pid_file != NULL && oci_write_pid_file(s->o->pid_file, waiter, err) < 0) {
    kill(waiter, SIGKILL); /* its process goes with its connection */
    return -1;
  }
  return 0;
}

/* The container must run (or be paused, with --ignore-paused). */
static int check_status(const struct oci_runtime *rt, const struct oci_exec_options *o,
                        usbox_err_t *err)
{
  struct oci_state st;
  if (oci_state_read(rt->root, o->id, &st, err) < 0)
    return -1;
  enum oci_status status = oci_state_status(rt->root, &st);
  oci_state_free(&st);
  if (status == OCI_RUNNING || (status == OCI_PAUSED && o->ignore_paused))
    return 0;
  return usbox_err_set(err, 0, "cannot exec in a %s container%s", oci_status_name(status),
                       status == OCI_PAUSED ? " (--ignore-paused)" : "");
}

int oci_exec(const struct oci_runtime *rt, const struct oci_exec_options *o, int *exit_code,
             usbox_err_t *err)
{
  if (check_status(rt, o, err) < 0 ||
      oci_preserve_check(o->preserve_fds, INIT_EXEC_MAX_PRESERVE, err) < 0)
    return -1;
  struct oci_spec spec;
  struct policy p;
  policy_init(&p);
  int rc = oci_spec_parse_process(o->process_json, &spec, &p, err);
  struct session s = {.o = o, .sock = -1, .terminal = spec.terminal};
  cleanup_free char *program = rc == 0 ? strdup(spec.args[0]) : NULL;
  oci_spec_free(&spec);
  policy_free(&p);
  if (rc < 0)
    return -1;
  if (program == NULL)
    return usbox_err_set(err, ENOMEM, "exec");
  s.program = program;
  if (s.terminal && o->console_socket == NULL)
    return usbox_err_set(err, 0, "a process with a terminal needs --console-socket");
  /* signals for the process, from now on: they are passed on once it runs */
  sigset_t fwd;
  forwarded_set(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, NULL);
  cleanup_close int sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0)
    return usbox_err_set(err, errno, "signalfd");
  if (o->detach)
    return detach(rt, &s, sigfd, err);
  if (begin(rt, &s, err) < 0)
    return -1;
  if (o->pid_file != NULL && oci_write_pid_file(o->pid_file, getpid(), err) < 0) {
    close(s.sock);
    return -1;
  }
  *exit_code = wait_exit(&s, sigfd);
  close(s.sock);
  return 0;
}
