/* The name a connection's first bytes carry (netstack-shim/peek.h). */
#include "netstack-shim/peek.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TLS_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_EXT_ECH 0xfe0d
#define TLS_RECORD_MAX (16384 + 2048) /* TLSCiphertext's bound, generous for plaintext */

__attribute__((format(printf, 2, 3))) static enum net_peek_verdict bad(struct net_peek *out,
                                                                       const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->why, sizeof out->why, fmt, ap);
  va_end(ap);
  return NET_PEEK_BAD;
}

static uint32_t be16(const uint8_t *p)
{
  return (uint32_t)p[0] << 8 | p[1];
}

/* A bounded reader over the ClientHello body. */
struct cursor {
  const uint8_t *p;
  size_t left;
  bool ok;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
  if (!c->ok || n > c->left) {
    c->ok = false;
    return NULL;
  }
  const uint8_t *at = c->p;
  c->p += n, c->left -= n;
  return at;
}

/* A vector with a length prefix of `width` bytes (1 or 2): its contents. */
static struct cursor vec(struct cursor *c, size_t width)
{
  const uint8_t *l = take(c, width);
  size_t n = l == NULL ? 0 : width == 1 ? l[0] : be16(l);
  const uint8_t *body = take(c, n);
  return (struct cursor){body, body != NULL ? n : 0, body != NULL};
}

/* server_name extension (RFC 6066 3): a list holding one host_name. */
static enum net_peek_verdict server_name(struct cursor ext, struct net_peek *out)
{
  struct cursor list = vec(&ext, 2);
  if (!list.ok || ext.left != 0)
    return bad(out, "a malformed server_name extension");
  bool found = false;
  while (list.ok && list.left > 0) {
    const uint8_t *type = take(&list, 1);
    struct cursor name = vec(&list, 2);
    if (type == NULL || !name.ok)
      return bad(out, "a malformed server_name extension");
    if (type[0] != 0)
      continue; /* only host_name (0) is defined */
    if (found)
      return bad(out, "two server names in one ClientHello");
    found = true;
    char text[NET_NAME_MAX + 2];
    if (name.left == 0 || name.left >= sizeof text ||
        memchr(name.p, '\0', name.left) != NULL)
      return bad(out, "a server name that is no host name");
    memcpy(text, name.p, name.left);
    text[name.left] = '\0';
    if (net_name_canon(text, out->name, sizeof out->name) < 0)
      return bad(out, "a server name that is no host name");
  }
  return found ? NET_PEEK_NAME : bad(out, "a ClientHello without a server name (SNI)");
}

static enum net_peek_verdict client_hello(const uint8_t *body, size_t len, struct net_peek *out)
{
  struct cursor c = {body, len, true};
  take(&c, 2 + 32); /* legacy_version, random */
  vec(&c, 1);       /* legacy_session_id */
  vec(&c, 2);       /* cipher_suites */
  vec(&c, 1);       /* legacy_compression_methods */
  if (!c.ok)
    return bad(out, "a malformed ClientHello");
  if (c.left == 0)
    return bad(out, "a ClientHello without a server name (SNI)");
  struct cursor exts = vec(&c, 2);
  if (!exts.ok)
    return bad(out, "a malformed ClientHello");
  enum net_peek_verdict v = NET_PEEK_BAD;
  int names = 0;
  while (exts.left > 0) {
    const uint8_t *type = take(&exts, 2);
    struct cursor ext = vec(&exts, 2);
    if (type == NULL || !ext.ok)
      return bad(out, "a malformed ClientHello extension");
    if (be16(type) == TLS_EXT_ECH)
      out->ech = true;
    if (be16(type) == TLS_EXT_SERVER_NAME) {
      if (names++ > 0)
        return bad(out, "two server_name extensions");
      if ((v = server_name(ext, out)) != NET_PEEK_NAME)
        return v;
    }
  }
  return names > 0 ? NET_PEEK_NAME : bad(out, "a ClientHello without a server name (SNI)");
}

/* TLS records of type handshake, reassembled until the first handshake
 * message (which must be a ClientHello) is whole. */
