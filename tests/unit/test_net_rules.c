/* netstack-shim/rules.c: --net-allow parsing, sockaddr normalisation, which
 * sockets may be made, and the pure decision, on tables of cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack-shim/rules.h"

/* ---- parsing ---- */

struct parse_case {
  const char *spec;
  int ok;
  enum net_host_kind kind;
  const char *host; /* address (canonical text) or name */
  int prefix;
  unsigned lo, hi;
};

static const struct parse_case parse_cases[] = {
    {"api.openai.com:443", 1, NET_HOST_NAME, "api.openai.com", 0, 443, 443},
    {"API.OpenAI.com.:443", 1, NET_HOST_NAME, "api.openai.com", 0, 443, 443},
    {"*.example.com", 1, NET_HOST_SUFFIX, "example.com", 0, 1, 65535},
    {"*.example.com:8000-8100", 1, NET_HOST_SUFFIX, "example.com", 0, 8000, 8100},
    {"10.0.0.0/8:5432", 1, NET_HOST_IP, "10.0.0.0", 8, 5432, 5432},
    {"10.1.2.3/8", 1, NET_HOST_IP, "10.0.0.0", 8, 1, 65535}, /* host bits cleared */
    {"127.0.0.1:8080", 1, NET_HOST_IP, "127.0.0.1", 32, 8080, 8080},
    {"127.0.0.1:*", 1, NET_HOST_IP, "127.0.0.1", 32, 1, 65535},
    {"0.0.0.0/0", 1, NET_HOST_IP, "0.0.0.0", 0, 1, 65535},
    {"::1", 1, NET_HOST_IP, "::1", 128, 1, 65535},
    {"[::1]:443", 1, NET_HOST_IP, "::1", 128, 443, 443},
    {"[2001:db8::]/32:443", 1, NET_HOST_IP, "2001:db8::", 32, 443, 443},
    {"[2001:db8::/32]:443", 1, NET_HOST_IP, "2001:db8::", 32, 443, 443},
    {"2001:db8::/32", 1, NET_HOST_IP, "2001:db8::", 32, 1, 65535},
    {"::/0", 1, NET_HOST_IP, "::", 0, 1, 65535},
    {"[::ffff:10.0.0.1]:80", 1, NET_HOST_IP, "10.0.0.1", 32, 80, 80}, /* mapped: IPv4 */
    {"::ffff:10.0.0.0/104", 1, NET_HOST_IP, "10.0.0.0", 8, 1, 65535},
    /* the host's loopback (127.0.0.1 and ::1), not a name to resolve */
    {"localhost:3000", 1, NET_HOST_LOCALHOST, "localhost", 0, 3000, 3000},
    {"Localhost.", 1, NET_HOST_LOCALHOST, "localhost", 0, 1, 65535},
    {"git.example.com:22/any-protocol", 1, NET_HOST_NAME, "git.example.com", 0, 22, 22},
    {"*.example.com/any-protocol", 1, NET_HOST_SUFFIX, "example.com", 0, 1, 65535},
    {"under_score.example", 1, NET_HOST_NAME, "under_score.example", 0, 1, 65535},
    /* refused */
    {"", 0, 0, NULL, 0, 0, 0},
    {":443", 0, 0, NULL, 0, 0, 0},
    {"example.com:0", 0, 0, NULL, 0, 0, 0},
    {"example.com:65536", 0, 0, NULL, 0, 0, 0},
    {"example.com:443-80", 0, 0, NULL, 0, 0, 0},
    {"example.com:http", 0, 0, NULL, 0, 0, 0},
    {"example.com:", 0, 0, NULL, 0, 0, 0},
    {"*", 0, 0, NULL, 0, 0, 0},
    {"*:443", 0, 0, NULL, 0, 0, 0},
    {"a.*.example.com", 0, 0, NULL, 0, 0, 0},
    {"**.example.com", 0, 0, NULL, 0, 0, 0},
    {"exa mple.com", 0, 0, NULL, 0, 0, 0},
    {"example..com", 0, 0, NULL, 0, 0, 0},
    {"1.2.3", 0, 0, NULL, 0, 0, 0},
    {"1.2.3.4/33", 0, 0, NULL, 0, 0, 0},
    {"1.2.3.4/", 0, 0, NULL, 0, 0, 0},
    {"0.0.0.0", 0, 0, NULL, 0, 0, 0},
    {"::", 0, 0, NULL, 0, 0, 0},
    {"[::1", 0, 0, NULL, 0, 0, 0},
    {"[::1]x", 0, 0, NULL, 0, 0, 0},
    {"[fe80::1%eth0]:80", 0, 0, NULL, 0, 0, 0},
    /* /any-protocol is for names; an address rule checks no name anyway */
    {"10.0.0.1:22/any-protocol", 0, 0, NULL, 0, 0, 0},
    {"10.0.0.0/8/any-protocol", 0, 0, NULL, 0, 0, 0},
    {"localhost/any-protocol", 0, 0, NULL, 0, 0, 0},
    {"example.com:22/any", 0, 0, NULL, 0, 0, 0},
    {"example.com/any-protocol/any-protocol", 0, 0, NULL, 0, 0, 0},
};

