/* netstack-shim/sockaddr.c: addresses read as the kernel reads them. The
 * AF_UNIX lengths are the kernel's boundaries (unix_validate_addr): 2 is
 * only the family, 3 one byte of sun_path, 110 all of it, 111 one byte past
 * struct sockaddr_un, 128 the whole sockaddr_storage the sentry copies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "netstack-shim/sockaddr.h"

/* A sockaddr_storage as the sentry holds one: AF_UNIX, then `path` (no
 * NUL of its own), then 'x' to the end, so that a decoder reading past the
 * length would take the x's. */
static struct sockaddr_storage unix_ss(const void *path, size_t n)
{
  struct sockaddr_storage ss;
  memset(&ss, 'x', sizeof ss);
  ss.ss_family = AF_UNIX;
  memcpy((char *)&ss + offsetof(struct sockaddr_un, sun_path), path, n);
  return ss;
}

static void test_unix_lengths(void **state)
{
  (void)state;
  struct net_unix_addr ua;
  struct sockaddr_storage ss = unix_ss("sock", 4);
  /* only the family (bind's autobind is the caller's), or less: EINVAL */
  assert_int_equal(net_unix_addr_decode(&ss, 0, &ua), -EINVAL);
  assert_int_equal(net_unix_addr_decode(&ss, 1, &ua), -EINVAL);
  assert_int_equal(net_unix_addr_decode(&ss, 2, &ua), -EINVAL);
  /* one byte of path: a one-letter name, terminated at the length */
  assert_int_equal(net_unix_addr_decode(&ss, 3, &ua), 0);
  assert_int_equal(ua.kind, NET_UNIX_PATH);
  assert_int_equal(ua.len, 1);
  assert_string_equal(ua.name, "s");
  /* 109: 107 bytes of path ("sock" and 103 x's), unterminated */
  assert_int_equal(net_unix_addr_decode(&ss, 109, &ua), 0);
  assert_int_equal(ua.len, 107);
  assert_int_equal(strlen(ua.name), 107);
  assert_memory_equal(ua.name, "sockxxx", 7);
  /* 110: every byte of sun_path, 108 of name, still NUL-terminated */
  assert_int_equal(net_unix_addr_decode(&ss, 110, &ua), 0);
  assert_int_equal(ua.len, NET_UNIX_PATH_MAX);
  assert_int_equal(strlen(ua.name), NET_UNIX_PATH_MAX);
  assert_int_equal(ua.name[NET_UNIX_PATH_MAX], '\0');
  /* past struct sockaddr_un: EINVAL, whatever follows (the kernel's answer;
   * 128 bytes once copied 126 into a 109-byte buffer) */
  assert_int_equal(net_unix_addr_decode(&ss, 111, &ua), -EINVAL);
  assert_int_equal(net_unix_addr_decode(&ss, 128, &ua), -EINVAL);
  assert_int_equal(net_unix_addr_decode(&ss, sizeof ss, &ua), -EINVAL);
}

static void test_unix_terminated(void **state)
{
  (void)state;
  struct net_unix_addr ua;
  /* the usual form: NUL-terminated, length of the whole struct */
  struct sockaddr_storage ss = unix_ss("/run/a.sock\0", 12);
  assert_int_equal(net_unix_addr_decode(&ss, sizeof(struct sockaddr_un), &ua), 0);
  assert_int_equal(ua.kind, NET_UNIX_PATH);
  assert_string_equal(ua.name, "/run/a.sock");
  assert_int_equal(ua.len, 11);
  /* SUN_LEN style: exactly the path, no NUL: the length ends it */
  assert_int_equal(net_unix_addr_decode(&ss, offsetof(struct sockaddr_un, sun_path) + 11, &ua),
                   0);
  assert_string_equal(ua.name, "/run/a.sock");
  /* shorter than the path: the kernel takes the prefix */
  assert_int_equal(net_unix_addr_decode(&ss, offsetof(struct sockaddr_un, sun_path) + 4, &ua),
                   0);
  assert_string_equal(ua.name, "/run");
  /* a NUL inside: the name ends there */
  ss = unix_ss("ab\0cd", 5);
  assert_int_equal(net_unix_addr_decode(&ss, 110, &ua), 0);
  assert_string_equal(ua.name, "ab");
  assert_int_equal(ua.len, 2);
}

