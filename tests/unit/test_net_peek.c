/* netstack-shim/peek.c: the name a connection's first bytes carry, TLS
 * ClientHellos built here byte by byte (RFC 8446 4.1.2, RFC 6066 3) and
 * HTTP/1 request heads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "netstack-shim/peek.h"

struct buf {
  uint8_t b[40000];
  size_t n;
};

static void put(struct buf *m, const void *p, size_t n)
{
  assert_true(m->n + n <= sizeof m->b);
  memcpy(m->b + m->n, p, n);
  m->n += n;
}

static void put16(struct buf *m, size_t v)
{
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  put(m, b, 2);
}

/* An extension of type `type` holding data. */
static void ext(struct buf *m, unsigned type, const void *data, size_t len)
{
  put16(m, type);
  put16(m, len);
  put(m, data, len);
}

/* server_name: a list of host_name entries (names NULL-terminated). */
static void sni_ext(struct buf *m, const char *const *names)
{
  struct buf list = {.n = 0};
  for (size_t i = 0; names[i] != NULL; i++) {
    uint8_t type = 0;
    put(&list, &type, 1);
    put16(&list, strlen(names[i]));
    put(&list, names[i], strlen(names[i]));
  }
  struct buf body = {.n = 0};
  put16(&body, list.n);
  put(&body, list.b, list.n);
  ext(m, 0, body.b, body.n);
}

/* A ClientHello handshake message with these extensions (NULL: none at
 * all, not even the length). */
static void client_hello(struct buf *out, const struct buf *exts, size_t pad)
{
  struct buf body = {.n = 0};
  put16(&body, 0x0303);
  uint8_t random[32] = {1};
  put(&body, random, 32);
  uint8_t sid = 32, zeros[32] = {0};
  put(&body, &sid, 1);
  put(&body, zeros, 32);
  put16(&body, 4);
  put16(&body, 0x1301);
  put16(&body, 0x1302);
  uint8_t comp[2] = {1, 0};
  put(&body, comp, 2);
  if (exts != NULL) {
    struct buf all = *exts;
    if (pad > 0) { /* a padding extension (21), as browsers add */
      static uint8_t zero[20000];
      ext(&all, 21, zero, pad);
    }
    put16(&body, all.n);
    put(&body, all.b, all.n);
  }
  uint8_t hs[4] = {1, (uint8_t)(body.n >> 16), (uint8_t)(body.n >> 8), (uint8_t)body.n};
  out->n = 0;
  put(out, hs, 4);
  put(out, body.b, body.n);
}

/* The handshake bytes in TLS records of at most `frag` bytes each. */
static void records(struct buf *out, const struct buf *hs, size_t frag)
{
  out->n = 0;
  for (size_t off = 0; off < hs->n; off += frag) {
    size_t n = hs->n - off < frag ? hs->n - off : frag;
    uint8_t h[3] = {22, 3, 1};
    put(out, h, 3);
    put16(out, n);
    put(out, hs->b + off, n);
  }
}

static struct buf tls_with(const char *const *names, bool ech, size_t pad, size_t frag)
{
  struct buf exts = {.n = 0}, hs, rec;
  uint8_t groups[] = {0, 2, 0, 0x1d};
  ext(&exts, 10, groups, sizeof groups);
  if (names != NULL)
    sni_ext(&exts, names);
  if (ech) {
    uint8_t e[8] = {0};
    ext(&exts, 0xfe0d, e, sizeof e);
  }
  client_hello(&hs, &exts, pad);
  records(&rec, &hs, frag);
  return rec;
}

static enum net_peek_verdict peek(const struct buf *b, struct net_peek *pk)
{
  return net_peek_name(b->b, b->n, pk);
}

static void test_tls_name(void **state)
{
  (void)state;
  static const char *const one[] = {"API.Example.com.", NULL};
  struct net_peek pk;
  struct buf b = tls_with(one, false, 0, 16384);
  assert_int_equal(peek(&b, &pk), NET_PEEK_NAME);
  assert_string_equal(pk.name, "api.example.com");
  assert_int_equal(pk.proto, NET_PEEK_TLS);
  assert_false(pk.ech);
  /* every shorter prefix asks for more */
  for (size_t n = 1; n < b.n; n++)
    if (net_peek_name(b.b, n, &pk) != NET_PEEK_MORE)
      fail_msg("a prefix of %zu of %zu bytes: %s", n, b.n, pk.why);
  /* in many records, with a large padding (post-quantum key shares are as
   * large) */
  b = tls_with(one, true, 3000, 100);
  assert_int_equal(peek(&b, &pk), NET_PEEK_NAME);
  assert_string_equal(pk.name, "api.example.com");
  assert_true(pk.ech);
}

static void expect_bad(const struct buf *b, const char *why)
{
  struct net_peek pk;
  if (peek(b, &pk) != NET_PEEK_BAD)
    fail_msg("accepted (%s)", pk.name);
  if (strstr(pk.why, why) == NULL)
    fail_msg("why: %s, expected %s", pk.why, why);
}

