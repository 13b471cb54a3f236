/* Unix socket addresses: the sentry decodes the agent's sockaddr_un (bind,
 * connect, sendto, sendmsg) and binds with the agent's name. A decoder that
 * trusts the length or the terminating NUL reads past the address or
 * overflows its own buffer; a bind made under another name shows it in
 * getsockname, getpeername, accept and recvfrom.
 *
 *   attack_unix --dir D       (D writable; the program works in it)
 *
 * 1. Odd lengths: 0..2, 110 (sizeof sockaddr_un), 111, 127, 128 (sizeof
 *    sockaddr_storage), 129, 4096, names cut short by the length with
 *    garbage after them, and a 108-byte path without a NUL. Each result
 *    must be the kernel's (the table below, checked natively with
 *    --native), or EINVAL where the kernel accepts an unterminated 108-byte
 *    path (usbox may refuse it; never another name).
 *    Abstract names: the length decides, trailing zeros included.
 * 2. Names: relative, absolute and "../" names given back exactly by
 *    getsockname, getpeername, accept and recvfrom; a short buffer gets a
 *    truncated name and the full length, and nothing past it is written.
 * 3. Rights: a socket of mode 0 and a socket in a directory of mode 0
 *    refuse a process without CAP_DAC_OVERRIDE (EACCES).
 * The script checks usbox's exit status and stderr (sanitizer reports). */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)
#define GARBAGE 'G'

/* The agent's address: bigger than any length tried, garbage after the name. */
static union {
  struct sockaddr sa;
  struct sockaddr_un un;
  char bytes[4096 + 64];
} addr;

/* name terminated (a NUL after it, zeros to the end of sun_path) or not
 * (garbage right after it: only the length says where it ends). */
static void make_addr(const char *name, bool terminated)
{
  memset(addr.bytes, GARBAGE, sizeof addr.bytes);
  addr.un.sun_family = AF_UNIX;
  size_t n = strlen(name);
  memcpy(addr.un.sun_path, name, n);
  if (terminated)
    memset(addr.un.sun_path + n, 0, sizeof addr.un.sun_path - n);
}

static int sock(int type)
{
  return socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
}

static char *repeat(char c, size_t n, const char *prefix)
{
  static char buf[4][256];
  static int next;
  char *b = buf[next++ % 4];
  snprintf(b, sizeof buf[0], "%s", prefix);
  size_t p = strlen(b);
  memset(b + p, c, n);
  b[p + n] = '\0';
  return b;
}

/* ---- the kernel's answers, one row each ---- */

enum op { BIND, CONNECT, SENDTO, SENDMSG };
static const char *const op_names[] = {"bind", "connect", "sendto", "sendmsg"};

struct row {
  enum op op;
  int type;
  const char *name; /* NULL: the length alone (0..2) */
  bool terminated;
  socklen_t len;
  int err;         /* the kernel's errno, 0: success */
  bool may_einval; /* usbox may refuse it with EINVAL (an unterminated 108-byte path) */
};

/* Whether a successful call did what the name says: a bind got exactly the
 * name (the part of the address the length covers, up to a NUL). */
static bool bound_as(int s, const char *want, char *why, size_t whylen)
{
  union {
    struct sockaddr_un un;
    char b[256];
  } got;
  memset(&got, 0, sizeof got);
  socklen_t len = sizeof got;
  if (getsockname(s, (struct sockaddr *)&got, &len) < 0) {
    snprintf(why, whylen, "getsockname: %s", errname(errno));
    return false;
  }
  socklen_t want_len = (socklen_t)(SUN_OFF + strlen(want) + 1);
  if (len != want_len || strcmp(got.un.sun_path, want) != 0) {
    snprintf(why, whylen, "getsockname gave %u bytes \"%.120s\", want %u \"%.120s\"", len,
             got.un.sun_path, want_len, want);
    return false;
  }
  return true;
}

