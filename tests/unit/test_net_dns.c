/* netstack-shim: DNS messages (dns.c), the learned addresses (learned.c)
 * and the resolver's decision for one query (resolver.c), with a fake
 * upstream. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "netstack-shim/dns.h"
#include "netstack-shim/learned.h"
#include "netstack-shim/resolver.h"
#include "netstack-shim/rules.h"

/* ---- building messages ---- */

struct msg {
  uint8_t b[1024];
  size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
  assert_true(m->n + n <= sizeof m->b);
  memcpy(m->b + m->n, p, n);
  m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
  put16(m, v >> 16);
  put16(m, v & 0xffff);
}

static void put_name(struct msg *m, const char *name)
{
  while (*name != '\0') {
    size_t l = strcspn(name, ".");
    uint8_t len = (uint8_t)l;
    put(m, &len, 1);
    put(m, name, l);
    name += l;
    if (*name == '.')
      name++;
  }
  uint8_t zero = 0;
  put(m, &zero, 1);
}

static struct msg query(uint16_t id, const char *name, unsigned type)
{
  struct msg m = {.n = 0};
  put16(&m, id);
  put16(&m, 0x0100); /* RD */
  put16(&m, 1), put16(&m, 0), put16(&m, 0), put16(&m, 0);
  put_name(&m, name);
  put16(&m, type), put16(&m, 1);
  return m;
}

/* An answer to q with ancount records appended by the caller. */
static struct msg answer_head(const struct msg *q, unsigned rcode, unsigned ancount)
{
  struct msg m = *q;
  m.b[2] = 0x81, m.b[3] = (uint8_t)(0x80 | rcode);
  m.b[6] = (uint8_t)(ancount >> 8), m.b[7] = (uint8_t)ancount;
  return m;
}

/* A record whose owner is the question's name (compression pointer to 12). */
static void rr_ptr(struct msg *m, unsigned type, uint32_t ttl, const void *rdata, size_t len)
{
  put16(m, 0xc00c);
  put16(m, type), put16(m, 1), put32(m, ttl), put16(m, (unsigned)len);
  put(m, rdata, len);
}

static void rr_named(struct msg *m, const char *owner, unsigned type, uint32_t ttl,
                     const void *rdata, size_t len)
{
  put_name(m, owner);
  put16(m, type), put16(m, 1), put32(m, ttl), put16(m, (unsigned)len);
  put(m, rdata, len);
}

static void rr_cname(struct msg *m, const char *owner, const char *target)
{
  struct msg t = {.n = 0};
  put_name(&t, target);
  rr_named(m, owner, DNS_TYPE_CNAME, 300, t.b, t.n);
}

struct collected {
  char addrs[8][64];
  uint32_t ttls[8];
  int n;
};

static void collect(void *ctx, const struct net_addr *a, uint32_t ttl)
{
  struct collected *c = ctx;
  assert_true(c->n < 8);
  net_addr_format(a, c->addrs[c->n], sizeof c->addrs[0]);
  c->ttls[c->n++] = ttl;
}

/* ---- tests ---- */

static void test_parse_query(void **state)
{
  (void)state;
  struct msg q = query(0x1234, "Api.Example.COM", DNS_TYPE_AAAA);
  struct dns_question dq;
  assert_int_equal(dns_parse_query(q.b, q.n, &dq), 0);
  assert_int_equal(dq.id, 0x1234);
  assert_string_equal(dq.name, "api.example.com");
  assert_int_equal(dq.qtype, DNS_TYPE_AAAA);
  assert_int_equal(dq.end, q.n);
  /* truncated, a response, two questions, a dot inside a label, a loop */
  assert_int_equal(dns_parse_query(q.b, q.n - 1, &dq), -EINVAL);
  assert_int_equal(dns_parse_query(q.b, 11, &dq), -EINVAL);
  struct msg r = q;
  r.b[2] |= 0x80;
  assert_int_equal(dns_parse_query(r.b, r.n, &dq), -EINVAL);
  r = q;
  r.b[5] = 2;
  assert_int_equal(dns_parse_query(r.b, r.n, &dq), -EINVAL);
  struct msg dot = query(1, "a", 1);
  dot.n = 12;
  uint8_t lab[] = {3, 'a', '.', 'b', 0, 0, 1, 0, 1};
  put(&dot, lab, sizeof lab);
  assert_int_equal(dns_parse_query(dot.b, dot.n, &dq), -EINVAL);
  struct msg loop = query(1, "a", 1);
  loop.n = 12;
  uint8_t self[] = {0xc0, 12, 0, 1, 0, 1};
  put(&loop, self, sizeof self);
  assert_int_equal(dns_parse_query(loop.b, loop.n, &dq), -EINVAL);
}

