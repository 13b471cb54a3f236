/* The agent's socket in the sentry's hands: taking it (the sentry's copy of
 * the same open file), acting on it as the agent thread (the deputy), and
 * moving it to the host's network namespace: a socket like it made there,
 * the options the agent set copied, the act performed on it, and that
 * socket put in place of the agent's fd. See netstack-shim/README.md,
 * "Reaching the host's network: the sentry connects". */
#ifndef USBOX_NETSTACK_HOSTSOCK_H
#define USBOX_NETSTACK_HOSTSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "netstack-shim/ctx.h"

struct net_sock_info {
  int domain, type, protocol;
  bool host;      /* lives in the host's namespace (the sentry moved it there) */
  bool listening; /* SO_ACCEPTCONN */
};

/* One call on one of the agent's sockets. */
struct net_call {
  struct net_ctx *ctx;
  int fd;   /* the agent's number for it */
  int sock; /* the sentry's copy */
  struct net_sock_info si;
  /* capabilities the deputy holds beyond the agent's for this call: only
   * CAP_SYS_ADMIN, for SCM_CREDENTIALS that the sentry found to be the
   * agent's own (the kernel accepts a pid other than the sender's only
   * with it, and the sender here is the sentry) */
  uint64_t vouched_caps;
  /* the unix socket path acted on is in a writable place of the view: the
   * agent's capabilities that override file permissions count (else, and
   * for every other socket, they are left out: common/deputy.h) */
  bool writable_place;
};

/* Take the agent's socket and check the call is still pending: every read
 * of agent memory the decision uses must be done before this. 0 or -errno
 * (-ESRCH: the call is gone). Start nc with .sock = -1 and end it with
 * net_call_end (cleanup_net_call) whatever this answers. */
int net_call_begin(struct net_ctx *ctx, int fd, struct net_call *nc);
void net_call_end(struct net_call *nc);
#define cleanup_net_call __attribute__((cleanup(net_call_end)))

/* ---- performing: the action on a socket, with an address ---- */

/* One action on a socket: -1 with errno, or what the system call gives. */
typedef long (*net_act_fn)(int sock, const struct sockaddr *sa, socklen_t len, void *arg);

long net_act_connect(int sock, const struct sockaddr *sa, socklen_t len, void *arg);
long net_act_bind(int sock, const struct sockaddr *sa, socklen_t len, void *arg);
/* arg: the message to send, its name set from sa. */
struct net_send_arg {
  struct msghdr *m;
  int flags;
};
long net_act_send(int sock, const struct sockaddr *sa, socklen_t len, void *arg);

/* Act on the agent's own socket (the sentry's copy of it), as the agent
 * thread. */
struct net_result net_perform(struct net_call *nc, net_act_fn act, const struct sockaddr *sa,
                              socklen_t len, void *arg);

/* The agent's socket is in the sandbox's namespace, where the host's
 * network is not: act on a host socket like it and put that one in place
 * of the agent's. If the act fails, the agent keeps its own socket. */
struct net_result net_move_to_host(struct net_call *nc, net_act_fn act,
                                   const struct sockaddr *sa, socklen_t len, void *arg);

/* A host socket like the agent's, connected to sa as the agent thread
 * (blocking, interruptible by the watchdog), left non-blocking and the
 * sentry's: its fd, or -errno (-EISCONN for a stream socket in use, the
 * connect's errno). The agent's socket is not touched. */
int net_connect_on_host(struct net_call *nc, const struct sockaddr *sa, socklen_t len);

#endif
