#include "sentry/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/cleanup.h"
#include "common/sanitizer.h"
#include "platform/unotify.h"
#include "sentry/backstop.h"
#include "sentry/init_ctl.h"
#include "sentry/supervisor.h"
#include "vfs/mountns.h"

const int launch_forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
const size_t launch_nforwarded = sizeof launch_forwarded / sizeof launch_forwarded[0];

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static _Noreturn void report_failure(const struct launch *l, struct launch_report *rep,
                                     const usbox_err_t *err)
{
  rep->status = err->code != 0 ? -err->code : -EINVAL;
  if (err->code != 0)
    snprintf(rep->msg, sizeof rep->msg, "%s: %s", err->msg, strerror(err->code));
  else
    snprintf(rep->msg, sizeof rep->msg, "%s", err->msg);
  ssize_t w = write(l->ready_w, rep, sizeof *rep);
  (void)w;
  _exit(USBOX_EXIT_ERROR);
}

static int write_file(const char *path, const char *text)
{
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  return write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
}

/* Without root, mounting needs a user namespace of our own (made by the
 * clone that started this process). The agent keeps its uid and gid there
 * (one id each, mapped to themselves), so files it creates are the user's as
 * outside; it gains no capability outside it. */
static int map_user_namespace(const struct launch *l, usbox_err_t *err)
{
  char map[64];
  snprintf(map, sizeof map, "%u %u 1\n", l->uid, l->uid);
  if (write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/uid_map", map) < 0)
    return usbox_err_set(err, errno, "writing the user namespace's uid map");
  snprintf(map, sizeof map, "%u %u 1\n", l->gid, l->gid);
  if (write_file("/proc/self/gid_map", map) < 0)
    return usbox_err_set(err, errno, "writing the user namespace's gid map");
  return 0;
}

/* The namespaces that need nothing but unsharing: a host name of its own,
 * System V IPC of its own, and a cgroup namespace rooted at the sandbox's
 * cgroup (the parent has moved us there before l->placed_r says go). */
static int enter_small_namespaces(const struct launch *l, usbox_err_t *err)
{
  char go;
  if (read(l->placed_r, &go, 1) != 1)
    _exit(USBOX_EXIT_ERROR); /* usbox is gone */
  if (l->uts_ipc_made) /* an OCI monitor's (a pod's): kept */
    return unshare(CLONE_NEWCGROUP) < 0 ? usbox_err_set(err, errno, "unshare(CLONE_NEWCGROUP)") : 0;
  if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP) < 0)
    return usbox_err_set(err, errno, "unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP)");
  if (sethostname(l->hostname, strlen(l->hostname)) < 0)
    return usbox_err_set(err, errno, "setting the host name %s", l->hostname);
  return 0;
}

/* The view's mount roots, opened inside the view, for the sentry. */
static int open_mounts(const struct launch *l, struct launch_report *rep, usbox_err_t *err)
{
  const char *dests[VFS_MAX_MOUNTS];
  bool writable[VFS_MAX_MOUNTS], host_backed[VFS_MAX_MOUNTS];
  size_t n = vfs_mount_dests(l->policy, dests, writable, host_backed);
  for (size_t i = 0; i < n; i++) {
    rep->mounts[i] = open(dests[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (rep->mounts[i] < 0)
      return usbox_err_set(err, errno, "opening %s in the view", dests[i]);
  }
  rep->nmounts = (int)n;
  return 0;
}

/* The agent's terminal (sentry/tty_relay.h): a pty of the sandbox's own
 * devpts, so that the agent's ttyname is a path of its view, made the
 * controlling terminal of a new session of this process (the agent, its
 * child, is in it and in its foreground process group) and put in place of
 * each of fds 0-2 that was the caller's terminal, whose settings and size
 * it starts with. usbox takes the master and relays. */
static int make_agent_tty(const struct launch *l, struct launch_report *rep, usbox_err_t *err)
{
  rep->pty_master = -1;
  if (l->tty == NULL || l->tty->mask == 0)
    return 0;
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return usbox_err_set(err, errno, "opening the sandbox's /dev/ptmx");
  int unlock = 0;
  int slave = ioctl(master, TIOCSPTLCK, &unlock) < 0 ? -1
                                                     : ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) {
    usbox_err_set(err, errno, "opening the sandbox's pty");
    close(master);
    return -1;
  }
  if (l->tty->have_termios)
    tcsetattr(slave, TCSANOW, &l->tty->initial);
  if (l->tty->have_size)
    ioctl(slave, TIOCSWINSZ, &l->tty->size);
  if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
    usbox_err_set(err, errno, "making the sandbox's pty its controlling terminal");
    close(slave);
    close(master);
    return -1;
  }
  for (int fd = 0; fd < 3; fd++)
    if ((l->tty->mask & (1u << fd)) && dup2(slave, fd) < 0) {
      usbox_err_set(err, errno, "the sandbox's pty as fd %d", fd);
      close(slave);
      close(master);
      return -1;
    }
  if (slave > 2)
    close(slave);
  rep->pty_master = master;
  return 0;
}

