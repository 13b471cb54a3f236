/* The relay for connections only a name rule allows (netstack-shim/relay.h). */
#include "netstack-shim/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "netstack-shim/net.h"
#include "netstack-shim/peek.h"

#define PIPE_BYTES (256 * 1024)
#define MATCH_MS 5000    /* an accepted connection and its connect find each other */
#define INSPECT_MS 10000 /* the agent names its host within this */
#define PUMP_ROUNDS 16   /* per event, per direction: others get their turn */
#define ADDR_KEEP_MS 60000 /* an ended connection's addresses, for getpeername after EOF */

enum conn_state { C_WAIT, C_INSPECT, C_RELAY };

/* One direction: src -> pipe -> dst. */
struct pump {
  int pipe[2];
  size_t held;    /* bytes in the pipe */
  bool full;      /* the last splice into the pipe found no room */
  bool eof, shut; /* src ended; dst was shut for writing */
};

struct conn;
struct conn_end {
  struct conn *c;
  bool host;
};

struct conn {
  struct conn *next;
  enum conn_state state;
  bool dead;
  bool named;     /* registered by the agent's connect: the addresses are its */
  uint64_t ended; /* ms, when dead: kept for the addresses a while */
  int agent; /* the sentry's end of the agent's connection, in the sandbox */
  int host;  /* the sentry's connection to the destination */
  struct sockaddr_storage stand_in; /* the agent socket's own address */
  socklen_t stand_in_len;
  uint64_t cookie; /* the agent's socket */
  struct sockaddr_storage peer, local;
  socklen_t peer_len, local_len;
  struct net_dest dest;
  int names[NET_DECISION_NAMES];
  int nnames;
  int pid;
  uint64_t deadline; /* ms: C_WAIT and C_INSPECT */
  uint8_t *buf;      /* C_INSPECT: what the agent sent so far */
  size_t len;
  struct pump up, down; /* agent -> host, host -> agent */
  uint32_t ev_agent, ev_host;
  struct conn_end end_agent, end_host;
};

struct net_relay {
  struct net_relay_config cfg;
  /* the listeners' addresses, read once at start */
  struct sockaddr_storage own_sa[2];
  socklen_t own_len[2];
  struct net_dest own[2];
  int epfd, wake_fd;
  atomic_bool stopping;
  pthread_t thread;
  pthread_mutex_t lock; /* conns: the list, matching, the addresses */
  struct conn *conns;
};

static uint64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
                      const struct sockaddr_storage *b, socklen_t blen)
{
  struct net_dest x, y;
  return net_dest_from_sockaddr(a, alen, IPPROTO_TCP, &x) == 0 &&
         net_dest_from_sockaddr(b, blen, IPPROTO_TCP, &y) == 0 && x.port == y.port &&
         net_addr_equal(&x.addr, &y.addr);
}

/* ---- audit ---- */

static void audit(struct net_relay *r, const struct conn *c, bool allowed,
                  const struct net_peek *pk, const char *why)
{
  if (r->cfg.audit == NULL)
    return;
  char dest[128], arg[NET_NAME_MAX + 200];
  net_dest_format(&c->dest, dest, sizeof dest);
  const char *proto = pk->proto == NET_PEEK_TLS ? "tls" : pk->proto == NET_PEEK_HTTP ? "http" : "";
  if (pk->name[0] != '\0')
    snprintf(arg, sizeof arg, "%s %s name %s%s", dest, proto, pk->name,
             pk->ech ? " (ECH: the outer name)" : "");
  else
    snprintf(arg, sizeof arg, "%s%s%s", dest, proto[0] ? " " : "", proto);
  struct net_audit_line line = {
      .syscall = "net-name",
      .arg = arg,
      .decision = allowed ? "emulate" : "deny",
      .result = allowed ? 0 : -ECONNRESET,
      .rule = why,
      .pid = c->pid,
  };
  r->cfg.audit(r->cfg.audit_ctx, &line);
}

