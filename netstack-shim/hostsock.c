/* The agent's socket in the sentry's hands (netstack-shim/hostsock.h). */
#include "netstack-shim/hostsock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/deputy.h"
#include "netstack-shim/net.h"

static int get_int_opt(int s, int level, int name, int *out)
{
  socklen_t len = sizeof *out;
  return getsockopt(s, level, name, out, &len) < 0 ? -errno : 0;
}

static int sock_info(int s, struct net_sock_info *si)
{
  struct stat st;
  if (fstat(s, &st) < 0)
    return -errno;
  if (!S_ISSOCK(st.st_mode))
    return -ENOTSOCK;
  int listening = 0, r;
  if ((r = get_int_opt(s, SOL_SOCKET, SO_DOMAIN, &si->domain)) < 0 ||
      (r = get_int_opt(s, SOL_SOCKET, SO_TYPE, &si->type)) < 0 ||
      (r = get_int_opt(s, SOL_SOCKET, SO_PROTOCOL, &si->protocol)) < 0)
    return r;
  get_int_opt(s, SOL_SOCKET, SO_ACCEPTCONN, &listening);
  si->listening = listening != 0;
  uint64_t cookie;
  socklen_t len = sizeof cookie;
  if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
    return -errno;
  /* where the socket is, not where it was made: a socket the agent received
   * from outside is host-side too */
  si->host = cookie == net_host_cookie();
  return 0;
}

void net_call_end(struct net_call *nc)
{
  if (nc->sock >= 0)
    close(nc->sock);
}

int net_call_begin(struct net_ctx *ctx, int fd, struct net_call *nc)
{
  nc->ctx = ctx;
  nc->fd = fd;
  nc->sock = ctx->ops->getfd(ctx, fd);
  if (nc->sock < 0)
    return nc->sock;
  if (ctx->ops->validate(ctx) < 0)
    return -ESRCH;
  return sock_info(nc->sock, &nc->si);
}

/* ---- acting as the agent ---- */

/* The sentry acts on a socket as the agent thread (common/deputy.h): its
 * fs ids (the owner of a socket made for it, search and write permission on
 * a unix socket's path), its groups and effective capabilities (a port
 * below 1024 needs CAP_NET_BIND_SERVICE, as for the agent), its umask (the
 * mode of a unix socket file). Unix and netlink peers also see ids: the
 * peer credentials of a unix connect (SO_PEERCRED: the connecting thread's
 * effective ids) and the sender of a message (its real ids), so there the
 * real and effective ids are the agent's too; without that an agent running
 * as another user than usbox would show usbox's ids to the host's services. */
static unsigned deputy_flags(const struct net_sock_info *si)
{
  bool peer_ids = si->domain == AF_UNIX || si->domain == AF_NETLINK;
  return DEPUTY_UMASK | (peer_ids ? DEPUTY_IDS : 0);
}

/* ---- performing: the action on a socket, with an address ---- */

long net_act_connect(int sock, const struct sockaddr *sa, socklen_t len, void *arg)
{
  (void)arg;
  return connect(sock, sa, len);
}

long net_act_bind(int sock, const struct sockaddr *sa, socklen_t len, void *arg)
{
  (void)arg;
  return bind(sock, sa, len);
}

long net_act_send(int sock, const struct sockaddr *sa, socklen_t len, void *arg)
{
  struct net_send_arg *s = arg;
  s->m->msg_name = (void *)sa;
  s->m->msg_namelen = sa != NULL ? len : 0;
  /* SIGPIPE would go to the sentry: the agent gets it from net_send */
  return sendmsg(sock, s->m, s->flags | MSG_NOSIGNAL);
}

/* A blocking connect or send waits for the network: the watchdog may
 * interrupt it (EINTR) if the agent goes away or has a signal to take, as
 * the kernel would. Nothing is answered to the agent meanwhile. */
