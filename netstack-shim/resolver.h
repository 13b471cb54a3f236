/* The sandbox's resolver: a DNS proxy in the sentry process.
 *
 * It serves the UDP and TCP sockets the agent process bound on port 53 of
 * the host's nameserver addresses inside the sandbox's namespace
 * (netstack-shim/netns.c), where the unchanged /etc/resolv.conf sends the
 * agent's queries. A query for a name some --net-allow rule
 * names is forwarded to the upstream resolver from the host's network, and
 * the A/AAAA addresses of the answer are remembered under that rule until
 * their TTL (at least NET_DNS_MIN_TTL) runs out: a connect is allowed to
 * such an address only. Any other name gets NXDOMAIN without leaving the
 * sentry. One thread waits for queries; each query (each TCP connection)
 * is answered on a short-lived thread of its own, so a slow upstream holds
 * up no one else. */
#ifndef USBOX_NETSTACK_RESOLVER_H
#define USBOX_NETSTACK_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/error.h"
#include "netstack-shim/learned.h"
#include "netstack-shim/rules.h"

/* Programs keep using an address a little past its TTL (connection pools,
 * their own caches): an answer stays valid for at least this long. */
#define NET_DNS_MIN_TTL 30
#define NET_RESOLVER_MAX_FDS 3

struct net_resolver;

/* One line of the audit log per query: the name, whether it was forwarded,
 * the rule that allowed it (or NULL), the rcode given back, and why an
 * answer was refused (or NULL). */
typedef void (*net_resolver_log_fn)(void *ctx, const char *name, bool allowed,
                                    const struct net_rule *rule, int rcode, const char *refused);

struct net_resolver_config {
  int nfds;                                /* pairs of sockets */
  int udp_fd[NET_RESOLVER_MAX_FDS];        /* bound in the sandbox's namespace; */
  int tcp_fd[NET_RESOLVER_MAX_FDS];        /* the resolver owns them */
  struct sockaddr_storage upstream;
  socklen_t upstream_len; /* 0: no upstream, allowed names get SERVFAIL */
  const struct net_rule *rules;
  size_t nrules;
  struct net_learned_cache *learned;
  net_resolver_log_fn log;
  void *log_ctx;
  /* the sandbox's host name: A 127.0.0.1 / AAAA ::1 without any rule (the
   * agent's own name is its loopback, as /etc/hosts has the host's), or
   * NULL */
  const char *own_name;
};

int net_resolver_start(struct net_resolver **out, const struct net_resolver_config *cfg,
                       usbox_err_t *err);
/* Stop answering and wait for the query threads (they give up within
 * 100 ms); closes the sockets. */
void net_resolver_stop(struct net_resolver *r);

/* The answer to one query (exposed for tests): forwards through `forward`
 * when the name is allowed. Returns the answer's length, 0 for no answer. */
typedef ssize_t (*net_forward_fn)(void *ctx, const uint8_t *q, size_t qlen, uint8_t *out,
                                  size_t cap);
size_t net_resolver_answer(const struct net_resolver_config *cfg, const uint8_t *q, size_t qlen,
                           uint8_t *out, size_t cap, net_forward_fn forward, void *fctx);

#endif
