#include "netstack-shim/netns.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

#define RESOLVER_PORT 53

void netns_fds_close(struct netns_fds *fds)
{
  for (int i = 0; i < fds->n; i++) {
    if (fds->dns_udp[i] >= 0)
      close(fds->dns_udp[i]);
    if (fds->dns_tcp[i] >= 0)
      close(fds->dns_tcp[i]);
  }
  fds->n = 0;
  for (int i = 0; i < fds->nrelay && i < 2; i++)
    if (fds->relay[i] >= 0)
      close(fds->relay[i]);
  fds->nrelay = 0;
}

/* A new namespace has "lo", down: without it up not even the sandbox's own
 * 127.0.0.1 works. */
static int loopback_up(usbox_err_t *err)
{
  cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return usbox_err_set(err, errno, "socket for configuring the sandbox's loopback");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
    return usbox_err_set(err, errno, "reading the flags of the sandbox's loopback");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
    return usbox_err_set(err, errno, "bringing the sandbox's loopback up");
  return 0;
}

/* One netlink attribute at *off of buf. */
static void put_attr(uint8_t *buf, size_t *off, unsigned short type, const void *data,
                     size_t len)
{
  struct rtattr rta = {.rta_len = (unsigned short)RTA_LENGTH(len), .rta_type = type};
  memcpy(buf + *off, &rta, sizeof rta);
  memcpy(buf + *off + RTA_LENGTH(0), data, len);
  *off += RTA_ALIGN(rta.rta_len);
}

/* RTM_NEWADDR: a host address (/32, /128) on lo, so that the agent's
 * queries to the host's nameserver stay in its namespace and reach the
 * sentry's resolver. IPv6 without duplicate detection: usable at once. */
static int add_address(const struct net_addr *a, usbox_err_t *err)
{
  _Alignas(struct nlmsghdr) uint8_t req[256];
  memset(req, 0, sizeof req);
  size_t alen = a->family == AF_INET ? 4 : 16;
  struct ifaddrmsg ifa = {
      .ifa_family = (uint8_t)a->family,
      .ifa_prefixlen = (uint8_t)(alen * 8),
      .ifa_scope = RT_SCOPE_HOST,
      .ifa_index = if_nametoindex("lo"),
  };
  size_t off = NLMSG_LENGTH(sizeof ifa);
  memcpy(req + NLMSG_LENGTH(0), &ifa, sizeof ifa);
  off = NLMSG_ALIGN(off);
  put_attr(req, &off, IFA_LOCAL, a->b, alen);
  uint32_t flags = IFA_F_NODAD | IFA_F_PERMANENT;
  put_attr(req, &off, IFA_FLAGS, &flags, sizeof flags);
  struct nlmsghdr nh = {
      .nlmsg_len = (uint32_t)off,
      .nlmsg_type = RTM_NEWADDR,
      .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
  };
  memcpy(req, &nh, sizeof nh);
  cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0 || send(fd, req, off, 0) < 0)
    return usbox_err_set(err, errno, "adding a nameserver address to the sandbox's loopback");
  _Alignas(struct nlmsghdr) uint8_t buf[512];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
  if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR)
    return usbox_err_set(err, EPROTO, "adding a nameserver address to the sandbox's loopback");
  const struct nlmsgerr *e = NLMSG_DATA(h);
  if (e->error != 0 && e->error != -EEXIST)
    return usbox_err_set(err, -e->error, "adding a nameserver address to the sandbox's loopback");
  return 0;
}

static int resolver_socket(const struct net_addr *a, int type, usbox_err_t *err)
{
  cleanup_close int fd = socket(a->family, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return usbox_err_set(err, errno, "socket for the sandbox's resolver");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (a->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(RESOLVER_PORT);
    memcpy(&in->sin_addr, a->b, 4);
    len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(RESOLVER_PORT);
    memcpy(&in6->sin6_addr, a->b, 16);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    len = sizeof *in6;
  }
  if (bind(fd, (struct sockaddr *)&ss, len) < 0)
    return usbox_err_set(err, errno, "binding the sandbox's resolver to port %d", RESOLVER_PORT);
  if (type == SOCK_STREAM && listen(fd, 64) < 0)
    return usbox_err_set(err, errno, "listen for the sandbox's resolver");
  return steal_fd(&fd);
}

/* The resolver on one nameserver address; a failure leaves that address
 * out (an address family the kernel lacks, say): queries to it then fail
 * inside the sandbox, and resolvers try their next nameserver. */
static void add_resolver(const struct net_addr *a, struct netns_fds *out)
{
  usbox_err_t ignored;
  if (!net_addr_is_loopback(a) && add_address(a, &ignored) < 0)
    return;
  int u = resolver_socket(a, SOCK_DGRAM, &ignored);
  int t = u < 0 ? -1 : resolver_socket(a, SOCK_STREAM, &ignored);
  if (t < 0) {
    if (u >= 0)
      close(u);
    return;
  }
  out->dns_udp[out->n] = u;
  out->dns_tcp[out->n] = t;
  out->n++;
}

/* A relay listener on addr (IPv6 only: no mapped connections), or -1. */
static int relay_listener(int family, const char *addr)
{
  cleanup_close int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &in->sin_addr);
    len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, addr, &in6->sin6_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    len = sizeof *in6;
  }
  if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0)
    return -1;
  return steal_fd(&fd);
}

int netns_enter_sandbox(const struct net_addr *resolvers, size_t n, bool relay,
                        struct netns_fds *out, usbox_err_t *err)
{
  out->n = 0;
  out->nrelay = 0;
  if (unshare(CLONE_NEWNET) < 0)
    return usbox_err_set(err, errno, "unshare(CLONE_NEWNET) for the sandbox's network");
  if (loopback_up(err) < 0)
    return -1;
  for (size_t i = 0; i < n && i < NETNS_MAX_RESOLVERS; i++)
    add_resolver(&resolvers[i], out);
  if (relay) {
    out->relay[0] = relay_listener(AF_INET, NETNS_RELAY_V4);
    out->relay[1] = relay_listener(AF_INET6, "::1");
    out->nrelay = 2;
    if (out->relay[0] < 0 && out->relay[1] < 0) {
      netns_fds_close(out);
      return usbox_err_set(err, errno, "listening for the name-checking relay");
    }
  }
  return 0;
}

int netns_drop_net_caps(usbox_err_t *err)
{
  static const int caps[] = {CAP_NET_ADMIN, CAP_NET_RAW};
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    /* not in the bounding set: no execve (of root, or of a file with
     * capabilities) gives it back */
    if (prctl(PR_CAPBSET_DROP, caps[i], 0, 0, 0) < 0 && errno != EINVAL)
      return usbox_err_set(err, errno, "dropping network capabilities");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, caps[i], 0, 0);
  }
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0)
    return usbox_err_set(err, errno, "capget");
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    uint32_t bit = 1u << (caps[i] % 32);
    data[caps[i] / 32].effective &= ~bit;
    data[caps[i] / 32].permitted &= ~bit;
    data[caps[i] / 32].inheritable &= ~bit;
  }
  if (syscall(SYS_capset, &hdr, data) < 0)
    return usbox_err_set(err, errno, "dropping network capabilities");
  return 0;
}