static void test_build_error(void **state)
{
  (void)state;
  struct msg q = query(0xbeef, "evil.example", DNS_TYPE_A);
  struct dns_question dq;
  assert_int_equal(dns_parse_query(q.b, q.n, &dq), 0);
  uint8_t out[512];
  size_t n = dns_build_error(q.b, &dq, DNS_RCODE_NXDOMAIN, out, sizeof out);
  assert_int_equal(n, q.n);
  assert_int_equal(out[0], 0xbe);
  assert_int_equal(out[1], 0xef);
  assert_int_equal(out[2], 0x81); /* QR, RD kept */
  assert_int_equal(out[3], 0x83); /* RA, NXDOMAIN */
  assert_int_equal(out[7], 0);    /* no answers */
  assert_memory_equal(out + 12, q.b + 12, q.n - 12);
  assert_int_equal(dns_build_error(q.b, &dq, 3, out, 10), 0); /* too small */
  /* and it is an answer to the query */
  assert_int_equal(dns_parse_response(out, n, &dq, NULL, NULL), DNS_RCODE_NXDOMAIN);
}

static void test_parse_response(void **state)
{
  (void)state;
  struct msg q = query(7, "api.example.com", DNS_TYPE_A);
  struct dns_question dq;
  assert_int_equal(dns_parse_query(q.b, q.n, &dq), 0);
  /* a CNAME chain, out of order, and a record for a name outside it */
  struct msg r = answer_head(&q, 0, 5);
  uint8_t a1[4] = {203, 0, 113, 5}, a2[4] = {203, 0, 113, 6}, bad[4] = {6, 6, 6, 6};
  rr_named(&r, "edge.cdn.example", DNS_TYPE_A, 20, a1, 4);
  rr_cname(&r, "API.example.com", "front.example.net");
  rr_named(&r, "elsewhere.example", DNS_TYPE_A, 20, bad, 4);
  rr_cname(&r, "front.example.net", "edge.cdn.example");
  rr_named(&r, "edge.cdn.example", DNS_TYPE_A, 0x80000001u, a2, 4); /* top bit: TTL 0 */
  struct collected c = {.n = 0};
  assert_int_equal(dns_parse_response(r.b, r.n, &dq, collect, &c), 0);
  assert_int_equal(c.n, 2);
  assert_string_equal(c.addrs[0], "203.0.113.5");
  assert_int_equal(c.ttls[0], 20);
  assert_string_equal(c.addrs[1], "203.0.113.6");
  assert_int_equal(c.ttls[1], 0);

  /* AAAA, mapped AAAA (an IPv4 address) */
  struct msg q6 = query(8, "v6.example", DNS_TYPE_AAAA);
  assert_int_equal(dns_parse_query(q6.b, q6.n, &dq), 0);
  struct msg r6 = answer_head(&q6, 0, 2);
  struct in6_addr x, m;
  inet_pton(AF_INET6, "2001:db8::7", &x);
  inet_pton(AF_INET6, "::ffff:192.0.2.1", &m);
  rr_ptr(&r6, DNS_TYPE_AAAA, 60, &x, 16);
  rr_ptr(&r6, DNS_TYPE_AAAA, 60, &m, 16);
  c.n = 0;
  assert_int_equal(dns_parse_response(r6.b, r6.n, &dq, collect, &c), 0);
  assert_int_equal(c.n, 2);
  assert_string_equal(c.addrs[0], "2001:db8::7");
  assert_string_equal(c.addrs[1], "192.0.2.1");

  /* not an answer to this question */
  struct msg other = r6;
  other.b[1] ^= 1; /* id */
  assert_int_equal(dns_parse_response(other.b, other.n, &dq, collect, &c), -EINVAL);
  struct msg q2 = query(8, "v7.example", DNS_TYPE_AAAA);
  struct msg r2 = answer_head(&q2, 0, 0);
  assert_int_equal(dns_parse_response(r2.b, r2.n, &dq, collect, &c), -EINVAL);
  struct msg notqr = r6;
  notqr.b[2] &= 0x7f;
  assert_int_equal(dns_parse_response(notqr.b, notqr.n, &dq, collect, &c), -EINVAL);
  /* a record running past the end */
  assert_int_equal(dns_parse_response(r6.b, r6.n - 3, &dq, collect, &c), -EINVAL);
}

