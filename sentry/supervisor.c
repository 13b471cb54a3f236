#include "sentry/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "platform/seccomp_filter.h"
#include "platform/unotify.h"
#include "sentry/sentry.h"

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Signals usbox forwards to the agent when a process sends them to usbox. */
static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int supervisor_find_program(const char *name, const char *path_env, char *resolved,
                            size_t size, usbox_err_t *err)
{
  struct stat st;
  if (strchr(name, '/') != NULL) {
    if (stat(name, &st) < 0)
      return usbox_err_set(err, errno, "%s", name),
             errno == ENOENT || errno == ENOTDIR ? USBOX_EXIT_NOT_FOUND : USBOX_EXIT_CANNOT_EXEC;
    if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0)
      return usbox_err_set(err, S_ISDIR(st.st_mode) ? EISDIR : errno, "%s", name),
             USBOX_EXIT_CANNOT_EXEC;
    snprintf(resolved, size, "%s", name);
    return 0;
  }
  if (path_env == NULL)
    path_env = "/usr/local/bin:/usr/bin:/bin";
  bool denied = false;
  for (const char *p = path_env;; p++) {
    const char *colon = strchrnul(p, ':');
    int dirlen = (int)(colon - p);
    /* an empty entry means the current directory, as for execvp */
    int n = dirlen ? snprintf(resolved, size, "%.*s/%s", dirlen, p, name)
                   : snprintf(resolved, size, "./%s", name);
    if (n > 0 && (size_t)n < size && stat(resolved, &st) == 0 && !S_ISDIR(st.st_mode)) {
      if (access(resolved, X_OK) == 0)
        return 0;
      denied = true;
    }
    if (*colon == '\0')
      break;
    p = colon;
  }
  if (denied)
    return usbox_err_set(err, EACCES, "%s", name), USBOX_EXIT_CANNOT_EXEC;
  return usbox_err_set(err, 0, "%s: executable file not found in $PATH", name),
         USBOX_EXIT_NOT_FOUND;
}

/* What usbox inherited, restored in the agent so it starts as it would have
 * natively (a program started under nohup keeps SIGHUP ignored, and so on). */
struct inherited {
  sigset_t mask;
  struct sigaction sigpipe;
};

struct launch {
  pid_t parent;
  const struct inherited *inherited;
  const char *program;
  char **argv;
  const struct bpf_program *bpf;
  int ready_w;  /* child -> parent: listener fd number, or -errno */
  int ack_r;    /* parent -> child: sentry is serving, go on */
  int status_w; /* child -> parent: errno of a failed execve (CLOEXEC) */
};

/* Between fork and exec. The parent is single-threaded when it forks, so
 * this is ordinary code, but it keeps to plain system calls. */
static _Noreturn void agent_child(const struct launch *l)
{
  /* Fail closed: if usbox dies, so does the agent. Checked against a parent
   * that died before the prctl took effect. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != l->parent)
    _exit(USBOX_EXIT_ERROR);
  /* Signal state as usbox inherited it: handlers usbox installed reset at
   * execve by themselves; what usbox ignored or blocked is put back. */
  sigaction(SIGPIPE, &l->inherited->sigpipe, NULL);
  sigprocmask(SIG_SETMASK, &l->inherited->mask, NULL);
  /* No fd of usbox reaches the agent: everything above stdio closes at exec
   * (the handoff pipes are already close-on-exec). */
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  /* no_new_privs: setuid binaries gain nothing, and an unprivileged process
   * may install the filter. */
  int result = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
  bool killable = false;
  if (result == 0)
    result = unotify_install(l->bpf, &killable);
  /* From here on every call goes through the filter: only read, write and
   * close (passed to the kernel) until execve, which the sentry serves. */
  if (write(l->ready_w, &result, sizeof result) != sizeof result || result < 0)
    _exit(USBOX_EXIT_ERROR);
  char go;
  if (read(l->ack_r, &go, 1) != 1)
    _exit(USBOX_EXIT_ERROR);
  close(result); /* the listener: the sentry holds its own copy now */
  execve(l->program, l->argv, environ);
  int e = errno;
  ssize_t w = write(l->status_w, &e, sizeof e);
  (void)w;
  _exit(e == ENOENT ? USBOX_EXIT_NOT_FOUND : USBOX_EXIT_CANNOT_EXEC);
}