static void test_tls_refused(void **state)
{
  (void)state;
  struct buf b = tls_with(NULL, false, 0, 16384);
  expect_bad(&b, "without a server name");
  static const char *const two[] = {"a.example", "b.example", NULL};
  b = tls_with(two, false, 0, 16384);
  expect_bad(&b, "two server names");
  static const char *const bad_chars[] = {"a.example/x", NULL};
  b = tls_with(bad_chars, false, 0, 16384);
  expect_bad(&b, "no host name");
  static const char *const nul[] = {"a.exa\001mple", NULL};
  b = tls_with(nul, false, 0, 16384);
  expect_bad(&b, "no host name");
  /* two server_name extensions, each valid */
  struct buf exts = {.n = 0}, hs, rec;
  static const char *const a[] = {"a.example", NULL}, *const bb[] = {"b.example", NULL};
  sni_ext(&exts, a);
  sni_ext(&exts, bb);
  client_hello(&hs, &exts, 0);
  records(&rec, &hs, 16384);
  expect_bad(&rec, "two server_name");
  /* no extensions at all */
  client_hello(&hs, NULL, 0);
  records(&rec, &hs, 16384);
  expect_bad(&rec, "without a server name");
  /* larger than can be judged */
  b = tls_with(a, false, 17000, 16384);
  expect_bad(&b, "over 16384");
  /* a ServerHello, application data first, a malformed record */
  b = tls_with(a, false, 0, 16384);
  b.b[5] = 2;
  expect_bad(&b, "does not start with a ClientHello");
  b.b[5] = 1;
  b.b[0] = 23;
  expect_bad(&b, "neither a TLS ClientHello");
  b = tls_with(a, false, 0, 50);
  b.b[55] = 23; /* the second record */
  expect_bad(&b, "type 23");
  b.b[55] = 22;
  b.b[1] = 2;
  expect_bad(&b, "malformed TLS record");
  /* an extension whose length runs past the message */
  b = tls_with(a, false, 0, 16384);
  b.b[b.n - 3] = 0xff;
  struct net_peek pk;
  assert_int_not_equal(peek(&b, &pk), NET_PEEK_NAME);
}

static enum net_peek_verdict peek_text(const char *t, struct net_peek *pk)
{
  return net_peek_name((const uint8_t *)t, strlen(t), pk);
}

struct http_case {
  const char *text;
  enum net_peek_verdict want;
  const char *name_or_why;
};

static void test_http(void **state)
{
  (void)state;
  static const struct http_case cases[] = {
      {"GET / HTTP/1.1\r\nHost: A.localhost:8080\r\nAccept: */*\r\n\r\n", NET_PEEK_NAME,
       "a.localhost"},
      {"POST /x HTTP/1.0\r\nhOsT:\t api.example.com \r\n\r\nbody", NET_PEEK_NAME,
       "api.example.com"},
      {"GET http://api.example.com/x HTTP/1.1\r\nHost: api.example.com\r\n\r\n", NET_PEEK_NAME,
       "api.example.com"},
      {"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n",
       NET_PEEK_NAME, "api.example.com"},
      {"GET / HTTP/1.1\r\nHost: a.example\r\n", NET_PEEK_MORE, NULL},
      {"GE", NET_PEEK_MORE, NULL},
      {"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", NET_PEEK_BAD,
       "two Host"},
      {"GET / HTTP/1.0\r\nAccept: */*\r\n\r\n", NET_PEEK_BAD, "without a Host"},
      {"GET / HTTP/1.1\r\nX-Host: a.example\r\nHostname: b\r\n\r\n", NET_PEEK_BAD,
       "without a Host"},
      {"GET http://other.example/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n", NET_PEEK_BAD,
       "naming other.example in its target"},
      {"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", NET_PEEK_BAD, "without a Host"},
      {"GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n", NET_PEEK_NAME, "10.0.0.1"},
      {"GET / HTTP/2.0\r\nHost: a.example\r\n\r\n", NET_PEEK_BAD, "not HTTP/1"},
      {"GET \r\n\r\n", NET_PEEK_BAD, "not HTTP/1"},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", NET_PEEK_BAD, "not HTTP/1"},
      {"get / HTTP/1.1\r\nHost: a.example\r\n\r\n", NET_PEEK_BAD, "neither"},
      {"SSH-2.0-OpenSSH_9.2\r\n", NET_PEEK_BAD, "SSH-2.0-Open"},
      {"\x16\x03", NET_PEEK_MORE, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct net_peek pk;
    enum net_peek_verdict v = peek_text(cases[i].text, &pk);
    if (v != cases[i].want)
      fail_msg("case %zu: verdict %d (%s)", i, v, pk.why);
    if (v == NET_PEEK_NAME && strcmp(pk.name, cases[i].name_or_why) != 0)
      fail_msg("case %zu: name %s", i, pk.name);
    if (v == NET_PEEK_BAD && strstr(pk.why, cases[i].name_or_why) == NULL)
      fail_msg("case %zu: why %s", i, pk.why);
  }
  /* a head that never ends is judged at the limit */
  static char big[NET_PEEK_MAX + 10];
  memset(big, 'a', sizeof big - 1);
  memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
  struct net_peek pk;
  assert_int_equal(peek_text(big, &pk), NET_PEEK_BAD);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tls_name),
      cmocka_unit_test(test_tls_refused),
      cmocka_unit_test(test_http),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
