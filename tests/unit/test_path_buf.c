/* common/path.h's path_copy and path_buf: the same bytes and length as the
 * snprintf calls they replace on the walk's hot path, cut or not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/path.h"

/* "%s%s%.*s" of (a, b, n bytes of c) both ways, into buffers of size. */
static void check_three(const char *a, const char *b, const char *c, size_t n, size_t size)
{
  char want[64], got[64];
  memset(want, 'Z', sizeof want);
  memset(got, 'Z', sizeof got);
  int wn = snprintf(want, size, "%s%s%.*s", a, b, (int)n, c);
  struct path_buf pb = path_buf_at(got, size);
  path_buf_puts(&pb, a);
  path_buf_puts(&pb, b);
  path_buf_put(&pb, c, n);
  if ((size_t)wn != pb.len || memcmp(want, got, sizeof want) != 0)
    fail_msg("size %zu: snprintf \"%s\" (%d), path_buf \"%s\" (%zu)", size, want, wn, got, pb.len);
}

static void test_every_size(void **state)
{
  (void)state;
  for (size_t size = 1; size <= 40; size++) {
    check_three("/tmp/bx", "/", "micro-scratch.2/rest", 15, size);
    check_three("", "", "name", 4, size);
    check_three("dir", "", "", 0, size);
  }
}

static void test_copy(void **state)
{
  (void)state;
  char buf[8];
  assert_int_equal(path_copy(buf, sizeof buf, "abc"), 3);
  assert_string_equal(buf, "abc");
  assert_int_equal(path_copy(buf, sizeof buf, "abcdefghij"), 10); /* >= size: cut */
  assert_string_equal(buf, "abcdefg");
}

/* A result that no longer fits stays cut where it was cut: later pieces
 * only count. */
static void test_cut_stays_cut(void **state)
{
  (void)state;
  char buf[6];
  struct path_buf pb = path_buf_at(buf, sizeof buf);
  path_buf_puts(&pb, "abcdefgh");
  path_buf_puts(&pb, "XY");
  assert_string_equal(buf, "abcde");
  assert_int_equal(pb.len, 10);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_size),
      cmocka_unit_test(test_copy),
      cmocka_unit_test(test_cut_stays_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