/* The sandbox's own network namespace (netstack-shim/netns.c): only its
 * loopback, and the resolver's sockets for the sentry. Every destination
 * outside it is reached by the sentry, on the agent's behalf; the agent
 * keeps no capability to configure networks (a socket the sentry moves to
 * the host's namespace would act there). */
static int enter_network(const struct launch *l, struct launch_report *rep, usbox_err_t *err)
{
  const struct net_policy *n = &l->policy->net;
  rep->net.n = 0;
  rep->net.nrelay = 0;
  if (n->mode != NET_MODE_FILTERED)
    return 0;
  return netns_enter_sandbox(n->resolvers, n->nresolvers, net_policy_needs_relay(n), &rep->net,
                             err);
}

/* The network's capabilities go once its sysctls are written: in a user
 * namespace (an OCI monitor's) writing them takes CAP_NET_ADMIN, where
 * the host's root needs none. */
static int leave_network_setup(const struct launch *l, usbox_err_t *err)
{
  return l->policy->net.mode == NET_MODE_FILTERED ? netns_drop_net_caps(err) : 0;
}

/* RLIMIT_NOFILE for the agent: an OCI process's own, else --nofile, else
 * the one usbox inherited. */
static struct rlimit agent_nofile(const struct launch *l)
{
  const struct policy_process *proc = &l->policy->process;
  for (size_t i = 0; i < proc->nrlimits; i++)
    if (proc->rlimits[i].resource == RLIMIT_NOFILE)
      return (struct rlimit){proc->rlimits[i].soft, proc->rlimits[i].hard};
  long n = l->limits->config.nofile;
  return n != 0 ? (struct rlimit){(rlim_t)n, (rlim_t)n} : l->inherited->nofile;
}

/* The sandbox's init: what it waits for, and the processes it started for
 * the monitor (sentry/init_ctl.h). */
struct init_loop {
  struct init_serve serve; /* its table is large: the one instance is static */
  int sigfd;               /* SIGCHLD and the signals usbox forwards */
  pid_t agent;             /* 0 until the container's start */
};

/* OCI --preserve-fds: in the agent, between vfork and execve, fds
 * 3..N+2 stay open across its execve. They are the engine's fds, at the
 * numbers the runtime got them (usbox opened every fd of its own after
 * them, so none of usbox's is among them), and launch_agent_child made
 * them close-on-exec with everything else above 2: only these numbers are
 * cleared, so nothing of usbox's reaches the agent. 0 or an errno. */
static int keep_preserved_fds(const struct launch *l)
{
  for (int fd = 3; fd < 3 + l->preserve_fds; fd++)
    if (fcntl(fd, F_SETFD, 0) < 0)
      return errno;
  return 0;
}

