/* The sandbox's own network namespace, made in the agent process between
 * fork and its seccomp filter (sentry/launch.c): a fresh namespace with
 * only the loopback interface, up, carrying the addresses of the host's
 * nameservers, and the sockets of the sandbox's resolver bound to them on
 * port 53, which the sentry takes over (pidfd_getfd). */
#ifndef USBOX_NETSTACK_NETNS_H
#define USBOX_NETSTACK_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "netstack-shim/rules.h"

#define NETNS_MAX_RESOLVERS 3
/* Where the relay listens in the sandbox (a loopback address programs do
 * not use; no agent connect may reach it: netstack-shim/route.c). */
#define NETNS_RELAY_V4 "127.255.255.254"

struct netns_fds {
  int n;                            /* how many pairs; 0 with --net host */
  int dns_udp[NETNS_MAX_RESOLVERS]; /* bound to resolver address i, port 53 */
  int dns_tcp[NETNS_MAX_RESOLVERS]; /* the same, listening */
  int nrelay;   /* 2 when the relay's listeners were asked for, else 0 */
  int relay[2]; /* the name-checking relay's TCP listeners: IPv4, IPv6 (-1: none) */
};

/* unshare(CLONE_NEWNET), loopback up, each resolver address on it with the
 * resolver's sockets (close-on-exec; an address that cannot be had is left
 * out). With relay, the name-checking relay's listeners too
 * (NETNS_RELAY_V4 and [::1], ports the kernel picks). Plain system calls
 * only (runs after fork). 0, or -1 with err filled (and no fd left open). */
int netns_enter_sandbox(const struct net_addr *resolvers, size_t n, bool relay,
                        struct netns_fds *out, usbox_err_t *err);
void netns_fds_close(struct netns_fds *fds);

/* Drop CAP_NET_ADMIN and CAP_NET_RAW for good (bounding set, and the
 * effective, permitted, inheritable and ambient sets): once the namespace
 * is configured the agent never needs them, and a socket the sentry moves
 * to the host's namespace acts there (interface and route ioctls, netlink,
 * SO_MARK, raw sockets), with the caller's capabilities. Async-signal-safe.
 * 0, or -1 with err filled. */
int netns_drop_net_caps(usbox_err_t *err);

#endif