static enum net_peek_verdict tls(const uint8_t *buf, size_t len, struct net_peek *out)
{
  out->proto = NET_PEEK_TLS;
  uint8_t hs[NET_PEEK_MAX];
  size_t have = 0, off = 0;
  while (off + 5 <= len) {
    const uint8_t *rec = buf + off;
    size_t rlen = be16(rec + 3);
    if (rec[0] != TLS_HANDSHAKE)
      return bad(out, "a TLS record of type %u before the ClientHello was whole", rec[0]);
    if (rec[1] != 3 || rlen == 0 || rlen > TLS_RECORD_MAX)
      return bad(out, "a malformed TLS record");
    if (off + 5 + rlen > len) {
      /* the rest of this record is still to come; a first message that
       * cannot fit is refused at once */
      if (have == 0 && off + 9 <= len &&
          ((size_t)rec[6] << 16 | (size_t)rec[7] << 8 | rec[8]) + 4 > sizeof hs)
        return bad(out, "a ClientHello over %d bytes", NET_PEEK_MAX);
      break;
    }
    size_t n = rlen < sizeof hs - have ? rlen : sizeof hs - have;
    memcpy(hs + have, rec + 5, n);
    have += n;
    off += 5 + rlen;
    if (have >= 4) {
      if (hs[0] != TLS_CLIENT_HELLO)
        return bad(out, "a TLS handshake that does not start with a ClientHello");
      size_t want = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
      if (want + 4 > sizeof hs)
        return bad(out, "a ClientHello over %d bytes", NET_PEEK_MAX);
      if (have >= want + 4)
        return client_hello(hs + 4, want, out);
    }
  }
  if (len >= NET_PEEK_MAX)
    return bad(out, "no whole ClientHello in %d bytes", NET_PEEK_MAX);
  return NET_PEEK_MORE;
}

/* ---- HTTP/1 ---- */

/* The host of "host", "host:port" or "[v6]:port" (no name: an empty
 * result). */
static void authority_host(const char *a, size_t len, char *out, size_t size)
{
  out[0] = '\0';
  if (len == 0 || a[0] == '[')
    return;
  const char *colon = memchr(a, ':', len);
  size_t n = colon != NULL ? (size_t)(colon - a) : len;
  if (n == 0 || n >= size)
    return;
  memcpy(out, a, n);
  out[n] = '\0';
}

static bool is_ows(char c)
{
  return c == ' ' || c == '\t';
}

/* The Host header of a header block (between the request line and the
 * empty line). -1: two of them. */
static int find_host(const char *h, size_t len, char *out, size_t size)
{
  int found = 0;
  for (size_t off = 0; off < len;) {
    const char *line = h + off;
    const char *eol = memchr(line, '\n', len - off);
    size_t llen = eol != NULL ? (size_t)(eol - line) : len - off;
    off += llen + 1;
    if (llen > 0 && line[llen - 1] == '\r')
      llen--;
    if (llen < 5 || strncasecmp(line, "host:", 5) != 0)
      continue;
    if (found++ > 0)
      return -1;
    const char *v = line + 5, *end = line + llen;
    while (v < end && is_ows(*v))
      v++;
    while (end > v && is_ows(end[-1]))
      end--;
    authority_host(v, (size_t)(end - v), out, size);
  }
  return found;
}

/* "METHOD SP target SP HTTP/1.x CRLF": the method is upper-case letters
 * (every registered method is), so other protocols are told apart at their
 * first bytes. */
static size_t method_len(const uint8_t *buf, size_t len)
{
  size_t i = 0;
  while (i < len && i < 20 && buf[i] >= 'A' && buf[i] <= 'Z')
    i++;
  return i;
}

