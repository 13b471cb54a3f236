/* Where a connect or a send goes (netstack-shim/route.h). */
#include "netstack-shim/route.h"

#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "common/cleanup.h"
#include "netstack-shim/net.h"
#include "netstack-shim/relay.h"
#include "netstack-shim/rules.h"
#include "netstack-shim/sockaddr.h"

/* ---- destinations ---- */

/* Only name rules allow d: a TCP connect goes through the relay, which lets
 * it through if its first bytes carry one of their names. Nothing else can
 * carry a name the sentry sees first. */
static struct net_result go_inspect(struct net_call *nc, struct sockaddr_storage *sa,
                                    socklen_t len, const struct net_decision *dec,
                                    const struct net_dest *d, bool connecting)
{
  if (nc->si.host) /* connected already (moved to the host when it was) */
    return net_errno(nc->si.type == SOCK_STREAM ? EISCONN : EACCES);
  if (nc->si.type != SOCK_STREAM) {
    net_note_refusal(nc->ctx, "a name rule allows TCP connections that name it (TLS, HTTP); "
                     "UDP to its addresses needs /any-protocol");
    return net_errno(EACCES);
  }
  if (!connecting) { /* MSG_FASTOPEN: data before any check; as without TCP Fast Open */
    net_note_refusal(nc->ctx, "TCP Fast Open to a name rule's address: its first bytes are "
                     "checked after the connect");
    return net_errno(EOPNOTSUPP);
  }
  struct net_relay *relay = net_relay_get();
  if (relay == NULL)
    return net_errno(EACCES);
  return net_relay_connect(relay, nc, (struct sockaddr *)sa, len, dec, d);
}

/* Whether a TCP connect to the sandbox's loopback was refused: at once
 * (blocking), or, non-blocking, by a reset already in (loopback delivers
 * it before connect returns): the socket is closed again. Read with
 * TCP_INFO, which leaves the error for the agent's own SO_ERROR. */
static bool refused_on_loopback(const struct net_call *nc, struct net_result res)
{
  if (res.gone || (res.err != ECONNREFUSED && res.err != EINPROGRESS))
    return false;
  if (res.err == ECONNREFUSED)
    return true;
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  return nc->si.type == SOCK_STREAM &&
         getsockopt(nc->sock, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_state == TCP_CLOSE;
}

/* Performed in the sandbox (its loopback, its resolver). A connect its own
 * loopback refuses most likely meant the host's (a dev server there): that
 * is a refusal of the policy's to report, whatever the kernel says. */
static struct net_result in_sandbox(struct net_call *nc, struct sockaddr_storage *sa,
                                    socklen_t len, net_act_fn act, void *arg,
                                    const struct net_dest *d, bool connecting)
{
  struct net_result res = net_perform(nc, act, (struct sockaddr *)sa, len, arg);
  if (connecting && net_addr_is_loopback(&d->addr) && refused_on_loopback(nc, res))
    net_note_refusal(nc->ctx, "the sandbox's own loopback: nothing listens there, and no "
                     "--net-allow rule gives the host's");
  return res;
}

static struct net_result go_inet(struct net_call *nc, struct sockaddr_storage *sa, socklen_t len,
                                 net_act_fn act, void *arg, bool connecting)
{
  struct net_dest d;
  int proto = nc->si.type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
  int r = net_dest_from_sockaddr(sa, len, proto, &d);
  if (r < 0)
    return net_errno(-r);
  /* what is connected to is what was checked: 0.0.0.0 and :: become
   * loopback here, not whatever source address the socket is bound to */
  net_sockaddr_normalize(sa);
  struct net_decision dec = net_decide_dest(nc->ctx, &d);
  struct net_relay *relay = net_relay_get();
  if (relay != NULL && net_relay_is_own(relay, &d)) {
    net_note_refusal(nc->ctx, "usbox's relay: reached only through a name rule");
    return net_errno(EACCES);
  }
  if (dec.verdict == NET_INSPECT)
    return go_inspect(nc, sa, len, &dec, &d, connecting);
  /* UDP-Lite stays in the sandbox: rules speak of TCP and UDP, and no
   * host-side UDP-Lite socket is ever made for the agent */
  if (dec.verdict == NET_HOST && nc->si.protocol == IPPROTO_UDPLITE) {
    net_note_refusal(nc->ctx, "UDP-Lite reaches the sandbox's own loopback only");
    return net_errno(EACCES);
  }
  switch (dec.verdict) {
  case NET_HOST:
    return nc->si.host ? net_perform(nc, act, (struct sockaddr *)sa, len, arg)
                       : net_move_to_host(nc, act, (struct sockaddr *)sa, len, arg);
  case NET_SANDBOX:
    /* a host-side socket would reach the host's loopback, not the sandbox's */
    if (nc->si.host) {
      net_note_refusal(nc->ctx, "a socket on the host's side cannot reach the sandbox's loopback");
      return net_errno(EACCES);
    }
    return in_sandbox(nc, sa, len, act, arg, &d, connecting);
  case NET_DENY:
  case NET_INSPECT:
    break;
  }
  return net_errno(EACCES);
}

/* A unix path, reached through the view: resolve it there (hidden and
 * unbound paths do not exist), then connect through /proc/self/fd/N of the
 * sentry's own fd of that socket inode. */
static struct net_result unix_by_path(struct net_call *nc, const char *path, net_act_fn act,
                                      void *arg)
{
  net_note_dest(nc->ctx, "unix %s", path);
  net_note_rule(nc->ctx, "the view");
  cleanup_close int fd = nc->ctx->ops->open_unix(nc->ctx, path, &nc->writable_place);
  if (fd < 0)
    return net_fail(fd);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "/proc/self/fd/%d", fd);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
  return net_perform(nc, act, (struct sockaddr *)&un, len, arg);
}

