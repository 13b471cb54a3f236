/* The gofer process: confinement and its io_uring loop. */
#include "gofer/gofer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "gofer/confine.h"
#include "gofer/ops.h"

#define CONN_RING_ENTRIES 4
#define MAX_PERSONALITIES 16

static struct gofer_state state;

static _Noreturn void die(const char *what)
{
  fprintf(stderr, "usbox: gofer: %s: %s\n", what, strerror(errno));
  _exit(125);
}

/* Replies are small and the sentry is waiting for them: send directly. */
static void send_reply(int fd, const struct gofer_result *res)
{
  struct iovec iov[2] = {{(void *)&res->rep, sizeof res->rep},
                         {(void *)res->data, res->rep.data_len}};
  struct msghdr hdr = {.msg_iov = iov, .msg_iovlen = res->rep.data_len ? 2 : 1};
  union fdpass_cmsg_many cm;
  if (res->rep.nkeep > 0)
    fdpass_attach_many(&hdr, &cm, res->keep_fds, res->rep.nkeep);
  else
    fdpass_attach_many(&hdr, &cm, &res->out_fd, res->out_fd >= 0 ? 1 : 0);
  (void)fdpass_sendmsg(fd, &hdr); /* a sentry that is gone has nobody to tell */
}

/* One connection, served by its own thread: it blocks in recvmsg, so the
 * sentry's request wakes it synchronously (on the sender's CPU, which then
 * sleeps) and the round trip stays on one CPU. */
struct conn {
  int fd;
  char msg[GOFER_MAX_MSG] __attribute__((aligned(16))); /* holds a struct gofer_req */
  union fdpass_cmsg cmsg;
  struct gofer_result res;
  /* io_uring for the opens that may block, made on first need */
  struct io_uring ring;
  bool ring_ready;
  int cpu; /* pinned to, or -1 */
  struct {
    struct deputy_creds ident;
    int id;
  } personalities[MAX_PERSONALITIES];
  int npersonalities;
};

