/* What a send may carry, and which socket options the sandbox may set:
 * pure checks over the sentry's own copies (unit-tested in
 * tests/unit/test_net_msg.c). */
#ifndef USBOX_NETSTACK_MSG_H
#define USBOX_NETSTACK_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The kernel's own walk over control messages (for_each_cmsghdr): the first
 * header when c is NULL, else the one after c; NULL at the end. The sentry
 * must see exactly the messages the kernel will act on. */
struct cmsghdr *net_cmsg_next(uint8_t *ctl, size_t len, struct cmsghdr *c);
/* CMSG_OK: the kernel refuses the whole send (EINVAL) when one is not. */
bool net_cmsg_ok(const uint8_t *ctl, size_t len, const struct cmsghdr *c);

/* Ancillary data a send may carry besides SCM_RIGHTS and SCM_CREDENTIALS
 * (which the sentry translates): none of it changes where a message goes.
 * SO_MARK (policy routing) and IP options (source routes) would, and the
 * sentry's privilege would be what the kernel checks. */
bool net_cmsg_allowed(int level, int type);

/* NETLINK_ROUTE from the sandbox reads (RTM_GET*): whether every message
 * the kernel would act on in data is a request that changes nothing. */
bool net_netlink_reads_only(const uint8_t *data, size_t len);

/* Socket options that take a socket around the policy: binding it to an
 * interface, marking it for policy routing, transparent proxying, TCP repair
 * (a connection without a handshake). */
bool net_sockopt_denied(int level, int name);

#endif
