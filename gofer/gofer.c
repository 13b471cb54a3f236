/* The gofer process: confinement and its io_uring loop. */
#include "gofer/gofer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "gofer/confine.h"
#include "gofer/ops.h"

#define MAX_CONNS 72
#define RING_ENTRIES 128
#define MAX_PERSONALITIES 16

/* user_data: kind in the high byte, connection index below */
enum { UD_CONTROL = 1, UD_RECV = 2, UD_OPEN = 3, UD_CANCEL = 4 };
#define UD(kind, i) (((uint64_t)(kind) << 56) | (uint64_t)(i))
#define UD_KIND(u) ((int)((u) >> 56))
#define UD_INDEX(u) ((int)((u)&0xffffff))

struct conn {
  int fd; /* -1: free slot */
  char msg[GOFER_MAX_MSG] __attribute__((aligned(16))); /* holds a struct gofer_req */
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } cmsg;
  struct iovec iov;
  struct msghdr hdr;
  /* an open running in io_uring's workers for this connection */
  bool open_inflight;
  uint32_t open_id;
  int open_dirfd;
  char open_name[NAME_MAX + 2];
  struct open_how open_how;
};

struct loop {
  struct io_uring ring;
  struct gofer_state state;
  int control;
  struct conn *conns;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control_cmsg;
  char control_byte;
  struct iovec control_iov;
  struct msghdr control_hdr;
  /* io_uring personalities by identity, for opens done in its workers */
  struct {
    struct gofer_identity ident;
    int id;
  } personalities[MAX_PERSONALITIES];
  int npersonalities;
};

static _Noreturn void die(const char *what)
{
  fprintf(stderr, "usbox: gofer: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static struct io_uring_sqe *get_sqe(struct loop *l)
{
  struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
  if (sqe == NULL) {
    io_uring_submit(&l->ring);
    sqe = io_uring_get_sqe(&l->ring);
    if (sqe == NULL)
      die("io_uring queue full");
  }
  return sqe;
}

static void arm_control(struct loop *l)
{
  l->control_iov = (struct iovec){.iov_base = &l->control_byte, .iov_len = 1};
  l->control_hdr = (struct msghdr){.msg_iov = &l->control_iov,
                                   .msg_iovlen = 1,
                                   .msg_control = l->control_cmsg.buf,
                                   .msg_controllen = sizeof l->control_cmsg.buf};
  struct io_uring_sqe *sqe = get_sqe(l);
  io_uring_prep_recvmsg(sqe, l->control, &l->control_hdr, MSG_CMSG_CLOEXEC);
  io_uring_sqe_set_data64(sqe, UD(UD_CONTROL, 0));
}

static void arm_conn(struct loop *l, int i)
{
  struct conn *c = &l->conns[i];
  c->iov = (struct iovec){.iov_base = c->msg, .iov_len = sizeof c->msg};
  c->hdr = (struct msghdr){.msg_iov = &c->iov,
                           .msg_iovlen = 1,
                           .msg_control = c->cmsg.buf,
                           .msg_controllen = sizeof c->cmsg.buf};
  struct io_uring_sqe *sqe = get_sqe(l);
  io_uring_prep_recvmsg(sqe, c->fd, &c->hdr, MSG_CMSG_CLOEXEC);
  io_uring_sqe_set_data64(sqe, UD(UD_RECV, i));
}

static int received_fd(struct msghdr *hdr)
{
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(hdr); cm != NULL; cm = CMSG_NXTHDR(hdr, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd;
      memcpy(&fd, CMSG_DATA(cm), sizeof fd);
      return fd;
    }
  return -1;
}

/* Replies are small and the sentry is waiting for them: send directly. */
static void send_reply(int fd, const struct gofer_result *res)
{
  struct iovec iov[2] = {{(void *)&res->rep, sizeof res->rep},
                         {(void *)res->data, res->rep.data_len}};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } cmsg;
  struct msghdr hdr = {.msg_iov = iov, .msg_iovlen = res->rep.data_len ? 2 : 1};
  if (res->out_fd >= 0) {
    hdr.msg_control = cmsg.buf;
    hdr.msg_controllen = sizeof cmsg.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&hdr);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &res->out_fd, sizeof(int));
  }
  ssize_t n;
  do
    n = sendmsg(fd, &hdr, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
}

static void reply_error(int fd, uint32_t id, int err)
{
  struct gofer_result *res = calloc(1, sizeof *res);
  if (res == NULL)
    return;
  res->rep.magic = GOFER_MAGIC;
  res->rep.id = id;
  res->rep.err = err;
  res->out_fd = -1;
  send_reply(fd, res);
  free(res);
}