static ssize_t recv_request(struct conn *c, int *in_fd)
{
  struct iovec iov = {c->msg, sizeof c->msg};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  fdpass_expect(&hdr, &c->cmsg);
  ssize_t n;
  do
    n = recvmsg(c->fd, &hdr, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  *in_fd = n > 0 ? fdpass_received(&hdr) : -1;
  return n;
}

static void reply_error(struct conn *c, uint32_t id, int err)
{
  memset(&c->res.rep, 0, sizeof c->res.rep);
  c->res.rep.magic = GOFER_MAGIC;
  c->res.rep.id = id;
  c->res.rep.err = err;
  c->res.out_fd = -1;
  send_reply(c->fd, &c->res);
}

static int personality_for(struct conn *c, const struct deputy_creds *ident)
{
  for (int i = 0; i < c->npersonalities; i++)
    if (memcmp(&c->personalities[i].ident, ident, sizeof *ident) == 0)
      return c->personalities[i].id;
  if (c->npersonalities == MAX_PERSONALITIES || deputy_enter(ident, 0) < 0)
    return -1;
  /* the thread's credentials, the agent's for this moment, become the
   * open's; the thread itself is the gofer's again right after */
  int id = io_uring_register_personality(&c->ring);
  deputy_leave();
  if (id < 0)
    return -1;
  c->personalities[c->npersonalities].ident = *ident;
  c->personalities[c->npersonalities++].id = id;
  return id;
}

/* While the open waits in an io_uring worker, the connection may bring a
 * CANCEL for it (the agent thread went away or has a signal to take). */
static int wait_open(struct conn *c, uint32_t id)
{
  for (;;) {
    struct pollfd p[2] = {{.fd = c->ring.ring_fd, .events = POLLIN},
                          {.fd = c->fd, .events = POLLIN}};
    struct io_uring_cqe *cqe;
    if (io_uring_peek_cqe(&c->ring, &cqe) == 0) {
      int res = cqe->res;
      io_uring_cqe_seen(&c->ring, cqe);
      if (cqe->user_data == 1)
        return res;
      continue; /* the cancel's own completion */
    }
    if (poll(p, 2, -1) < 0 && errno != EINTR)
      return -errno;
    if (!(p[1].revents & (POLLIN | POLLHUP)))
      continue;
    int in_fd;
    ssize_t n = recv_request(c, &in_fd);
    if (in_fd >= 0)
      close(in_fd);
    const struct gofer_req *req = (const struct gofer_req *)c->msg;
    bool cancel = n >= (ssize_t)sizeof *req && req->magic == GOFER_MAGIC &&
                  req->op == GOFER_CANCEL && req->arg0 == id;
    if (n <= 0 || cancel) {
      struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
      io_uring_prep_cancel64(sqe, 1, 0);
      io_uring_sqe_set_data64(sqe, 2);
      io_uring_submit(&c->ring);
      if (n <= 0)
        c->fd = -1; /* the sentry closed this connection: finish, then leave */
    } else if (n > 0) {
      reply_error(c, req->id, EBUSY); /* one request at a time per connection */
    }
  }
}

/* An open that may block goes to io_uring's workers (IOSQE_ASYNC: straight
 * to a worker, never tried non-blocking, which would change how a FIFO
 * opens), with the agent's credentials. */
static void async_open(struct conn *c, const struct gofer_req *req)
{
  struct gofer_result *res = &c->res;
  int dirfd = res->async_dirfd;
  res->async_dirfd = -1;
  if (!c->ring_ready) {
    if (io_uring_queue_init(CONN_RING_ENTRIES, &c->ring, 0) < 0) {
      close(dirfd);
      reply_error(c, req->id, ENOMEM);
      return;
    }
    c->ring_ready = true;
  }
  int personality = personality_for(c, &req->ident);
  if (personality < 0) {
    close(dirfd);
    reply_error(c, req->id, EPERM);
    return;
  }
  struct open_how how = {.flags = res->async_flags | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
  io_uring_prep_openat2(sqe, dirfd, res->async_name, &how);
  io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
  sqe->personality = (uint16_t)personality;
  io_uring_sqe_set_data64(sqe, 1);
  io_uring_submit(&c->ring);
  uint32_t id = req->id;
  int fd = wait_open(c, id);
  close(dirfd);
  memset(&res->rep, 0, sizeof res->rep);
  res->rep.magic = GOFER_MAGIC;
  res->rep.id = id;
  res->out_fd = fd >= 0 ? fd : -1;
  res->rep.err = fd < 0 ? -fd : 0;
  if (fd >= 0 && statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &res->rep.stx) == 0)
    res->rep.has_stat = 1;
  if (c->fd >= 0)
    send_reply(c->fd, res);
  if (res->out_fd >= 0)
    close(res->out_fd);
}

/* Run where the sender runs. The sentry receiver and the agent thread it
 * serves share a CPU (SYNC_WAKE_UP); a gofer thread woken on the other CPU
 * would make every request two cross-CPU wake-ups, which on a small VM cost
 * more than the work. Re-pinned only when the sender moved. */
static void follow_cpu(struct conn *c, int cpu)
{
  if (cpu < 0 || cpu >= CPU_SETSIZE || cpu == c->cpu)
    return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) == 0)
    c->cpu = cpu;
}

static void serve(struct conn *c, ssize_t len, int in_fd)
{
  struct gofer_call call;
  const struct gofer_req *req = (const struct gofer_req *)c->msg;
  if (len >= (ssize_t)sizeof *req)
    follow_cpu(c, req->cpu);
  int r = gofer_decode(&state, c->msg, (size_t)len, in_fd, &call);
  if (r < 0) {
    /* a malformed message gets an error reply, never a crash */
    reply_error(c, len >= (ssize_t)(2 * sizeof(uint32_t)) ? req->id : 0, -r);
    return;
  }
  if (req->op == GOFER_CANCEL)
    return; /* nothing running on this connection any more */
  gofer_perform(&state, &call, &c->res);
  if (c->res.async_open) {
    async_open(c, req);
    return;
  }
  send_reply(c->fd, &c->res);
  gofer_result_release(&c->res);
}

