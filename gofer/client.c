#include "gofer/client.h"

#include <errno.h>
#include <sched.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"

static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;
static __thread int conn = -1;
/* which client conn belongs to: each gofer_client_init gets a new number,
 * so a thread that outlives one client (a test starting gofer after gofer)
 * never sends one gofer's requests to another's connection */
static __thread unsigned conn_client;
static atomic_uint next_client = 1;

static void close_conn(void *p)
{
  (void)p;
  if (conn >= 0)
    close(conn);
  conn = -1;
}

static void make_key(void)
{
  pthread_key_create(&conn_key, close_conn);
}

int gofer_client_init(struct gofer_client *gc, int control)
{
  gc->control = control;
  gc->pin = sched_getaffinity(0, sizeof gc->allowed, &gc->allowed) == 0 &&
            CPU_COUNT(&gc->allowed) > 1;
  atomic_init(&gc->next_id, 1);
  gc->serial = atomic_fetch_add(&next_client, 1);
  gc->waiting = NULL;
  gc->start = NULL;
  gc->start_ctx = NULL;
  pthread_once(&conn_once, make_key);
  return pthread_mutex_init(&gc->lock, NULL) == 0 ? 0 : -1;
}

void gofer_client_set_control(struct gofer_client *gc, int control)
{
  pthread_mutex_lock(&gc->lock);
  gc->control = control;
  pthread_mutex_unlock(&gc->lock);
}

void gofer_client_destroy(struct gofer_client *gc)
{
  if (gc->control >= 0)
    close(gc->control);
  gc->control = -1;
  pthread_mutex_destroy(&gc->lock);
}

/* This thread's connection, made on first use (a receiver's first request:
 * a run the walk cache answers alone makes none, and the gofer starts no
 * thread for it). */