static int personality_for(struct loop *l, const struct gofer_identity *ident)
{
  for (int i = 0; i < l->npersonalities; i++)
    if (memcmp(&l->personalities[i].ident, ident, sizeof *ident) == 0)
      return l->personalities[i].id;
  if (l->npersonalities == MAX_PERSONALITIES || gofer_assume(ident, false) < 0)
    return -1;
  int id = io_uring_register_personality(&l->ring); /* the thread's creds, now the agent's */
  if (id < 0)
    return -1;
  l->personalities[l->npersonalities].ident = *ident;
  l->personalities[l->npersonalities++].id = id;
  return id;
}

/* An open that may block goes to io_uring's workers (IOSQE_ASYNC: straight
 * to a worker, never tried non-blocking, which would change how a FIFO
 * opens), with the agent's credentials. */
static void start_async_open(struct loop *l, int i, const struct gofer_req *req,
                             struct gofer_result *res)
{
  struct conn *c = &l->conns[i];
  int personality = personality_for(l, &req->ident);
  if (personality < 0) {
    close(res->async_dirfd);
    reply_error(c->fd, req->id, EPERM);
    return;
  }
  c->open_inflight = true;
  c->open_id = req->id;
  c->open_dirfd = res->async_dirfd;
  snprintf(c->open_name, sizeof c->open_name, "%s", res->async_name);
  c->open_how = (struct open_how){.flags = res->async_flags | O_CLOEXEC,
                                  .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                             RESOLVE_NO_MAGICLINKS};
  struct io_uring_sqe *sqe = get_sqe(l);
  io_uring_prep_openat2(sqe, c->open_dirfd, c->open_name, &c->open_how);
  io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
  sqe->personality = (uint16_t)personality;
  io_uring_sqe_set_data64(sqe, UD(UD_OPEN, i));
}

static void finish_async_open(struct loop *l, int i, int result)
{
  struct conn *c = &l->conns[i];
  struct gofer_result *res = calloc(1, sizeof *res);
  c->open_inflight = false;
  close(c->open_dirfd);
  c->open_dirfd = -1;
  if (res == NULL) {
    if (result >= 0)
      close(result);
    return;
  }
  res->rep.magic = GOFER_MAGIC;
  res->rep.id = c->open_id;
  res->out_fd = -1;
  if (result < 0) {
    res->rep.err = -result;
  } else {
    res->out_fd = result;
    if (statx(result, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &res->rep.stx) == 0)
      res->rep.has_stat = 1;
  }
  if (c->fd >= 0)
    send_reply(c->fd, res);
  if (res->out_fd >= 0)
    close(res->out_fd);
  free(res);
}

static void on_request(struct loop *l, int i, int len)
{
  struct conn *c = &l->conns[i];
  int in_fd = received_fd(&c->hdr);
  struct gofer_call call;
  int r = gofer_decode(&l->state, c->msg, (size_t)len, in_fd, &call);
  const struct gofer_req *req = (const struct gofer_req *)c->msg;
  if (r < 0) {
    /* a malformed message gets an error reply, never a crash */
    reply_error(c->fd, len >= (int)sizeof(uint32_t) * 2 ? req->id : 0, -r);
  } else if (req->op == GOFER_CANCEL) {
    if (c->open_inflight && req->arg0 == c->open_id) {
      struct io_uring_sqe *sqe = get_sqe(l);
      io_uring_prep_cancel64(sqe, UD(UD_OPEN, i), 0);
      io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, i));
    }
  } else if (c->open_inflight) {
    reply_error(c->fd, req->id, EBUSY); /* one request at a time per connection */
  } else {
    struct gofer_result *res = malloc(sizeof *res);
    if (res == NULL) {
      reply_error(c->fd, req->id, ENOMEM);
    } else {
      gofer_perform(&l->state, &call, res);
      if (res->async_open) {
        start_async_open(l, i, req, res);
      } else {
        send_reply(c->fd, res);
        if (res->out_fd >= 0)
          close(res->out_fd);
      }
      free(res);
    }
  }
  if (in_fd >= 0)
    close(in_fd);
  arm_conn(l, i);
}

static void add_conn(struct loop *l, int fd)
{
  for (int i = 0; i < MAX_CONNS; i++)
    if (l->conns[i].fd < 0) {
      l->conns[i].fd = fd;
      l->conns[i].open_inflight = false;
      l->conns[i].open_dirfd = -1;
      arm_conn(l, i);
      return;
    }
  close(fd); /* the sentry's receivers are capped below MAX_CONNS */
}

