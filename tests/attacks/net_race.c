/* Races against the network policy's single read of a destination.
 *
 * Run under `usbox exec --net-allow 127.0.0.1:A --net-allow 127.0.0.1:UA`
 * with host listeners on 127.0.0.1: TCP ports A (allowed) and D (denied),
 * each greeting with its own name, and UDP ports UA and UD. The caller
 * (tests/integration/test_net.sh) checks that D and UD never see anything.
 *
 * 1. connect: a thread flips the port of a sockaddr between A and D while
 *    the main thread connects with it. Every connect must reach A (and read
 *    A's greeting) or fail with ECONNREFUSED (the sandbox's own loopback,
 *    where nothing listens): never D.
 * 2. sendto: the same with UDP datagrams to UA / UD.
 * 3. sendmsg: msg_name of a connected (allowed) UDP socket flips between
 *    NULL and a sockaddr for UD.
 * 4. fd: a thread dup2()s a host-side UDP socket (connected to UA) and a
 *    fresh one over the fd the main thread sends to UD with.
 * Natively (--native) D and UD are reached: the contrast.
 *
 * usage: net_race [--native] [--seconds S] A D UA UD */
#include "attack.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

static double race_seconds = 1.0;
static uint16_t port_a, port_d, port_ua, port_ud;
static atomic_bool stop;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(uint16_t port)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* ---- 1, 2: the port flips ---- */

static struct sockaddr_in flipping;
static uint16_t flip_a, flip_b;

static void *flip_port(void *arg)
{
  (void)arg;
  volatile uint16_t *p = &flipping.sin_port;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    *p = htons(flip_a);
    *p = htons(flip_b);
  }
  return NULL;
}

static void start_flip(pthread_t *t, uint16_t a, uint16_t b)
{
  flipping = loopback(a);
  flip_a = a, flip_b = b;
  atomic_store(&stop, false);
  pthread_create(t, NULL, flip_port, NULL);
}

static void end_race(pthread_t t)
{
  atomic_store(&stop, true);
  pthread_join(t, NULL);
}

static void race_connect(void)
{
  pthread_t t;
  start_flip(&t, port_a, port_d);
  long reached_a = 0, refused = 0, reached_d = 0, other = 0, calls = 0;
  char detail[128] = "";
  for (double end = now() + race_seconds; now() < end; calls++) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(s, (struct sockaddr *)&flipping, sizeof flipping) == 0) {
      char buf[64] = "";
      ssize_t n = recv(s, buf, sizeof buf - 1, 0);
      buf[n > 0 ? n : 0] = '\0';
      if (strcmp(buf, "hello from allowed") == 0)
        reached_a++;
      else if (strcmp(buf, "hello from other") == 0)
        reached_d++;
      else
        snprintf(detail, sizeof detail, "connected, read \"%s\"", buf), other++;
    } else if (errno == ECONNREFUSED) {
      refused++;
    } else {
      snprintf(detail, sizeof detail, "connect: %s", errname(errno)), other++;
    }
    close(s);
  }
  end_race(t);
  note("connect race: %ld calls, %ld reached A, %ld refused, %ld reached D", calls, reached_a,
       refused, reached_d);
  if (attack_native) {
    check("connect-race-native-reaches-d", reached_d > 0, "D was never reached natively");
    return;
  }
  check("connect-race-never-d", reached_d == 0, "%ld connects reached D", reached_d);
  check("connect-race-only-a-or-refused", other == 0, "%ld other results, last: %s", other,
        detail);
  check("connect-race-a-reached", reached_a > 0, "A was never reached");
}

static void race_sendto(void)
{
  pthread_t t;
  start_flip(&t, port_ua, port_ud);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  long calls = 0, sent = 0, other = 0;
  char detail[128] = "";
  for (double end = now() + race_seconds; now() < end; calls++) {
    if (sendto(s, "race", 4, MSG_DONTWAIT, (struct sockaddr *)&flipping, sizeof flipping) == 4)
      sent++;
    else if (errno != EACCES && errno != EAGAIN && errno != ECONNREFUSED)
      snprintf(detail, sizeof detail, "sendto: %s", errname(errno)), other++;
  }
  end_race(t);
  close(s);
  note("sendto race: %ld calls, %ld sent", calls, sent);
  check("sendto-race-results", other == 0, "%ld unexpected results, last: %s", other, detail);
}

/* ---- 3: msg_name flips ---- */

static struct msghdr flipping_msg;
static struct sockaddr_in denied_name;

static void *flip_name(void *arg)
{
  (void)arg;
  void *volatile *p = &flipping_msg.msg_name;
  volatile socklen_t *l = &flipping_msg.msg_namelen;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    *p = NULL, *l = 0;
    *p = &denied_name, *l = sizeof denied_name;
  }
  return NULL;
}

static void race_sendmsg(void)
{
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in ua = loopback(port_ua);
  if (connect(s, (struct sockaddr *)&ua, sizeof ua) < 0) {
    fail("sendmsg-race-setup", "connect to UA: %s", errname(errno));
    return;
  }
  denied_name = loopback(port_ud);
  static struct iovec iov = {.iov_base = "msgrace", .iov_len = 7};
  flipping_msg = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1};
  atomic_store(&stop, false);
  pthread_t t;
  pthread_create(&t, NULL, flip_name, NULL);
  long calls = 0, other = 0;
  char detail[128] = "";
  for (double end = now() + race_seconds; now() < end; calls++)
    if (sendmsg(s, &flipping_msg, MSG_DONTWAIT) < 0 && errno != EACCES && errno != EAGAIN &&
        errno != ECONNREFUSED)
      snprintf(detail, sizeof detail, "sendmsg: %s", errname(errno)), other++;
  end_race(t);
  close(s);
  note("sendmsg race: %ld calls", calls);
  check("sendmsg-race-results", other == 0, "%ld unexpected results, last: %s", other, detail);
}

/* ---- 4: the fd flips ---- */

static int fd_target, fd_host, fd_fresh;

static void *flip_fd(void *arg)
{
  (void)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    dup2(fd_host, fd_target);
    dup2(fd_fresh, fd_target);
  }
  return NULL;
}

static void race_fd(void)
{
  fd_host = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in ua = loopback(port_ua);
  if (connect(fd_host, (struct sockaddr *)&ua, sizeof ua) < 0) {
    fail("fd-race-setup", "connect to UA: %s", errname(errno));
    return;
  }
  fd_fresh = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  fd_target = dup(fd_fresh);
  struct sockaddr_in ud = loopback(port_ud);
  atomic_store(&stop, false);
  pthread_t t;
  pthread_create(&t, NULL, flip_fd, NULL);
  long calls = 0;
  for (double end = now() + race_seconds; now() < end; calls++)
    sendto(fd_target, "fdrace", 6, MSG_DONTWAIT, (struct sockaddr *)&ud, sizeof ud);
  end_race(t);
  note("fd race: %ld calls", calls);
  ok("fd-race-ran");
}

int main(int argc, char **argv)
{
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--native") == 0)
      attack_native = true;
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      race_seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
      return atoi(argv[i + 1]);
  }
  if (argc - i != 4) {
    fprintf(stderr, "usage: net_race [--native] [--seconds S] A D UA UD\n");
    return 2;
  }
  port_a = (uint16_t)atoi(argv[i]), port_d = (uint16_t)atoi(argv[i + 1]);
  port_ua = (uint16_t)atoi(argv[i + 2]), port_ud = (uint16_t)atoi(argv[i + 3]);
  race_connect();
  race_sendto();
  race_sendmsg();
  race_fd();
  return attack_failures > 0 ? 1 : 0;
}
