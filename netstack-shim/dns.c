#include "netstack-shim/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define HDR 12
#define FLAG_QR 0x8000
#define FLAG_OPCODE 0x7800
#define FLAG_TC 0x0200
#define FLAG_RD 0x0100
#define FLAG_RA 0x0080
#define FLAG_AA 0x0400
#define FLAG_CD 0x0010

/* A decoded name whose labels held bytes no host name has: it compares
 * unequal to every real name (it is not valid text for any rule). */
static const char odd_name[] = "\x01";

static uint16_t get16(const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* Decode the name at *off into out (dotted, lower case; odd_name for labels
 * with '.', NUL, spaces or non-ASCII bytes) and move *off past it (past the
 * first compression pointer, if any). 0 or -EINVAL. */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t size)
{
  size_t pos = *off, n = 0, wire = 0;
  bool jumped = false, odd = false;
  for (int steps = 0; steps < 128; steps++) {
    if (pos >= len)
      return -EINVAL;
    uint8_t l = msg[pos];
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len)
        return -EINVAL;
      size_t target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
      if (!jumped)
        *off = pos + 2;
      jumped = true;
      if (target >= pos) /* only backwards: no loops */
        return -EINVAL;
      pos = target;
      continue;
    }
    if (l & 0xc0)
      return -EINVAL; /* extended label types are obsolete */
    if (l == 0) {
      if (!jumped)
        *off = pos + 1;
      out[n] = '\0';
      if (odd)
        snprintf(out, size, "%s", odd_name);
      return 0;
    }
    wire += (size_t)l + 1;
    if (pos + 1 + l > len || wire > 255 || n + l + 2 > size)
      return -EINVAL;
    if (n > 0)
      out[n++] = '.';
    for (size_t i = 0; i < l; i++) {
      unsigned char c = msg[pos + 1 + i];
      if (c <= ' ' || c >= 0x7f || c == '.')
        odd = true;
      out[n++] = (char)tolower(c);
    }
    pos += 1 + (size_t)l;
  }
  return -EINVAL;
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *q)
{
  memset(q, 0, sizeof *q);
  if (len < HDR)
    return -EINVAL;
  q->id = get16(msg);
  q->flags = get16(msg + 2);
  if ((q->flags & FLAG_QR) || (q->flags & FLAG_OPCODE) || get16(msg + 4) != 1)
    return -EINVAL;
  size_t off = HDR;
  if (read_name(msg, len, &off, q->name, sizeof q->name) < 0 || strcmp(q->name, odd_name) == 0)
    return -EINVAL;
  if (off + 4 > len)
    return -EINVAL;
  q->qtype = get16(msg + off);
  q->qclass = get16(msg + off + 2);
  q->end = off + 4;
  return 0;
}

size_t dns_build_error(const uint8_t *query, const struct dns_question *q, int rcode,
                       uint8_t *out, size_t cap)
{
  if (q->end > cap || q->end < HDR)
    return 0;
  memcpy(out, query, q->end);
  uint16_t flags = (uint16_t)(FLAG_QR | FLAG_RA | (q->flags & (FLAG_RD | FLAG_CD)) | (rcode & 0xf));
  put16(out + 2, flags);
  put16(out + 4, 1);
  put16(out + 6, 0);
  put16(out + 8, 0);
  put16(out + 10, 0);
  return q->end;
}

size_t dns_build_loopback(const uint8_t *query, const struct dns_question *q, uint8_t *out,
                          size_t cap)
{
  static const uint8_t v4[4] = {127, 0, 0, 1}, v6[16] = {[15] = 1};
  bool a = q->qtype == 1, aaaa = q->qtype == 28;
  size_t rdlen = a ? sizeof v4 : sizeof v6;
  size_t n = dns_build_error(query, q, 0, out, cap);
  if (n == 0 || (!a && !aaaa))
    return n;
  if (n + 12 + rdlen > cap)
    return 0;
  uint8_t *rr = out + n;
  put16(rr, 0xc000 | HDR); /* the owner: the question's name */
  put16(rr + 2, q->qtype);
  put16(rr + 4, 1); /* IN */
  memset(rr + 6, 0, 4); /* TTL 0: the sandbox's name is nobody's to cache */
  put16(rr + 10, (uint16_t)rdlen);
  memcpy(rr + 12, a ? v4 : v6, rdlen);
  put16(out + 6, 1); /* one answer */
  put16(out + 2, (uint16_t)(get16(out + 2) | FLAG_AA));
  return n + 12 + rdlen;
}

