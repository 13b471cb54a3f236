#include "sentry/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/close_detached.h"
#include "common/log.h"
#include "platform/seccomp_filter.h"
#include "platform/unotify.h"
#include "gofer/gofer.h"
#include "sentry/gofer_start.h"
#include "sentry/hidden_watch.h"
#include "sentry/launch.h"
#include "sentry/report.h"
#include "sentry/sentry.h"
#include "limits/limits.h"
#include "vfs/overlay_track.h"
#include "sentry/sys_net.h"

/* Where the program is looked for: the host ("/") or a directory shown as
 * the view's root (a container's rootfs), where it is resolved as the
 * agent will resolve it: symlinks inside that root, relative names from
 * the agent's starting directory. */
struct lookup_root {
  int fd;          /* -1: the host's own namespace, as usbox sees it */
  const char *cwd; /* the agent's starting directory in that root */
};

/* stat and the execute check of path, through the root. 0 or -1 (errno). */
static int probe(const struct lookup_root *root, const char *path, struct stat *st, bool *exec_ok)
{
  if (root->fd < 0) {
    if (stat(path, st) < 0)
      return -1;
    *exec_ok = access(path, X_OK) == 0;
    return 0;
  }
  char abs[PATH_MAX];
  if (snprintf(abs, sizeof abs, "%s/%s", path[0] == '/' ? "" : root->cwd, path) >= (int)sizeof abs)
    return errno = ENAMETOOLONG, -1;
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  cleanup_close int fd = (int)syscall(SYS_openat2, root->fd, abs + 1, &how, sizeof how);
  if (fd < 0 || fstat(fd, st) < 0)
    return -1;
  *exec_ok = faccessat(fd, "", X_OK, AT_EMPTY_PATH) == 0;
  return 0;
}