static void test_learned(void **state)
{
  (void)state;
  struct net_learned_cache cache;
  assert_int_equal(net_learned_init(&cache), 0);
  struct net_addr a, b;
  net_addr_parse("203.0.113.5", &a);
  net_addr_parse("203.0.113.6", &b);
  net_learned_add(&cache, &a, 0, "x.example", 100);
  net_learned_add(&cache, &a, 1, "x.example", 50);
  net_learned_add(&cache, &a, 0, "x.example", 60); /* a shorter TTL does not cut it */
  struct net_learned out[4];
  assert_int_equal(net_learned_find(&cache, &a, 10, out, 4), 2);
  assert_int_equal(net_learned_find(&cache, &a, 55, out, 4), 1);
  assert_int_equal(out[0].rule, 0);
  assert_int_equal(out[0].expires, 100);
  assert_int_equal(net_learned_find(&cache, &a, 100, out, 4), 0); /* expired */
  assert_int_equal(net_learned_find(&cache, &b, 10, out, 4), 0);
  /* full: expired entries are reused first, the cache never grows past its size */
  for (int i = 0; i < NET_LEARNED_MAX + 10; i++) {
    struct net_addr x = {.family = AF_INET,
                         .b = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}};
    net_learned_add(&cache, &x, 0, "many.example", net_now() + 1000);
  }
  assert_int_equal(cache.n, NET_LEARNED_MAX);
  net_learned_destroy(&cache);
}

/* ---- the resolver's decision, with a fake upstream ---- */

struct fake {
  int calls;
  uint8_t reply[512];
  size_t len;
};

static ssize_t fake_forward(void *ctx, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
  struct fake *f = ctx;
  f->calls++;
  if (f->len == 0 || f->len > cap)
    return -1;
  memcpy(out, f->reply, f->len);
  out[0] = q[0], out[1] = q[1]; /* its id */
  (void)qlen;
  return (ssize_t)f->len;
}

