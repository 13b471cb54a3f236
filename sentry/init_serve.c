/* The sandbox's init's side of sentry/init_ctl.h: a request arrives, the
 * init forks the process, which sets itself up and execs (or says at which
 * stage it could not). It runs inside the sandbox under usbox's filter, so
 * it keeps to calls the filter passes or the sentry serves as for any agent
 * (recvmsg, vfork, setresuid, chdir, execve...): it has no right the
 * container's process lacks. */
#include "sentry/init_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/sanitizer.h"
#include "platform/unotify.h"
#include "sentry/backstop.h"

struct exec_failure {
  uint32_t stage;
  int32_t err;
};

struct exec_child {
  const struct init_serve *s;
  const struct init_exec_req *h;
  const char *cwd;
  const char *path; /* the file to execute, or NULL: argv[0] in PATH */
  char **argv, **envp;
  /* what the request carried: stdio (nstdio 3, or 0 with a terminal), then
   * npreserve fds for 3..npreserve+2 (--preserve-fds) */
  const int *fds;
  size_t nstdio, npreserve;
  int status_w;
};

static _Noreturn void child_fail(const struct exec_child *c, uint32_t stage, int e)
{
  struct exec_failure f = {stage, e};
  ssize_t w = write(c->status_w, &f, sizeof f);
  (void)w;
  _exit(127);
}

/* A pty of the sandbox's own devpts on 0-2, the controlling terminal of the
 * new session; the master goes to the monitor (for the console socket). */
static int child_tty(const struct exec_child *c)
{
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  int unlock = 0;
  /* close-on-exec: only its copies on 0-2 are the process's */
  int slave = master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0
                  ? -1
                  : ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
    return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return -1;
  struct init_exec_event ev = {.event = INIT_EV_PTY, .id = c->h->id};
  struct iovec iov = {.iov_base = &ev, .iov_len = sizeof ev};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg cm;
  fdpass_attach(&hdr, &cm, master);
  if (fdpass_sendmsg(c->s->ctl, &hdr) < 0)
    return -1;
  close(master);
  return 0;
}

static int child_rlimits(const struct exec_child *c)
{
  bool nofile = false;
  for (uint32_t i = 0; i < c->h->nrlimits; i++) {
    const struct init_rlimit *r = &c->h->rlimits[i];
    struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
    nofile |= r->resource == RLIMIT_NOFILE;
    if (setrlimit(r->resource, &rl) < 0)
      return -1;
  }
  struct rlimit rl = {.rlim_cur = c->s->nofile.soft, .rlim_max = c->s->nofile.hard};
  return nofile ? 0 : setrlimit(RLIMIT_NOFILE, &rl);
}

/* The user and capabilities: only ever fewer rights than the init has (the
 * bounding set and no_new_privs are inherited, a switch the init's own
 * capabilities do not allow fails with EPERM). */
static void child_credentials(const struct exec_child *c)
{
  const struct init_exec_req *h = c->h;
  struct policy_process proc = {.set_user = (h->flags & INIT_EXEC_SET_USER) != 0, .uid = h->uid,
                                .gid = h->gid, .ngroups = h->ngroups, .umask = -1};
  for (uint32_t i = 0; i < h->ngroups; i++)
    proc.groups[i] = h->groups[i];
  usbox_err_t err = {0};
  if (h->flags & INIT_EXEC_SET_CAPS) {
    if (backstop_reduce_caps(h->keep_caps, &proc, &err) < 0)
      child_fail(c, proc.set_user && strstr(err.msg, "agent's") != NULL ? INIT_STAGE_USER
                                                                         : INIT_STAGE_CAPS,
                 err.code);
  } else if (proc.set_user && backstop_switch_user(&proc, &err) < 0) {
    child_fail(c, INIT_STAGE_USER, err.code);
  }
}

/* execvpe's search, in the process's own PATH (glibc's execvpe reads the
 * caller's); a hook's path as it is. Returns the errno to report. */
