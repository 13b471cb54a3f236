#include "netstack-shim/resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "netstack-shim/dns.h"

#define MAX_WORKERS 64
#define SLICE_MS 100
#define UPSTREAM_TRY_MS 1500 /* per attempt; two attempts over UDP */
#define TCP_IDLE_MS 10000    /* a TCP client that says nothing for this long is dropped */

struct net_resolver {
  struct net_resolver_config cfg;
  int stop_fd; /* eventfd: the waiting thread leaves */
  atomic_bool stopping;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t idle;
  int workers;
};

/* ---- deciding and learning ---- */

struct learn_ctx {
  const struct net_resolver_config *cfg;
  const char *name;
  uint64_t now;
};

/* An address of an allowed name's answer: remembered under every rule
 * that names it (each rule has its own ports). */
static void learn(void *ctx, const struct net_addr *a, uint32_t ttl)
{
  struct learn_ctx *l = ctx;
  uint64_t expires = l->now + (ttl > NET_DNS_MIN_TTL ? ttl : NET_DNS_MIN_TTL);
  for (size_t i = 0; i < l->cfg->nrules; i++)
    if (net_rule_matches_name(&l->cfg->rules[i], l->name))
      net_learned_add(l->cfg->learned, a, (int)i, l->name, expires);
}

static void log_query(const struct net_resolver_config *cfg, const char *name, bool allowed,
                      const struct net_rule *rule, int rcode)
{
  if (cfg->log != NULL)
    cfg->log(cfg->log_ctx, name, allowed, rule, rcode, NULL);
}

/* ---- DNS rebinding ---- */

/* Addresses a name on the Internet has no business answering: the host's
 * loopback, link-local (cloud metadata services live there), private and
 * unique-local networks, "this network", shared address space. */