static void init_setup(const struct launch *l, struct init_loop *in)
{
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  for (size_t i = 0; i < launch_nforwarded; i++)
    sigaddset(&waited, launch_forwarded[i]);
  /* blocked, pid 1 still receives them (the kernel drops only signals an
   * init leaves at their default action) */
  sigprocmask(SIG_BLOCK, &waited, NULL);
  in->sigfd = signalfd(-1, &waited, SFD_CLOEXEC);
  if (in->sigfd < 0)
    _exit(USBOX_EXIT_ERROR);
  struct rlimit nofile = agent_nofile(l);
  in->serve.ctl = l->ctl_fd;
  in->serve.mask = l->inherited->mask;
  in->serve.profile = l->profile;
  in->serve.profile_flags = l->profile_flags;
  in->serve.nofile.soft = nofile.rlim_cur;
  in->serve.nofile.hard = nofile.rlim_max;
  in->serve.dumpable_for_exec = l->foreign_mm;
  in->agent = 0;
  prctl(PR_SET_NAME, "usbox-init");
}

/* Not the agent's, nor a process started for the monitor, to inspect or
 * write to through /proc (vfs/proc.c refuses it too). The processes this
 * one forks execve in its memory (vfork), so the sentry then reads their
 * execve's arguments from a non-dumpable mm: it can as root (an OCI
 * monitor), not without it: then the init is dumpable again while each
 * child it forks has not yet execve'd (init_serve's dumpable_for_exec).
 * The init of usbox exec, which starts the agent alone, becomes
 * non-dumpable after the agent's execve (run_init); a container's init
 * before it starts the first process of the monitor's. */
static void no_longer_dumpable(void)
{
  prctl(PR_SET_DUMPABLE, 0);
}

/* One signal: a forwarded one goes to the agent (before the start there
 * is none: dropped); SIGCHLD reaps. When the agent has ended, its status
 * goes to usbox and this process exits, which ends the pid namespace: the
 * kernel kills whatever the agent left behind. */
static void take_signal(const struct launch *l, struct init_loop *in)
{
  struct signalfd_siginfo si;
  if (read(in->sigfd, &si, sizeof si) != (ssize_t)sizeof si)
    return;
  if (si.ssi_signo != SIGCHLD) {
    /* from the terminal (SI_KERNEL) the agent got it itself */
    if (si.ssi_code != SI_KERNEL && in->agent > 0)
      kill(in->agent, (int)si.ssi_signo);
    return;
  }
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
    if (pid == in->agent) {
      ssize_t w = write(l->exit_w, &st, sizeof st);
      (void)w;
      _exit(0);
    }
    init_serve_reaped(&in->serve, pid, st);
  }
}

/* The start gate, once the sentry holds everything it took from this
 * process: wait for the go (usbox's, or an OCI container's `start`). A
 * container's init meanwhile starts the processes the monitor asks for
 * (its createContainer and startContainer hooks) exactly as it does after
 * the start: they are born inside the sandbox, before its process. */
static void wait_for_go(const struct launch *l, struct init_loop *in)
{
  char go;
  if (in->serve.ctl >= 0)
    no_longer_dumpable(); /* before the first process it starts */
  while (in->serve.ctl >= 0) {
    struct pollfd p[3] = {{.fd = l->ack_r, .events = POLLIN},
                          {.fd = in->sigfd, .events = POLLIN},
                          {.fd = in->serve.ctl, .events = POLLIN}};
    if (poll(p, 3, -1) < 0)
      continue;
    if (p[0].revents != 0)
      break;
    if (p[2].revents != 0)
      init_serve_request(&in->serve);
    if (p[1].revents & POLLIN)
      take_signal(l, in);
  }
  /* EOF: usbox ended the sandbox instead (a failed create, a start called
   * off, a signal before the start) */
  if (read(l->ack_r, &go, 1) != 1)
    _exit(USBOX_EXIT_ERROR);
}

/* vfork: the agent does nothing but set its signal mask and execve (or
 * report why it could not), so it need not copy this process's memory
 * (usbox's whole image, policy and all) only for execve to drop it; this
 * process waits meanwhile, as posix_spawn's does. Under AddressSanitizer
 * fork: its vfork interceptor allocates in this process, which the
 * --memory fallback (RLIMIT_AS, limits_apply_memory_in_child) may no
 * longer allow. */
