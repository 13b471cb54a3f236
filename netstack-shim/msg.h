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
 * header when c is NULL, else the one after c; NULL at the end, and after a
 * c that is not net_cmsg_ok (the kernel refuses the send there, so nothing
 * after it is acted on; each step moves on by a header at least). The
 * sentry must see exactly the messages the kernel will act on. */
struct cmsghdr *net_cmsg_next(uint8_t *ctl, size_t len, struct cmsghdr *c);
/* CMSG_OK: the kernel refuses the whole send (EINVAL) when one is not. */
bool net_cmsg_ok(const uint8_t *ctl, size_t len, const struct cmsghdr *c);

#define NET_SCM_MAX_FD 253 /* SCM_MAX_FD: the fds one send may pass, in all */

enum net_cmsg_kind {
  NET_CMSG_RIGHTS = 1, /* SCM_RIGHTS: nfds ints at CMSG_DATA(hdr) */
  NET_CMSG_CREDS,      /* SCM_CREDENTIALS: creds */
  NET_CMSG_OTHER,      /* one net_cmsg_allowed lets through as it is */
};

/* A walk over the control messages of one send. Start it zeroed. */
struct net_cmsg {
  struct cmsghdr *hdr; /* the message, in the buffer; NULL before the first */
  enum net_cmsg_kind kind;
  size_t nfds;        /* NET_CMSG_RIGHTS: how many fds it passes */
  size_t total_fds;   /* the fds of this and every earlier SCM_RIGHTS */
  struct ucred creds; /* NET_CMSG_CREDS: a copy of what it says */
};

/* The next control message of ctl, checked as the kernel's __scm_send
 * checks it, in order (so the sentry fails where the kernel would): 1 with
 * *m describing it, 0 at the end, or -EINVAL when it is not CMSG_OK, its
 * SCM_RIGHTS would make more than NET_SCM_MAX_FD fds, its SCM_CREDENTIALS is
 * not exactly a struct ucred, or it is of a kind net_cmsg_allowed refuses.
 * m->hdr always lies within ctl, and the walk ends. */
int net_cmsg_step(uint8_t *ctl, size_t len, struct net_cmsg *m);

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
