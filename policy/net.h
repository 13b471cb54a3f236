/* The network part of the policy (netstack-shim): filtered (the default:
 * nothing but the sandbox's own loopback, plus what --net-allow rules
 * allow) or host (no filtering; unsafe). Built from flags and the JSON
 * policy, validated completely before anything starts. */
#ifndef USBOX_POLICY_NET_H
#define USBOX_POLICY_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/error.h"
#include "netstack-shim/rules.h"

struct policy;
struct cJSON;

enum net_mode {
  NET_MODE_FILTERED, /* own network namespace; the sentry decides every destination */
  NET_MODE_HOST,     /* --net host: the host's network, unfiltered */
};

/* The sandbox's resolver listens, inside the sandbox's namespace, on the
 * addresses of the nameservers of the host's /etc/resolv.conf (which the
 * view shows unchanged), port 53: the agent's DNS reaches the sentry
 * without any file of the view being changed. */
#define NET_RESOLVER_PORT 53
#define NET_MAX_RESOLVERS 3 /* glibc reads at most 3 nameservers */

struct net_policy {
  enum net_mode mode;
  bool mode_none; /* --net none: filtered, and --net-allow is an error */
  struct net_rule *rules;
  size_t nrules;
  struct sockaddr_storage upstream; /* where allowed names are resolved */
  socklen_t upstream_len;           /* 0: none known (answers SERVFAIL) */
  struct net_addr resolvers[NET_MAX_RESOLVERS]; /* where the sandbox's resolver listens */
  size_t nresolvers;
};

void net_policy_init(struct net_policy *n);
/* Frees the rules. */
void net_policy_free(struct net_policy *n);

/* --net-allow HOST[:PORT] (netstack-shim/rules.h for the syntax). */
int net_policy_add_allow(struct net_policy *n, const char *spec, usbox_err_t *err);
/* --net filtered|host|none */
int net_policy_set_mode(struct net_policy *n, const char *mode, usbox_err_t *err);
/* --dns-upstream ADDR[:PORT] ([v6]:port for IPv6): the resolver the
 * sandbox's resolver forwards allowed names to (default: the first
 * nameserver of the host's /etc/resolv.conf). */
int net_policy_set_dns_upstream(struct net_policy *n, const char *addr, usbox_err_t *err);
/* The "network" object of a JSON policy (docs/policy.md); an error names
 * the JSON path (".network.allow[2]: ..."). */
int net_policy_load_json(struct net_policy *n, const struct cJSON *obj, usbox_err_t *err);
/* The same object, written from the policy (the loader reads it back as
 * the same): mode, allow, and dns_upstream when one was given. NULL when
 * memory is short. */
struct cJSON *net_policy_to_json(const struct net_policy *n);

/* Before policy_finish: in filtered mode, read the host's nameservers (the
 * resolver's addresses, and the upstream unless --dns-upstream) and hide
 * the host's local resolver sockets (they would resolve any name). */
int net_policy_finish(struct policy *p, usbox_err_t *err);
/* Whether some name rule lacks /any-protocol: its connections are checked
 * by the relay (netstack-shim/relay.h), whose listeners the sandbox's
 * namespace then carries. */
bool net_policy_needs_relay(const struct net_policy *n);

#endif