static enum net_peek_verdict http_named(const char *target, size_t tlen, const char *host,
                                        bool connect, struct net_peek *out)
{
  char named[NET_NAME_MAX + 2] = "";
  /* absolute-form (http://authority/...) and CONNECT's authority-form name
   * a host of their own, which servers prefer to Host */
  const char *scheme = tlen > 3 ? memmem(target, tlen, "://", 3) : NULL;
  if (connect) {
    authority_host(target, tlen, named, sizeof named);
  } else if (scheme != NULL && target[0] != '/') {
    const char *a = scheme + 3, *end = target + tlen;
    const char *slash = memchr(a, '/', (size_t)(end - a));
    authority_host(a, (size_t)((slash != NULL ? slash : end) - a), named, sizeof named);
  }
  if (host[0] == '\0' && named[0] == '\0')
    return bad(out, "an HTTP request without a Host name");
  char canon_host[NET_NAME_MAX] = "", canon_named[NET_NAME_MAX] = "";
  if ((host[0] != '\0' && net_name_canon(host, canon_host, sizeof canon_host) < 0) ||
      (named[0] != '\0' && net_name_canon(named, canon_named, sizeof canon_named) < 0))
    return bad(out, "an HTTP request whose host is no name");
  if (canon_host[0] != '\0' && canon_named[0] != '\0' && strcmp(canon_host, canon_named) != 0)
    return bad(out, "an HTTP request naming %s in its target and %s in Host", canon_named,
               canon_host);
  snprintf(out->name, sizeof out->name, "%s", canon_named[0] != '\0' ? canon_named : canon_host);
  return NET_PEEK_NAME;
}

static enum net_peek_verdict http(const uint8_t *buf, size_t len, struct net_peek *out)
{
  out->proto = NET_PEEK_HTTP;
  const char *text = (const char *)buf;
  const char *end = memmem(text, len, "\r\n\r\n", 4);
  if (end == NULL)
    return len >= NET_PEEK_MAX ? bad(out, "no whole HTTP request head in %d bytes",
                                     NET_PEEK_MAX)
                               : NET_PEEK_MORE;
  const char *eol = memmem(text, (size_t)(end - text) + 2, "\r\n", 2);
  size_t m = method_len(buf, len);
  const char *target = text + m + 1;
  if (eol <= target)
    return bad(out, "a request line that is not HTTP/1");
  const char *sp = memchr(target, ' ', (size_t)(eol - target));
  if (sp == NULL || sp == target || (size_t)(eol - sp - 1) != 8 || strncmp(sp + 1, "HTTP/1.", 7) != 0)
    return bad(out, "a request line that is not HTTP/1");
  char host[NET_NAME_MAX + 2];
  int hosts = find_host(eol + 2, (size_t)(end + 2 - (eol + 2)), host, sizeof host);
  if (hosts < 0)
    return bad(out, "an HTTP request with two Host headers");
  if (hosts == 0)
    host[0] = '\0';
  bool connect = m == 7 && memcmp(buf, "CONNECT", 7) == 0;
  return http_named(target, (size_t)(sp - target), host, connect, out);
}

/* A few printable bytes of what was sent, for the audit line. */
static void describe(const uint8_t *buf, size_t len, char *out, size_t size)
{
  size_t o = 0;
  for (size_t i = 0; i < len && i < 12 && o + 5 < size; i++)
    o += (size_t)snprintf(out + o, size - o, isprint(buf[i]) && buf[i] != '"' && buf[i] != '\\'
                                                 ? "%c"
                                                 : "\\x%02x",
                          buf[i]);
  out[o] = '\0';
}

enum net_peek_verdict net_peek_name(const uint8_t *buf, size_t len, struct net_peek *out)
{
  memset(out, 0, sizeof *out);
  if (len == 0)
    return NET_PEEK_MORE;
  if (len > NET_PEEK_MAX)
    len = NET_PEEK_MAX;
  if (buf[0] == TLS_HANDSHAKE)
    return tls(buf, len, out);
  size_t m = method_len(buf, len);
  if (m == len && len < NET_PEEK_MAX)
    return NET_PEEK_MORE; /* still the method */
  if (m > 0 && buf[m] == ' ')
    return http(buf, len, out);
  char first[64];
  describe(buf, len, first, sizeof first);
  return bad(out, "neither a TLS ClientHello nor an HTTP/1 request (\"%s\")", first);
}