static void test_parse(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
    const struct parse_case *c = &parse_cases[i];
    struct net_rule r;
    usbox_err_t err = {0};
    int rc = net_rule_parse(c->spec, &r, &err);
    if (!c->ok) {
      if (rc == 0)
        fail_msg("\"%s\" was accepted", c->spec);
      if (strstr(err.msg, "--net-allow") == NULL)
        fail_msg("\"%s\": message does not name the flag: %s", c->spec, err.msg);
      continue;
    }
    if (rc != 0)
      fail_msg("\"%s\" refused: %s", c->spec, err.msg);
    if (r.kind != c->kind || r.port_lo != c->lo || r.port_hi != c->hi)
      fail_msg("\"%s\": kind %d ports %u-%u", c->spec, r.kind, r.port_lo, r.port_hi);
    if (c->kind == NET_HOST_IP) {
      char text[64];
      net_addr_format(&r.addr, text, sizeof text);
      if (strcmp(text, c->host) != 0 || r.prefix != c->prefix)
        fail_msg("\"%s\": %s/%d", c->spec, text, r.prefix);
    } else if (strcmp(r.name, c->host) != 0) {
      fail_msg("\"%s\": name %s", c->spec, r.name);
    }
    assert_string_equal(r.text, c->spec);
    assert_int_equal(r.any_protocol, strstr(c->spec, "/any-protocol") != NULL);
  }
}

/* ---- names ---- */

static void test_names(void **state)
{
  (void)state;
  struct net_rule exact, wild;
  usbox_err_t err;
  assert_int_equal(net_rule_parse("api.example.com", &exact, &err), 0);
  assert_int_equal(net_rule_parse("*.example.com", &wild, &err), 0);
  assert_true(net_rule_matches_name(&exact, "api.example.com"));
  assert_false(net_rule_matches_name(&exact, "x.api.example.com"));
  assert_false(net_rule_matches_name(&exact, "example.com"));
  assert_true(net_rule_matches_name(&wild, "api.example.com"));
  assert_true(net_rule_matches_name(&wild, "a.b.example.com"));
  assert_false(net_rule_matches_name(&wild, "example.com"));    /* subdomains only */
  assert_false(net_rule_matches_name(&wild, "badexample.com")); /* a label boundary */
  assert_false(net_rule_matches_name(&wild, "example.com.evil.net"));
  char out[NET_NAME_MAX];
  assert_int_equal(net_name_canon("WWW.Example.COM.", out, sizeof out), 0);
  assert_string_equal(out, "www.example.com");
  assert_int_equal(net_name_canon(".", out, sizeof out), -1);
  assert_int_equal(net_name_canon("a..b", out, sizeof out), -1);
  assert_int_equal(net_name_canon("a\\.b", out, sizeof out), -1);
  char label[80];
  memset(label, 'a', 64);
  label[64] = '\0';
  assert_int_equal(net_name_canon(label, out, sizeof out), -1); /* a label over 63 */
}

/* ---- sockaddrs ---- */

static struct sockaddr_storage sin4(const char *a, int port, size_t *len)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *in = (struct sockaddr_in *)&ss;
  in->sin_family = AF_INET;
  in->sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, a, &in->sin_addr);
  *len = sizeof *in;
  return ss;
}

