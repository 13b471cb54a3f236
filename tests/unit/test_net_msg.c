/* netstack-shim/msg.c: the kernel's walk over control messages, what a send
 * may carry, netlink requests that only read, denied socket options. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack-shim/msg.h"

static size_t put_cmsg(uint8_t *buf, size_t off, int level, int type, size_t datalen,
                       size_t claimed)
{
  struct cmsghdr h = {.cmsg_len = claimed, .cmsg_level = level, .cmsg_type = type};
  memcpy(buf + off, &h, sizeof h);
  return off + CMSG_SPACE(datalen);
}

static void test_walk(void **state)
{
  (void)state;
  _Alignas(struct cmsghdr) uint8_t ctl[256];
  memset(ctl, 0, sizeof ctl);
  size_t n = put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, CMSG_LEN(8));
  n = put_cmsg(ctl, n, SOL_IP, IP_TOS, 4, CMSG_LEN(4));
  struct cmsghdr *c = net_cmsg_next(ctl, n, NULL);
  assert_non_null(c);
  assert_true(net_cmsg_ok(ctl, n, c));
  assert_int_equal(c->cmsg_type, SCM_RIGHTS);
  c = net_cmsg_next(ctl, n, c);
  assert_non_null(c);
  assert_int_equal(c->cmsg_level, SOL_IP);
  assert_null(net_cmsg_next(ctl, n, c));
  /* shorter than a header: nothing */
  assert_null(net_cmsg_next(ctl, sizeof(struct cmsghdr) - 1, NULL));
  /* a length running past the buffer is not OK (the kernel says EINVAL) */
  put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, 200);
  c = net_cmsg_next(ctl, n, NULL);
  assert_false(net_cmsg_ok(ctl, n, c));
  put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, 4);
  assert_false(net_cmsg_ok(ctl, n, net_cmsg_next(ctl, n, NULL)));
  /* a huge length does not wrap the walk around */
  put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, (size_t)-8);
  assert_null(net_cmsg_next(ctl, n, (struct cmsghdr *)ctl));
}

static void test_allowed(void **state)
{
  (void)state;
  assert_true(net_cmsg_allowed(SOL_IP, IP_PKTINFO));
  assert_true(net_cmsg_allowed(SOL_IPV6, IPV6_TCLASS));
  assert_false(net_cmsg_allowed(SOL_SOCKET, SO_MARK));
  assert_false(net_cmsg_allowed(SOL_IP, IP_RETOPTS));
  assert_false(net_cmsg_allowed(SOL_IPV6, IPV6_RTHDR));
  assert_false(net_cmsg_allowed(SOL_IPV6, IPV6_NEXTHOP));
  assert_true(net_sockopt_denied(SOL_SOCKET, SO_BINDTODEVICE));
  assert_true(net_sockopt_denied(SOL_SOCKET, SO_MARK));
  assert_true(net_sockopt_denied(SOL_IP, IP_TRANSPARENT));
  assert_true(net_sockopt_denied(SOL_TCP, TCP_REPAIR));
  /* the same numbers at other levels are other options */
  assert_false(net_sockopt_denied(SOL_TCP, SO_BINDTODEVICE)); /* TCP_NOTSENT_LOWAT */
  assert_false(net_sockopt_denied(SOL_SOCKET, SO_REUSEADDR));
  assert_false(net_sockopt_denied(SOL_TCP, TCP_NODELAY));
}

static size_t put_nl(uint8_t *buf, size_t off, uint16_t type, uint32_t len)
{
  struct nlmsghdr h = {.nlmsg_len = len, .nlmsg_type = type};
  memcpy(buf + off, &h, sizeof h);
  return off + NLMSG_ALIGN(len);
}

static void test_netlink(void **state)
{
  (void)state;
  uint8_t buf[256];
  memset(buf, 0, sizeof buf);
  size_t n = put_nl(buf, 0, RTM_GETLINK, 32);
  n = put_nl(buf, n, RTM_GETADDR, 24);
  assert_true(net_netlink_reads_only(buf, n));
  size_t m = put_nl(buf, n, RTM_NEWADDR, 24);
  assert_false(net_netlink_reads_only(buf, m)); /* a change after reads */
  put_nl(buf, n, RTM_DELROUTE, 24);
  assert_false(net_netlink_reads_only(buf, m));
  put_nl(buf, n, RTM_SETLINK, 24);
  assert_false(net_netlink_reads_only(buf, m));
  put_nl(buf, n, NLMSG_NOOP, 16);
  assert_true(net_netlink_reads_only(buf, n + 16));
  /* where the kernel stops reading, so does the check */
  put_nl(buf, 0, RTM_GETLINK, 8);
  put_nl(buf, 16, RTM_NEWLINK, 16);
  assert_true(net_netlink_reads_only(buf, 32));
  put_nl(buf, 0, RTM_NEWLINK, 400); /* longer than the data */
  assert_true(net_netlink_reads_only(buf, 32));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walk),
      cmocka_unit_test(test_allowed),
      cmocka_unit_test(test_netlink),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
