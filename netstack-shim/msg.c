#include "netstack-shim/msg.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <string.h>

struct cmsghdr *net_cmsg_next(uint8_t *ctl, size_t len, struct cmsghdr *c)
{
  size_t off = 0;
  if (c != NULL) {
    /* Past a message that is not CMSG_OK the kernel acts on nothing: it
     * refuses the send there. Stopping there too keeps a cmsg_len of 0
     * (or one that wraps the offset around) from walking in place or
     * backwards, forever. */
    if (!net_cmsg_ok(ctl, len, c))
      return NULL;
    off = (size_t)((uint8_t *)c - ctl) + CMSG_ALIGN(c->cmsg_len);
  }
  if (off > len || len - off < sizeof(struct cmsghdr))
    return NULL;
  return (struct cmsghdr *)(ctl + off);
}

bool net_cmsg_ok(const uint8_t *ctl, size_t len, const struct cmsghdr *c)
{
  size_t room = len - (size_t)((const uint8_t *)c - ctl);
  return c->cmsg_len >= sizeof(struct cmsghdr) && c->cmsg_len <= room;
}

int net_cmsg_step(uint8_t *ctl, size_t len, struct net_cmsg *m)
{
  struct cmsghdr *c = net_cmsg_next(ctl, len, m->hdr);
  if (c == NULL)
    return 0;
  m->hdr = c;
  m->nfds = 0;
  if (!net_cmsg_ok(ctl, len, c))
    return -EINVAL; /* the kernel refuses the whole send */
  if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
    /* scm_fp_copy: a partial int is ignored; the limit counts every
     * SCM_RIGHTS of the send */
    m->kind = NET_CMSG_RIGHTS;
    m->nfds = (c->cmsg_len - sizeof(struct cmsghdr)) / sizeof(int);
    if (m->nfds > NET_SCM_MAX_FD || m->total_fds + m->nfds > NET_SCM_MAX_FD)
      return -EINVAL;
    m->total_fds += m->nfds;
    return 1;
  }
  if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
    m->kind = NET_CMSG_CREDS;
    if (c->cmsg_len != CMSG_LEN(sizeof m->creds))
      return -EINVAL;
    memcpy(&m->creds, CMSG_DATA(c), sizeof m->creds);
    return 1;
  }
  m->kind = NET_CMSG_OTHER;
  return net_cmsg_allowed(c->cmsg_level, c->cmsg_type) ? 1 : -EINVAL;
}

bool net_cmsg_allowed(int level, int type)
{
  switch (level) {
  case SOL_SOCKET:
    return type == SCM_TXTIME || type == SO_TIMESTAMPING_OLD;
  case SOL_IP:
    return type == IP_PKTINFO || type == IP_TOS || type == IP_TTL;
  case SOL_IPV6:
    return type == IPV6_PKTINFO || type == IPV6_HOPLIMIT || type == IPV6_TCLASS ||
           type == IPV6_DONTFRAG;
  case SOL_UDP:
    return type == UDP_SEGMENT;
  }
  return false;
}

bool net_netlink_reads_only(const uint8_t *data, size_t len)
{
  while (len >= sizeof(struct nlmsghdr)) {
    struct nlmsghdr h;
    memcpy(&h, data, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > len)
      return true; /* the kernel stops reading here too */
    /* below RTM_BASE: NLMSG_NOOP, _ERROR, _DONE...: control, acted on by
     * no one; RTM_GET* are the types 2 mod 4 */
    if (h.nlmsg_type >= RTM_BASE && (h.nlmsg_type - RTM_BASE) % 4 != 2)
      return false;
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step > len)
      step = len;
    data += step;
    len -= step;
  }
  return true;
}

bool net_sockopt_denied(int level, int name)
{
  switch (level) {
  case SOL_SOCKET:
    return name == SO_BINDTODEVICE || name == SO_BINDTOIFINDEX || name == SO_MARK;
  case SOL_IP:
    return name == IP_TRANSPARENT;
  case SOL_IPV6:
    return name == IPV6_TRANSPARENT;
  case SOL_TCP:
    return name == TCP_REPAIR || name == TCP_REPAIR_QUEUE || name == TCP_QUEUE_SEQ ||
           name == TCP_REPAIR_OPTIONS || name == TCP_REPAIR_WINDOW;
  }
  return false;
}