static long act_interruptible(struct net_ctx *ctx, net_act_fn act, int sock,
                              const struct sockaddr *sa, socklen_t len, void *arg)
{
  ctx->ops->interruptible(ctx, true);
  long n = act(sock, sa, len, arg);
  int e = errno;
  ctx->ops->interruptible(ctx, false);
  errno = e;
  return n;
}

/* Act on the agent's own socket (the sentry's copy of it). */
static int sock_deputy_enter(struct net_call *nc)
{
  return net_deputy_enter(nc->ctx, deputy_flags(&nc->si), nc->vouched_caps, nc->writable_place);
}

struct net_result net_perform(struct net_call *nc, net_act_fn act, const struct sockaddr *sa,
                              socklen_t len, void *arg)
{
  int r = sock_deputy_enter(nc);
  if (r < 0)
    return net_fail(r);
  long n = act_interruptible(nc->ctx, act, nc->sock, sa, len, arg);
  int e = errno;
  deputy_leave();
  return n < 0 ? net_errno(e) : net_ok(n);
}

/* ---- moving to the host's namespace ---- */

/* Options the agent may have set before connecting, copied to the socket
 * that replaces its own (best effort: what the kernel refuses is left). */
static const struct {
  int level, name;
} copied_opts[] = {
    {SOL_SOCKET, SO_KEEPALIVE},      {SOL_SOCKET, SO_LINGER},
    {SOL_SOCKET, SO_RCVTIMEO},       {SOL_SOCKET, SO_SNDTIMEO},
    {SOL_SOCKET, SO_REUSEADDR},      {SOL_SOCKET, SO_REUSEPORT},
    {SOL_SOCKET, SO_OOBINLINE},      {SOL_SOCKET, SO_PRIORITY},
    {SOL_SOCKET, SO_BROADCAST},      {SOL_SOCKET, SO_RCVLOWAT},
    {SOL_SOCKET, SO_TIMESTAMP},      {SOL_SOCKET, SO_TIMESTAMPNS},
    {SOL_SOCKET, SO_ZEROCOPY},       {IPPROTO_TCP, TCP_NODELAY},
    {IPPROTO_TCP, TCP_KEEPIDLE},     {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT},      {IPPROTO_TCP, TCP_USER_TIMEOUT},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT}, {IPPROTO_TCP, TCP_FASTOPEN_CONNECT},
    {IPPROTO_TCP, TCP_CONGESTION},   {IPPROTO_TCP, TCP_SYNCNT},
    {IPPROTO_TCP, TCP_LINGER2},      {IPPROTO_TCP, TCP_CORK},
    {IPPROTO_IP, IP_TOS},            {IPPROTO_IP, IP_TTL},
    {IPPROTO_IP, IP_MTU_DISCOVER},   {IPPROTO_IP, IP_RECVERR},
    {IPPROTO_IP, IP_PKTINFO},        {IPPROTO_IP, IP_RECVTOS},
    {IPPROTO_IP, IP_RECVTTL},        {IPPROTO_IP, IP_MULTICAST_TTL},
    {IPPROTO_IP, IP_MULTICAST_LOOP}, {IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT},
    {IPPROTO_IPV6, IPV6_V6ONLY},     {IPPROTO_IPV6, IPV6_TCLASS},
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS}, {IPPROTO_IPV6, IPV6_MTU_DISCOVER},
    {IPPROTO_IPV6, IPV6_RECVERR},    {IPPROTO_IPV6, IPV6_RECVPKTINFO},
    {IPPROTO_IPV6, IPV6_RECVTCLASS}, {IPPROTO_IPV6, IPV6_RECVHOPLIMIT},
    {IPPROTO_UDP, UDP_SEGMENT},      {IPPROTO_UDP, UDP_GRO},
};

static bool opt_applies(int level, const struct net_sock_info *si)
{
  switch (level) {
  case IPPROTO_TCP:
    return si->type == SOCK_STREAM;
  case IPPROTO_UDP:
    return si->type == SOCK_DGRAM;
  case IPPROTO_IPV6:
    return si->domain == AF_INET6;
  default:
    return true;
  }
}