static int find_program(const struct lookup_root *root, const char *name, const char *path_env,
                        char *resolved, size_t size, usbox_err_t *err)
{
  struct stat st;
  bool exec_ok;
  if (strchr(name, '/') != NULL) {
    if (probe(root, name, &st, &exec_ok) < 0)
      return usbox_err_set(err, errno, "%s", name),
             errno == ENOENT || errno == ENOTDIR ? USBOX_EXIT_NOT_FOUND : USBOX_EXIT_CANNOT_EXEC;
    if (S_ISDIR(st.st_mode) || !exec_ok)
      return usbox_err_set(err, S_ISDIR(st.st_mode) ? EISDIR : EACCES, "%s", name),
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
    if (n > 0 && (size_t)n < size && probe(root, resolved, &st, &exec_ok) == 0 &&
        !S_ISDIR(st.st_mode)) {
      if (exec_ok)
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

int supervisor_find_program(const char *name, const char *path_env, char *resolved,
                            size_t size, usbox_err_t *err)
{
  return find_program(&(struct lookup_root){.fd = -1}, name, path_env, resolved, size, err);
}

/* The program, looked for in the view's root when that is not the host's. */
static int find_agent_program(const struct exec_config *cfg, char *resolved, size_t size,
                              usbox_err_t *err)
{
  const char *path_env = env_lookup(cfg->envp, "PATH");
  const char *root = policy_root_source(cfg->policy);
  if (strcmp(root, "/") == 0)
    return supervisor_find_program(cfg->argv[0], path_env, resolved, size, err);
  cleanup_close int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return usbox_err_set(err, errno, "the view's root %s", root), USBOX_EXIT_ERROR;
  const char *cwd = cfg->policy->process.cwd != NULL ? cfg->policy->process.cwd : "/";
  return find_program(&(struct lookup_root){.fd = fd, .cwd = cwd}, cfg->argv[0], path_env,
                      resolved, size, err);
}

struct run {
  struct sentry sentry;
  struct hidden_watch hidden; /* masks for hidden paths made on the host since start */
  bool sentry_ready;
  pid_t agent; /* the sandbox's init (pid 1 there), whose child the agent is */
  int agent_pidfd;
  int exit_r; /* the init writes the agent's wait status here */
  bool test_pass[SC_NR_LIMIT]; /* --TESTONLY-pass */
  struct limits limits;
  unsigned long long deadline_ns; /* --timeout: SIGTERM then (0: none) */
  unsigned long long kill_at_ns;  /* then SIGKILL (0: not yet due) */
  bool timed_out;
  int sigfd;
  int status; /* wait status of the agent */
  bool agent_done;
  bool gofer_failed;
  bool gofer_oom; /* it was the memory limit's victim */
  struct tty_relay tty; /* the agent's own terminal, relayed to the caller's */
  pid_t foreign[64]; /* children this process had before usbox started anything */
  size_t nforeign;
  /* the gofer, started by the first request that needs it */
  struct gofer_start gofer_start;
};

/* This process's children, as the kernel lists them, up to max. */
static size_t list_children(pid_t *out, size_t max)
{
  char path[64];
  size_t n = 0;
  snprintf(path, sizeof path, "/proc/%d/task", (int)getpid());
  cleanup_closedir DIR *tasks = opendir(path);
  struct dirent *de;
  while (tasks != NULL && (de = readdir(tasks)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char cpath[96];
    snprintf(cpath, sizeof cpath, "%s/%s/children", path, de->d_name);
    cleanup_fclose FILE *f = fopen(cpath, "re");
    int pid;
    while (f != NULL && n < max && fscanf(f, "%d", &pid) == 1)
      out[n++] = pid;
  }
  return n;
}

static bool listed(const pid_t *list, size_t n, pid_t pid)
{
  for (size_t i = 0; i < n; i++)
    if (list[i] == pid)
      return true;
  return false;
}

/* The children of usbox's own making (into kids, at most cap): the
 * children this process already had when usbox started (a shell that
 * exec'd usbox leaves its background jobs) are not the sandbox's: they are
 * left alone, as natively. */
static size_t our_children(const struct run *r, pid_t *kids, size_t cap)
{
  size_t n = list_children(kids, cap), ours = 0;
  for (size_t i = 0; i < n; i++)
    if (!listed(r->foreign, r->nforeign, kids[i]))
      kids[ours++] = kids[i];
  return ours;
}

/* SIGKILL every remaining child of usbox's own making, without waiting:
 * their exits (the gofer's is ~0.7 ms here) overlap the sentry's stop. */
static void kill_children(const struct run *r)
{
  pid_t kids[1024];
  size_t n = our_children(r, kids, sizeof kids / sizeof kids[0]);
  for (size_t i = 0; i < n; i++)
    kill(kids[i], SIGKILL);
}

/* SIGKILL every remaining child of usbox's own making and reap them until
 * none is left. usbox is a subreaper, so what the sandbox leaves comes
 * here. */
static void kill_descendants(const struct run *r)
{
  for (;;) {
    pid_t kids[1024];
    size_t ours = our_children(r, kids, sizeof kids / sizeof kids[0]);
    if (ours == 0)
      return;
    for (size_t i = 0; i < ours; i++)
      kill(kids[i], SIGKILL);
    for (size_t i = 0; i < ours; i++)
      while (waitpid(kids[i], NULL, __WALL) < 0 && errno == EINTR)
        ;
  }
}

static void reap(struct run *r)
{
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
    if (pid == r->agent) {
      /* the agent's own status, as its init saw it; without one (the init
       * was killed) the init's */
      int agent_st;
      r->status = read(r->exit_r, &agent_st, sizeof agent_st) == sizeof agent_st ? agent_st : st;
      r->agent_done = true;
    } else if (r->sentry_ready &&
               pid == __atomic_load_n(&r->sentry.gofer_pid, __ATOMIC_ACQUIRE)) {
      /* fail closed: without its gofer the sandbox cannot go on (killed
       * by the sandbox's memory limit, which its work counts against:
       * finish_run says so) */
      r->gofer_oom = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && limits_oom_killed(&r->limits);
      if (!r->gofer_oom)
        fprintf(stderr, "usbox: the gofer exited (%s %d): stopping the sandbox\n",
                WIFSIGNALED(st) ? "signal" : "status",
                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
      __atomic_store_n(&r->sentry.gofer_pid, -1, __ATOMIC_RELEASE);
      kill(r->agent, SIGKILL);
      __atomic_store_n(&r->gofer_failed, true, __ATOMIC_RELEASE);
    }
  }
}

static void on_signal(struct run *r, const struct signalfd_siginfo *si)
{
  if (si->ssi_signo == SIGCHLD) {
    reap(r);
    return;
  }
  if (si->ssi_signo == SIGWINCH) {
    tty_relay_resize(&r->tty);
    return;
  }
  /* From the terminal (SI_KERNEL) the agent's process group got it too,
   * unless the agent has a terminal of its own (tty_relay.h): then it is
   * ours to pass on (a hang-up of the caller's terminal), as one from a
   * process (kill, timeout, a supervisor). */
  if (si->ssi_code == SI_KERNEL && r->tty.mask == 0)
    return;
  usbox_debug("forwarding signal %u to the agent", si->ssi_signo);
  syscall(SYS_pidfd_send_signal, r->agent_pidfd, (int)si->ssi_signo, NULL, 0);
}

static unsigned long long monotonic_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

/* --timeout: SIGTERM to the sandbox's init (it passes it on to the agent),
 * SIGKILL after the grace (the init's death ends every process). */
static void check_deadline(struct run *r)
{
  if (r->deadline_ns == 0 || r->agent_done)
    return;
  unsigned long long now = monotonic_ns();
  if (!r->timed_out && now >= r->deadline_ns) {
    r->timed_out = true;
    r->kill_at_ns = now + (unsigned long long)(r->limits.config.grace * 1e9);
    syscall(SYS_pidfd_send_signal, r->agent_pidfd, SIGTERM, NULL, 0);
  }
  if (r->timed_out && r->kill_at_ns != 0 && now >= r->kill_at_ns) {
    r->kill_at_ns = 0;
    syscall(SYS_pidfd_send_signal, r->agent_pidfd, SIGKILL, NULL, 0);
  }
}

static void main_loop(struct run *r)
{
  if (r->limits.config.timeout > 0)
    r->deadline_ns = monotonic_ns() + (unsigned long long)(r->limits.config.timeout * 1e9);
  while (!r->agent_done) {
    check_deadline(r);
    struct pollfd p[2] = {{.fd = r->sigfd, .events = POLLIN},
                          {.fd = r->hidden.notify_fd, .events = POLLIN}};
    /* wake now and then so the watchdog sees receivers stuck in handlers */
    int n = poll(p, 2, 25);
    if (n > 0 && (p[0].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (read(r->sigfd, &si, sizeof si) == sizeof si)
        on_signal(r, &si);
    }
    if (n > 0 && (p[1].revents & POLLIN))
      hidden_watch_event(&r->hidden);
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

static int block_signals(int *sigfd, struct inherited *inherited, bool winch, usbox_err_t *err)
{
  sigprocmask(SIG_SETMASK, NULL, &inherited->mask);
  sigaction(SIGPIPE, NULL, &inherited->sigpipe);
  /* usbox's own fds (a pidfd per agent thread it serves, the gofer's
   * connections) must not run out where the agent's would: its soft limit
   * goes up to the hard one; the agent gets the one usbox was given */
  if (getrlimit(RLIMIT_NOFILE, &inherited->nofile) == 0 &&
      inherited->nofile.rlim_cur < inherited->nofile.rlim_max) {
    struct rlimit own = {inherited->nofile.rlim_max, inherited->nofile.rlim_max};
    setrlimit(RLIMIT_NOFILE, &own);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < launch_nforwarded; i++)
    sigaddset(&set, launch_forwarded[i]);
  if (winch) /* the caller's window size, for the agent's terminal */
    sigaddset(&set, SIGWINCH);
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
struct pipes {
  int placed[2], hidden[2], ready[2], ack[2], status[2], exit[2];
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

/* The gofer could not start (gofer_start.h): as when it dies (reap), the
 * sandbox cannot go on. From the starting thread. */
static void gofer_start_failed(void *ctx, const usbox_err_t *why)
{
  struct run *r = ctx;
  fprintf(stderr, "usbox: starting the gofer: %s%s%s: stopping the sandbox\n", why->msg,
          why->code != 0 ? ": " : "", why->code != 0 ? strerror(why->code) : "");
  __atomic_store_n(&r->gofer_failed, true, __ATOMIC_RELEASE);
  kill(r->agent, SIGKILL);
}

/* What does not need the view, made while the sandbox's first process
 * builds it (on the other CPU): the sentry's empty state and the VFS's part
 * of the policy, before any sentry thread exists. The gofer is not started
 * here: the first request that needs it starts it (gofer_start.h). */
static int prepare_sentry(struct run *r, const struct exec_config *cfg, usbox_err_t *err)
{
  sentry_prepare(&r->sentry);
  /* sentry_destroy and gofer_start_stop undo what follows */
  gofer_start_init(&r->gofer_start, &r->sentry.gofer, &r->limits, &r->sentry.gofer_pid);
  r->gofer_start.failed = gofer_start_failed;
  r->gofer_start.failed_ctx = r;
  r->sentry_ready = true;
  if (vfs_prepare(&r->sentry.vfs, cfg->policy, &r->sentry.gofer, err) < 0)
    return -1;
  if (gofer_client_init(&r->sentry.gofer, -1) < 0)
    return usbox_err_set(err, ENOMEM, "starting the gofer client");
  r->sentry.gofer.start = gofer_start_now;
  r->sentry.gofer.start_ctx = &r->gofer_start;
  /* waiting for the gofer is where the watchdog may interrupt a receiver */
  r->sentry.gofer.waiting = sentry_interruptible;
  return 0;
}

/* The sentry keeps the table of the view's mounts, and the gofer's start
 * (gofer_start.h) their fds until the gofer takes them. */
static int keep_gofer_mounts(struct run *r, const struct exec_config *cfg, int *mounts,
                             int nmounts, usbox_err_t *err)
{
  if (nmounts > GOFER_MAX_MOUNTS)
    return usbox_err_set(err, E2BIG, "too many mounts for the gofer");
  if (vfs_set_mounts(&r->sentry.vfs, cfg->policy, mounts, (size_t)nmounts, err) < 0)
    return -1;
  struct gofer_mount gm[GOFER_MAX_MOUNTS];
  for (int i = 0; i < nmounts; i++)
    gm[i] = (struct gofer_mount){.fd = mounts[i], .procfs = false};
  /* /proc stays with the sentry (vfs.h): the gofer does not get it */
  for (size_t i = 0; i < r->sentry.vfs.nmounts; i++) {
    size_t at = r->sentry.vfs.mounts[i].index;
    if (r->sentry.vfs.mounts[i].kind != VFS_MOUNT_PROC || at >= (size_t)nmounts)
      continue;
    if (gm[at].fd >= 0)
      close(gm[at].fd);
    gm[at] = (struct gofer_mount){.fd = -1, .procfs = true};
  }
  gofer_start_take_mounts(&r->gofer_start, gm, (size_t)nmounts);
  for (int i = 0; i < nmounts; i++)
    mounts[i] = -1; /* gofer_start's now */
  return 0;
}

/* The sentry's side of the view: the mount table over the agent's mounts. */
static int sentry_up(struct run *r, const struct exec_config *cfg, int ready_r,
                     usbox_err_t *err)
{
  struct launch_fds fds;
  if (launch_take_fds(r->agent, ready_r, &fds, err) < 0)
    return -1;
  r->tty.master = fds.pty_master; /* tty_relay_finish closes it */
  usbox_phase("sandbox ready: fds taken");
  /* sentry_destroy owns the listener now */
  if (sentry_take_listener(&r->sentry, fds.listener, err) < 0) {
    for (int i = 0; i < fds.nmounts; i++)
      close(fds.mounts[i]);
    netns_fds_close(&fds.net);
    return -1;
  }
  memcpy(r->sentry.test_pass, r->test_pass, sizeof r->test_pass);
  r->sentry.test_hold_writable_ms = cfg->test_hold_writable_ms;
  if (cfg->test_hold_writable_ms > 0)
    usbox_warn("--TESTONLY-hold-writable %u: writable opens hold a receiver (tests only)",
               cfg->test_hold_writable_ms);
  /* without root: one uid and one gid mapped (launch.c), usbox's own */
  bool rootless = geteuid() != 0;
  uint64_t keep = cfg->policy->keep_caps;
  r->sentry.only_uid = rootless && !(keep & (1ull << CAP_SETUID)) ? geteuid() : (uid_t)-1;
  r->sentry.only_gid = rootless && !(keep & (1ull << CAP_SETGID)) ? getegid() : (gid_t)-1;
  int rc = keep_gofer_mounts(r, cfg, fds.mounts, fds.nmounts, err);
  /* kept for the gofer, or not at all; the walk cache has its own copies of
   * the directory mounts' roots (vfs_set_mounts) */
  for (int i = 0; i < fds.nmounts; i++)
    if (fds.mounts[i] >= 0)
      close(fds.mounts[i]);
  usbox_phase("mounts kept for the gofer");
  struct audit_options audit = {.path = cfg->audit_path, .max_bytes = cfg->audit_max};
  vfs_set_dev_aliases(&r->sentry.vfs, fds.aliases, (size_t)fds.naliases);
  /* a kept session's layers exist now (the sandbox's first process made
   * them): the VFS records what the host has where the agent changes it */
  struct overlay_track *track = NULL;
  if (rc == 0 && cfg->policy->overlay.kept &&
      (rc = overlay_track_open(cfg->policy->overlay.dir, &track, err)) == 0)
    vfs_set_overlay_track(&r->sentry.vfs, track);
  if (rc < 0 || vfs_set_agent(&r->sentry.vfs, r->agent, fds.parents, fds.nparents, err) < 0 ||
      sentry_exec_rules(&r->sentry, &cfg->policy->exec, err) < 0 ||
      (cfg->audit_path != NULL && (r->sentry.audit = audit_open(&audit, err)) == NULL)) {
    netns_fds_close(&fds.net);
    return -1;
  }
  /* -v's report of refusals; without the memory for it, -v prints the rest */
  if (cfg->count_denials && (r->sentry.report = report_new()) == NULL)
    usbox_warn("no memory for the report of refusals: -v leaves it out");
  usbox_phase("listing filters built");
  if (hidden_watch_start(&r->hidden, r->agent, geteuid() != 0, err) < 0) {
    netns_fds_close(&fds.net);
    return -1;
  }
  /* the network filter and the sandbox's resolver (threads: after the
   * gofer's fork); it takes the resolver's sockets */
  rc = sys_net_start(cfg->policy, &fds.net, r->sentry.audit, r->sentry.report, err);
  netns_fds_close(&fds.net);
  /* the agent's terminal (a thread: after the gofer's fork) */
  if (rc == 0 && r->tty.master >= 0 && (cfg->gate == NULL || !cfg->gate->console)) {
    int master = r->tty.master;
    r->tty.master = -1;
    rc = tty_relay_start(&r->tty, master, err);
  }
  return rc;
}

static void close_pipes(struct pipes *p)
{
  close_pair(p->placed), close_pair(p->hidden), close_pair(p->ready), close_pair(p->ack);
  close_pair(p->status), close_pair(p->exit);
}

static int open_pipes(struct pipes *p, usbox_err_t *err)
{
  int *all[] = {p->placed, p->hidden, p->ready, p->ack, p->status, p->exit};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (pipe2(all[i], O_CLOEXEC) < 0)
      return usbox_err_set(err, errno, "pipe2");
  return 0;
}

/* The parent's ends only, once the child has its own. */
static void close_child_ends(struct pipes *p)
{
  int *ends[] = {&p->placed[0], &p->hidden[0], &p->ready[1], &p->ack[0], &p->status[1],
                 &p->exit[1]};
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
    close(*ends[i]), *ends[i] = -1;
}

/* OCI: say the container is created (with its terminal, for a console),
 * then hold the agent until it is started. Returns 0 to go on, or the exit
 * code the sandbox ends with. */
static int wait_for_start(struct run *r, const struct exec_gate *gate, int *init_ctl,
                          usbox_err_t *err)
{
  int master = r->tty.master, ctl = *init_ctl;
  r->tty.master = -1; /* created() owns them */
  *init_ctl = -1;
  if (gate->created(gate->ctx, r->agent, master, ctl, err) < 0)
    return USBOX_EXIT_ERROR;
  int sig = gate->wait_start(gate->ctx, r->sigfd, err);
  if (sig < 0)
    return USBOX_EXIT_ERROR;
  if (sig > 0) {
    usbox_err_set(err, 0, "ended by signal %d before it was started", sig);
    return 128 + sig;
  }
  return 0;
}

/* The agent's HOME (from the environment it is given), or "/". */
static const char *agent_home(char *const *envp)
{
  for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
    if (strncmp(envp[i], "HOME=/", 6) == 0)
      return envp[i] + 5;
  return "/";
}

/* The hidden paths, resolved on the host while the sandbox's first
 * process makes its namespaces and mounts (on the other CPU): it needs
 * them only for the view's last step, its masks. This process's host view
 * is what it was (the child changes only its own namespaces). The watch
 * on them is armed first (hidden_watch_arm). */
static int hand_over_hidden(const struct exec_config *cfg, const struct pipes *p,
                            struct hidden_watch *hw, usbox_err_t *err)
{
  if (cfg->expand_hidden != NULL && policy_expand_hidden(cfg->expand_hidden, err) < 0)
    return -1;
  usbox_phase("hidden paths resolved on the host");
  /* watched before the child masks them: one made on the host from here
   * on is seen (sentry/hidden_watch.h) */
  if (hidden_watch_arm(hw, cfg->policy, err) < 0)
    return -1;
  usbox_phase("hidden paths watched");
  if (launch_send_hidden(cfg->policy, p->hidden[1], err) == 0)
    return 0;
  /* EPIPE: the child ended before it read them; its report says why */
  if (err->code != EPIPE)
    return -1;
  usbox_err_clear(err);
  return launch_child_gone(p->ready[0], err);
}

static int start_agent(struct run *r, const struct exec_config *cfg, const char *program,
                       const struct bpf_program *bpf, const struct inherited *inherited,
                       usbox_err_t *err)
{
  struct pipes p = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
  /* a container's init takes requests to start processes in it
   * (sentry/init_ctl.h) */
  int ctl[2] = {-1, -1};
  if (open_pipes(&p, err) < 0)
    goto fail;
  if (cfg->gate != NULL && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
    usbox_err_set(err, errno, "socketpair");
    goto fail;
  }
  struct launch l = {.inherited = inherited, .new_user = geteuid() != 0,
                     .foreign_mm = geteuid() != 0 || cfg->userns != NULL, .uid = geteuid(),
                     .gid = getegid(), .hostname = cfg->policy->hostname,
                     .uts_ipc_made = cfg->uts_ipc_made, .program = program,
                     .argv = cfg->argv, .envp = cfg->envp, .bpf = bpf,
                     .profile = cfg->profile, .profile_flags = cfg->profile_flags, .policy = cfg->policy, .tty = &r->tty,
                     .limits = &r->limits, .placed_r = p.placed[0], .hidden_r = p.hidden[0],
                     .ready_w = p.ready[1], .ack_r = p.ack[0],
                     .status_w = p.status[1], .exit_w = p.exit[1], .ctl_fd = ctl[1],
                     .preserve_fds = cfg->preserve_fds, .own_fds = cfg->own_fds,
                     .nown_fds = cfg->nown_fds};
  if (cfg->policy->process.cwd != NULL) {
    snprintf(l.cwd, sizeof l.cwd, "%s", cfg->policy->process.cwd);
  } else if (getcwd(l.cwd, sizeof l.cwd) == NULL) {
    usbox_err_set(err, errno, "getcwd");
    goto fail;
  } else { /* usbox's own directory: if the view lacks it, the agent's home */
    l.cwd_fallback = agent_home(cfg->envp);
  }
  r->agent = launch_clone(&l);
  if (r->agent < 0) {
    usbox_err_set(err, errno, "clone(CLONE_NEWPID%s)", l.new_user ? " | CLONE_NEWUSER" : "");
    goto fail;
  }
  if (r->agent == 0)
    launch_agent_child(&l);
  usbox_phase("sandbox cloned");
  /* --preserve-fds: the sandbox's first process has them at their numbers
   * (below every fd of usbox's, which were opened after them); usbox keeps
   * none, so the gofer never sees them and a pipe passed in ends when the
   * container closes it */
  if (cfg->preserve_fds > 0)
    syscall(SYS_close_range, 3U, (unsigned)(2 + cfg->preserve_fds), 0U);
  close_child_ends(&p);
  if (ctl[1] >= 0)
    close(ctl[1]), ctl[1] = -1;
  r->exit_r = p.exit[0];
  p.exit[0] = -1;
  if (fcntl(r->exit_r, F_SETFL, O_NONBLOCK) < 0) {
    usbox_err_set(err, errno, "fcntl");
    goto fail;
  }
  r->agent_pidfd = (int)syscall(SYS_pidfd_open, r->agent, 0);
  if (r->agent_pidfd < 0) {
    usbox_err_set(err, errno, "pidfd_open of the agent");
    goto fail;
  }
  /* the sandbox's first process joins its cgroups (its children follow),
   * then goes on */
  if (limits_attach(&r->limits, r->agent, err) < 0)
    goto fail;
  /* EPIPE: the child failed before it read (its limits, say): its report
   * says why */
  if (write(p.placed[1], "p", 1) != 1) {
    if (errno == EPIPE)
      launch_child_gone(p.ready[0], err);
    else
      usbox_err_set(err, errno, "starting the sandbox");
    goto fail;
  }
  if (hand_over_hidden(cfg, &p, &r->hidden, err) < 0)
    goto fail;
  if (prepare_sentry(r, cfg, err) < 0)
    goto fail;
  usbox_phase("sentry prepared");
  if (sentry_up(r, cfg, p.ready[0], err) < 0)
    goto fail;
  usbox_phase("sentry and network filter up");
  if (sentry_start(&r->sentry, err) < 0)
    goto fail;
  usbox_phase("sentry serving");
  /* the sandbox's first process may drop the fds the sentry took, and (a
   * container's) start processes the monitor asks for while it waits */
  if (write(p.ack[1], "s", 1) != 1) {
    usbox_err_set(err, errno, "starting the sandbox");
    goto fail;
  }
  if (cfg->gate != NULL) {
    int code = wait_for_start(r, cfg->gate, &ctl[0], err);
    if (code != 0) {
      close_pipes(&p);
      return code;
    }
  }
  if (write(p.ack[1], "g", 1) != 1) {
    usbox_err_set(err, errno, "starting the agent");
    goto fail;
  }
  int exec_errno;
  bool failed = read_full(p.status[0], &exec_errno, sizeof exec_errno) == 0;
  if (cfg->gate != NULL && cfg->gate->started != NULL)
    cfg->gate->started(cfg->gate->ctx);
  if (failed) {
    if (exec_errno == EACCES &&
        atomic_load(&r->sentry.first_exec) == EXEC_FIRST_REFUSED) /* its why is written */
      usbox_err_set(err, 0, "cannot execute %s: refused by the exec rules (%s)", program,
                    r->sentry.first_exec_why), usbox_err_printable(err);
    else
      usbox_err_set(err, exec_errno, "cannot execute %s", program);
    close_pipes(&p);
    return exec_errno == ENOENT ? USBOX_EXIT_NOT_FOUND : USBOX_EXIT_CANNOT_EXEC;
  }
  close_pipes(&p);
  usbox_phase("agent executed");
  return 0;
fail:
  close_pipes(&p);
  close_pair(ctl);
  return USBOX_EXIT_ERROR;
}

/* --TESTONLY-pass NAME[,NAME...]: emulated calls the sentry hands to the
 * kernel unchecked. It weakens the sandbox on purpose, to show in tests what
 * the kernel backstops still stop; said loudly. */
static int parse_test_pass(const char *list, bool pass[SC_NR_LIMIT], usbox_err_t *err)
{
  if (list == NULL)
    return 0;
  char copy[512];
  snprintf(copy, sizeof copy, "%s", list);
  for (char *save = NULL, *name = strtok_r(copy, ",", &save); name != NULL;
       name = strtok_r(NULL, ",", &save)) {
    const struct syscall_entry *e = syscall_by_name(name);
    if (e == NULL || e->disposition != SC_EMUL)
      return usbox_err_set(err, EINVAL, "--TESTONLY-pass: %s is not a syscall the sentry emulates",
                           name);
    pass[e->nr] = true;
  }
  usbox_warn("--TESTONLY-pass %s: these calls reach the kernel unchecked (tests only)", list);
  return 0;
}

/* The exit code, and the line saying why when a limit ended the agent;
 * the cgroups go (and whatever is still in them). */
static int finish_run(struct run *r, int code)
{
  bool oom = code == 0 && limits_oom_killed(&r->limits);
  limits_destroy(&r->limits);
  if (r->gofer_oom) {
    fprintf(stderr, "usbox: the agent hit the memory limit (--memory %llu bytes); the gofer, "
            "working for it, was killed\n", (unsigned long long)r->limits.config.memory);
    return 128 + SIGKILL;
  }
  if (__atomic_load_n(&r->gofer_failed, __ATOMIC_ACQUIRE))
    return USBOX_EXIT_ERROR;
  if (code != 0)
    return code;
  if (r->timed_out) {
    fprintf(stderr, "usbox: the agent ran out of time (--timeout %g s)%s\n",
            r->limits.config.timeout, r->kill_at_ns == 0 ? ", killed after the grace" : "");
    return USBOX_EXIT_TIMEOUT;
  }
  if (oom && WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGKILL) {
    fprintf(stderr, "usbox: the agent hit the memory limit (--memory %llu bytes)\n",
            (unsigned long long)r->limits.config.memory);
    return 128 + SIGKILL;
  }
  return exit_code_of(r->status);
}

/* The agent's stdio is usbox's (or an engine's pipes and terminal); a
 * directory there would be one of the host's in the agent's hands, and an
 * fchdir to it (passed to the kernel) a working directory outside the view
 * (docs/security.md). Refused, as --preserve-fds refuses one. */
static int stdio_not_directories(usbox_err_t *err)
{
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
      return usbox_err_set(err, EISDIR, "fd %d (%s) is a directory: usbox hands none of the "
                           "host's to the program (its working directory could leave the view)",
                           fd, fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr");
  }
  return 0;
}

/* The run's state, ~100 KB (the sentry's counters, the --TESTONLY-pass
 * table): fresh zero pages from the kernel, touched only where written.
 * Zeroed on the stack it cost a first-touch fault per page before the
 * clone, and every page the sentry wrote after it was copied (it was the
 * sandbox's first process's too). */
static struct run *run_new(usbox_err_t *err)
{
  struct run *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED)
    return usbox_err_set(err, errno, "allocating the run's state"), NULL;
  r->agent = -1, r->agent_pidfd = -1, r->sigfd = -1, r->exit_r = -1;
  r->hidden.notify_fd = -1, r->hidden.mntns_fd = -1, r->hidden.userns_fd = -1;
  return r;
}

static void run_unmap(struct run **r)
{
  if (*r != NULL)
    munmap(*r, sizeof **r);
}
#define cleanup_run __attribute__((cleanup(run_unmap)))

int supervisor_exec(const struct exec_config *cfg)
{
  usbox_err_t err = {0};
  char program[PATH_MAX];
  /* One malloc arena for usbox and, forked from it, the gofer: a thread's
   * own arena is a new heap whose pages each fault in (~9 µs here) on the
   * sandbox's first calls, while the main heap holds the pages start-up
   * freed. The receivers' small allocations come from their tcache. */
  mallopt(M_ARENA_MAX, 1);
  if (stdio_not_directories(&err) < 0) {
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  /* the agent's PATH, as execvp after a change of environment (env(1)) */
  int code = find_agent_program(cfg, program, sizeof program, &err);
  if (code != 0) {
    usbox_err_print(&err);
    return code;
  }
  usbox_phase("program found");
  struct filter_options fopts = {.denials_to_sentry = cfg->audit_path != NULL || cfg->count_denials};
  struct bpf_program bpf;
  usbox_filter_prebuilt(&fopts, &bpf);
  cleanup_run struct run *r = run_new(&err); /* (unmapped on every return) */
  if (r == NULL) {
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  if (parse_test_pass(cfg->test_pass, r->test_pass, &err) < 0) {
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  r->nforeign = list_children(r->foreign, sizeof r->foreign / sizeof r->foreign[0]);
  tty_relay_probe(&r->tty);
  if (cfg->gate != NULL && cfg->gate->console) {
    /* the container's terminal: its own pty on all of 0-2, not usbox's */
    r->tty.mask = 7;
    r->tty.have_termios = r->tty.have_size = false;
  }
  struct inherited inherited;
  if (block_signals(&r->sigfd, &inherited, r->tty.mask != 0, &err) < 0) {
    usbox_err_print(&err);
    return USBOX_EXIT_ERROR;
  }
  /* Orphans of the agent's tree are re-parented to usbox, which reaps them
   * and kills whatever is left when the agent ends. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (limits_create(&r->limits, &cfg->policy->limits, &err) < 0 ||
      limits_enter_self(&r->limits, &err) < 0 ||
      (cfg->userns != NULL && supervisor_enter_userns(cfg, &r->limits, &err) < 0)) {
    usbox_err_print(&err);
    limits_destroy(&r->limits);
    close(r->sigfd);
    return USBOX_EXIT_ERROR;
  }
  usbox_phase("limits created");
  code = start_agent(r, cfg, program, &bpf, &inherited, &err);
  if (code == 0) {
    main_loop(r);
    usbox_phase("the agent ended");
  } else {
    tty_relay_finish(&r->tty); /* the caller's terminal as it was, then the message */
    usbox_err_print(&err);
  }
  if (r->agent > 0) {
    if (code != 0 && !r->agent_done)
      kill(r->agent, SIGKILL);
    kill_children(r);
  }
  tty_relay_finish(&r->tty);
  usbox_set_ending(); /* from here on, only tear-down and exit */
  usbox_phase("tear-down: the sandbox's processes killed");
  int walk_watch = -1;
  if (r->sentry_ready) {
    sentry_stop(&r->sentry);
    gofer_start_stop(&r->gofer_start); /* no receiver asks for it any more */
    sys_net_stop(); /* nor anything of this */
    if (usbox_verbosity >= 2)
      sentry_print_summary(&r->sentry);
    walk_watch = vfs_take_watch_fd(&r->sentry.vfs);
    sentry_destroy(&r->sentry);
  }
  usbox_phase("tear-down: sentry stopped");
  if (r->agent > 0)
    kill_descendants(r);
  usbox_phase("tear-down: the sandbox's processes and the gofer gone");
  if (r->agent_pidfd >= 0)
    close(r->agent_pidfd);
  if (r->exit_r >= 0)
    close(r->exit_r);
  close(r->sigfd);
  code = finish_run(r, code);
  usbox_phase("tear-down: cgroups removed");
  /* out of the sandbox's cgroups now: the fsnotify groups' last closes,
   * which wait for a grace period, go to a child */
  int groups[] = {hidden_watch_take_fd(&r->hidden), walk_watch};
  close_detached(groups, 2);
  hidden_watch_stop(&r->hidden);
  usbox_phase("torn down");
  return code;
}
