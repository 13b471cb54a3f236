/* Connections only a name rule allows: the agent's socket is connected to
 * the sentry's relay inside the sandbox, the sentry's socket to the
 * destination, and nothing passes until the agent's first bytes carry a
 * name of one of those rules (netstack-shim/peek.h: TLS SNI, HTTP Host).
 * Then the relay moves the bytes both ways with splice(2), in the kernel;
 * otherwise both ends are reset and the audit log says which name was
 * sent. One thread (epoll) serves every connection of the sandbox.
 * netstack-shim/README.md, "Name rules: the first bytes". */
#ifndef USBOX_NETSTACK_RELAY_H
#define USBOX_NETSTACK_RELAY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"
#include "netstack-shim/hostsock.h"
#include "netstack-shim/rules.h"

struct net_relay;
struct net_audit_line;

struct net_relay_config {
  int listen_fd[2]; /* listening in the sandbox's namespace: IPv4, IPv6 (-1: none) */
  const struct net_rule *rules;
  size_t nrules;
  void (*audit)(void *ctx, const struct net_audit_line *line); /* NULL: no audit log */
  void *audit_ctx;
};

/* Takes the listeners (closed by net_relay_stop, or here on failure). */
int net_relay_start(struct net_relay **out, const struct net_relay_config *cfg,
                    usbox_err_t *err);
void net_relay_stop(struct net_relay *r);

/* Whether d is one of the relay's listeners: no agent connects there
 * itself. */
bool net_relay_is_own(const struct net_relay *r, const struct net_dest *d);

/* The connect of nc's TCP socket to sa (the agent's own copy, checked as
 * d), which decision dec (NET_INSPECT) allows if the connection carries a
 * name: the sentry connects to the destination from the host's network,
 * then the agent's socket to the relay. Answers what the agent's connect
 * answers (0, EINPROGRESS for a non-blocking socket, the destination's
 * errno). */
struct net_result net_relay_connect(struct net_relay *r, struct net_call *nc,
                                    const struct sockaddr *sa, socklen_t len,
                                    const struct net_decision *dec, const struct net_dest *d);

/* What getpeername (local false) or getsockname (local true) answers for
 * the agent's socket with SO_COOKIE cookie, if the relay carries it: the
 * destination, and the address of the sentry's socket on the host's
 * network, as the agent's socket would show them natively. */
bool net_relay_address(struct net_relay *r, uint64_t cookie, bool local,
                       struct sockaddr_storage *out, socklen_t *len);

#endif