static void *conn_main(void *p)
{
  struct conn *c = p;
  for (;;) {
    int in_fd;
    ssize_t n = c->fd >= 0 ? recv_request(c, &in_fd) : 0;
    if (n <= 0)
      break;
    serve(c, n, in_fd);
    if (in_fd >= 0)
      close(in_fd);
  }
  if (c->fd >= 0)
    close(c->fd);
  if (c->ring_ready)
    io_uring_queue_exit(&c->ring);
  free(c);
  return NULL;
}

static void add_conn(int fd)
{
  struct conn *c = calloc(1, sizeof *c);
  pthread_attr_t attr;
  pthread_t t;
  if (c == NULL || pthread_attr_init(&attr) != 0) {
    free(c);
    close(fd);
    return;
  }
  c->fd = fd;
  c->cpu = -1;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  if (pthread_create(&t, &attr, conn_main, c) != 0) {
    close(fd);
    free(c);
  }
  pthread_attr_destroy(&attr);
}

_Noreturn void gofer_main(int control, const struct gofer_mount *mounts, size_t n)
{
  state.nmounts = n;
  memcpy(state.mounts, mounts, n * sizeof *mounts);
  /* from here on the gofer can only do what its filter allows */
  usbox_err_t err = {0};
  if (gofer_confine(mounts, n, &err) < 0) {
    errno = err.code;
    die(err.msg);
  }
  for (;;) {
    char byte;
    struct iovec iov = {&byte, 1};
    union fdpass_cmsg cmsg;
    struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
    fdpass_expect(&hdr, &cmsg);
    ssize_t r = recvmsg(control, &hdr, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      _exit(0); /* the sentry is gone: so is the gofer */
    int fd = fdpass_received(&hdr);
    if (fd >= 0)
      add_conn(fd);
  }
}

/* Close every fd but fd (and stderr, for a last word if the gofer dies):
 * the gofer holds nothing else of usbox's. Two close_range calls rather
 * than a listing of /proc/self/fd (an opendir's 32 KB buffer faulted in
 * on every start); a failure ends the gofer. */
static void keep_only(int fd)
{
  unsigned lo = fd < 2 ? (unsigned)fd : 2, hi = fd < 2 ? 2 : (unsigned)fd;
  if ((lo > 0 && syscall(SYS_close_range, 0U, lo - 1, 0U) < 0) ||
      (hi > lo + 1 && syscall(SYS_close_range, lo + 1, hi - 1, 0U) < 0) ||
      syscall(SYS_close_range, hi + 1, ~0U, 0U) < 0)
    die("closing usbox's fds");
}

/* One record per mount on the control socket, before any connection: the
 * count comes with each, and a record carries the mount's fd unless the
 * gofer does not serve it (SCM_RIGHTS, so an fd is the gofer's own). */
struct mount_record {
  uint32_t index, count, procfs, served;
};

/* In the gofer: the view's mounts, as gofer_give_mounts sends them. Anything
 * else (a record out of order, an fd where none belongs or none where one
 * does) ends the gofer: only usbox itself writes to this socket. */
static size_t receive_mounts(int control, struct gofer_mount *mounts)
{
  size_t count = 1;
  for (size_t i = 0; i < count; i++) {
    struct mount_record rec;
    int fd, r = fdpass_recv_record(control, &rec, sizeof rec, &fd);
    if (r == 0)
      _exit(0); /* usbox is gone before it started the sandbox */
    if (r < 0 || rec.index != i || rec.count > GOFER_MAX_MOUNTS ||
        (i > 0 && rec.count != count) || (rec.served != 0) != (fd >= 0)) {
      errno = EPROTO;
      die("the view's mounts");
    }
    if (rec.count == 0)
      return 0;
    count = rec.count;
    mounts[i] = (struct gofer_mount){.fd = fd, .procfs = rec.procfs != 0};
  }
  return count;
}

/* The gofer's own start, forked or executed: its name, default signal
 * dispositions and an empty mask whatever its forker had (the sentry
 * starts it from a thread of its own, sentry/gofer_start.h), only control
 * kept, then the mounts and the service. */
static _Noreturn void serve_control(int control)
{
  prctl(PR_SET_NAME, GOFER_ARGV0);
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 &&
        sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
      signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_IGN);
  umask(0); /* modes come with the agent's umask applied (ops.c) */
  keep_only(control);
  struct gofer_mount mounts[GOFER_MAX_MOUNTS];
  size_t n = receive_mounts(control, mounts);
  gofer_main(control, mounts, n);
}