/* ---- ending a connection ---- */

/* A reset, not an end: the agent's side sees ECONNRESET, the server no
 * request. */
static void reset_close(int *fd)
{
  if (*fd < 0)
    return;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(*fd);
  *fd = -1;
}

static void close_pump(struct pump *p)
{
  for (int i = 0; i < 2; i++)
    if (p->pipe[i] >= 0)
      close(p->pipe[i]), p->pipe[i] = -1;
}

/* Marked dead here, freed by the thread's sweep. */
static void conn_end(struct net_relay *r, struct conn *c, bool reset)
{
  if (c->agent >= 0)
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->agent, NULL);
  if (c->host >= 0)
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->host, NULL);
  if (reset) {
    reset_close(&c->agent);
    reset_close(&c->host);
  }
  if (c->agent >= 0)
    close(c->agent), c->agent = -1;
  if (c->host >= 0)
    close(c->host), c->host = -1;
  close_pump(&c->up);
  close_pump(&c->down);
  free(c->buf);
  c->buf = NULL;
  c->dead = true;
  c->ended = now_ms();
}

static struct conn *conn_new(void)
{
  struct conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->agent = c->host = -1;
  c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
  c->end_agent = (struct conn_end){c, false};
  c->end_host = (struct conn_end){c, true};
  c->deadline = now_ms() + MATCH_MS;
  return c;
}

/* ---- moving bytes ---- */

static void set_interest(struct net_relay *r, int fd, uint32_t *cur, uint32_t want,
                         struct conn_end *end)
{
  if (fd < 0 || *cur == want)
    return;
  struct epoll_event ev = {.events = want, .data.ptr = end};
  epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev);
  *cur = want;
}

/* What each socket waits for: reading while its direction's pipe has room,
 * writing while the other direction's pipe holds bytes for it. */
static void relay_interests(struct net_relay *r, struct conn *c)
{
  uint32_t a = 0, h = 0;
  if (!c->up.eof && !c->up.full)
    a |= EPOLLIN;
  if (c->down.held > 0)
    a |= EPOLLOUT;
  if (!c->down.eof && !c->down.full)
    h |= EPOLLIN;
  if (c->up.held > 0)
    h |= EPOLLOUT;
  set_interest(r, c->agent, &c->ev_agent, a, &c->end_agent);
  set_interest(r, c->host, &c->ev_host, h, &c->end_host);
}

/* src -> pipe -> dst, as far as both allow. -1: a socket failed (reset). */
static int pump(struct pump *p, int src, int dst)
{
  for (int round = 0; round < PUMP_ROUNDS; round++) {
    bool moved = false;
    if (!p->eof && p->held < PIPE_BYTES) {
      ssize_t n = splice(src, NULL, p->pipe[1], NULL, PIPE_BYTES - p->held,
                         SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0)
        p->held += (size_t)n, p->full = false, moved = true;
      else if (n == 0)
        p->eof = true;
      else if (errno == EAGAIN)
        p->full = p->held > 0; /* data waiting but no room: wait for the writer */
      else
        return -1;
    }
    if (p->held > 0) {
      ssize_t n = splice(p->pipe[0], NULL, dst, NULL, p->held, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n > 0)
        p->held -= (size_t)n, p->full = false, moved = true;
      else if (n < 0 && errno != EAGAIN)
        return -1;
    }
    if (!moved)
      break;
  }
  if (p->eof && p->held == 0 && !p->shut) {
    shutdown(dst, SHUT_WR); /* the end of what src sent, passed on */
    p->shut = true;
  }
  return 0;
}

static void relay_io(struct net_relay *r, struct conn *c)
{
  if (pump(&c->up, c->agent, c->host) < 0 || pump(&c->down, c->host, c->agent) < 0) {
    conn_end(r, c, true);
    return;
  }
  if (c->up.shut && c->down.shut) {
    conn_end(r, c, false);
    return;
  }
  relay_interests(r, c);
}

