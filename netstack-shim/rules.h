/* Network rules and the pure decision over them.
 *
 * A rule is what one `--net-allow HOST[:PORT]` says: an IP address or CIDR,
 * an exact domain name, or `*.domain` (its subdomains), with a port, a port
 * range or any port. The decision (net_decide) is a pure function of the
 * rules, the addresses the sandbox's resolver learned for allowed names, and
 * one destination: no I/O, no clock, no locks, so it is unit-tested on
 * tables of cases (tests/unit/test_net_rules.c). */
#ifndef USBOX_NETSTACK_RULES_H
#define USBOX_NETSTACK_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/error.h"

#define NET_NAME_MAX 254 /* 253 characters of a dotted name, and its NUL */

/* An address as the policy compares it: IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * is stored as the IPv4 address, so one rule covers both spellings. */
struct net_addr {
  int family;    /* AF_INET or AF_INET6 */
  uint8_t b[16]; /* AF_INET: the first 4 bytes, network order */
};

enum net_host_kind {
  NET_HOST_IP,     /* an address or a CIDR */
  NET_HOST_NAME,   /* exactly this name */
  NET_HOST_SUFFIX, /* any name ending in ".suffix" (not the suffix itself) */
  NET_HOST_LOCALHOST, /* "localhost": the host's 127.0.0.1 and ::1, an IP rule */
};

struct net_rule {
  enum net_host_kind kind;
  struct net_addr addr; /* NET_HOST_IP, host bits cleared */
  int prefix;           /* NET_HOST_IP: prefix length (32 or 128 for one address) */
  char name[NET_NAME_MAX]; /* names: lower case, no trailing dot; SUFFIX without "*." */
  uint16_t port_lo, port_hi; /* inclusive; "*" or no port is 1-65535 */
  /* names: "/any-protocol" was given, so a connection this rule allows
   * carries no name the sentry checks (ssh, databases); without it a TCP
   * connection must name the rule's host in its first bytes (TLS SNI, HTTP
   * Host) and UDP is refused */
  bool any_protocol;
  char text[300];            /* the rule as given, for messages and the audit log */
};

/* Parse one HOST[:PORT][/any-protocol] spec. HOST: a.b.c.d, a.b.c.d/N, an IPv6 address
 * (in brackets when a port follows: [::1]:443, [2001:db8::]/32:443 or
 * [2001:db8::/32]:443), name, *.name. PORT: N, A-B or *. Returns 0, or -1
 * with a one-line reason in err. */
int net_rule_parse(const char *spec, struct net_rule *out, usbox_err_t *err);

/* Whether a (lower-case, dot-free at the end) query name falls under a name
 * rule. IP rules never match a name. */
bool net_rule_matches_name(const struct net_rule *r, const char *name);
bool net_rule_matches_port(const struct net_rule *r, uint16_t port);
bool net_rule_matches_addr(const struct net_rule *r, const struct net_addr *a);

/* Canonical form of a DNS name for matching: lower case, trailing dot
 * dropped. Returns 0, or -1 if it is not a valid host name (empty label,
 * label over 63, over 253 characters, characters other than letters,
 * digits, '-' and '_'). */
int net_name_canon(const char *in, char *out, size_t size);

/* A destination: where a connect or a datagram goes. */
struct net_dest {
  struct net_addr addr;
  uint16_t port;
  int proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

/* Read a destination out of a sockaddr copy (AF_INET or AF_INET6, at least
 * as long as the kernel requires: 16 and 24 bytes), normalised: the
 * IPv4-mapped form becomes IPv4, and the unspecified address (0.0.0.0, ::,
 * ::ffff:0.0.0.0), which the kernel connects to the local host, becomes the
 * loopback address. Returns 0, -EAFNOSUPPORT or -EINVAL. */
int net_dest_from_sockaddr(const struct sockaddr_storage *sa, size_t len, int proto,
                           struct net_dest *out);
/* Rewrite the unspecified address in a sockaddr copy to loopback, in its own
 * family's spelling, so that what the sentry connects to is what it checked
 * (the kernel would otherwise pick the socket's bound source address). */
void net_sockaddr_normalize(struct sockaddr_storage *sa);

bool net_addr_is_loopback(const struct net_addr *a);
bool net_addr_equal(const struct net_addr *a, const struct net_addr *b);
/* "1.2.3.4" or "2001:db8::1"; "[v6]:port" / "v4:port" with a port. */
void net_addr_format(const struct net_addr *a, char *out, size_t size);
void net_dest_format(const struct net_dest *d, char *out, size_t size);
/* Parse a literal address (no port, no brackets). 0 or -1. */
int net_addr_parse(const char *text, struct net_addr *out);

/* What the sandbox's resolver learned: an allowed name (under rule `rule`)
 * resolved to addr, valid until `expires` (seconds, any monotonic clock the
 * caller also passes to net_decide). */
struct net_learned {
  struct net_addr addr;
  int rule;
  uint64_t expires;
  char name[NET_NAME_MAX];
};

enum net_verdict {
  NET_DENY,    /* no rule allows it */
  NET_HOST,    /* a rule allows it: performed in the host's network */
  NET_SANDBOX, /* the sandbox's own loopback (its dev servers, its resolver) */
  NET_INSPECT, /* only name rules allow it: TCP, if the first bytes carry one of their names */
};

#define NET_DECISION_NAMES 8

struct net_decision {
  enum net_verdict verdict;
  int rule;    /* the rule that allowed it, or -1 */
  int learned; /* NET_HOST through a name: index into the learned array, else -1 */
  const char *why; /* for decisions no rule made: a fixed text */
  /* NET_INSPECT: the name rules (indexes) the address was learned under, on
   * a port they allow; the connection must carry a name one of them names */
  int names[NET_DECISION_NAMES];
  int nnames;
};

/* The policy, as a pure function. In order:
 *  1. an address:port of the sandbox's resolver: NET_SANDBOX (it listens on
 *     the host's nameserver addresses, inside the sandbox);
 *  2. an IP/CIDR rule matching address and port: NET_HOST (a literal IP is
 *     allowed only by an IP/CIDR rule);
 *  3. an address an allowed name resolved to in this sandbox, not expired at
 *     `now`, with the port allowed by that name's rule: NET_HOST if that rule
 *     says /any-protocol, else NET_INSPECT (with every such rule in names);
 *  4. a loopback address: NET_SANDBOX (the sandbox's own 127.0.0.1 and ::1;
 *     the host's loopback is reachable only through a rule);
 *  5. NET_DENY.
 * Port 0 never matches a rule. */
struct net_decision net_decide(const struct net_rule *rules, size_t nrules,
                               const struct net_learned *learned, size_t nlearned,
                               const struct net_dest *resolvers, size_t nresolvers,
                               const struct net_dest *d, uint64_t now);

/* Which sockets the sandbox may make (socket(2) arguments as the caller
 * gave them, type with its flags). NULL if allowed; else why not, with the
 * errno in *err, checked in the kernel's order (net/socket.c, then the
 * family's create: af_inet.c, af_inet6.c, af_netlink.c, af_packet.c), so a
 * call the kernel would refuse anyway gets the kernel's errno: TCP and UDP
 * over IPv4/IPv6, unix sockets of every type, and NETLINK_ROUTE
 * (interfaces and addresses of the sandbox's own namespace) are allowed;
 * raw and packet sockets get EPERM, as for an unprivileged process; every
 * other family and protocol EAFNOSUPPORT/EPROTONOSUPPORT, so libraries
 * fall back. */
const char *net_socket_check(int domain, int type, int protocol, int *err);

#endif