static void test_unix_abstract(void **state)
{
  (void)state;
  struct net_unix_addr ua;
  struct sockaddr_storage ss = unix_ss("\0name\0more", 10);
  /* just the leading NUL: the empty abstract name */
  assert_int_equal(net_unix_addr_decode(&ss, 3, &ua), 0);
  assert_int_equal(ua.kind, NET_UNIX_ABSTRACT);
  assert_int_equal(ua.len, 0);
  /* the length says where it ends; NULs are part of it */
  assert_int_equal(net_unix_addr_decode(&ss, 2 + 10, &ua), 0);
  assert_int_equal(ua.kind, NET_UNIX_ABSTRACT);
  assert_int_equal(ua.len, 9);
  assert_memory_equal(ua.name, "name\0more", 9);
  assert_int_equal(ua.name[9], '\0');
  /* the longest: 107 bytes after the NUL */
  assert_int_equal(net_unix_addr_decode(&ss, 110, &ua), 0);
  assert_int_equal(ua.len, NET_UNIX_PATH_MAX - 1);
  assert_int_equal(net_unix_addr_decode(&ss, 111, &ua), -EINVAL);
  assert_int_equal(net_unix_addr_decode(&ss, 128, &ua), -EINVAL);
}

static void test_unix_family(void **state)
{
  (void)state;
  struct net_unix_addr ua;
  struct sockaddr_storage ss = unix_ss("sock", 4);
  ss.ss_family = AF_INET;
  assert_int_equal(net_unix_addr_decode(&ss, 110, &ua), -EINVAL);
  ss.ss_family = AF_UNSPEC;
  assert_int_equal(net_unix_addr_decode(&ss, 110, &ua), -EINVAL);
  /* a decoder reads only the length it is given: a buffer of exactly 3
   * bytes (no storage around it) is enough */
  char three[3];
  sa_family_t f = AF_UNIX;
  memcpy(three, &f, sizeof f);
  three[2] = 'z';
  assert_int_equal(net_unix_addr_decode(three, 3, &ua), 0);
  assert_string_equal(ua.name, "z");
}

static void test_lengths(void **state)
{
  (void)state;
  assert_int_equal(net_addrlen_check(0), 0);
  assert_int_equal(net_addrlen_check(16), 0);
  assert_int_equal(net_addrlen_check(128), 0);
  assert_int_equal(net_addrlen_check(129), -EINVAL);
  assert_int_equal(net_addrlen_check(-1), -EINVAL);
  /* a msghdr's name: clamped, not refused, when long (__copy_msghdr) */
  char name[1];
  assert_int_equal(net_msg_namelen(NULL, 16), 0);
  assert_int_equal(net_msg_namelen(NULL, -1), 0);
  assert_int_equal(net_msg_namelen(name, 0), 0);
  assert_int_equal(net_msg_namelen(name, 16), 16);
  assert_int_equal(net_msg_namelen(name, 128), 128);
  assert_int_equal(net_msg_namelen(name, 200), 128);
  assert_int_equal(net_msg_namelen(name, -1), -EINVAL);
  size_t total = 7;
  struct iovec iov[3] = {{NULL, 10}, {NULL, 0}, {NULL, 5}};
  assert_int_equal(net_iov_total(iov, 3, &total), 0);
  assert_int_equal(total, 15);
  assert_int_equal(net_iov_total(iov, 0, &total), 0);
  assert_int_equal(total, 0);
  iov[1].iov_len = (size_t)-1; /* negative as ssize_t */
  assert_int_equal(net_iov_total(iov, 3, &total), -EINVAL);
  iov[0].iov_len = iov[1].iov_len = iov[2].iov_len = SIZE_MAX / 2; /* the sum wraps */
  assert_int_equal(net_iov_total(iov, 3, &total), -EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unix_lengths), cmocka_unit_test(test_unix_terminated),
      cmocka_unit_test(test_unix_abstract), cmocka_unit_test(test_unix_family),
      cmocka_unit_test(test_lengths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