static long do_op(const struct row *r, int s)
{
  socklen_t len = r->len;
  switch (r->op) {
  case BIND:
    return bind(s, &addr.sa, len);
  case CONNECT:
    return connect(s, &addr.sa, len);
  case SENDTO:
    return sendto(s, "dgram", 5, 0, &addr.sa, len);
  case SENDMSG: {
    struct iovec iov = {.iov_base = "dgram", .iov_len = 5};
    struct msghdr m = {.msg_name = &addr, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
    return sendmsg(s, &m, 0);
  }
  }
  return -1;
}

/* The name the kernel takes from the address: what the length covers. */
static void covered_name(const struct row *r, char *out, size_t size)
{
  size_t n = r->len > SUN_OFF ? r->len - SUN_OFF : 0;
  if (n > size - 1)
    n = size - 1;
  memcpy(out, addr.un.sun_path, n);
  out[n] = '\0';
}

static void run_row(const struct row *r)
{
  char name[200];
  snprintf(name, sizeof name, "%s %s len %u%s%s", op_names[r->op],
           r->type == SOCK_STREAM ? "stream" : "dgram", (unsigned)r->len,
           r->name == NULL ? ""
           : r->terminated ? " terminated"
                           : " unterminated",
           r->name != NULL && strlen(r->name) > 40 ? " (108-byte path)" : "");
  make_addr(r->name != NULL ? r->name : "", r->terminated);
  int s = sock(r->type);
  errno = 0;
  long ret = do_op(r, s);
  int e = ret < 0 ? errno : 0;
  char got[64], why[512] = "";
  describe_result(got, sizeof got, ret, e);
  note("result %s: %s", name, got);
  if (ret >= 0 && r->op == BIND && r->name != NULL) {
    char want[200];
    covered_name(r, want, sizeof want);
    if (!bound_as(s, want, why, sizeof why)) {
      fail(name, "bound under another name: %s", why);
      close(s);
      return;
    }
  }
  close(s);
  if (e == r->err)
    ok(name);
  else if (!attack_native && r->may_einval && e == EINVAL) {
    ok(name);
    note("%s: usbox refuses it (EINVAL), the kernel accepts it", name);
  } else
    fail(name, "got %s, the kernel gives %s", got, r->err ? errname(r->err) : "success");
}

/* Names the rows reach: a listener, a datagram socket, and the same behind
 * 108-byte paths (made from inside their directory, with a shorter name). */
static int listener_at(const char *dir, const char *name, int type)
{
  if (dir != NULL && chdir(dir) < 0)
    return -1;
  int s = sock(type);
  make_addr(name, true);
  unlink(name);
  if (bind(s, &addr.sa, sizeof addr.un) < 0 || (type == SOCK_STREAM && listen(s, 128) < 0)) {
    fail("setup", "binding %s: %s", name, errname(errno));
    close(s);
    s = -1;
  }
  if (dir != NULL && chdir("..") < 0)
    return -1;
  return s;
}

static void odd_lengths(void)
{
  mkdir("s", 0755);
  mkdir("w", 0755);
  mkdir("b", 0755);
  int lst = listener_at(NULL, "lst", SOCK_STREAM), dg = listener_at(NULL, "dg", SOCK_DGRAM);
  int lst108 = listener_at("s", repeat('z', 106, ""), SOCK_STREAM);
  int dg108 = listener_at("w", repeat('w', 106, ""), SOCK_DGRAM);
  const char *s108 = repeat('z', 106, "s/"), *w108 = repeat('w', 106, "w/");
  const char *b108 = repeat('y', 106, "b/"), *q18 = repeat('q', 18, "");
  const struct row rows[] = {
      {BIND, SOCK_STREAM, NULL, true, 0, EINVAL, false},
      {BIND, SOCK_STREAM, NULL, true, 1, EINVAL, false},
      {BIND, SOCK_STREAM, "b-110", true, 110, 0, false},
      {BIND, SOCK_STREAM, "b-111", true, 111, EINVAL, false},
      {BIND, SOCK_STREAM, "b-127", true, 127, EINVAL, false},
      {BIND, SOCK_STREAM, "b-128", true, 128, EINVAL, false},
      {BIND, SOCK_STREAM, "b-129", true, 129, EINVAL, false},
      {BIND, SOCK_STREAM, "b-4096", true, 4096, EINVAL, false},
      {BIND, SOCK_DGRAM, q18, false, (socklen_t)(SUN_OFF + 18), 0, false},
      {BIND, SOCK_STREAM, b108, false, 110, 0, true},
      {BIND, SOCK_STREAM, b108, false, 111, EINVAL, false},
      {BIND, SOCK_STREAM, b108, false, 128, EINVAL, false},
      {CONNECT, SOCK_STREAM, NULL, true, 0, EINVAL, false},
      {CONNECT, SOCK_STREAM, NULL, true, 2, EINVAL, false},
      {CONNECT, SOCK_STREAM, "lst", true, 110, 0, false},
      {CONNECT, SOCK_STREAM, "lst", false, (socklen_t)(SUN_OFF + 3), 0, false},
      {CONNECT, SOCK_STREAM, "lst", true, 111, EINVAL, false},
      {CONNECT, SOCK_STREAM, "lst", true, 127, EINVAL, false},
      {CONNECT, SOCK_STREAM, "lst", true, 128, EINVAL, false},
      {CONNECT, SOCK_STREAM, "lst", true, 129, EINVAL, false},
      {CONNECT, SOCK_STREAM, s108, false, 110, 0, true},
      {CONNECT, SOCK_STREAM, s108, false, 111, EINVAL, false},
      {CONNECT, SOCK_STREAM, s108, false, 128, EINVAL, false},
      {CONNECT, SOCK_DGRAM, "dg", true, 110, 0, false},
      {CONNECT, SOCK_DGRAM, "dg", true, 128, EINVAL, false},
      {SENDTO, SOCK_DGRAM, NULL, true, 0, ENOTCONN, false},
      {SENDTO, SOCK_DGRAM, NULL, true, 1, EINVAL, false},
      {SENDTO, SOCK_DGRAM, NULL, true, 2, EINVAL, false},
      {SENDTO, SOCK_DGRAM, "dg", true, 110, 0, false},
      {SENDTO, SOCK_DGRAM, "dg", false, (socklen_t)(SUN_OFF + 2), 0, false},
      {SENDTO, SOCK_DGRAM, "dg", true, 111, EINVAL, false},
      {SENDTO, SOCK_DGRAM, "dg", true, 127, EINVAL, false},
      {SENDTO, SOCK_DGRAM, "dg", true, 128, EINVAL, false},
      {SENDTO, SOCK_DGRAM, "dg", true, 129, EINVAL, false},
      {SENDTO, SOCK_DGRAM, w108, false, 110, 0, true},
      {SENDTO, SOCK_DGRAM, w108, false, 128, EINVAL, false},
      {SENDMSG, SOCK_DGRAM, "dg", true, 110, 0, false},
      {SENDMSG, SOCK_DGRAM, "dg", true, 111, EINVAL, false},
      {SENDMSG, SOCK_DGRAM, "dg", true, 128, EINVAL, false},
      {SENDMSG, SOCK_DGRAM, w108, false, 110, 0, true},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    run_row(&rows[i]);
  close(lst);
  close(dg);
  close(lst108);
  close(dg108);
}

/* bind with len sizeof(sa_family_t): the kernel picks an abstract name */
static void autobind(void)
{
  int s = sock(SOCK_STREAM);
  make_addr("", true);
  long r = bind(s, &addr.sa, sizeof(sa_family_t));
  union {
    struct sockaddr_un un;
    char b[256];
  } got;
  socklen_t len = sizeof got;
  bool named = r == 0 && getsockname(s, (struct sockaddr *)&got, &len) == 0 && len == SUN_OFF + 6 &&
               got.un.sun_path[0] == '\0';
  check("bind len 2: an abstract name of 5 bytes, as the kernel's autobind", named,
        "bind gave %s, getsockname %u bytes", r == 0 ? "success" : errname(errno), len);
  close(s);
}

/* Abstract names (a NUL first): the length is all there is to them, so
 * trailing zeros are part of the name. */
static long abstract_op(bool do_bind, int s, const char *name, socklen_t len)
{
  memset(addr.bytes, 0, sizeof addr.bytes);
  addr.un.sun_family = AF_UNIX;
  memcpy(addr.un.sun_path + 1, name, strlen(name));
  return do_bind ? bind(s, &addr.sa, len) : connect(s, &addr.sa, len);
}

static void abstract_lengths(void)
{
  char name[64];
  snprintf(name, sizeof name, "usbox-attack-%d", (int)getpid());
  socklen_t exact = (socklen_t)(SUN_OFF + 1 + strlen(name));
  int l = sock(SOCK_STREAM), l110 = sock(SOCK_STREAM), bad = sock(SOCK_STREAM);
  EXPECT_CALL("abstract bind, exact length", SUCCEEDS, SUCCEEDS, abstract_op(true, l, name, exact));
  EXPECT_CALL("abstract bind, len 110 (zeros are part of the name)", SUCCEEDS, SUCCEEDS,
              abstract_op(true, l110, name, 110));
  EXPECT_CALL("abstract bind, len 111", ERR(EINVAL), ERR(EINVAL),
              abstract_op(true, bad, name, 111));
  EXPECT_CALL("abstract bind, len 128", ERR(EINVAL), ERR(EINVAL),
              abstract_op(true, bad, name, 128));
  listen(l, 8);
  union {
    struct sockaddr_un un;
    char b[256];
  } got;
  socklen_t len = sizeof got;
  check("abstract getsockname: the same bytes",
        getsockname(l, (struct sockaddr *)&got, &len) == 0 && len == exact &&
            memcmp(got.un.sun_path, addr.un.sun_path, exact - SUN_OFF) == 0,
        "%u bytes, want %u", len, exact);
  int c = sock(SOCK_STREAM);
  EXPECT_CALL("abstract connect, exact length", SUCCEEDS, SUCCEEDS,
              abstract_op(false, c, name, exact));
  close(c);
  c = sock(SOCK_STREAM);
  /* l110 does not listen: the name with its zeros is another socket */
  EXPECT_CALL("abstract connect, len 110: another name", ERR(ECONNREFUSED), ERR(ECONNREFUSED),
              abstract_op(false, c, name, 110));
  close(c);
  close(l);
  close(l110);
  close(bad);
}

/* getsockname into a short buffer: truncated, and the full length told */
static void short_buffers(void)
{
  int s = listener_at(NULL, "short-name-listener", SOCK_STREAM);
  socklen_t full = (socklen_t)(SUN_OFF + strlen("short-name-listener") + 1);
  for (socklen_t give = 0; give <= 8; give += 4) {
    char buf[16];
    memset(buf, 'Z', sizeof buf);
    socklen_t len = give;
    char n[96];
    snprintf(n, sizeof n, "getsockname into %u bytes: truncated, full length told", give);
    check(n,
          getsockname(s, (struct sockaddr *)buf, &len) == 0 && len == full &&
              (give < 3 || memcmp(buf + 2, "short-name-listener", give - 2) == 0) &&
              buf[give] == 'Z',
          "len %u (want %u), byte after the buffer %s", len, full,
          buf[give] == 'Z' ? "untouched" : "written");
  }
  close(s);
}

/* ---- names given back ---- */

static bool name_is(const char *label, int s, bool peer, const char *want)
{
  union {
    struct sockaddr_un un;
    char b[256];
  } got;
  memset(&got, 0, sizeof got);
  socklen_t len = sizeof got;
  int r = peer ? getpeername(s, (struct sockaddr *)&got, &len)
               : getsockname(s, (struct sockaddr *)&got, &len);
  socklen_t want_len = (socklen_t)(SUN_OFF + strlen(want) + 1);
  return check(label, r == 0 && len == want_len && strcmp(got.un.sun_path, want) == 0,
               "%s gave %s%u bytes \"%.150s\", want %u \"%.150s\"",
               peer ? "getpeername" : "getsockname", r < 0 ? errname(errno) : "", len,
               got.un.sun_path, want_len, want);
}

/* A listener bound as name, a client bound as client_name; every call that
 * reports a name must report those. */
static void stream_names(const char *label, const char *name, const char *client_name)
{
  char n[PATH_MAX + 128];
  int l = sock(SOCK_STREAM), c = sock(SOCK_STREAM);
  make_addr(name, true);
  unlink(name);
  if (bind(l, &addr.sa, sizeof addr.un) < 0 || listen(l, 8) < 0) {
    fail(label, "bind %s: %s", name, errname(errno));
    return;
  }
  snprintf(n, sizeof n, "%s: getsockname of the listener", label);
  name_is(n, l, false, name);
  make_addr(client_name, true);
  unlink(client_name);
  bind(c, &addr.sa, sizeof addr.un);
  make_addr(name, true);
  if (connect(c, &addr.sa, sizeof addr.un) < 0) {
    fail(label, "connect %s: %s", name, errname(errno));
    return;
  }
  snprintf(n, sizeof n, "%s: getpeername of the client", label);
  name_is(n, c, true, name);
  snprintf(n, sizeof n, "%s: getsockname of the client", label);
  name_is(n, c, false, client_name);
  union {
    struct sockaddr_un un;
    char b[256];
  } from;
  socklen_t flen = sizeof from;
  int a = accept4(l, (struct sockaddr *)&from, &flen, SOCK_CLOEXEC);
  snprintf(n, sizeof n, "%s: accept gives the client's name", label);
  check(n,
        a >= 0 && flen == SUN_OFF + strlen(client_name) + 1 &&
            strcmp(from.un.sun_path, client_name) == 0,
        "accept: %s, %u bytes \"%.150s\"", a < 0 ? errname(errno) : "ok", flen, from.un.sun_path);
  snprintf(n, sizeof n, "%s: getsockname of the accepted socket", label);
  if (a >= 0)
    name_is(n, a, false, name);
  snprintf(n, sizeof n, "%s: getpeername of the accepted socket", label);
  if (a >= 0)
    name_is(n, a, true, client_name);
  close(a);
  close(c);
  close(l);
}

static void dgram_names(const char *label, const char *name, const char *client_name)
{
  char n[PATH_MAX + 128];
  int srv = sock(SOCK_DGRAM), c = sock(SOCK_DGRAM);
  make_addr(name, true);
  unlink(name);
  bind(srv, &addr.sa, sizeof addr.un);
  make_addr(client_name, true);
  unlink(client_name);
  bind(c, &addr.sa, sizeof addr.un);
  make_addr(name, true);
  long r = sendto(c, "x", 1, 0, &addr.sa, sizeof addr.un);
  union {
    struct sockaddr_un un;
    char b[256];
  } from;
  memset(&from, 0, sizeof from);
  socklen_t flen = sizeof from;
  char buf[8];
  long got =
      r == 1 ? recvfrom(srv, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen) : -1;
  snprintf(n, sizeof n, "%s: recvfrom gives the sender's name", label);
  check(n,
        got == 1 && flen == SUN_OFF + strlen(client_name) + 1 &&
            strcmp(from.un.sun_path, client_name) == 0,
        "sendto %s, recvfrom %s, %u bytes \"%.150s\"", r == 1 ? "ok" : errname(errno),
        got == 1 ? "ok" : "failed", flen, from.un.sun_path);
  close(srv);
  close(c);
}

static void names(const char *dir)
{
  char abs_l[PATH_MAX], abs_c[PATH_MAX];
  stream_names("relative names", "rel-listener", "rel-client");
  snprintf(abs_l, sizeof abs_l, "%s/abs-listener", dir);
  snprintf(abs_c, sizeof abs_c, "%s/abs-client", dir);
  stream_names("absolute names", abs_l, abs_c);
  mkdir("sub", 0755);
  if (chdir("sub") == 0) {
    stream_names("names with ..", "../up-listener", "./../up-client");
    dgram_names("datagram names with ..", "../up-dgram", "../up-dgram-client");
    if (chdir("..") < 0)
      fail("names", "chdir ..: %s", errname(errno));
  }
  dgram_names("datagram relative names", "rel-dgram", "rel-dgram-client");
  snprintf(abs_l, sizeof abs_l, "%s/abs-dgram", dir);
  snprintf(abs_c, sizeof abs_c, "%s/abs-dgram-client", dir);
  dgram_names("datagram absolute names", abs_l, abs_c);
}

/* ---- rights on the path ---- */

static void forbidden_paths(void)
{
  int l = listener_at(NULL, "mode0.sock", SOCK_STREAM);
  chmod("mode0.sock", 0);
  int c = sock(SOCK_STREAM);
  make_addr("mode0.sock", true);
  EXPECT_CALL("connect to a socket of mode 0", ERR(EACCES), ERR(EACCES),
              connect(c, &addr.sa, sizeof addr.un));
  close(c);
  close(l);
  mkdir("locked", 0700);
  int l2 = listener_at("locked", "in.sock", SOCK_STREAM);
  chmod("locked", 0);
  c = sock(SOCK_STREAM);
  make_addr("locked/in.sock", true);
  EXPECT_CALL("connect to a socket in a directory of mode 0", ERR(EACCES), ERR(EACCES),
              connect(c, &addr.sa, sizeof addr.un));
  close(c);
  c = sock(SOCK_DGRAM);
  make_addr("locked/in.sock", true);
  EXPECT_CALL("sendto a socket in a directory of mode 0", ERR(EACCES), ERR(EACCES),
              sendto(c, "x", 1, 0, &addr.sa, sizeof addr.un));
  close(c);
  make_addr("locked/new.sock", true);
  c = sock(SOCK_STREAM);
  EXPECT_CALL("bind in a directory of mode 0", ERR(EACCES), ERR(EACCES),
              bind(c, &addr.sa, sizeof addr.un));
  close(c);
  chmod("locked", 0700);
  close(l2);
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *dir = NULL;
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "--dir") == 0)
      dir = argv[i + 1];
  if (dir == NULL || chdir(dir) < 0) {
    fprintf(stderr, "usage: attack_unix --dir D (a writable directory)\n");
    return 2;
  }
  umask(022);
  odd_lengths();
  abstract_lengths();
  autobind();
  short_buffers();
  names(dir);
  forbidden_paths();
  /* usbox is still there to answer */
  struct stat st;
  check("usbox still answers path calls", stat(dir, &st) == 0, "stat: %s", errname(errno));
  return attack_finish("attack_unix");
}