static bool addr_is_local(const struct net_addr *a)
{
  const uint8_t *b = a->b;
  if (a->family == AF_INET)
    return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
           (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 100 && (b[1] & 0xc0) == 64);
  static const uint8_t zero[15] = {0};
  return (memcmp(b, zero, 15) == 0 && b[15] <= 1) || (b[0] & 0xfe) == 0xfc ||
         (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

struct rebind_ctx {
  const struct net_resolver_config *cfg;
  char first[64]; /* the first address no IP rule allows, or "" */
};

static void check_rebind(void *ctx, const struct net_addr *a, uint32_t ttl)
{
  (void)ttl;
  struct rebind_ctx *rb = ctx;
  if (rb->first[0] != '\0' || !addr_is_local(a))
    return;
  for (size_t i = 0; i < rb->cfg->nrules; i++)
    if (net_rule_matches_addr(&rb->cfg->rules[i], a))
      return; /* an IP/CIDR rule (or localhost) allows that address itself */
  net_addr_format(a, rb->first, sizeof rb->first);
}

/* RFC 6761: "localhost" and the names under it are the local host's. */
static bool reserved_local(const char *name)
{
  size_t n = strlen(name);
  return strcmp(name, "localhost") == 0 ||
         (n > 10 && strcmp(name + n - 10, ".localhost") == 0);
}

/* Whether upstream's answer for name rebinds it to a local address no IP
 * rule allows (the answer is then refused, not learned). */
static bool rebinds(const struct net_resolver_config *cfg, const char *name, const uint8_t *ans,
                    size_t n, const struct dns_question *q, char *why, size_t size)
{
  struct rebind_ctx rb = {cfg, ""};
  if (reserved_local(name) || dns_parse_response(ans, n, q, check_rebind, &rb) < 0 ||
      rb.first[0] == '\0')
    return false;
  snprintf(why, size,
           "answered %s, a local address no IP/CIDR rule allows (DNS rebinding): REFUSED",
           rb.first);
  return true;
}

size_t net_resolver_answer(const struct net_resolver_config *cfg, const uint8_t *q, size_t qlen,
                           uint8_t *out, size_t cap, net_forward_fn forward, void *fctx)
{
  struct dns_question question;
  if (dns_parse_query(q, qlen, &question) < 0)
    return 0; /* not a query we can answer: silence, as for any garbage */
  char name[NET_NAME_MAX];
  const struct net_rule *rule = NULL;
  bool canon = net_name_canon(question.name, name, sizeof name) == 0;
  char own[NET_NAME_MAX];
  if (canon && question.qclass == DNS_CLASS_IN && cfg->own_name != NULL &&
      net_name_canon(cfg->own_name, own, sizeof own) == 0 && strcmp(name, own) == 0) {
    log_query(cfg, name, true, NULL, 0);
    return dns_build_loopback(q, &question, out, cap);
  }
  for (size_t i = 0; canon && i < cfg->nrules && rule == NULL; i++)
    if (net_rule_matches_name(&cfg->rules[i], name))
      rule = &cfg->rules[i];
  /* Names no rule allows never leave the sentry: NXDOMAIN, as if they did
   * not exist (so no query to the outside carries what the agent put in a
   * name). */
  if (rule == NULL || question.qclass != DNS_CLASS_IN) {
    log_query(cfg, question.name, false, NULL, DNS_RCODE_NXDOMAIN);
    return dns_build_error(q, &question, DNS_RCODE_NXDOMAIN, out, cap);
  }
  ssize_t n = cfg->upstream_len > 0 ? forward(fctx, q, qlen, out, cap) : -1;
  char why[160];
  if (n > 0 && rebinds(cfg, name, out, (size_t)n, &question, why, sizeof why)) {
    if (cfg->log != NULL)
      cfg->log(cfg->log_ctx, name, false, rule, DNS_RCODE_REFUSED, why);
    return dns_build_error(q, &question, DNS_RCODE_REFUSED, out, cap);
  }
  struct learn_ctx l = {cfg, name, net_now()};
  int rcode = n > 0 ? dns_parse_response(out, (size_t)n, &question, learn, &l) : -1;
  if (rcode < 0) {
    log_query(cfg, name, true, rule, DNS_RCODE_SERVFAIL);
    return dns_build_error(q, &question, DNS_RCODE_SERVFAIL, out, cap);
  }
  log_query(cfg, name, true, rule, rcode);
  return (size_t)n; /* upstream's answer, unchanged, now that it is learned */
}

/* ---- upstream ---- */

/* Wait for fd to be ready, in slices, until ms pass or the resolver stops.
 * 1 ready, 0 timed out, -1 stopping or error. */
static int wait_fd(struct net_resolver *r, int fd, short events, int ms)
{
  for (int waited = 0; waited < ms; waited += SLICE_MS) {
    if (atomic_load(&r->stopping))
      return -1;
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, SLICE_MS);
    if (n > 0)
      return (p.revents & (POLLERR | POLLNVAL)) && !(p.revents & events) ? -1 : 1;
    if (n < 0 && errno != EINTR)
      return -1;
  }
  return 0;
}

static int upstream_socket(struct net_resolver *r, int type)
{
  int fd = socket(r->cfg.upstream.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *)&r->cfg.upstream, r->cfg.upstream_len) < 0 &&
      (errno != EINPROGRESS || wait_fd(r, fd, POLLOUT, UPSTREAM_TRY_MS) != 1)) {
    close(fd);
    return -1;
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

struct forward_ctx {
  struct net_resolver *r;
  bool tcp;
};

/* Over UDP: a fresh socket (a fresh source port) per query; replies that do
 * not answer the question are ignored. */
static ssize_t forward_udp(struct net_resolver *r, const uint8_t *q, size_t qlen, uint8_t *out,
                           size_t cap)
{
  struct dns_question question;
  if (dns_parse_query(q, qlen, &question) < 0)
    return -1;
  cleanup_close int fd = upstream_socket(r, SOCK_DGRAM);
  if (fd < 0)
    return -1;
  for (int attempt = 0; attempt < 2; attempt++) {
    if (send(fd, q, qlen, 0) < 0)
      return -1;
    while (wait_fd(r, fd, POLLIN, UPSTREAM_TRY_MS) == 1) {
      ssize_t n = recv(fd, out, cap, 0);
      if (n > 0 && dns_parse_response(out, (size_t)n, &question, NULL, NULL) >= 0)
        return n;
      if (n < 0 && errno != EAGAIN)
        return -1;
    }
    if (atomic_load(&r->stopping))
      return -1;
  }
  return -1;
}

static int io_all(struct net_resolver *r, int fd, void *buf, size_t len, bool writing, int ms)
{
  size_t done = 0;
  while (done < len) {
    if (wait_fd(r, fd, writing ? POLLOUT : POLLIN, ms) != 1)
      return -1;
    ssize_t n = writing ? write(fd, (char *)buf + done, len - done)
                        : read(fd, (char *)buf + done, len - done);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      return -1;
    if (n > 0)
      done += (size_t)n;
  }
  return 0;
}

static ssize_t forward_tcp(struct net_resolver *r, const uint8_t *q, size_t qlen, uint8_t *out,
                           size_t cap)
{
  cleanup_close int fd = upstream_socket(r, SOCK_STREAM);
  if (fd < 0 || qlen > 65535)
    return -1;
  uint8_t len[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
  if (io_all(r, fd, len, 2, true, UPSTREAM_TRY_MS) < 0 ||
      io_all(r, fd, (void *)q, qlen, true, UPSTREAM_TRY_MS) < 0 ||
      io_all(r, fd, len, 2, false, 2 * UPSTREAM_TRY_MS) < 0)
    return -1;
  size_t n = (size_t)len[0] << 8 | len[1];
  if (n == 0 || n > cap || io_all(r, fd, out, n, false, 2 * UPSTREAM_TRY_MS) < 0)
    return -1;
  return (ssize_t)n;
}

static ssize_t forward(void *ctx, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
  struct forward_ctx *f = ctx;
  return f->tcp ? forward_tcp(f->r, q, qlen, out, cap) : forward_udp(f->r, q, qlen, out, cap);
}

/* ---- query threads ---- */

struct job {
  struct net_resolver *r;
  int tcp_fd; /* a TCP client, or -1 for one UDP query */
  int udp_fd; /* where the UDP query came in, and its answer goes out */
  struct sockaddr_storage client;
  socklen_t client_len;
  size_t qlen;
  uint8_t query[4096];
};

static void worker_done(struct net_resolver *r)
{
  pthread_mutex_lock(&r->lock);
  if (--r->workers == 0)
    pthread_cond_broadcast(&r->idle);
  pthread_mutex_unlock(&r->lock);
}

static void serve_udp(struct job *j, uint8_t *out)
{
  struct forward_ctx f = {j->r, false};
  size_t n = net_resolver_answer(&j->r->cfg, j->query, j->qlen, out, DNS_MAX_MSG, forward, &f);
  if (n > 0)
    sendto(j->udp_fd, out, n, MSG_DONTWAIT, (struct sockaddr *)&j->client, j->client_len);
}

/* DNS over TCP (RFC 7766): two-byte length, message; as many as the
 * client sends until it closes or idles. */
static void serve_tcp(struct job *j, uint8_t *out, uint8_t *query)
{
  struct forward_ctx f = {j->r, true};
  for (;;) {
    uint8_t len[2];
    if (io_all(j->r, j->tcp_fd, len, 2, false, TCP_IDLE_MS) < 0)
      return;
    size_t qlen = (size_t)len[0] << 8 | len[1];
    if (qlen == 0 || io_all(j->r, j->tcp_fd, query, qlen, false, TCP_IDLE_MS) < 0)
      return;
    size_t n = net_resolver_answer(&j->r->cfg, query, qlen, out + 2, DNS_MAX_MSG - 2, forward, &f);
    if (n == 0)
      return;
    out[0] = (uint8_t)(n >> 8), out[1] = (uint8_t)n;
    if (io_all(j->r, j->tcp_fd, out, n + 2, true, TCP_IDLE_MS) < 0)
      return;
  }
}

static void *worker(void *arg)
{
  struct job *j = arg;
  struct net_resolver *r = j->r;
  uint8_t *out = malloc(DNS_MAX_MSG);
  uint8_t *query = j->tcp_fd >= 0 ? malloc(DNS_MAX_MSG) : NULL;
  if (out != NULL && j->tcp_fd < 0)
    serve_udp(j, out);
  else if (out != NULL && query != NULL)
    serve_tcp(j, out, query);
  if (j->tcp_fd >= 0)
    close(j->tcp_fd);
  free(query);
  free(out);
  free(j);
  worker_done(r);
  return NULL;
}

static void spawn(struct net_resolver *r, struct job *j)
{
  pthread_mutex_lock(&r->lock);
  bool room = r->workers < MAX_WORKERS;
  if (room)
    r->workers++;
  pthread_mutex_unlock(&r->lock);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* too many at once: this one is dropped, the client retries */
  if (!room || pthread_create(&t, &attr, worker, j) != 0) {
    if (room)
      worker_done(r);
    if (j->tcp_fd >= 0)
      close(j->tcp_fd);
    free(j);
  }
  pthread_attr_destroy(&attr);
}

static void accept_udp(struct net_resolver *r, int fd)
{
  struct job *j = malloc(sizeof *j);
  if (j == NULL)
    return;
  j->r = r;
  j->tcp_fd = -1;
  j->udp_fd = fd;
  j->client_len = sizeof j->client;
  ssize_t n = recvfrom(fd, j->query, sizeof j->query, MSG_DONTWAIT,
                       (struct sockaddr *)&j->client, &j->client_len);
  if (n <= 0) {
    free(j);
    return;
  }
  j->qlen = (size_t)n;
  spawn(r, j);
}

static void accept_tcp(struct net_resolver *r, int listener)
{
  int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0)
    return;
  struct job *j = malloc(sizeof *j);
  if (j == NULL) {
    close(fd);
    return;
  }
  j->r = r;
  j->tcp_fd = fd;
  j->udp_fd = -1;
  spawn(r, j);
}

static void *waiter(void *arg)
{
  struct net_resolver *r = arg;
  int n = r->cfg.nfds;
  struct pollfd p[1 + 2 * NET_RESOLVER_MAX_FDS];
  p[0] = (struct pollfd){.fd = r->stop_fd, .events = POLLIN};
  for (int i = 0; i < n; i++) {
    p[1 + 2 * i] = (struct pollfd){.fd = r->cfg.udp_fd[i], .events = POLLIN};
    p[2 + 2 * i] = (struct pollfd){.fd = r->cfg.tcp_fd[i], .events = POLLIN};
  }
  for (;;) {
    if (poll(p, (nfds_t)(1 + 2 * n), -1) < 0 && errno != EINTR)
      break;
    if (p[0].revents || atomic_load(&r->stopping))
      break;
    for (int i = 0; i < n; i++) {
      if (p[1 + 2 * i].revents & POLLIN)
        accept_udp(r, p[1 + 2 * i].fd);
      if (p[2 + 2 * i].revents & POLLIN)
        accept_tcp(r, p[2 + 2 * i].fd);
    }
  }
  return NULL;
}

int net_resolver_start(struct net_resolver **out, const struct net_resolver_config *cfg,
                       usbox_err_t *err)
{
  struct net_resolver *r = calloc(1, sizeof *r);
  if (r == NULL)
    return usbox_err_set(err, ENOMEM, "starting the sandbox's resolver");
  r->cfg = *cfg;
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->idle, NULL);
  r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int e = r->stop_fd < 0 ? errno : pthread_create(&r->thread, NULL, waiter, r);
  if (e != 0) {
    if (r->stop_fd >= 0)
      close(r->stop_fd);
    free(r);
    return usbox_err_set(err, e, "starting the sandbox's resolver");
  }
  *out = r;
  return 0;
}

void net_resolver_stop(struct net_resolver *r)
{
  if (r == NULL)
    return;
  atomic_store(&r->stopping, true);
  uint64_t one = 1;
  ssize_t w = write(r->stop_fd, &one, sizeof one);
  (void)w;
  pthread_join(r->thread, NULL);
  pthread_mutex_lock(&r->lock);
  while (r->workers > 0)
    pthread_cond_wait(&r->idle, &r->lock);
  pthread_mutex_unlock(&r->lock);
  close(r->stop_fd);
  for (int i = 0; i < r->cfg.nfds; i++) {
    close(r->cfg.udp_fd[i]);
    close(r->cfg.tcp_fd[i]);
  }
  pthread_cond_destroy(&r->idle);
  pthread_mutex_destroy(&r->lock);
  free(r);
}