static int child_exec(const struct exec_child *c)
{
  const char *name = c->path != NULL ? c->path : c->argv[0];
  if (strchr(name, '/') != NULL) {
    execve(name, c->argv, c->envp);
    return errno;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = c->envp; *e != NULL; e++)
    if (strncmp(*e, "PATH=", 5) == 0)
      path = *e + 5;
  bool denied = false;
  for (const char *p = path;;) {
    const char *end = strchrnul(p, ':');
    char full[4096];
    int n = snprintf(full, sizeof full, "%.*s%s%s", (int)(end - p), p, end == p ? "" : "/", name);
    if (n > 0 && n < (int)sizeof full) {
      execve(full, c->argv, c->envp);
      if (errno == EACCES)
        denied = true;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV)
        return errno;
    }
    if (*end == '\0')
      break;
    p = end + 1;
  }
  return denied ? EACCES : ENOENT;
}

/* --preserve-fds: the fds the request carried become 3..npreserve+2 (left
 * open at execve, which closes every other fd above 2: the init's are all
 * close-on-exec, and so is what it received). They arrived at any
 * numbers, possibly among 3..npreserve+2, as may be this child's own
 * status pipe: each goes above that range first (close-on-exec), and only
 * then onto its number, so none is overwritten before it is moved.
 * *status_w: the status pipe's number from here on. 0, or -1 with errno. */
static int place_preserved(const struct exec_child *c, int *status_w)
{
  if (c->npreserve == 0)
    return 0;
  int top = 3 + (int)c->npreserve;
  int moved_status = fcntl(c->status_w, F_DUPFD_CLOEXEC, top);
  if (moved_status < 0)
    return -1;
  *status_w = moved_status;
  int moved[INIT_EXEC_MAX_PRESERVE];
  for (size_t i = 0; i < c->npreserve; i++)
    if ((moved[i] = fcntl(c->fds[c->nstdio + i], F_DUPFD_CLOEXEC, top)) < 0)
      return -1;
  for (size_t i = 0; i < c->npreserve; i++)
    if (dup2(moved[i], 3 + (int)i) < 0) /* dup2: not close-on-exec */
      return -1;
  return 0;
}

static _Noreturn void run_child(const struct exec_child *orig)
{
  struct exec_child placed = *orig;
  const struct exec_child *c = &placed;
  sigprocmask(SIG_SETMASK, &c->s->mask, NULL);
  /* a session of its own: not in the container's process group, so that
   * what signals that group does not reach it (runc does the same) */
  setsid();
  if (c->nstdio == 0) {
    if (child_tty(c) < 0)
      child_fail(c, INIT_STAGE_TTY, errno);
  } else {
    for (int fd = 0; fd < 3; fd++)
      if (dup2(c->fds[fd], fd) < 0)
        child_fail(c, INIT_STAGE_REQUEST, errno);
  }
  if (place_preserved(orig, &placed.status_w) < 0)
    child_fail(c, INIT_STAGE_REQUEST, errno);
  if (child_rlimits(c) < 0)
    child_fail(c, INIT_STAGE_RLIMITS, errno);
  if (c->h->umask >= 0)
    umask((mode_t)c->h->umask);
  child_credentials(c);
  if (chdir(c->cwd) < 0)
    child_fail(c, INIT_STAGE_CWD, errno);
  /* the container's seccomp profile, last, as for its own process */
  int e = c->s->profile != NULL ? -unotify_install_profile(c->s->profile, c->s->profile_flags) : 0;
  if (e != 0)
    child_fail(c, INIT_STAGE_PROFILE, e);
  child_fail(c, INIT_STAGE_EXEC, child_exec(c));
}

/* AddressSanitizer: fork rather than vfork (see launch.c's run_init) */
#if USBOX_UNDER_ASAN
#define INIT_CTL_FORK fork
#else
#define INIT_CTL_FORK vfork
#endif

static void send_event(const struct init_serve *s, uint32_t event, uint32_t id, int32_t value,
                       uint32_t stage)
{
  struct init_exec_event ev = {.event = event, .id = id, .value = value, .stage = stage};
  /* write(2) on a SOCK_SEQPACKET is one record, and the filter passes it */
  ssize_t w = write(s->ctl, &ev, sizeof ev);
  (void)w;
}

static int free_slot(const struct init_serve *s)
{
  for (int i = 0; i < INIT_EXEC_MAX_LIVE; i++)
    if (s->live[i].pid == 0)
      return i;
  return -1;
}

