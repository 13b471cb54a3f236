/* Hidden entries vanish from getdents buffers (both record layouts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vfs/vfs.h"

/* Append one record; returns its length. */
static size_t rec(char *buf, size_t name_off, const char *name)
{
  size_t len = (name_off + strlen(name) + 1 + 7) & ~(size_t)7;
  memset(buf, 0, len);
  unsigned short reclen = (unsigned short)len;
  memcpy(buf + 16, &reclen, sizeof reclen);
  strcpy(buf + name_off, name);
  return len;
}

static void check_layout(size_t name_off)
{
  char buf[512];
  size_t n = 0;
  static const char *const names[] = {".", "..", ".ssh", "keep", ".ssh2", ".aws", "z"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    n += rec(buf + n, name_off, names[i]);
  char *hidden[] = {".ssh", ".aws"};
  struct vfs_listing_filter f = {.names = hidden, .nnames = 2};
  size_t kept = vfs_filter_dirents(&f, buf, n, name_off);
  const char *expect[] = {".", "..", "keep", ".ssh2", "z"};
  size_t off = 0;
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    assert_true(off < kept);
    assert_string_equal(buf + off + name_off, expect[i]);
    unsigned short reclen;
    memcpy(&reclen, buf + off + 16, sizeof reclen);
    off += reclen;
  }
  assert_int_equal(off, kept);
}

static void test_dirent64(void **state)
{
  (void)state;
  check_layout(VFS_DIRENT64_NAME);
}

static void test_dirent_old(void **state)
{
  (void)state;
  check_layout(VFS_DIRENT_NAME);
}

static void test_malformed(void **state)
{
  (void)state;
  char buf[64] = {0};
  unsigned short bad = 300; /* runs past the buffer */
  memcpy(buf + 16, &bad, sizeof bad);
  char *hidden[] = {"x"};
  struct vfs_listing_filter f = {.names = hidden, .nnames = 1};
  assert_int_equal(vfs_filter_dirents(&f, buf, sizeof buf, VFS_DIRENT64_NAME), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dirent64),
      cmocka_unit_test(test_dirent_old),
      cmocka_unit_test(test_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