struct rr {
  char owner[NET_NAME_MAX + 2];
  uint16_t type, class;
  uint32_t ttl;
  size_t rdata, rdlen;
};

/* Read the resource record at *off. 0 or -EINVAL. */
static int read_rr(const uint8_t *msg, size_t len, size_t *off, struct rr *rr)
{
  if (read_name(msg, len, off, rr->owner, sizeof rr->owner) < 0 || *off + 10 > len)
    return -EINVAL;
  const uint8_t *p = msg + *off;
  rr->type = get16(p), rr->class = get16(p + 2), rr->ttl = get32(p + 4);
  rr->rdlen = get16(p + 8);
  rr->rdata = *off + 10;
  if (rr->rdata + rr->rdlen > len)
    return -EINVAL;
  *off = rr->rdata + rr->rdlen;
  if (rr->ttl > 0x7fffffffu)
    rr->ttl = 0; /* RFC 2181 8: a TTL with the top bit set is zero */
  return 0;
}

#define CHAIN_MAX 16

struct chain {
  char names[CHAIN_MAX][NET_NAME_MAX + 2];
  int n;
};

static bool in_chain(const struct chain *c, const char *name)
{
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->names[i], name) == 0)
      return true;
  return false;
}

/* Follow CNAMEs from the question's name: each pass adds the targets of
 * records owned by a name already in the chain (any order of records). */
static int build_chain(const uint8_t *msg, size_t len, size_t an_off, int ancount,
                       struct chain *c)
{
  for (int pass = 0; pass < CHAIN_MAX; pass++) {
    int before = c->n;
    size_t off = an_off;
    for (int i = 0; i < ancount; i++) {
      struct rr rr;
      if (read_rr(msg, len, &off, &rr) < 0)
        return -EINVAL;
      if (rr.type != DNS_TYPE_CNAME || rr.class != DNS_CLASS_IN || !in_chain(c, rr.owner))
        continue;
      char target[NET_NAME_MAX + 2];
      size_t t = rr.rdata;
      if (read_name(msg, len, &t, target, sizeof target) < 0)
        return -EINVAL;
      if (!in_chain(c, target) && c->n < CHAIN_MAX && strcmp(target, odd_name) != 0)
        snprintf(c->names[c->n++], sizeof c->names[0], "%s", target);
    }
    if (c->n == before)
      break;
  }
  return 0;
}

int dns_parse_response(const uint8_t *msg, size_t len, const struct dns_question *q,
                       dns_addr_fn fn, void *ctx)
{
  if (len < HDR || get16(msg) != q->id)
    return -EINVAL;
  uint16_t flags = get16(msg + 2);
  if (!(flags & FLAG_QR) || (flags & FLAG_OPCODE) || get16(msg + 4) != 1)
    return -EINVAL;
  int ancount = get16(msg + 6);
  size_t off = HDR;
  char qname[NET_NAME_MAX + 2];
  if (read_name(msg, len, &off, qname, sizeof qname) < 0 || off + 4 > len)
    return -EINVAL;
  if (strcmp(qname, q->name) != 0 || get16(msg + off) != q->qtype ||
      get16(msg + off + 2) != q->qclass)
    return -EINVAL; /* an answer to some other question */
  off += 4;
  struct chain chain;
  chain.n = 1;
  snprintf(chain.names[0], sizeof chain.names[0], "%s", q->name);
  if (build_chain(msg, len, off, ancount, &chain) < 0)
    return -EINVAL;
  for (int i = 0; i < ancount; i++) {
    struct rr rr;
    if (read_rr(msg, len, &off, &rr) < 0)
      return -EINVAL;
    if (rr.class != DNS_CLASS_IN || !in_chain(&chain, rr.owner))
      continue;
    struct net_addr a = {0};
    if (rr.type == DNS_TYPE_A && rr.rdlen == 4) {
      a.family = AF_INET;
      memcpy(a.b, msg + rr.rdata, 4);
    } else if (rr.type == DNS_TYPE_AAAA && rr.rdlen == 16) {
      char text[64];
      struct in6_addr in6;
      memcpy(&in6, msg + rr.rdata, 16);
      /* through the parser: a mapped AAAA is the IPv4 address */
      if (inet_ntop(AF_INET6, &in6, text, sizeof text) == NULL || net_addr_parse(text, &a) < 0)
        continue;
    } else {
      continue;
    }
    if (fn != NULL)
      fn(ctx, &a, rr.ttl);
  }
  return flags & 0xf;
}