static void drop_conn(struct loop *l, int i)
{
  struct conn *c = &l->conns[i];
  close(c->fd);
  c->fd = -1;
  if (c->open_inflight) {
    struct io_uring_sqe *sqe = get_sqe(l);
    io_uring_prep_cancel64(sqe, UD(UD_OPEN, i), 0);
    io_uring_sqe_set_data64(sqe, UD(UD_CANCEL, i));
  }
}

static void on_cqe(struct loop *l, const struct io_uring_cqe *cqe)
{
  int kind = UD_KIND(cqe->user_data), i = UD_INDEX(cqe->user_data);
  switch (kind) {
  case UD_CONTROL:
    if (cqe->res <= 0 && cqe->res != -EINTR)
      _exit(0); /* the sentry is gone: so is the gofer */
    if (cqe->res > 0) {
      int fd = received_fd(&l->control_hdr);
      if (fd >= 0)
        add_conn(l, fd);
    }
    arm_control(l);
    break;
  case UD_RECV:
    if (l->conns[i].fd < 0)
      break;
    if (cqe->res > 0)
      on_request(l, i, cqe->res);
    else if (cqe->res == -EINTR)
      arm_conn(l, i);
    else
      drop_conn(l, i);
    break;
  case UD_OPEN:
    finish_async_open(l, i, cqe->res);
    break;
  default:
    break;
  }
}

_Noreturn void gofer_main(int control, const struct gofer_mount *mounts, size_t n)
{
  static struct loop l;
  l.control = control;
  l.state.nmounts = n;
  memcpy(l.state.mounts, mounts, n * sizeof *mounts);
  l.conns = calloc(MAX_CONNS, sizeof *l.conns);
  if (l.conns == NULL)
    die("allocating connections");
  for (int i = 0; i < MAX_CONNS; i++)
    l.conns[i].fd = -1;
  if (io_uring_queue_init(RING_ENTRIES, &l.ring, 0) < 0)
    die("io_uring_queue_init");
  /* every blocked FIFO open holds a worker until its other end comes: allow
   * as many as the sentry has receivers, and more */
  unsigned int workers[2] = {256, 256};
  io_uring_register_iowq_max_workers(&l.ring, workers);
  /* from here on the gofer can only do what its filter allows */
  usbox_err_t err = {0};
  if (gofer_confine(mounts, n, &err) < 0) {
    errno = err.code;
    die(err.msg);
  }
  arm_control(&l);
  for (;;) {
    io_uring_submit_and_wait(&l.ring, 1);
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&l.ring, head, cqe)
    {
      struct io_uring_cqe copy = *cqe;
      seen++;
      on_cqe(&l, &copy);
    }
    io_uring_cq_advance(&l.ring, seen);
  }
}

/* Close every fd but these (the gofer holds nothing else of usbox's). */
static void keep_only(const int *keep, size_t nkeep)
{
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    die("listing /proc/self/fd");
  int dfd = dirfd(d);
  struct dirent *de;
  int close_list[4096];
  size_t nclose = 0;
  while ((de = readdir(d)) != NULL && nclose < sizeof close_list / sizeof close_list[0]) {
    if (de->d_name[0] == '.')
      continue;
    int fd = atoi(de->d_name);
    bool kept = fd == dfd || fd == 2; /* stderr: for a last word if it dies */
    for (size_t i = 0; i < nkeep && !kept; i++)
      kept = keep[i] == fd;
    if (!kept)
      close_list[nclose++] = fd;
  }
  closedir(d);
  for (size_t i = 0; i < nclose; i++)
    close(close_list[i]);
}

pid_t gofer_spawn(const struct gofer_mount *mounts, size_t n, int *control, usbox_err_t *err)
{
  if (n > GOFER_MAX_MOUNTS)
    return usbox_err_set(err, E2BIG, "too many mounts for the gofer");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return usbox_err_set(err, errno, "socketpair for the gofer");
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]), close(sv[1]);
    return usbox_err_set(err, errno, "forking the gofer");
  }
  if (pid == 0) {
    /* if usbox dies, the gofer dies with it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
      _exit(125);
    prctl(PR_SET_NAME, "usbox-gofer");
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    umask(0); /* modes come with the agent's umask applied (ops.c) */
    int keep[GOFER_MAX_MOUNTS + 1];
    keep[0] = sv[1];
    for (size_t i = 0; i < n; i++)
      keep[i + 1] = mounts[i].fd; /* -1 for a mount it does not serve */
    keep_only(keep, n + 1);
    gofer_main(sv[1], mounts, n);
  }
  close(sv[1]);
  *control = sv[0];
  return pid;
}
