/* The maps of an OCI user namespace (common/userns.c): what the kernel
 * would refuse is refused when the config is read, with the field named;
 * ids translate as the kernel translates them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/userns.h"

static void test_to_host(void **state)
{
  (void)state;
  const struct userns_map m[] = {{0, 100000, 1000}, {1000, 200000, 1}, {4000, 300000, 10}};
  assert_int_equal(userns_to_host(m, 3, 0), 100000);
  assert_int_equal(userns_to_host(m, 3, 999), 100999);
  assert_int_equal(userns_to_host(m, 3, 1000), 200000);
  assert_int_equal(userns_to_host(m, 3, 1001), -1);
  assert_int_equal(userns_to_host(m, 3, 4009), 300009);
  assert_int_equal(userns_to_host(m, 3, 4010), -1);
  assert_int_equal(userns_to_host(m, 0, 0), -1);
  const struct userns_map top = {UINT32_MAX - 1, 5, 1};
  assert_int_equal(userns_to_host(&top, 1, UINT32_MAX - 1), 5);
  assert_int_equal(userns_to_host(&top, 1, UINT32_MAX), -1);
  /* and back */
  assert_int_equal(userns_to_inside(m, 3, 100999), 999);
  assert_int_equal(userns_to_inside(m, 3, 200000), 1000);
  assert_int_equal(userns_to_inside(m, 3, 300009), 4009);
  assert_int_equal(userns_to_inside(m, 3, 200001), -1);
  assert_int_equal(userns_to_inside(m, 3, 0), -1);
}

static void expect_refused(const struct userns_map *m, size_t n, const char *words)
{
  usbox_err_t err = {0};
  assert_int_equal(userns_check_maps(m, n, "uidMappings", &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, words));
}

static void test_check(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  const struct userns_map good[] = {{0, 100000, 65536}, {65536, 0, 1}, {70000, 165536, 100}};
  assert_int_equal(userns_check_maps(good, 3, "uidMappings", &err), 0);
  const struct userns_map empty[] = {{0, 100000, 0}};
  expect_refused(empty, 1, "uidMappings[0]: an empty range");
  const struct userns_map past[] = {{0, 100000, 1}, {UINT32_MAX - 1, 5, 3}};
  expect_refused(past, 2, "uidMappings[1]");
  const struct userns_map outside_past[] = {{0, UINT32_MAX, 2}};
  expect_refused(outside_past, 1, "past 2^32-1");
  const struct userns_map inside[] = {{0, 100000, 10}, {5, 300000, 10}};
  expect_refused(inside, 2, "uidMappings[1] overlaps uidMappings[0]");
  const struct userns_map outside[] = {{0, 100000, 10}, {20, 100009, 1}};
  expect_refused(outside, 2, "overlaps");
  const struct userns_map touching[] = {{0, 100000, 10}, {10, 100010, 10}};
  assert_int_equal(userns_check_maps(touching, 2, "uidMappings", &err), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_to_host), cmocka_unit_test(test_check)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
