/* The sandbox's network as a whole: its rules, what its resolver learned,
 * the resolver itself, and which namespace is the host's. One sandbox per
 * usbox process: the state is process-wide, set once before the sentry's
 * receivers start (sentry/sys_net.c, sys_net_start, which builds the
 * configuration from the policy) and dropped after they stopped. */
#ifndef USBOX_NETSTACK_NET_H
#define USBOX_NETSTACK_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"
#include "netstack-shim/ctx.h"
#include "netstack-shim/netns.h"
#include "netstack-shim/relay.h"
#include "netstack-shim/rules.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* A line of the audit log the network writes outside any call (a query the
 * sandbox's resolver answered): the fields of the sentry's audit record. */
struct net_audit_line {
  const char *syscall;  /* "dns", or "net-name" (the name a connection carried) */
  const char *arg;      /* the name asked */
  const char *decision; /* "emulate" (forwarded) or "deny" */
  int64_t result;       /* the rcode given back */
  const char *rule;     /* why */
  int pid;              /* the process it was for, or 0 (the resolver cannot tell) */
};
typedef void (*net_audit_fn)(void *ctx, const struct net_audit_line *line);

struct net_config {
  bool filtered; /* false: --net host, nothing is filtered */
  /* the --net-allow rules: kept (not copied) until net_stop */
  const struct net_rule *rules;
  size_t nrules;
  struct sockaddr_storage upstream; /* where allowed names are resolved */
  socklen_t upstream_len;           /* 0: none known (answers SERVFAIL) */
  /* where the sandbox's resolver listens (at most NETNS_MAX_RESOLVERS are
   * used), and on which port */
  const struct net_addr *resolvers;
  size_t nresolvers;
  uint16_t resolver_port;
  const char *hostname; /* the sandbox's: answered with its loopback, or NULL */
  net_audit_fn audit; /* NULL: no audit log */
  void *audit_ctx;
};

/* Start the network: in filtered mode the resolver takes over the sockets
 * of fds (fds->n is 0 afterwards). 0, or -1 with err filled (nothing left
 * started). */
int net_start(const struct net_config *cfg, struct netns_fds *fds, usbox_err_t *err);
/* After the receivers stopped. */
void net_stop(void);

/* Started: without it no network call may be answered (fail closed). */
bool net_ready(void);
/* --net host: no filtering, and nothing of the agent's memory is read: the
 * kernel performs the call (documented as unsafe). */
bool net_unfiltered(void);
/* The relay of connections only name rules allow (NULL: no such rule). */
struct net_relay *net_relay_get(void);
/* SO_NETNS_COOKIE of the sentry's (the host's) namespace. */
uint64_t net_host_cookie(void);

/* The policy's decision on destination d (net_decide, with what the
 * resolver learned), noted for the audit. */
struct net_decision net_decide_dest(struct net_ctx *ctx, const struct net_dest *d);

#endif