static void copy_options(int from, int to, const struct net_sock_info *si)
{
  for (size_t i = 0; i < sizeof copied_opts / sizeof copied_opts[0]; i++) {
    if (!opt_applies(copied_opts[i].level, si))
      continue;
    char buf[64];
    socklen_t len = sizeof buf;
    if (getsockopt(from, copied_opts[i].level, copied_opts[i].name, buf, &len) == 0)
      setsockopt(to, copied_opts[i].level, copied_opts[i].name, buf, len);
  }
  /* the kernel reports buffer sizes doubled (its bookkeeping): halve them */
  static const int sizes[] = {SO_RCVBUF, SO_SNDBUF};
  for (size_t i = 0; i < 2; i++) {
    int v;
    if (get_int_opt(from, SOL_SOCKET, sizes[i], &v) == 0) {
      v /= 2;
      setsockopt(to, SOL_SOCKET, sizes[i], &v, sizeof v);
    }
  }
}

/* A socket like the agent's, in the sentry's own (the host's) namespace,
 * owned by the agent's fs uid (as routing and the host's firewall see it):
 * made inside the deputy scope of the caller. Non-blocking as the agent's,
 * unless the sentry waits on it itself (blocking). */
static int host_socket(struct net_call *nc, bool blocking)
{
  int fl = fcntl(nc->sock, F_GETFL);
  bool nonblock = !blocking && fl >= 0 && (fl & O_NONBLOCK);
  int type = nc->si.type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
  int h = socket(nc->si.domain, type, nc->si.protocol);
  if (h < 0)
    return -errno;
  copy_options(nc->sock, h, &nc->si);
  return h;
}

static bool stream_connected(int sock)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  return getpeername(sock, (struct sockaddr *)&ss, &len) == 0;
}

/* A socket like the agent's made in the host's namespace and act performed
 * on it, as the agent thread: *h the new socket (or -1), *n the act's
 * result, *e its errno. 0, or -errno when no socket could be made for it
 * (-EISCONN: the agent's stream socket is in use, as the kernel says). */
static int act_on_host(struct net_call *nc, net_act_fn act, const struct sockaddr *sa,
                       socklen_t len, void *arg, bool blocking, int *h, long *n, int *e)
{
  *h = -1;
  if (nc->si.type == SOCK_STREAM && (nc->si.listening || stream_connected(nc->sock)))
    return -EISCONN;
  int r = sock_deputy_enter(nc);
  if (r < 0)
    return r;
  int s = host_socket(nc, blocking);
  if (s >= 0) {
    *n = act_interruptible(nc->ctx, act, s, sa, len, arg);
    *e = errno;
  }
  deputy_leave();
  if (s < 0)
    return s;
  *h = s;
  return 0;
}

struct net_result net_move_to_host(struct net_call *nc, net_act_fn act,
                                   const struct sockaddr *sa, socklen_t len, void *arg)
{
  cleanup_close int h = -1;
  long n;
  int e;
  int r = act_on_host(nc, act, sa, len, arg, false, &h, &n, &e);
  if (r < 0)
    return net_fail(r);
  if (n < 0 && e != EINPROGRESS)
    return net_errno(e);
  r = nc->ctx->ops->setfd(nc->ctx, nc->fd, h);
  if (r < 0)
    return r == -ENOENT ? net_gone() : net_errno(-r);
  return n < 0 ? net_errno(EINPROGRESS) : net_ok(n);
}

int net_connect_on_host(struct net_call *nc, const struct sockaddr *sa, socklen_t len)
{
  /* the sentry's own socket: it waits for the handshake whatever the
   * agent's O_NONBLOCK, so that the agent's connect says how it went */
  cleanup_close int h = -1;
  long n;
  int e;
  int r = act_on_host(nc, net_act_connect, sa, len, NULL, true, &h, &n, &e);
  if (r < 0)
    return r;
  if (n < 0)
    return -e;
  fcntl(h, F_SETFL, fcntl(h, F_GETFL) | O_NONBLOCK);
  return steal_fd(&h);
}
