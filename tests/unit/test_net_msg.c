/* netstack-shim/msg.c: the kernel's walk over control messages, what a send
 * may carry, netlink requests that only read, denied socket options. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
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
  put_cmsg(ctl, 16, SOL_SOCKET, SCM_RIGHTS, 8, (size_t)-15); /* wraps to 8 */
  assert_null(net_cmsg_next(ctl, n, (struct cmsghdr *)(ctl + 16)));
  /* nor does a length of 0 walk in place (found by fuzz/net_decode) */
  put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, 0);
  assert_null(net_cmsg_next(ctl, n, (struct cmsghdr *)ctl));
}

/* net_cmsg_step: what the kernel's __scm_send checks, message by message */
static void test_step(void **state)
{
  (void)state;
  _Alignas(struct cmsghdr) uint8_t ctl[4096];
  memset(ctl, 0, sizeof ctl);
  size_t n = put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, CMSG_LEN(8));
  n = put_cmsg(ctl, n, SOL_IP, IP_TOS, 4, CMSG_LEN(4));
  struct ucred u = {.pid = 7, .uid = 8, .gid = 9};
  size_t creds_at = n;
  n = put_cmsg(ctl, n, SOL_SOCKET, SCM_CREDENTIALS, sizeof u, CMSG_LEN(sizeof u));
  memcpy(ctl + creds_at + CMSG_LEN(0), &u, sizeof u);
  struct net_cmsg m = {.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(m.kind, NET_CMSG_RIGHTS);
  assert_int_equal(m.nfds, 2);
  assert_ptr_equal(m.hdr, ctl);
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(m.kind, NET_CMSG_OTHER);
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(m.kind, NET_CMSG_CREDS);
  assert_int_equal(m.creds.pid, 7);
  assert_int_equal(m.creds.gid, 9);
  assert_int_equal(m.total_fds, 2);
  assert_int_equal(net_cmsg_step(ctl, n, &m), 0);
  /* SCM_CREDENTIALS of another size: EINVAL */
  put_cmsg(ctl, creds_at, SOL_SOCKET, SCM_CREDENTIALS, sizeof u, CMSG_LEN(sizeof u - 4));
  m = (struct net_cmsg){.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(net_cmsg_step(ctl, n, &m), -EINVAL);
  /* a kind the sandbox refuses, or one not CMSG_OK: EINVAL where it is */
  put_cmsg(ctl, creds_at, SOL_SOCKET, SO_MARK, 4, CMSG_LEN(4));
  m = (struct net_cmsg){.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(net_cmsg_step(ctl, n, &m), -EINVAL);
  assert_ptr_equal(m.hdr, ctl + creds_at);
  put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, 3);
  m = (struct net_cmsg){.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n, &m), -EINVAL);
  /* a partial int is no fd (scm_fp_copy) */
  put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 8, CMSG_LEN(6));
  m = (struct net_cmsg){.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(m.nfds, 1);
}

/* SCM_MAX_FD counts every SCM_RIGHTS of one send */
static void test_step_max_fds(void **state)
{
  (void)state;
  _Alignas(struct cmsghdr) uint8_t ctl[4096];
  memset(ctl, 0, sizeof ctl);
  size_t n = put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 4 * 253, CMSG_LEN(4 * 253));
  struct net_cmsg m = {.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n, &m), 1);
  assert_int_equal(m.nfds, NET_SCM_MAX_FD);
  put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 4 * 254, CMSG_LEN(4 * 254));
  m = (struct net_cmsg){.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, CMSG_SPACE(4 * 254), &m), -EINVAL);
  n = put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, 4 * 200, CMSG_LEN(4 * 200));
  size_t n2 = put_cmsg(ctl, n, SOL_SOCKET, SCM_RIGHTS, 4 * 53, CMSG_LEN(4 * 53));
  m = (struct net_cmsg){.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n2, &m), 1);
  assert_int_equal(net_cmsg_step(ctl, n2, &m), 1);
  assert_int_equal(m.total_fds, NET_SCM_MAX_FD);
  n2 = put_cmsg(ctl, n, SOL_SOCKET, SCM_RIGHTS, 4 * 54, CMSG_LEN(4 * 54));
  m = (struct net_cmsg){.hdr = NULL};
  assert_int_equal(net_cmsg_step(ctl, n2, &m), 1);
  assert_int_equal(net_cmsg_step(ctl, n2, &m), -EINVAL);
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
      cmocka_unit_test(test_step),
      cmocka_unit_test(test_step_max_fds),
      cmocka_unit_test(test_allowed),
      cmocka_unit_test(test_netlink),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