static struct net_result go_unix(struct net_call *nc, struct sockaddr_storage *sa, socklen_t len,
                                 net_act_fn act, void *arg)
{
  struct net_unix_addr ua;
  int r = net_unix_addr_decode(sa, len, &ua);
  if (r == 0 && ua.kind == NET_UNIX_PATH)
    return unix_by_path(nc, ua.name, act, arg);
  /* abstract names are per network namespace: the sandbox's own, unless the
   * socket came from the host's side. An address the kernel refuses goes
   * the same way: the kernel answers it (EINVAL, or what a stream socket
   * says of any address) before it names anything. */
  if (r == 0)
    net_note_dest(nc->ctx, "unix @%.*s", (int)ua.len, ua.name);
  else
    net_note_dest(nc->ctx, "unix (an invalid address of %u bytes)", (unsigned)len);
  if (nc->si.host) {
    net_note_refusal(nc->ctx, "abstract names of the host are unreachable");
    return net_errno(ECONNREFUSED);
  }
  net_note_rule(nc->ctx, "the sandbox's own abstract names");
  return net_perform(nc, act, (struct sockaddr *)sa, len, arg);
}

struct net_result net_route(struct net_call *nc, struct sockaddr_storage *sa, socklen_t len,
                            net_act_fn act, void *arg, bool connecting)
{
  bool inet = nc->si.domain == AF_INET || nc->si.domain == AF_INET6;
  if (inet && len >= (socklen_t)sizeof(sa_family_t) && sa->ss_family == AF_UNSPEC) {
    if (connecting) {
      /* dissolves the association: no destination; the sentry's own clean
       * AF_UNSPEC address, so nothing else is read from the agent's */
      net_note_dest(nc->ctx, "AF_UNSPEC (disconnect)");
      struct sockaddr_storage unspec = {.ss_family = AF_UNSPEC};
      return net_perform(nc, act, (struct sockaddr *)&unspec, len, arg);
    }
    /* udp_sendmsg reads an AF_UNSPEC name as AF_INET; IPv6 sockets ignore
     * it (send to the connected peer) */
    if (nc->si.domain == AF_INET6)
      return net_route(nc, NULL, 0, act, arg, false);
    sa->ss_family = AF_INET;
  }
  if (sa == NULL) {
    net_note_dest(nc->ctx, "the connected peer");
    net_note_rule(nc->ctx, "checked when it was connected");
    return net_perform(nc, act, NULL, 0, arg);
  }
  if (inet && (sa->ss_family == AF_INET || sa->ss_family == AF_INET6))
    return go_inet(nc, sa, len, act, arg, connecting);
  if (nc->si.domain == AF_UNIX && sa->ss_family == AF_UNIX)
    return go_unix(nc, sa, len, act, arg);
  /* a family the socket does not take (the kernel refuses it), or netlink
   * addresses (the kernel of the socket's own namespace) */
  net_note_dest(nc->ctx, "family %d", sa->ss_family);
  if (nc->si.host) {
    net_note_refusal(nc->ctx, "a socket on the host's side reaches only what rules allow");
    return net_errno(EACCES);
  }
  return net_perform(nc, act, (struct sockaddr *)sa, len, arg);
}