static void test_resolver_answer(void **state)
{
  (void)state;
  struct net_rule rules[2];
  usbox_err_t err;
  assert_int_equal(net_rule_parse("good.test:443", &rules[0], &err), 0);
  assert_int_equal(net_rule_parse("10.0.0.0/8", &rules[1], &err), 0);
  struct net_learned_cache cache;
  assert_int_equal(net_learned_init(&cache), 0);
  struct net_resolver_config cfg = {.rules = rules, .nrules = 2, .learned = &cache,
                                    .upstream_len = 16};
  uint8_t out[DNS_MAX_MSG];

  /* a name no rule names: NXDOMAIN, and upstream never hears of it */
  struct fake f = {.calls = 0, .len = 0};
  struct msg q = query(9, "secret-data.evil.test", DNS_TYPE_A);
  size_t n = net_resolver_answer(&cfg, q.b, q.n, out, sizeof out, fake_forward, &f);
  assert_int_equal(f.calls, 0);
  assert_true(n >= 12);
  assert_int_equal(out[3] & 0xf, DNS_RCODE_NXDOMAIN);

  /* an allowed name: forwarded, the answer returned as is, its address learned */
  struct msg g = query(10, "good.test", DNS_TYPE_A);
  struct msg r = answer_head(&g, 0, 1);
  uint8_t a[4] = {192, 0, 2, 10};
  rr_ptr(&r, DNS_TYPE_A, 5, a, 4);
  memcpy(f.reply, r.b, r.n);
  f.len = r.n;
  n = net_resolver_answer(&cfg, g.b, g.n, out, sizeof out, fake_forward, &f);
  assert_int_equal(f.calls, 1);
  assert_int_equal(n, r.n);
  assert_memory_equal(out, r.b, r.n);
  struct net_addr learned_addr;
  net_addr_parse("192.0.2.10", &learned_addr);
  struct net_learned found[2];
  assert_int_equal(net_learned_find(&cache, &learned_addr, net_now(), found, 2), 1);
  assert_int_equal(found[0].rule, 0);
  /* a TTL of 5 s is kept at least NET_DNS_MIN_TTL */
  assert_true(found[0].expires >= net_now() + NET_DNS_MIN_TTL - 1);

  /* upstream fails, or answers something else: SERVFAIL, nothing learned */
  f.len = 0;
  n = net_resolver_answer(&cfg, g.b, g.n, out, sizeof out, fake_forward, &f);
  assert_int_equal(out[3] & 0xf, DNS_RCODE_SERVFAIL);
  struct msg other = query(10, "other.test", DNS_TYPE_A);
  struct msg ro = answer_head(&other, 0, 1);
  uint8_t evil[4] = {6, 6, 6, 6};
  rr_ptr(&ro, DNS_TYPE_A, 300, evil, 4);
  memcpy(f.reply, ro.b, ro.n);
  f.len = ro.n;
  n = net_resolver_answer(&cfg, g.b, g.n, out, sizeof out, fake_forward, &f);
  assert_int_equal(out[3] & 0xf, DNS_RCODE_SERVFAIL);
  struct net_addr six;
  net_addr_parse("6.6.6.6", &six);
  assert_int_equal(net_learned_find(&cache, &six, net_now(), found, 2), 0);

  /* garbage: no answer at all */
  assert_int_equal(net_resolver_answer(&cfg, (const uint8_t *)"xx", 2, out, sizeof out,
                                       fake_forward, &f),
                   0);
  net_learned_destroy(&cache);
}

/* the sandbox's own host name: its loopback, without any rule or upstream */
static void test_own_name(void **state)
{
  (void)state;
  struct net_learned_cache cache;
  assert_int_equal(net_learned_init(&cache), 0);
  struct net_resolver_config cfg = {.learned = &cache, .upstream_len = 16, .own_name = "Box.Example"};
  uint8_t out[DNS_MAX_MSG];
  struct fake f = {.calls = 0, .len = 0};
  static const struct {
    unsigned type;
    const char *addr; /* NULL: no record */
  } cases[] = {{DNS_TYPE_A, "127.0.0.1"}, {DNS_TYPE_AAAA, "::1"}, {15 /* MX */, NULL}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct msg q = query(7, "box.example", cases[i].type);
    size_t n = net_resolver_answer(&cfg, q.b, q.n, out, sizeof out, fake_forward, &f);
    struct dns_question question;
    assert_int_equal(dns_parse_query(q.b, q.n, &question), 0);
    struct collected got = {.n = 0};
    assert_int_equal(dns_parse_response(out, n, &question, collect, &got), 0);
    assert_int_equal(out[7], cases[i].addr != NULL ? 1 : 0); /* ANCOUNT */
    assert_int_equal(got.n, cases[i].addr != NULL ? 1 : 0);
    if (cases[i].addr != NULL)
      assert_string_equal(got.addrs[0], cases[i].addr);
  }
  /* a name that only starts like it is not it */
  struct msg q = query(8, "box.example.evil", DNS_TYPE_A);
  net_resolver_answer(&cfg, q.b, q.n, out, sizeof out, fake_forward, &f);
  assert_int_equal(out[3] & 0xf, DNS_RCODE_NXDOMAIN);
  assert_int_equal(f.calls, 0);
  net_learned_destroy(&cache);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_query),    cmocka_unit_test(test_build_error),
      cmocka_unit_test(test_parse_response), cmocka_unit_test(test_learned),
      cmocka_unit_test(test_resolver_answer), cmocka_unit_test(test_own_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