static pid_t fork_agent(const struct launch *l)
{
#if USBOX_UNDER_ASAN
  pid_t agent = fork();
#else
  pid_t agent = vfork();
#endif
  if (agent != 0)
    return agent;
  sigprocmask(SIG_SETMASK, &l->inherited->mask, NULL);
  /* The agent's open-file limit: the one usbox was given (it raised its
   * own), --nofile, or the OCI process's; set here, in the agent alone,
   * so that usbox's own start-up (the view's /dev, the network's
   * sockets, the listener) never counts against it. A lowering only:
   * limits_apply_in_child made room for a --nofile above the hard limit
   * while raising was allowed. */
  struct rlimit rl = agent_nofile(l);
  int e = keep_preserved_fds(l);
  if (e == 0 && setrlimit(RLIMIT_NOFILE, &rl) < 0)
    e = errno;
  /* The seccomp profile goes in here, in the agent alone and last, so
   * that nothing of usbox ever runs under it: this process and the
   * sandbox's init stay under usbox's filter only, and the one call
   * made under both before the program runs is execve (a profile that
   * denies it gets "cannot execute", 126). */
  if (e == 0 && l->profile != NULL)
    e = -unotify_install_profile(l->profile, l->profile_flags);
  if (e == 0) {
    execve(l->program, l->argv, l->envp);
    e = errno;
  }
  ssize_t w = write(l->status_w, &e, sizeof e);
  (void)w;
  _exit(e == ENOENT ? USBOX_EXIT_NOT_FOUND : USBOX_EXIT_CANNOT_EXEC);
}

/* The sandbox's pid 1: waits at the start gate, forks the agent, then
 * reaps every process of the sandbox (orphans come here), passes on the
 * signals usbox forwards and, in an OCI container, starts the processes
 * the monitor asks for, until the agent ends. It runs under the agent's
 * filter, as any process of the sandbox. */
static _Noreturn void run_init(const struct launch *l)
{
  static struct init_loop in;
  init_setup(l, &in);
  wait_for_go(l, &in);
  if (l->foreign_mm) /* as init_serve's spawn: the sentry reads its execve */
    prctl(PR_SET_DUMPABLE, 1);
  in.agent = fork_agent(l);
  if (in.agent < 0)
    _exit(USBOX_EXIT_ERROR);
  close(l->status_w); /* the agent's copy closes at its execve: usbox sees EOF */
  /* the preserved fds are the agent's alone now: the processes `exec`
   * starts from here do not get them, and a pipe passed in ends when the
   * agent closes it */
  if (l->preserve_fds > 0)
    syscall(SYS_close_range, 3U, (unsigned)(2 + l->preserve_fds), 0U);
  no_longer_dumpable();
  for (;;) {
    struct pollfd p[2] = {{.fd = in.sigfd, .events = POLLIN},
                          {.fd = in.serve.ctl, .events = POLLIN}};
    if (poll(p, 2, -1) < 0)
      continue;
    if (p[1].revents != 0)
      init_serve_request(&in.serve);
    if (p[0].revents & POLLIN)
      take_signal(l, &in);
  }
}

/* The first process of the sandbox, between clone and the agent's execve:
 * pid 1 of a new pid namespace (and, without root, of a new user
 * namespace). The parent is single-threaded when it clones, so this is
 * ordinary code, but it keeps to plain system calls. */
/* Sysctls of the namespaces just made (the caller allowed only those: the
 * kernel resolves /proc/sys/net and the IPC ones in the opener's
 * namespaces), while /proc is still writable. */
static int set_sysctls(const struct policy_process *proc, usbox_err_t *err)
{
  for (size_t i = 0; i < proc->nsysctls; i++) {
    char path[256];
    int n = snprintf(path, sizeof path, "/proc/sys/%s", proc->sysctls[i].name);
    for (char *c = path + 10; n > 0 && *c != '\0'; c++)
      if (*c == '.')
        *c = '/';
    if (write_file(path, proc->sysctls[i].value) < 0)
      return usbox_err_set(err, errno, "sysctl %s", proc->sysctls[i].name);
  }
  return 0;
}