struct pipes {
  int ready[2], ack[2], status[2];
};

static void close_pair(int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      close(p[i]), p[i] = -1;
}

static int read_full(int fd, void *buf, size_t len)
{
  ssize_t n;
  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1;
}

/* Take the listener from the child (pidfd_getfd: the child needs no
 * intercepted call such as sendmsg to hand it over). */
static int take_listener(pid_t child, int ready_r, usbox_err_t *err)
{
  int child_fd;
  if (read_full(ready_r, &child_fd, sizeof child_fd) < 0)
    return usbox_err_set(err, 0, "the agent process died while installing its filter");
  if (child_fd < 0)
    return usbox_err_set(err, -child_fd, "installing the seccomp filter in the agent");
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
  if (pidfd < 0)
    return usbox_err_set(err, errno, "pidfd_open of the agent");
  int listener = (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
  if (listener < 0)
    return usbox_err_set(err, errno, "taking the seccomp listener from the agent");
  return listener;
}

struct run {
  struct sentry sentry;
  bool sentry_ready;
  pid_t agent;
  int agent_pidfd;
  int sigfd;
  int status; /* wait status of the agent */
  bool agent_done;
};

/* SIGKILL every remaining child and reap until none is left. usbox is a
 * subreaper, so orphans of the agent's tree come to it and are found here. */
static void kill_descendants(void)
{
  for (;;) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)getpid());
    DIR *tasks = opendir(path);
    struct dirent *de;
    while (tasks != NULL && (de = readdir(tasks)) != NULL) {
      if (de->d_name[0] == '.')
        continue;
      char cpath[96];
      snprintf(cpath, sizeof cpath, "%s/%s/children", path, de->d_name);
      FILE *f = fopen(cpath, "re");
      int pid;
      while (f != NULL && fscanf(f, "%d", &pid) == 1)
        kill(pid, SIGKILL);
      if (f != NULL)
        fclose(f);
    }
    if (tasks != NULL)
      closedir(tasks);
    int st;
    if (waitpid(-1, &st, __WALL) < 0 && errno == ECHILD)
      return;
  }
}

static void reap(struct run *r)
{
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
    if (pid == r->agent) {
      r->status = st;
      r->agent_done = true;
    }
}

static void on_signal(struct run *r, const struct signalfd_siginfo *si)
{
  if (si->ssi_signo == SIGCHLD) {
    reap(r);
    return;
  }
  /* From the terminal (SI_KERNEL) the agent's process group got it too;
   * from a process (kill, timeout, a supervisor) it is ours to pass on. */
  if (si->ssi_code == SI_KERNEL)
    return;
  usbox_debug("forwarding signal %u to the agent", si->ssi_signo);
  syscall(SYS_pidfd_send_signal, r->agent_pidfd, (int)si->ssi_signo, NULL, 0);
}

static void main_loop(struct run *r)
{
  while (!r->agent_done) {
    struct pollfd p = {.fd = r->sigfd, .events = POLLIN};
    /* wake now and then so the watchdog sees receivers stuck in handlers */
    int n = poll(&p, 1, 25);
    if (n > 0) {
      struct signalfd_siginfo si;
      while (read(r->sigfd, &si, sizeof si) == sizeof si)
        on_signal(r, &si);
    }
    sentry_watchdog(&r->sentry);
  }
}

static int exit_code_of(int status)
{
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return USBOX_EXIT_ERROR;
}

static int block_signals(int *sigfd, struct inherited *inherited, usbox_err_t *err)
{
  sigprocmask(SIG_SETMASK, NULL, &inherited->mask);
  sigaction(SIGPIPE, NULL, &inherited->sigpipe);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
    sigaddset(&set, forwarded_signals[i]);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return usbox_err_set(err, errno, "sigprocmask");
  *sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (*sigfd < 0)
    return usbox_err_set(err, errno, "signalfd");
  signal(SIGPIPE, SIG_IGN); /* a closed audit pipe must not kill the sentry */
  return 0;
}