static int my_conn(struct gofer_client *gc)
{
  if (conn >= 0 && conn_client == gc->serial)
    return conn;
  close_conn(NULL); /* another client's */
  pthread_mutex_lock(&gc->lock);
  bool up = gc->control >= 0;
  pthread_mutex_unlock(&gc->lock);
  if (!up) { /* the run's first request: the gofer starts now */
    int started = gc->start != NULL ? gc->start(gc->start_ctx) : -EPIPE;
    if (started < 0)
      return started;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return -errno;
  pthread_mutex_lock(&gc->lock);
  int r = gc->control >= 0 ? fdpass_send_one(gc->control, sv[1]) : -EPIPE;
  pthread_mutex_unlock(&gc->lock);
  close(sv[1]);
  if (r < 0) {
    close(sv[0]);
    return r;
  }
  conn = sv[0];
  conn_client = gc->serial;
  pthread_setspecific(conn_key, &conn);
  return conn;
}

static int send_request(int fd, struct gofer_msg *m)
{
  struct gofer_req *q = &m->req;
  q->magic = GOFER_MAGIC;
  q->cpu = sched_getcpu();
  q->path_len = m->path ? (uint32_t)strlen(m->path) + 1 : 0;
  q->path2_len = m->path2 ? (uint32_t)strlen(m->path2) + 1 : 0;
  q->data_len = (uint32_t)m->data_len;
  struct iovec iov[4] = {{q, sizeof *q},
                         {(void *)m->path, q->path_len},
                         {(void *)m->path2, q->path2_len},
                         {(void *)m->data, m->data_len}};
  struct msghdr hdr = {.msg_iov = iov, .msg_iovlen = 4};
  union fdpass_cmsg cm;
  fdpass_attach(&hdr, &cm, m->in_fd);
  ssize_t n = fdpass_sendmsg(fd, &hdr);
  return n < 0 ? (int)n : 0;
}

/* The fds a reply brought, closed: a reply nobody will read. */
static void drop_reply_fds(struct gofer_msg *m)
{
  if (m->out_fd >= 0)
    close(m->out_fd);
  m->out_fd = -1;
  for (uint32_t i = 0; i < m->rep.nkeep; i++)
    close(m->keep_fds[i]);
  m->rep.nkeep = 0;
}

/* Receive one reply. -EINTR if interrupted (only when interruptible). */
static int recv_reply(int fd, struct gofer_msg *m, bool interruptible)
{
  char scratch[1];
  struct iovec iov[2] = {{&m->rep, sizeof m->rep},
                         {m->rep_data ? m->rep_data : scratch,
                          m->rep_data ? m->rep_data_cap : sizeof scratch}};
  union fdpass_cmsg_many cmsg;
  struct msghdr hdr = {.msg_iov = iov, .msg_iovlen = 2};
  fdpass_expect_many(&hdr, &cmsg);
  ssize_t n;
  for (;;) {
    n = recvmsg(fd, &hdr, MSG_CMSG_CLOEXEC);
    if (n >= 0 || errno != EINTR)
      break;
    if (interruptible)
      return -EINTR;
  }
  if (n < 0)
    return -errno;
  if (n == 0)
    return -EPIPE; /* the gofer is gone */
  int fds[GOFER_MAX_KEEP + 1];
  size_t nfds = fdpass_received_many(&hdr, fds, GOFER_MAX_KEEP + 1);
  m->out_fd = -1;
  bool keep = (m->req.walk & GOFER_WALK_KEEP) && (size_t)n >= sizeof m->rep &&
              m->rep.nkeep == nfds && m->rep.keep_dirs <= nfds;
  if (keep)
    memcpy(m->keep_fds, fds, nfds * sizeof *fds);
  else if (nfds == 1)
    m->out_fd = fds[0];
  else
    for (size_t i = 0; i < nfds; i++)
      close(fds[i]);
  if (!keep)
    m->rep.nkeep = 0;
  if ((size_t)n < sizeof m->rep || m->rep.magic != GOFER_MAGIC) {
    drop_reply_fds(m);
    return -EPROTO;
  }
  /* data the caller did not ask for is dropped; asked-for data must be whole */
  if (m->rep_data == NULL)
    m->rep.data_len = 0;
  else if (m->rep.data_len > (size_t)n - sizeof m->rep) {
    drop_reply_fds(m);
    return -EPROTO;
  }
  return 0;
}

/* Whether a reply says its request was cancelled before it was done (an
 * open interrupted while it waited), rather than done. */
static bool reply_cancelled(const struct gofer_rep *rep)
{
  return rep->err == EINTR || rep->err == ECANCELED || (rep->err >= 512 && rep->err <= 516);
}

/* The watchdog interrupted the wait for m's reply (its caller is gone or
 * has a signal to take): cancel, and wait for the cancelled request's
 * reply so that this connection is free again. A reply that says the
 * request was done all the same (it finished before the cancel reached
 * it: a FIFO's open that met its other end, an unlink) is the call's
 * answer, as the kernel returns a call that completed before a signal
 * came: thrown away, the FIFO's other end saw its partner come and go
 * (a reader got end-of-file, and the restarted writer waited for a
 * reader that was gone), the unlink restarted said ENOENT. -EINTR only
 * for a request that was not done. */
static int cancel_call(struct gofer_client *gc, int fd, struct gofer_msg *m)
{
  struct gofer_msg cancel = {.req = {.op = GOFER_CANCEL, .arg0 = m->req.id}, .in_fd = -1};
  cancel.req.id = atomic_fetch_add(&gc->next_id, 1);
  if (send_request(fd, &cancel) < 0)
    return -EINTR;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (poll(&p, 1, 1000) == 1 && recv_reply(fd, m, false) == 0) {
    if (m->rep.id == m->req.id && !reply_cancelled(&m->rep))
      return 0;
    drop_reply_fds(m);
    if (m->rep.id == m->req.id)
      break;
  }
  return -EINTR;
}

static int call_on_conn(struct gofer_client *gc, struct gofer_msg *m)
{
  int fd = my_conn(gc);
  if (fd < 0)
    return fd;
  m->req.id = atomic_fetch_add(&gc->next_id, 1);
  m->out_fd = -1;
  m->rep.nkeep = 0;
  int r = send_request(fd, m);
  if (r < 0)
    return r;
  for (;;) {
    /* waiting for the gofer is where the watchdog may interrupt us */
    if (gc->waiting != NULL)
      gc->waiting(true);
    r = recv_reply(fd, m, true);
    if (gc->waiting != NULL)
      gc->waiting(false);
    if (r == -EINTR)
      return cancel_call(gc, fd, m);
    if (r < 0)
      return r;
    if (m->rep.id == m->req.id)
      return 0;
    /* a late reply to an earlier, cancelled request: drop it */
    drop_reply_fds(m);
  }
}

/* The caller stays on its CPU for the call. The gofer thread moves to the
 * sender's CPU (gofer.c), but a sleeping sender woken by the reply is put
 * on whichever CPU is idle, takes the agent along when it answers
 * (SYNC_WAKE_UP wakes on the current CPU), and the next request drags the
 * gofer over too: every call became two cross-CPU wake-ups and three
 * migrations (stat: ~90 µs instead of ~26 µs on a 2-CPU VM). Pinning the
 * thread for the call's length keeps all three on one CPU. */
int gofer_call(struct gofer_client *gc, struct gofer_msg *m)
{
  atomic_fetch_add_explicit(&gc->calls, 1, memory_order_relaxed);
  if (!gc->pin)
    return call_on_conn(gc, m);
  int cpu = sched_getcpu();
  cpu_set_t here;
  CPU_ZERO(&here);
  if (cpu >= 0 && cpu < CPU_SETSIZE)
    CPU_SET(cpu, &here);
  bool pinned = cpu >= 0 && cpu < CPU_SETSIZE && sched_setaffinity(0, sizeof here, &here) == 0;
  int r = call_on_conn(gc, m);
  if (pinned)
    sched_setaffinity(0, sizeof gc->allowed, &gc->allowed);
  return r;
}