/* The OCI process's oomScoreAdj, inherited by the agent: set through the
 * host's /proc, before the view's own is mounted (lowering it needs
 * CAP_SYS_RESOURCE, still held). */
int launch_set_oom_score_adj(const struct policy_process *proc, usbox_err_t *err)
{
  if (!proc->set_oom_score_adj)
    return 0;
  char text[16];
  snprintf(text, sizeof text, "%d", proc->oom_score_adj);
  if (write_file("/proc/self/oom_score_adj", text) < 0)
    return usbox_err_set(err, errno, "setting oom_score_adj %d", proc->oom_score_adj);
  return 0;
}

#define LAUNCH_MAX_HIDDEN_BYTES (64u << 20)

/* The whole of len bytes (a pipe may give them in parts). */
static int io_all(int fd, void *buf, size_t len, bool out)
{
  for (size_t done = 0; done < len;) {
    ssize_t n = out ? write(fd, (char *)buf + done, len - done)
                    : read(fd, (char *)buf + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    done += (size_t)n;
  }
  return 0;
}

int launch_send_hidden(const struct policy *p, int fd, usbox_err_t *err)
{
  uint64_t total = 0;
  for (size_t i = 0; i < p->nhidden; i++)
    total += strlen(p->hidden[i]) + 1;
  if (total > LAUNCH_MAX_HIDDEN_BYTES)
    return usbox_err_set(err, E2BIG, "%zu hidden paths: too many to hand over", p->nhidden);
  cleanup_free char *blob = malloc(total + 1);
  if (blob == NULL)
    return usbox_err_set(err, ENOMEM, "handing over the hidden paths");
  char *at = blob;
  for (size_t i = 0; i < p->nhidden; i++)
    at = stpcpy(at, p->hidden[i]) + 1;
  if (io_all(fd, &total, sizeof total, true) < 0 || io_all(fd, blob, total, true) < 0)
    return usbox_err_set(err, errno ? errno : EPIPE, "handing over the hidden paths");
  return 0;
}

/* The child's side: view becomes l->policy but for the hidden paths,
 * which are the parent's finished list (kept: this process is the init
 * from here, and its memory goes when it does). */
static int receive_hidden(const struct launch *l, struct policy *view, usbox_err_t *err)
{
  uint64_t total;
  if (io_all(l->hidden_r, &total, sizeof total, false) < 0 || total > LAUNCH_MAX_HIDDEN_BYTES)
    _exit(USBOX_EXIT_ERROR); /* usbox is gone, or failed to resolve them */
  char *blob = malloc(total + 1);
  if (blob == NULL)
    return usbox_err_set(err, ENOMEM, "receiving the hidden paths");
  if (io_all(l->hidden_r, blob, total, false) < 0)
    _exit(USBOX_EXIT_ERROR);
  blob[total] = '\0';
  close(l->hidden_r);
  size_t n = 0;
  for (uint64_t i = 0; i < total; i++)
    n += blob[i] == '\0';
  char **paths = calloc(n + 1, sizeof *paths);
  if (paths == NULL)
    return usbox_err_set(err, ENOMEM, "receiving the hidden paths");
  for (size_t i = 0, off = 0; i < n; i++, off += strlen(blob + off) + 1)
    paths[i] = blob + off;
  *view = *l->policy;
  view->hidden = paths;
  view->nhidden = n;
  view->hidden_rule = NULL; /* what hides them is the sentry's to say */
  return 0;
}

/* The view: its mounts, then (the parent's hidden list having arrived,
 * which it may still have been resolving) the masks, and the move into
 * it. view is l->policy but for that list. */
static int enter_view(const struct launch *l, struct policy *view, struct mountns_result *ns,
                      usbox_err_t *err)
{
  struct mountns_build b;
  if (mountns_build_view(l->policy, &b, ns, err) < 0)
    return -1;
  int r = receive_hidden(l, view, err);
  if (r == 0)
    r = mountns_enter_built(view, &b, ns, err);
  if (b.root >= 0)
    close(b.root);
  return r;
}

/* The agent's own rlimits and umask (an OCI process), set once the view is
 * built (a low RLIMIT_NOFILE is the agent's, not its start-up's) and while
 * raising a hard limit is still allowed. */
static int apply_process_settings(const struct policy_process *proc, usbox_err_t *err)
{
  for (size_t i = 0; i < proc->nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = proc->rlimits[i].soft, .rlim_max = proc->rlimits[i].hard};
    /* the open-file limit is the agent's alone (agent_nofile, at its
     * execve); here only room is made for it while raising is allowed */
    struct rlimit now;
    if (proc->rlimits[i].resource == RLIMIT_NOFILE &&
        (getrlimit(RLIMIT_NOFILE, &now) < 0 || now.rlim_max >= rl.rlim_max))
      continue;
    if (proc->rlimits[i].resource == RLIMIT_NOFILE)
      rl.rlim_cur = now.rlim_cur;
    if (setrlimit(proc->rlimits[i].resource, &rl) < 0)
      return usbox_err_set(err, errno, "setting rlimit %d", proc->rlimits[i].resource);
  }
  if (proc->umask >= 0)
    umask((mode_t)proc->umask);
  return 0;
}