static struct sockaddr_storage sin6(const char *a, int port, size_t *len)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons((uint16_t)port);
  inet_pton(AF_INET6, a, &in6->sin6_addr);
  *len = sizeof *in6;
  return ss;
}

static void expect_dest(struct sockaddr_storage ss, size_t len, const char *want)
{
  struct net_dest d;
  assert_int_equal(net_dest_from_sockaddr(&ss, len, IPPROTO_TCP, &d), 0);
  char text[80];
  net_dest_format(&d, text, sizeof text);
  assert_string_equal(text, want);
}

static void test_sockaddr(void **state)
{
  (void)state;
  size_t len;
  struct sockaddr_storage ss = sin4("10.0.0.1", 80, &len);
  expect_dest(ss, len, "tcp 10.0.0.1:80");
  ss = sin6("::ffff:10.0.0.1", 80, &len);
  expect_dest(ss, len, "tcp 10.0.0.1:80"); /* mapped */
  ss = sin4("0.0.0.0", 80, &len);
  expect_dest(ss, len, "tcp 127.0.0.1:80"); /* unspecified */
  ss = sin6("::", 80, &len);
  expect_dest(ss, len, "tcp [::1]:80");
  ss = sin6("::ffff:0.0.0.0", 80, &len);
  expect_dest(ss, len, "tcp 127.0.0.1:80");
  ss = sin6("2001:db8::1", 443, &len);
  expect_dest(ss, len, "tcp [2001:db8::1]:443");
  ss = sin6("::1", 443, &len);
  expect_dest(ss, 24, "tcp [::1]:443"); /* the RFC 2133 length */
  struct net_dest d;
  ss = sin4("10.0.0.1", 80, &len);
  assert_int_equal(net_dest_from_sockaddr(&ss, 15, IPPROTO_TCP, &d), -EINVAL);
  ss = sin6("::1", 80, &len);
  assert_int_equal(net_dest_from_sockaddr(&ss, 23, IPPROTO_TCP, &d), -EINVAL);
  ss.ss_family = AF_UNIX;
  assert_int_equal(net_dest_from_sockaddr(&ss, len, IPPROTO_TCP, &d), -EAFNOSUPPORT);

  /* the sentry connects to what it checked */
  ss = sin4("0.0.0.0", 80, &len);
  net_sockaddr_normalize(&ss);
  assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  ss = sin6("::", 80, &len);
  net_sockaddr_normalize(&ss);
  assert_true(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr));
  ss = sin6("::ffff:0.0.0.0", 80, &len);
  net_sockaddr_normalize(&ss);
  char text[64];
  inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof text);
  assert_string_equal(text, "::ffff:127.0.0.1");
  ss = sin4("10.1.1.1", 80, &len);
  net_sockaddr_normalize(&ss);
  inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof text);
  assert_string_equal(text, "10.1.1.1");
}

/* ---- the decision ---- */

static struct net_dest dest(const char *a, int port, int proto)
{
  struct net_dest d = {.port = (uint16_t)port, .proto = proto};
  assert_int_equal(net_addr_parse(a, &d.addr), 0);
  return d;
}

struct decide_case {
  const char *addr;
  int port;
  enum net_verdict want;
  int rule;
};

