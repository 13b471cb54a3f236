/* The network family (netstack-shim's handlers): socket, connect, bind,
 * listen, sendto, sendmsg, sendmmsg, setsockopt. See netstack-shim/README.md
 * for the design: the agent lives in its own network namespace; the sentry
 * performs every call that names a destination, on its own copy of the
 * address, and reaches the host's network for it when a rule allows. */
#ifndef USBOX_SENTRY_SYS_NET_H
#define USBOX_SENTRY_SYS_NET_H

#include "common/error.h"
#include "netstack-shim/netns.h"

struct policy;
struct audit;
struct report;

/* Before the receivers start: the policy's network part, the resolver's
 * sockets (taken over; -1 with --net host), the audit log and -v's report
 * (each may be NULL) for what the resolver and the relay decide outside
 * any call. One sandbox per usbox process: the state is process-wide. */
int sys_net_start(const struct policy *p, struct netns_fds *fds, struct audit *audit,
                  struct report *report, usbox_err_t *err);
/* After the receivers stopped. */
void sys_net_stop(void);

#endif