static int pipe_of(struct pump *p)
{
  if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    return -1;
  fcntl(p->pipe[0], F_SETPIPE_SZ, PIPE_BYTES); /* best effort: fewer wake-ups */
  return 0;
}

/* ---- the first bytes ---- */

/* Everything the agent sent while being judged goes first, whole. */
static int send_all(int fd, const uint8_t *buf, size_t len)
{
  for (size_t done = 0; done < len;) {
    ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if ((n < 0 && errno != EAGAIN) || poll(&p, 1, INSPECT_MS) <= 0)
      return -1;
  }
  return 0;
}

static void start_relay(struct net_relay *r, struct conn *c)
{
  if (send_all(c->host, c->buf, c->len) < 0 || pipe_of(&c->up) < 0 || pipe_of(&c->down) < 0) {
    conn_end(r, c, true);
    return;
  }
  free(c->buf);
  c->buf = NULL;
  c->state = C_RELAY;
  struct epoll_event ev = {.events = 0, .data.ptr = &c->end_host};
  epoll_ctl(r->epfd, EPOLL_CTL_ADD, c->host, &ev);
  c->ev_host = 0;
  relay_io(r, c);
}

/* The rule whose name the connection carries, or NULL. */
static const struct net_rule *named_rule(struct net_relay *r, const struct conn *c,
                                         const char *name)
{
  for (int i = 0; i < c->nnames; i++) {
    const struct net_rule *rule = &r->cfg.rules[c->names[i]];
    if (net_rule_matches_name(rule, name))
      return rule;
  }
  return NULL;
}

static void judge(struct net_relay *r, struct conn *c, enum net_peek_verdict v,
                  const struct net_peek *pk)
{
  char why[NET_NAME_MAX + 400];
  const struct net_rule *first = &r->cfg.rules[c->names[0]];
  if (v == NET_PEEK_BAD) {
    snprintf(why, sizeof why,
             "net-allow %s allows connections that name it: the first bytes were %s (a "
             "protocol that names no host needs %s/any-protocol)",
             first->text, pk->why, first->text);
    audit(r, c, false, pk, why);
    conn_end(r, c, true);
    return;
  }
  const struct net_rule *rule = named_rule(r, c, pk->name);
  if (rule == NULL) {
    snprintf(why, sizeof why, "net-allow %s: the connection names %s, which no rule allowing "
             "this address names", first->text, pk->name);
    audit(r, c, false, pk, why);
    conn_end(r, c, true);
    return;
  }
  snprintf(why, sizeof why, "net-allow %s", rule->text);
  audit(r, c, true, pk, why);
  start_relay(r, c);
}

static void inspect(struct net_relay *r, struct conn *c)
{
  ssize_t n = recv(c->agent, c->buf + c->len, NET_PEEK_MAX - c->len, MSG_DONTWAIT);
  if (n < 0 && errno == EAGAIN)
    return;
  struct net_peek pk;
  if (n <= 0) { /* the agent closed or reset before naming anything */
    memset(&pk, 0, sizeof pk);
    snprintf(pk.why, sizeof pk.why, "nothing (the connection ended first)");
    judge(r, c, NET_PEEK_BAD, &pk);
    return;
  }
  c->len += (size_t)n;
  enum net_peek_verdict v = net_peek_name(c->buf, c->len, &pk);
  if (v != NET_PEEK_MORE)
    judge(r, c, v, &pk);
}

static void inspect_timeout(struct net_relay *r, struct conn *c)
{
  struct net_peek pk;
  memset(&pk, 0, sizeof pk);
  snprintf(pk.why, sizeof pk.why, "not sent within %d s (the server speaks first?)",
           INSPECT_MS / 1000);
  judge(r, c, NET_PEEK_BAD, &pk);
}

/* ---- connections meeting their connect ---- */