/* Start the agent and bring the sentry up in front of its execve. Returns 0,
 * or an exit code with err filled. */
static int start_agent(struct run *r, const struct exec_config *cfg, const char *program,
                       const struct bpf_program *bpf, const struct inherited *inherited,
                       usbox_err_t *err)
{
  struct pipes p = {{-1, -1}, {-1, -1}, {-1, -1}};
  if (pipe2(p.ready, O_CLOEXEC) < 0 || pipe2(p.ack, O_CLOEXEC) < 0 ||
      pipe2(p.status, O_CLOEXEC) < 0) {
    usbox_err_set(err, errno, "pipe2");
    goto fail;
  }
  struct launch l = {getpid(), inherited, program, cfg->argv, bpf, p.ready[1], p.ack[0], p.status[1]};
  r->agent = fork();
  if (r->agent < 0) {
    usbox_err_set(err, errno, "fork");
    goto fail;
  }
  if (r->agent == 0)
    agent_child(&l);
  close(p.ready[1]), close(p.ack[0]), close(p.status[1]);
  p.ready[1] = p.ack[0] = p.status[1] = -1;
  r->agent_pidfd = (int)syscall(SYS_pidfd_open, r->agent, 0);
  int listener = take_listener(r->agent, p.ready[0], err);
  if (listener < 0 || r->agent_pidfd < 0)
    goto fail;
  if (sentry_init(&r->sentry, listener, err) < 0 || vfs_init(&r->sentry.vfs, err) < 0)
    goto fail;
  if (cfg->audit_path != NULL &&
      (r->sentry.audit = audit_open(cfg->audit_path, err)) == NULL)
    goto fail;
  r->sentry_ready = true;
  if (sentry_start(&r->sentry, err) < 0 || write(p.ack[1], "g", 1) != 1)
    goto fail;
  int exec_errno;
  if (read_full(p.status[0], &exec_errno, sizeof exec_errno) == 0) {
    usbox_err_set(err, exec_errno, "cannot execute %s", program);
    close_pair(p.ready), close_pair(p.ack), close_pair(p.status);
    return exec_errno == ENOENT ? USBOX_EXIT_NOT_FOUND : USBOX_EXIT_CANNOT_EXEC;
  }
  close_pair(p.ready), close_pair(p.ack), close_pair(p.status);
  return 0;
fail:
  close_pair(p.ready), close_pair(p.ack), close_pair(p.status);
  return USBOX_EXIT_ERROR;
}

int supervisor_exec(const struct exec_config *cfg)
{
  usbox_err_t err = {0};
  char program[PATH_MAX];
  int code = supervisor_find_program(cfg->argv[0], getenv("PATH"), program, sizeof program, &err);
  if (code != 0) {
    usbox_err_print(&err);
    return code;
  }
  struct filter_options fopts = {.denials_to_sentry = cfg->audit_path != NULL || cfg->count_denials};
  struct bpf_program bpf;
  usbox_filter_prebuilt(&fopts, &bpf);
  struct run r = {.agent = -1, .agent_pidfd = -1, .sigfd = -1};
  struct inherited inherited;
  if (block_signals(&r.sigfd, &inherited, &err) < 0) {
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  /* Orphans of the agent's tree are re-parented to usbox, which reaps them
   * and kills whatever is left when the agent ends. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  code = start_agent(&r, cfg, program, &bpf, &inherited, &err);
  if (code == 0)
    main_loop(&r);
  else
    usbox_err_print(&err);
  if (r.agent > 0) {
    if (code != 0 && !r.agent_done)
      kill(r.agent, SIGKILL);
    kill_descendants();
  }
  if (r.sentry_ready) {
    sentry_stop(&r.sentry);
    if (usbox_verbosity >= 2)
      sentry_print_summary(&r.sentry);
    sentry_destroy(&r.sentry);
  }
  if (r.agent_pidfd >= 0)
    close(r.agent_pidfd);
  close(r.sigfd);
  return code != 0 ? code : exit_code_of(r.status);
}