static void test_decide(void **state)
{
  (void)state;
  static const char *specs[] = {
      "10.0.0.0/8:5432", "127.0.0.1:8080", "[::1]:8443", "api.example.com:443",
      "*.cdn.example:80-90", "192.0.2.7", "git.example.com:22/any-protocol", "localhost:3000",
      "*.example.com:443",
  };
  enum { NRULES = 9, NLEARNED = 6 };
  struct net_rule rules[NRULES];
  usbox_err_t err;
  for (int i = 0; i < NRULES; i++)
    assert_int_equal(net_rule_parse(specs[i], &rules[i], &err), 0);
  struct net_learned learned[NLEARNED] = {
      {.rule = 3, .expires = 100, .name = "api.example.com"},
      {.rule = 4, .expires = 100, .name = "x.cdn.example"},
      {.rule = 3, .expires = 10, .name = "api.example.com"}, /* expired */
      {.rule = 6, .expires = 100, .name = "git.example.com"},
      {.rule = 8, .expires = 100, .name = "api.example.com"}, /* a second rule names it */
      {.rule = 8, .expires = 100, .name = "git.example.com"},
  };
  net_addr_parse("203.0.113.5", &learned[0].addr);
  net_addr_parse("2001:db8::5", &learned[1].addr);
  net_addr_parse("203.0.113.9", &learned[2].addr);
  net_addr_parse("203.0.113.22", &learned[3].addr);
  net_addr_parse("203.0.113.5", &learned[4].addr);
  net_addr_parse("203.0.113.22", &learned[5].addr);
  struct net_dest resolver = dest("10.255.255.53", 53, IPPROTO_UDP);
  static const struct decide_case cases[] = {
      {"10.1.2.3", 5432, NET_HOST, 0},
      {"10.1.2.3", 5433, NET_DENY, -1},
      {"11.1.2.3", 5432, NET_DENY, -1},
      {"127.0.0.1", 8080, NET_HOST, 1},     /* the host's loopback, by rule */
      {"127.0.0.1", 3001, NET_SANDBOX, -1}, /* the sandbox's own */
      {"127.0.0.1", 3000, NET_HOST, 7},     /* localhost: the host's loopback */
      {"::1", 3000, NET_HOST, 7},
      {"127.0.0.2", 3000, NET_SANDBOX, -1}, /* not what "localhost" names */
      {"127.0.0.2", 8080, NET_SANDBOX, -1},
      {"::1", 8443, NET_HOST, 2},
      {"::1", 8080, NET_SANDBOX, -1},
      {"203.0.113.5", 443, NET_INSPECT, 3}, /* learned under api.example.com: checked */
      {"203.0.113.22", 22, NET_HOST, 6},    /* ...unless the rule says /any-protocol */
      {"203.0.113.22", 443, NET_INSPECT, 8},
      {"203.0.113.5", 80, NET_DENY, -1}, /* that name's rule is port 443 */
      {"203.0.113.9", 443, NET_DENY, -1}, /* learned, but expired */
      {"203.0.113.6", 443, NET_DENY, -1}, /* never resolved here */
      {"2001:db8::5", 85, NET_INSPECT, 4},
      {"2001:db8::5", 91, NET_DENY, -1},
      {"192.0.2.7", 1, NET_HOST, 5},
      {"192.0.2.7", 0, NET_DENY, -1}, /* port 0 matches no rule */
      {"10.255.255.53", 53, NET_SANDBOX, -1}, /* the sandbox's resolver */
      {"10.255.255.53", 5432, NET_HOST, 0},
      {"0.0.0.1", 80, NET_DENY, -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct decide_case *c = &cases[i];
    struct net_dest d = dest(c->addr, c->port, IPPROTO_TCP);
    struct net_decision dec = net_decide(rules, NRULES, learned, NLEARNED, &resolver, 1, &d, 50);
    if (dec.verdict != c->want || dec.rule != c->rule)
      fail_msg("%s port %d: verdict %d rule %d, expected %d rule %d", c->addr, c->port,
               dec.verdict, dec.rule, c->want, c->rule);
    if (dec.rule < 0 && dec.why == NULL)
      fail_msg("%s port %d: no reason given", c->addr, c->port);
    if ((dec.verdict == NET_INSPECT) != (dec.nnames > 0))
      fail_msg("%s port %d: %d names to check", c->addr, c->port, dec.nnames);
  }
  /* every rule an address was learned under (on the port) is a name the
   * connection may carry */
  struct net_dest both = dest("203.0.113.5", 443, IPPROTO_TCP);
  struct net_decision dec = net_decide(rules, NRULES, learned, NLEARNED, &resolver, 1, &both, 50);
  assert_int_equal(dec.nnames, 2);
  assert_int_equal(dec.names[0], 3);
  assert_int_equal(dec.names[1], 8);
  /* with no rule at all: only the sandbox's loopback */
  struct net_dest d = dest("10.1.2.3", 5432, IPPROTO_TCP);
  assert_int_equal(net_decide(NULL, 0, NULL, 0, NULL, 0, &d, 0).verdict, NET_DENY);
  d = dest("127.0.0.1", 5432, IPPROTO_UDP);
  assert_int_equal(net_decide(NULL, 0, NULL, 0, NULL, 0, &d, 0).verdict, NET_SANDBOX);
  /* IPv4-mapped destinations are the IPv4 address */
  size_t len;
  struct sockaddr_storage ss = sin6("::ffff:10.9.9.9", 5432, &len);
  assert_int_equal(net_dest_from_sockaddr(&ss, len, IPPROTO_TCP, &d), 0);
  assert_int_equal(net_decide(rules, NRULES, NULL, 0, NULL, 0, &d, 0).verdict, NET_HOST);
  ss = sin6("::ffff:127.0.0.1", 8080, &len);
  assert_int_equal(net_dest_from_sockaddr(&ss, len, IPPROTO_TCP, &d), 0);
  assert_int_equal(net_decide(rules, NRULES, NULL, 0, NULL, 0, &d, 0).rule, 1);
}

/* ---- sockets ---- */

static void test_socket_check(void **state)
{
  (void)state;
  struct {
    int domain, type, protocol;
    int err; /* 0: allowed */
  } cases[] = {
      {AF_INET, SOCK_STREAM, 0, 0},
      {AF_INET, SOCK_STREAM, IPPROTO_TCP, 0},
      {AF_INET6, SOCK_DGRAM, IPPROTO_UDP, 0},
      {AF_UNIX, SOCK_SEQPACKET, 0, 0},
      {AF_NETLINK, SOCK_RAW, 0, 0},
      {AF_NETLINK, SOCK_DGRAM, 0, 0},
      {AF_INET, SOCK_RAW, IPPROTO_ICMP, EPERM},
      /* the kernel's order: flags, family, type, protocol, then rights */
      {AF_INET, SOCK_STREAM | 0x100000, 0, EINVAL},
      {AF_INET, 99, 0, EINVAL},
      {AF_INET, 11, 0, EINVAL},
      {AF_INET, SOCK_RAW, 0, EPROTONOSUPPORT},
      {AF_INET6, SOCK_RAW, 0, EPROTONOSUPPORT},
      {AF_INET, SOCK_RAW, 300, EINVAL},
      {AF_INET, SOCK_STREAM, -1, EINVAL},
      {AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6, EPROTONOSUPPORT},
      {AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6, EACCES},
      {AF_INET, SOCK_PACKET, 0, EPERM},
      {AF_NETLINK, SOCK_STREAM, 0, ESOCKTNOSUPPORT},
      {-1, SOCK_STREAM, 0, EAFNOSUPPORT},
      {46, SOCK_STREAM, 0, EAFNOSUPPORT},
      {AF_INET6, SOCK_RAW, IPPROTO_RAW, EPERM},
      {AF_PACKET, SOCK_RAW, 0, EPERM},
      {AF_PACKET, SOCK_DGRAM, 0, EPERM},
      {AF_INET, SOCK_DGRAM, IPPROTO_ICMP, EACCES},
      {AF_INET, SOCK_STREAM, IPPROTO_SCTP, EPROTONOSUPPORT},
      {AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE, 0}, /* on the sandbox's own loopback only (route.c) */
      {AF_INET6, SOCK_STREAM, IPPROTO_UDPLITE, EPROTONOSUPPORT},
      {AF_INET, SOCK_SEQPACKET, 0, ESOCKTNOSUPPORT},
      {AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */, EPROTONOSUPPORT},
      {AF_NETLINK, SOCK_RAW, 12 /* NETLINK_NETFILTER */, EPROTONOSUPPORT},
      {40 /* AF_VSOCK */, SOCK_STREAM, 0, EAFNOSUPPORT},
      {AF_BLUETOOTH, SOCK_RAW, 0, EAFNOSUPPORT},
      {38 /* AF_ALG */, SOCK_SEQPACKET, 0, EAFNOSUPPORT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int err = 0;
    const char *why = net_socket_check(cases[i].domain, cases[i].type, cases[i].protocol, &err);
    if ((why == NULL) != (cases[i].err == 0) || (why != NULL && err != cases[i].err))
      fail_msg("socket(%d, %d, %d): %s (errno %d), expected errno %d", cases[i].domain,
               cases[i].type, cases[i].protocol, why ? why : "allowed", err, cases[i].err);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),    cmocka_unit_test(test_names),
      cmocka_unit_test(test_sockaddr), cmocka_unit_test(test_decide),
      cmocka_unit_test(test_socket_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