/* Fork the process (it reports a failure before its execve through a
 * close-on-exec pipe) and say how it went. */
static void spawn(struct init_serve *s, const struct init_exec_req *h, char *strings, size_t len,
                  const int *fds, size_t nfds)
{
  int slot = free_slot(s);
  if (slot < 0)
    return send_event(s, INIT_EV_FAILED, h->id, EAGAIN, INIT_STAGE_REQUEST);
  struct init_request req;
  int status[2] = {-1, -1};
  int e = init_request_decode(h, strings, len, nfds, &req);
  if (e < 0 || pipe2(status, O_CLOEXEC) < 0) {
    send_event(s, INIT_EV_FAILED, h->id, e < 0 ? -e : errno, INIT_STAGE_REQUEST);
  } else {
    /* decoded: nfds is nstdio + npreserve */
    struct exec_child c = {.s = s, .h = h, .cwd = req.cwd, .path = req.path, .argv = req.argv,
                           .envp = req.envp, .fds = fds,
                           .nstdio = (h->flags & INIT_EXEC_TTY) ? 0 : 3,
                           .npreserve = h->npreserve, .status_w = status[1]};
    /* (a sandbox process reads the init's memory in that window through
     * nothing: /proc/1 is refused by the sentry, ptrace by the filter) */
    if (s->dumpable_for_exec)
      prctl(PR_SET_DUMPABLE, 1);
    pid_t pid = INIT_CTL_FORK();
    if (pid == 0)
      run_child(&c);
    if (s->dumpable_for_exec)
      prctl(PR_SET_DUMPABLE, 0);
    close(status[1]);
    struct exec_failure f;
    if (pid < 0) {
      send_event(s, INIT_EV_FAILED, h->id, errno, INIT_STAGE_REQUEST);
    } else if (read(status[0], &f, sizeof f) == (ssize_t)sizeof f) {
      send_event(s, INIT_EV_FAILED, h->id, f.err, f.stage); /* reaped unreported */
    } else {
      s->live[slot].pid = pid;
      s->live[slot].id = h->id;
      send_event(s, INIT_EV_STARTED, h->id, pid, 0);
    }
    close(status[0]);
  }
  init_request_free(&req);
}

void init_serve_request(struct init_serve *s)
{
  static union {
    struct init_exec_req h;
    char bytes[sizeof(struct init_exec_req) + INIT_EXEC_MAX_STRINGS];
  } buf;
  struct iovec iov = {.iov_base = &buf, .iov_len = sizeof buf};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg_many cm;
  fdpass_expect_many(&hdr, &cm);
  ssize_t n = recvmsg(s->ctl, &hdr, MSG_CMSG_CLOEXEC);
  if (n < 0 && errno == EINTR)
    return;
  int fds[FDPASS_MAX];
  size_t nfds = n > 0 ? fdpass_received_many(&hdr, fds, FDPASS_MAX) : 0;
  if (n <= 0) { /* the monitor is gone (it also takes this process with it) */
    close(s->ctl);
    s->ctl = -1;
  } else if (buf.h.op == INIT_OP_SIGNAL && (size_t)n == sizeof buf.h) {
    for (int i = 0; i < INIT_EXEC_MAX_LIVE; i++)
      if (s->live[i].pid != 0 && s->live[i].id == buf.h.id)
        kill(s->live[i].pid, buf.h.signo);
  } else if (hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    send_event(s, INIT_EV_FAILED, buf.h.id, EINVAL, INIT_STAGE_REQUEST);
  } else {
    spawn(s, &buf.h, buf.bytes + sizeof buf.h, (size_t)n, fds, nfds);
  }
  for (size_t i = 0; i < nfds; i++)
    close(fds[i]);
}

void init_serve_reaped(struct init_serve *s, pid_t pid, int status)
{
  for (int i = 0; i < INIT_EXEC_MAX_LIVE; i++)
    if (s->live[i].pid == pid) {
      s->live[i].pid = 0;
      if (s->ctl >= 0)
        send_event(s, INIT_EV_EXIT, s->live[i].id, status, 0);
    }
}
