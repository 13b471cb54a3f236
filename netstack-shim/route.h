/* Where a connect or a send with an address goes, decided on the sentry's
 * own copy of the address and performed there: the sandbox's own loopback
 * and resolver on the agent's socket, an allowed host destination on a
 * socket moved to the host's namespace, a unix path through the view,
 * anything else EACCES. Every step is noted for the audit (ctx->ops->note). */
#ifndef USBOX_NETSTACK_ROUTE_H
#define USBOX_NETSTACK_ROUTE_H

#include <stdbool.h>
#include <sys/socket.h>

#include "netstack-shim/ctx.h"
#include "netstack-shim/hostsock.h"
#include "netstack-shim/msgcopy.h"

/* Decide and perform act on nc's socket with the address sa of len bytes
 * (NULL: the connected peer; sa may be rewritten: the unspecified address
 * becomes loopback). connect says which call it is: an AF_UNSPEC address
 * means different things to connect and send. */
struct net_result net_route(struct net_call *nc, struct sockaddr_storage *sa, socklen_t len,
                            net_act_fn act, void *arg, bool connecting);

/* Send one message copied out of the agent (sendto, sendmsg, each of
 * sendmmsg's) with the agent's flags: its control messages made the
 * sentry's, netlink requests checked, then routed. The agent thread gets
 * the SIGPIPE the kernel would send it. */
struct net_result net_send(struct net_call *nc, struct net_msg_copy *mc, int flags);

#endif
