/* The gofer client's cancel (gofer/client.c): a call whose wait for the
 * gofer is interrupted (the sentry's watchdog: its caller is gone or has a
 * signal to take) sends GOFER_CANCEL and waits for the request's reply.
 * That reply decides: a request done all the same (it finished before the
 * cancel reached it) is the call's answer, fd included; one the cancel
 * stopped is -EINTR. The gofer here is the test itself, on the other end
 * of the connection the client makes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "gofer/client.h"
#include "gofer/protocol.h"

struct call {
  struct gofer_client gc;
  struct gofer_msg m;
  int result;
  atomic_bool waiting; /* the client waits for the reply: interruptible */
};

static struct call *the_call;

static void on_waiting(bool on)
{
  atomic_store(&the_call->waiting, on);
}

static void on_signal(int sig)
{
  (void)sig;
}

static void *client_main(void *p)
{
  struct call *c = p;
  c->result = gofer_call(&c->gc, &c->m);
  return NULL;
}

/* The next request on conn: its id and op. */
static void read_request(int conn, uint32_t *id, uint16_t *op)
{
  char buf[GOFER_MAX_MSG];
  ssize_t n = recv(conn, buf, sizeof buf, 0);
  assert_true(n >= (ssize_t)sizeof(struct gofer_req));
  const struct gofer_req *q = (const struct gofer_req *)buf;
  assert_int_equal(q->magic, GOFER_MAGIC);
  *id = q->id;
  *op = q->op;
}

static void reply(int conn, uint32_t id, int err, int fd)
{
  struct gofer_rep rep = {.magic = GOFER_MAGIC, .id = id, .err = err};
  struct iovec iov = {&rep, sizeof rep};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg cm;
  fdpass_attach(&hdr, &cm, fd);
  assert_true(fdpass_sendmsg(conn, &hdr) == (ssize_t)sizeof rep);
}

/* A call interrupted while the gofer works on it; the gofer then answers
 * its request with err (and fd, -1 for none). The call's result. */
static int interrupted_call(int err, int fd, struct gofer_msg *out)
{
  int control[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control), 0);
  struct call c = {.m = {.req = {.op = GOFER_OPEN}, .path = "fifo", .in_fd = -1}};
  the_call = &c;
  assert_int_equal(gofer_client_init(&c.gc, control[0]), 0);
  c.gc.waiting = on_waiting;
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, client_main, &c), 0);
  char byte;
  int conn = -1;
  assert_int_equal(fdpass_recv_record(control[1], &byte, 1, &conn), 1);
  assert_true(conn >= 0);
  uint32_t id, cancel_id;
  uint16_t op;
  read_request(conn, &id, &op);
  assert_int_equal(op, GOFER_OPEN);
  while (!atomic_load(&c.waiting))
    usleep(1000);
  /* the watchdog's interruption; repeated until it lands in the wait */
  for (;;) {
    pthread_kill(t, SIGUSR1);
    struct pollfd p = {.fd = conn, .events = POLLIN};
    if (poll(&p, 1, 20) == 1)
      break;
  }
  read_request(conn, &cancel_id, &op);
  assert_int_equal(op, GOFER_CANCEL);
  reply(conn, id, err, fd);
  assert_int_equal(pthread_join(t, NULL), 0);
  *out = c.m;
  close(conn);
  close(control[1]);
  gofer_client_destroy(&c.gc);
  return c.result;
}

/* Done before the cancel came (a FIFO's open that met its other end): the
 * answer stands, with its fd. */
static void test_done_despite_the_cancel(void **state)
{
  (void)state;
  int pipefd[2];
  assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
  struct gofer_msg m;
  assert_int_equal(interrupted_call(0, pipefd[1], &m), 0);
  assert_int_equal(m.rep.err, 0);
  assert_true(m.out_fd >= 0);
  assert_int_equal(write(m.out_fd, "x", 1), 1); /* the pipe's own end */
  char got;
  assert_int_equal(read(pipefd[0], &got, 1), 1);
  close(m.out_fd);
  close(pipefd[0]);
  close(pipefd[1]);
}

/* Stopped by the cancel (the open interrupted while it waited): -EINTR,
 * and the caller restarts the call. */
static void test_stopped_by_the_cancel(void **state)
{
  (void)state;
  struct gofer_msg m;
  assert_int_equal(interrupted_call(EINTR, -1, &m), -EINTR);
  assert_int_equal(interrupted_call(ECANCELED, -1, &m), -EINTR);
}

int main(void)
{
  struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: the wait is interrupted */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_done_despite_the_cancel),
      cmocka_unit_test(test_stopped_by_the_cancel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