/* ---- sending ---- */

static struct net_result send_result(struct net_call *nc, struct net_result res, int flags)
{
  /* the kernel sends SIGPIPE to the sending thread with EPIPE; the sentry
   * asked for none, so the agent's thread gets it here */
  if (!res.gone && res.err == EPIPE && !(flags & MSG_NOSIGNAL))
    nc->ctx->ops->signal(nc->ctx, SIGPIPE);
  return res;
}

/* The control messages of mc made the sentry's, and on a unix socket the
 * agent's own credentials added where the kernel would put the sentry's;
 * then what the deputy may hold beyond the agent's capabilities for them. */
static int prepare_credentials(struct net_call *nc, struct net_msg_copy *mc)
{
  int r = mc->ctl != NULL ? net_prepare_control(nc->ctx, mc) : 0;
  if (r < 0)
    return r;
  struct net_caller me;
  /* a caller that cannot be identified here gets no credentials added: the
   * send goes on, and fails wherever the caller is really gone */
  if (nc->si.domain == AF_UNIX && !mc->vouched_creds && net_can_vouch_pid() &&
      (r = nc->ctx->ops->identify(nc->ctx, &me)) == 0 && (r = net_add_own_creds(mc, &me)) < 0)
    return r;
  nc->vouched_caps = mc->vouched_creds && net_can_vouch_pid() ? 1ull << CAP_SYS_ADMIN : 0;
  return 0;
}

struct net_result net_send(struct net_call *nc, struct net_msg_copy *mc, int flags)
{
  if (mc->truncated && nc->si.type != SOCK_STREAM)
    return net_errno(EMSGSIZE);
  int r = prepare_credentials(nc, mc);
  if (r < 0)
    return net_fail(r);
  if (nc->si.domain == AF_NETLINK && !net_netlink_reads_only(mc->data, mc->iov.iov_len)) {
    net_note_dest(nc->ctx, "netlink");
    net_note_refusal(nc->ctx, "netlink requests that change the network are denied");
    return net_errno(EPERM);
  }
  struct net_send_arg arg = {&mc->m, flags};
  /* A TCP socket ignores the address (unless MSG_FASTOPEN, which connects
   * to it): send to the connected peer, as the kernel would. */
  bool tcp = nc->si.type == SOCK_STREAM && nc->si.domain != AF_UNIX;
  if (!mc->has_name || (tcp && !(flags & MSG_FASTOPEN)))
    return send_result(nc, net_route(nc, NULL, 0, net_act_send, &arg, false), flags);
  return send_result(nc, net_route(nc, &mc->name, mc->namelen, net_act_send, &arg, false),
                     flags);
}