_Noreturn void launch_agent_child(const struct launch *l)
{
  struct launch_report rep = {0};
  usbox_err_t err = {0};
  /* Fail closed: if usbox dies, so does this process, and with pid 1 the
   * whole pid namespace. (Our parent is outside the namespace, so getppid()
   * says 0; a parent that died before the prctl took effect closed the
   * pipes, and every step below waits on them.) */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    _exit(USBOX_EXIT_ERROR);
  /* the caller's own fds (an OCI monitor's host-side sockets and FIFO):
   * none stays in the sandbox, not even in this process */
  for (size_t i = 0; i < l->nown_fds; i++)
    if (l->own_fds[i] >= 0)
      close(l->own_fds[i]);
  usbox_err_sink = NULL; /* the caller's sink may write to one of them */
  /* usbox takes fds from this process (pidfd_getfd, /proc/PID/fd): a
   * usbox that moved into a user namespace changed its ids, which made
   * its memory, and so this copy, non-dumpable; the checks then ask for
   * a capability in the host's user namespace (the memory's), not this
   * one's. Dumpable again, usbox's same uid suffices, until the init
   * drops it (no_longer_dumpable). */
  if (l->foreign_mm && !l->new_user)
    prctl(PR_SET_DUMPABLE, 1);
  /* Signal state as usbox inherited it: handlers usbox installed reset at
   * execve by themselves; what usbox ignored or blocked is put back. */
  sigaction(SIGPIPE, &l->inherited->sigpipe, NULL);
  sigprocmask(SIG_SETMASK, &l->inherited->mask, NULL);
  /* No fd of usbox reaches the agent: everything above stdio closes at exec
   * (the handoff pipes are already close-on-exec). */
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  if (l->new_user && map_user_namespace(l, &err) < 0)
    report_failure(l, &rep, &err);
  /* the --pids fallback, and room for --nofile, while raising a limit is
   * allowed (the open-file limit itself and the --memory fallback come
   * last: agent_nofile, limits_apply_memory_in_child) */
  if (limits_apply_in_child(l->limits, &err) < 0)
    report_failure(l, &rep, &err);
  usbox_phase("child: user namespace, rlimits");
  if (enter_small_namespaces(l, &err) < 0 || enter_network(l, &rep, &err) < 0 ||
      set_sysctls(&l->policy->process, &err) < 0 || leave_network_setup(l, &err) < 0 ||
      launch_set_oom_score_adj(&l->policy->process, &err) < 0)
    report_failure(l, &rep, &err);
  usbox_phase("child: uts, ipc, cgroup, net namespaces");
  /* The kernel's mirror of the view (vfs/mountns.c). */
  struct mountns_result ns;
  struct policy view;
  if (enter_view(l, &view, &ns, &err) < 0 ||
      mountns_chdir(l->cwd, l->cwd_fallback, &err) < 0 || open_mounts(l, &rep, &err) < 0 ||
      make_agent_tty(l, &rep, &err) < 0)
    report_failure(l, &rep, &err);
  /* what the listing filters need, found here at the cost of a few opens
   * rather than by the sentry through a gofer round trip each */
  rep.nparents = vfs_identify_hidden_parents(&view, rep.parents, VFS_MAX_REPORTED_HIDDEN);
  rep.naliases = ns.overlay.naliases;
  memcpy(rep.aliases, ns.overlay.aliases, sizeof rep.aliases);
  usbox_phase("child: mount namespace (the view)");
  /* no_new_privs: setuid binaries gain nothing, and an unprivileged process
   * may restrict itself with Landlock and install the filter. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    usbox_err_set(&err, errno, "PR_SET_NO_NEW_PRIVS");
    report_failure(l, &rep, &err);
  }
  /* The backstops (sentry/backstop.c): nothing below needs a privilege. */
  int abi;
  if (backstop_landlock(l->policy, &abi, &err) < 0 ||
      apply_process_settings(&l->policy->process, &err) < 0 ||
      backstop_drop_caps(l->policy->keep_caps, &l->policy->process, &err) < 0 ||
      limits_apply_memory_in_child(l->limits, &err) < 0)
    report_failure(l, &rep, &err);
  usbox_phase("child: landlock, capabilities");
  /* a switch to the process's user made it non-dumpable again (above) */
  if (l->foreign_mm && !l->new_user)
    prctl(PR_SET_DUMPABLE, 1);
  bool killable = false;
  rep.listener = unotify_install(l->bpf, &killable);
  if (rep.listener < 0) {
    usbox_err_set(&err, -rep.listener, "installing the seccomp filter");
    report_failure(l, &rep, &err);
  }
  /* From here on every call goes through the filter: only read, write and
   * close (passed to the kernel) until the sentry serves, which the first
   * byte on ack_r says. By then usbox holds its own copies of the fds the
   * report named: this process drops its copies before it starts any
   * process (run_init), so none is inherited even until an execve. */
  if (write(l->ready_w, &rep, sizeof rep) != sizeof rep)
    _exit(USBOX_EXIT_ERROR);
  char serving;
  if (read(l->ack_r, &serving, 1) != 1)
    _exit(USBOX_EXIT_ERROR);
  close(rep.listener); /* the sentry holds its own copy now */
  netns_fds_close(&rep.net);
  for (int i = 0; i < rep.nmounts; i++)
    close(rep.mounts[i]);
  for (int i = 0; i < ns.ntmpfs; i++)
    close(ns.tmpfs_fd[i]);
  if (rep.pty_master >= 0)
    close(rep.pty_master); /* usbox's now */
  run_init(l);
}