static const char *gofer_program;

void gofer_set_program(const char *path)
{
  gofer_program = path;
}

_Noreturn void gofer_exec_main(int argc, char **argv)
{
  /* if usbox dies, the gofer dies with it (set again: an exec of a program
   * with file capabilities clears it) */
  pid_t parent = argc == 2 ? (pid_t)atoi(argv[1]) : -1;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || parent <= 0 || getppid() != parent)
    _exit(125);
  serve_control(GOFER_CONTROL_FD);
}

/* In the forked child: the program, with control at GOFER_CONTROL_FD. Only
 * async-signal-safe calls: another thread of the forker may have held any
 * lock at the fork. */
static _Noreturn void exec_program(int control, char *parent_arg)
{
  int r = control == GOFER_CONTROL_FD ? fcntl(control, F_SETFD, 0)
                                      : dup2(control, GOFER_CONTROL_FD);
  if (r >= 0) {
    char *argv[] = {GOFER_ARGV0, parent_arg, NULL};
    execve(gofer_program, argv, environ);
  }
  _exit(125);
}

pid_t gofer_fork(int *control, usbox_err_t *err)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return usbox_err_set(err, errno, "socketpair for the gofer");
  pid_t parent = getpid();
  char parent_arg[16];
  snprintf(parent_arg, sizeof parent_arg, "%d", (int)parent); /* before the fork */
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]), close(sv[1]);
    return usbox_err_set(err, errno, "forking the gofer");
  }
  if (pid == 0) {
    /* if usbox dies, the gofer dies with it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
      _exit(125);
    if (gofer_program != NULL)
      exec_program(sv[1], parent_arg);
    serve_control(sv[1]);
  }
  close(sv[1]);
  *control = sv[0];
  return pid;
}

int gofer_give_mounts(int control, const struct gofer_mount *mounts, size_t n, usbox_err_t *err)
{
  if (n > GOFER_MAX_MOUNTS)
    return usbox_err_set(err, E2BIG, "too many mounts for the gofer");
  for (size_t i = 0; i < n || i == 0; i++) {
    int fd = n == 0 ? -1 : mounts[i].fd;
    struct mount_record rec = {.index = (uint32_t)i, .count = (uint32_t)n,
                               .procfs = n > 0 && mounts[i].procfs, .served = fd >= 0};
    struct iovec iov = {&rec, sizeof rec};
    struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
    union fdpass_cmsg cm;
    fdpass_attach(&hdr, &cm, fd);
    ssize_t r = fdpass_sendmsg(control, &hdr);
    if (r != (ssize_t)sizeof rec)
      return usbox_err_set(err, r < 0 ? (int)-r : EPIPE, "handing the gofer its mounts");
  }
  return 0;
}

pid_t gofer_spawn(const struct gofer_mount *mounts, size_t n, int *control, usbox_err_t *err)
{
  pid_t pid = gofer_fork(control, err);
  if (pid > 0 && gofer_give_mounts(*control, mounts, n, err) < 0) {
    close(*control);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  return pid;
}