/* A connection matched to its connect starts being judged (the thread's). */
static void arm(struct net_relay *r, struct conn *c)
{
  c->buf = malloc(NET_PEEK_MAX);
  int one = 1;
  /* the relay adds no delay of its own to what the agent sends */
  setsockopt(c->agent, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->end_agent};
  if (c->buf == NULL || epoll_ctl(r->epfd, EPOLL_CTL_ADD, c->agent, &ev) < 0) {
    conn_end(r, c, true);
    return;
  }
  c->ev_agent = EPOLLIN;
  c->state = C_INSPECT;
  c->deadline = now_ms() + INSPECT_MS;
}

/* Under r->lock: the other half of c (same stand-in address), if here. */
static struct conn *find_half(struct net_relay *r, const struct conn *c, bool want_accepted)
{
  for (struct conn *o = r->conns; o != NULL; o = o->next)
    if (o != c && !o->dead && o->state == C_WAIT && (want_accepted ? o->host < 0 : o->agent < 0) &&
        same_addr(&o->stand_in, o->stand_in_len, &c->stand_in, c->stand_in_len))
      return o;
  return NULL;
}

static void accept_all(struct net_relay *r, int listener)
{
  for (;;) {
    struct sockaddr_storage from;
    socklen_t len = sizeof from;
    int fd = accept4(listener, (struct sockaddr *)&from, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      return;
    pthread_mutex_lock(&r->lock);
    struct conn probe = {.stand_in = from, .stand_in_len = len};
    struct conn *c = find_half(r, &probe, false);
    if (c != NULL) {
      c->agent = fd;
    } else if ((c = conn_new()) != NULL) { /* its connect registers soon */
      c->agent = fd;
      c->stand_in = from;
      c->stand_in_len = len;
      c->next = r->conns;
      r->conns = c;
    } else {
      close(fd);
    }
    pthread_mutex_unlock(&r->lock);
  }
}

/* ---- the thread ---- */

static int sweep(struct net_relay *r)
{
  uint64_t now = now_ms(), next = UINT64_MAX;
  pthread_mutex_lock(&r->lock);
  for (struct conn **pp = &r->conns; *pp != NULL;) {
    struct conn *c = *pp;
    if (!c->dead && c->state == C_WAIT && c->agent >= 0 && c->host >= 0)
      arm(r, c);
    if (!c->dead && c->state != C_RELAY && c->deadline <= now) {
      if (c->state == C_INSPECT)
        inspect_timeout(r, c);
      else
        conn_end(r, c, true);
    }
    uint64_t keep = c->dead && c->named ? c->ended + ADDR_KEEP_MS : 0;
    if (c->dead && now >= keep) {
      *pp = c->next;
      free(c);
      continue;
    }
    uint64_t wake_at = c->dead ? keep : c->state != C_RELAY ? c->deadline : UINT64_MAX;
    if (wake_at < next)
      next = wake_at;
    pp = &c->next;
  }
  pthread_mutex_unlock(&r->lock);
  return next == UINT64_MAX ? -1 : (int)(next > now ? next - now : 0);
}

static void on_event(struct net_relay *r, struct conn_end *e, uint32_t events)
{
  struct conn *c = e->c;
  if (c->dead)
    return;
  if (c->state == C_INSPECT && !e->host) {
    inspect(r, c);
    return;
  }
  if (c->state == C_RELAY) {
    relay_io(r, c);
    /* an error or hang-up that moved nothing would wake the thread forever */
    if (!c->dead && (events & (EPOLLERR | EPOLLHUP)) && c->up.held == 0 && c->down.held == 0 &&
        (e->host ? c->down.eof : c->up.eof))
      conn_end(r, c, (events & EPOLLERR) != 0);
  }
}

static void *relay_thread(void *arg)
{
  struct net_relay *r = arg;
  struct epoll_event evs[64];
  int timeout = -1;
  while (!atomic_load(&r->stopping)) {
    int n = epoll_wait(r->epfd, evs, 64, timeout);
    if (n < 0 && errno != EINTR)
      break;
    for (int i = 0; i < n; i++) {
      void *tag = evs[i].data.ptr;
      if (tag == &r->cfg.listen_fd[0] || tag == &r->cfg.listen_fd[1]) {
        accept_all(r, *(int *)tag);
      } else if (tag == &r->wake_fd) {
        uint64_t v;
        ssize_t got = read(r->wake_fd, &v, sizeof v);
        (void)got;
      } else {
        on_event(r, tag, evs[i].events);
      }
    }
    /* freeing happens only here, after every event of the batch */
    timeout = sweep(r);
  }
  return NULL;
}

/* ---- the agent's connect ---- */

static void wake(struct net_relay *r)
{
  uint64_t one = 1;
  ssize_t w = write(r->wake_fd, &one, sizeof one);
  (void)w;
}

/* The connect's half: the host socket, what the agent's socket will show,
 * the rules whose names it must carry. Takes host. */
static void add_connect(struct net_relay *r, struct conn *c)
{
  pthread_mutex_lock(&r->lock);
  struct conn *accepted = find_half(r, c, true);
  if (accepted != NULL) { /* the relay accepted it first: take its socket */
    c->agent = accepted->agent;
    accepted->agent = -1;
    accepted->dead = true; /* swept, nothing to close */
  }
  c->next = r->conns;
  r->conns = c;
  pthread_mutex_unlock(&r->lock);
  wake(r);
}

static int sock_cookie(int fd, uint64_t *out)
{
  socklen_t len = sizeof *out;
  return getsockopt(fd, SOL_SOCKET, SO_COOKIE, out, &len);
}

static struct conn *conn_for(struct net_call *nc, const struct sockaddr *sa, socklen_t len,
                             const struct net_decision *dec, const struct net_dest *d, int host)
{
  struct conn *c = conn_new();
  if (c == NULL)
    return NULL;
  c->host = host;
  c->dest = *d;
  c->nnames = dec->nnames;
  memcpy(c->names, dec->names, sizeof c->names);
  memcpy(&c->peer, sa, len < sizeof c->peer ? len : sizeof c->peer);
  c->peer_len = len;
  c->local_len = sizeof c->local;
  c->stand_in_len = sizeof c->stand_in;
  struct net_caller me;
  if (getsockname(host, (struct sockaddr *)&c->local, &c->local_len) < 0 ||
      getsockname(nc->sock, (struct sockaddr *)&c->stand_in, &c->stand_in_len) < 0 ||
      sock_cookie(nc->sock, &c->cookie) < 0) {
    free(c);
    return NULL;
  }
  c->pid = nc->ctx->ops->identify(nc->ctx, &me) == 0 ? me.tgid : 0;
  c->named = true;
  return c;
}

struct net_result net_relay_connect(struct net_relay *r, struct net_call *nc,
                                    const struct sockaddr *sa, socklen_t len,
                                    const struct net_decision *dec, const struct net_dest *d)
{
  if (nc->si.type != SOCK_STREAM || dec->nnames == 0)
    return net_errno(EACCES);
  int own = nc->si.domain == AF_INET6 ? 1 : 0;
  if (r->cfg.listen_fd[own] < 0)
    return net_errno(EACCES);
  cleanup_close int host = net_connect_on_host(nc, sa, len);
  if (host < 0)
    return net_fail(host);
  /* the agent's socket, in the sandbox, to the relay: the loopback's
   * handshake, at once (EINPROGRESS for a non-blocking socket) */
  struct net_result res = net_perform(nc, net_act_connect, (struct sockaddr *)&r->own_sa[own],
                                      r->own_len[own], NULL);
  if (res.gone || (res.err != 0 && res.err != EINPROGRESS))
    return res;
  struct conn *c = conn_for(nc, sa, len, dec, d, host);
  if (c == NULL)
    return net_errno(ENOBUFS); /* the relay drops the unclaimed connection: a reset */
  host = -1;
  add_connect(r, c);
  return res;
}

bool net_relay_address(struct net_relay *r, uint64_t cookie, bool local,
                       struct sockaddr_storage *out, socklen_t *len)
{
  bool found = false;
  pthread_mutex_lock(&r->lock);
  for (struct conn *c = r->conns; c != NULL && !found; c = c->next) {
    if (!c->named || c->cookie != cookie)
      continue;
    *out = local ? c->local : c->peer;
    *len = local ? c->local_len : c->peer_len;
    found = true;
  }
  pthread_mutex_unlock(&r->lock);
  return found;
}

bool net_relay_is_own(const struct net_relay *r, const struct net_dest *d)
{
  for (int i = 0; i < 2; i++)
    if (r->cfg.listen_fd[i] >= 0 && d->port == r->own[i].port &&
        net_addr_equal(&d->addr, &r->own[i].addr))
      return true;
  return false;
}

/* ---- start and stop ---- */

static int watch(struct net_relay *r, int fd, void *tag)
{
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
  return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int own_address(struct net_relay *r, int i)
{
  r->own_len[i] = sizeof r->own_sa[i];
  if (getsockname(r->cfg.listen_fd[i], (struct sockaddr *)&r->own_sa[i], &r->own_len[i]) < 0)
    return -1;
  return net_dest_from_sockaddr(&r->own_sa[i], r->own_len[i], IPPROTO_TCP, &r->own[i]) < 0 ? -1 : 0;
}

int net_relay_start(struct net_relay **out, const struct net_relay_config *cfg,
                    usbox_err_t *err)
{
  struct net_relay *r = calloc(1, sizeof *r);
  if (r == NULL) {
    for (int i = 0; i < 2; i++)
      if (cfg->listen_fd[i] >= 0)
        close(cfg->listen_fd[i]);
    return usbox_err_set(err, ENOMEM, "starting the name-checking relay");
  }
  r->cfg = *cfg;
  pthread_mutex_init(&r->lock, NULL);
  r->epfd = epoll_create1(EPOLL_CLOEXEC);
  r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int e = r->epfd < 0 || r->wake_fd < 0 || watch(r, r->wake_fd, &r->wake_fd) < 0 ? errno : 0;
  for (int i = 0; i < 2 && e == 0; i++) {
    if (r->cfg.listen_fd[i] < 0)
      continue;
    fcntl(r->cfg.listen_fd[i], F_SETFL, fcntl(r->cfg.listen_fd[i], F_GETFL) | O_NONBLOCK);
    if (own_address(r, i) < 0 || watch(r, r->cfg.listen_fd[i], &r->cfg.listen_fd[i]) < 0)
      e = errno != 0 ? errno : EINVAL;
  }
  if (e == 0)
    e = pthread_create(&r->thread, NULL, relay_thread, r);
  if (e != 0) {
    r->thread = 0;
    atomic_store(&r->stopping, true);
    net_relay_stop(r);
    return usbox_err_set(err, e, "starting the name-checking relay");
  }
  *out = r;
  return 0;
}

void net_relay_stop(struct net_relay *r)
{
  if (r == NULL)
    return;
  atomic_store(&r->stopping, true);
  if (r->thread != 0) {
    wake(r);
    pthread_join(r->thread, NULL);
  }
  for (struct conn *c = r->conns, *next; c != NULL; c = next) {
    next = c->next;
    if (!c->dead)
      conn_end(r, c, true);
    free(c);
  }
  for (int i = 0; i < 2; i++)
    if (r->cfg.listen_fd[i] >= 0)
      close(r->cfg.listen_fd[i]);
  if (r->epfd >= 0)
    close(r->epfd);
  if (r->wake_fd >= 0)
    close(r->wake_fd);
  pthread_mutex_destroy(&r->lock);
  free(r);
}