pid_t launch_clone(const struct launch *l)
{
  /* a raw clone: fork with namespace flags (no new stack, as fork) */
  unsigned long flags = CLONE_NEWPID | SIGCHLD | (l->new_user ? CLONE_NEWUSER : 0);
  return (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
}

static int read_full(int fd, void *buf, size_t len)
{
  ssize_t n;
  do
    n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1;
}

/* The resolver's sockets, bound in the sandbox's namespace by the child. */
static int take_net_fds(int pidfd, const struct netns_fds *theirs, struct netns_fds *net,
                        usbox_err_t *err)
{
  net->n = 0;
  net->nrelay = 0;
  if (theirs->n < 0 || theirs->n > NETNS_MAX_RESOLVERS || theirs->nrelay < 0 ||
      theirs->nrelay > 2)
    return usbox_err_set(err, EINVAL, "the agent process sent a bad report");
  for (int i = 0; i < theirs->nrelay; i++) {
    net->relay[i] = theirs->relay[i] < 0
                        ? -1
                        : (int)syscall(SYS_pidfd_getfd, pidfd, theirs->relay[i], 0);
    net->nrelay = i + 1;
    if (theirs->relay[i] >= 0 && net->relay[i] < 0) {
      usbox_err_set(err, errno, "taking the relay's sockets from the agent");
      netns_fds_close(net);
      return -1;
    }
  }
  for (int i = 0; i < theirs->n; i++) {
    net->dns_udp[i] = (int)syscall(SYS_pidfd_getfd, pidfd, theirs->dns_udp[i], 0);
    net->dns_tcp[i] = (int)syscall(SYS_pidfd_getfd, pidfd, theirs->dns_tcp[i], 0);
    net->n = i + 1;
    if (net->dns_udp[i] < 0 || net->dns_tcp[i] < 0) {
      usbox_err_set(err, errno, "taking the resolver's sockets from the agent");
      netns_fds_close(net);
      return -1;
    }
  }
  return 0;
}

static int take_pty(int pidfd, int theirs, int *pty, usbox_err_t *err)
{
  *pty = -1;
  if (theirs < 0)
    return 0;
  *pty = (int)syscall(SYS_pidfd_getfd, pidfd, theirs, 0);
  return *pty < 0 ? usbox_err_set(err, errno, "taking the agent's terminal") : 0;
}

/* The first process's report, or why there is none; a failure it reported
 * is the error. */
static int read_report(int ready_r, struct launch_report *rep, usbox_err_t *err)
{
  if (read_full(ready_r, rep, sizeof *rep) < 0)
    return usbox_err_set(err, 0, "the agent process died while starting");
  if (rep->status < 0) {
    rep->msg[sizeof rep->msg - 1] = '\0';
    return usbox_err_set(err, 0, "%s", rep->msg);
  }
  return 0;
}

int launch_child_gone(int ready_r, usbox_err_t *err)
{
  struct launch_report rep;
  if (read_report(ready_r, &rep, err) == 0)
    usbox_err_set(err, EPIPE, "the agent process closed its pipes while starting");
  return -1;
}

int launch_take_fds(pid_t child, int ready_r, struct launch_fds *out, usbox_err_t *err)
{
  out->nparents = -1;
  out->net.n = 0;
  out->nmounts = 0;
  out->pty_master = -1;
  struct launch_report rep;
  if (read_report(ready_r, &rep, err) < 0)
    return -1;
  if (rep.nmounts < 0 || rep.nmounts > VFS_MAX_MOUNTS || rep.nparents > VFS_MAX_REPORTED_HIDDEN)
    return usbox_err_set(err, EINVAL, "the agent process sent a bad report");
  /* pidfd_getfd: the child needs no intercepted call (such as sendmsg) to
   * hand its fds over */
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
  if (pidfd < 0)
    return usbox_err_set(err, errno, "pidfd_open of the agent");
  out->listener = (int)syscall(SYS_pidfd_getfd, pidfd, rep.listener, 0);
  if (out->listener < 0)
    return usbox_err_set(err, errno, "taking the seccomp listener from the agent");
  if (take_net_fds(pidfd, &rep.net, &out->net, err) < 0 ||
      take_pty(pidfd, rep.pty_master, &out->pty_master, err) < 0) {
    close(out->listener);
    netns_fds_close(&out->net);
    return -1;
  }
  for (int i = 0; i < rep.nmounts; i++) {
    /* O_PATH fds cannot be taken with pidfd_getfd: reopen through the
     * child's own fd link (the same mount, the same object) */
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)child, rep.mounts[i]);
    out->mounts[i] = open(link, O_PATH | O_CLOEXEC);
    if (out->mounts[i] < 0) {
      usbox_err_set(err, errno, "taking mount %d of the view from the agent", i);
      while (i-- > 0)
        close(out->mounts[i]);
      close(out->listener);
      netns_fds_close(&out->net);
      if (out->pty_master >= 0)
        close(out->pty_master), out->pty_master = -1;
      return -1;
    }
  }
  out->nmounts = rep.nmounts;
  out->nparents = rep.nparents < 0 ? -1 : rep.nparents;
  memcpy(out->parents, rep.parents, sizeof rep.parents);
  out->naliases = rep.naliases < 0 || rep.naliases > VFS_MAX_DEV_ALIASES ? 0 : rep.naliases;
  memcpy(out->aliases, rep.aliases, sizeof rep.aliases);
  return 0;
}
