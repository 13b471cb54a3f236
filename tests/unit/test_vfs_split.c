/* vfs_split_last: (directory, last component) of a path, as the entry calls
 * (mkdir, unlink, rename, ...) use them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <string.h>

#include "vfs/vfs.h"

static void check_split(const char *path, const char *want_dir, const char *want_last)
{
  char dir[PATH_MAX];
  memset(dir, 'Z', sizeof dir);
  const char *last = vfs_split_last(path, dir, sizeof dir);
  if (last == NULL || strcmp(dir, want_dir) != 0 || strcmp(last, want_last) != 0)
    fail_msg("\"%s\": got (\"%s\", \"%s\"), expected (\"%s\", \"%s\")", path, dir,
             last ? last : "(null)", want_dir, want_last);
  /* the last component points into path, or is the constant "." */
  uintptr_t p = (uintptr_t)path, l = (uintptr_t)last;
  if (l < p || l > p + strlen(path))
    assert_string_equal(last, ".");
}

static void test_basic(void **state)
{
  (void)state;
  check_split("a/b/c", "a/b", "c");
  check_split("/c", "/", "c");
  check_split("c", ".", "c");
  check_split("/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu", "libc.so.6");
}

/* Trailing slashes stay with the last component ("must be a directory"). */
static void test_trailing_slashes(void **state)
{
  (void)state;
  check_split("a/b/c/", "a/b", "c/");
  check_split("a/b/c//", "a/b", "c//");
  check_split("c/", ".", "c/");
  check_split("/c/", "/", "c/");
}

static void test_root_and_dots(void **state)
{
  (void)state;
  check_split("/", "/", ".");
  check_split("//", "/", ".");
  check_split(".", ".", ".");
  check_split("..", ".", "..");
  check_split("a/..", "a", "..");
  check_split("/..", "/", "..");
  check_split("./x", ".", "x");
  check_split("../x", "..", "x");
}

/* Repeated slashes: the directory may keep a redundant slash ("a/" names the
 * same directory as "a") but must name the same directory. */
static void normalize(const char *in, char *out)
{
  size_t n = 0;
  for (const char *p = in; *p != '\0'; p++)
    if (*p != '/' || n == 0 || out[n - 1] != '/')
      out[n++] = *p;
  if (n > 1 && out[n - 1] == '/')
    n--;
  out[n] = '\0';
}

static void expect_dir_equivalent(const char *path, const char *want_dir, const char *want_last)
{
  char dir[PATH_MAX], norm[PATH_MAX];
  const char *last = vfs_split_last(path, dir, sizeof dir);
  assert_string_equal(last, want_last);
  normalize(dir, norm);
  if (strcmp(norm, want_dir) != 0)
    fail_msg("\"%s\": directory \"%s\" is not \"%s\"", path, dir, want_dir);
}

static void test_repeated_slashes(void **state)
{
  (void)state;
  expect_dir_equivalent("a//b", "a", "b");
  expect_dir_equivalent("//a", "/", "a");
  expect_dir_equivalent("///a", "/", "a");
  expect_dir_equivalent("a/b//c", "a/b", "c");
  expect_dir_equivalent("/a//b", "/a", "b");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_trailing_slashes),
      cmocka_unit_test(test_root_and_dots),
      cmocka_unit_test(test_repeated_slashes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
