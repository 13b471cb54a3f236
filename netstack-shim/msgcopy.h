/* What the agent sends, copied out of its memory into the sentry's own
 * buffers before anything is decided on it (never read again): the
 * address, the data, the control messages. The control messages are then
 * made the sentry's: the fds SCM_RIGHTS names become the sentry's copies of
 * the same files, SCM_CREDENTIALS must be the agent's own, and a unix
 * message gets the agent's credentials where the kernel would put the
 * sentry's. */
#ifndef USBOX_NETSTACK_MSGCOPY_H
#define USBOX_NETSTACK_MSGCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "netstack-shim/ctx.h"
#include "netstack-shim/msg.h"

#define NET_SEND_MAX (4u << 20) /* bytes of one send the sentry copies */
#define NET_CTL_MAX 65536       /* control data of one sendmsg */
#define NET_IOV_MAX 1024        /* UIO_MAXIOV */

/* One message to send, copied out of the agent. Start it with
 * .ntaken = 0 and release it (cleanup_msg) whatever happens. */
struct net_msg_copy {
  struct msghdr m;
  struct sockaddr_storage name;
  socklen_t namelen;
  bool has_name;
  bool truncated; /* more than NET_SEND_MAX bytes were asked */
  struct iovec iov;
  uint8_t *data;
  uint8_t *ctl;
  size_t ctllen;
  int taken[NET_SCM_MAX_FD]; /* the agent's fds it passes, taken into the sentry */
  int ntaken;
  bool vouched_creds; /* SCM_CREDENTIALS checked to be the agent's own */
};

void net_msg_release(struct net_msg_copy *mc);
#define cleanup_msg __attribute__((cleanup(net_msg_release)))

/* The agent's address of len bytes at addr (connect, bind, sendto), checked
 * as the kernel checks its length: 0 or -errno. ss is zeroed first. */
int net_read_sockaddr(struct net_ctx *ctx, uint64_t addr, int len, struct sockaddr_storage *ss);
/* The data of the agent's n iovecs (their pointers are the agent's), at
 * most NET_SEND_MAX bytes, into mc as its one iovec: 0 or -errno. */
int net_read_data(struct net_ctx *ctx, const struct iovec *iov, size_t n,
                  struct net_msg_copy *mc);
/* The agent's struct msghdr `um` (its pointers are the agent's): name,
 * data and control data into mc. 0 or -errno. */
int net_read_msg(struct net_ctx *ctx, const struct msghdr *um, struct net_msg_copy *mc);

/* Whether the sentry may vouch for the agent's pid in SCM_CREDENTIALS: the
 * kernel accepts a pid other than the sender's only with CAP_SYS_ADMIN,
 * which a usbox run without root does not have. */
bool net_can_vouch_pid(void);

/* mc's control messages, checked in the kernel's order and made the
 * sentry's (SCM_RIGHTS, SCM_CREDENTIALS): 0 or -errno. */
int net_prepare_control(struct net_ctx *ctx, struct net_msg_copy *mc);
/* A unix message the agent sends without SCM_CREDENTIALS carries, to a
 * receiver that asks (SO_PASSCRED), the sender's pid and real ids: the
 * kernel would put the sentry's, so the agent's (me) are added explicitly.
 * 0 or -ENOMEM. */
int net_add_own_creds(struct net_msg_copy *mc, const struct net_caller *me);

#endif
