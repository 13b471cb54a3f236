/* task_parse_status: the fields usbox takes from /proc/TID/status to act as
 * an agent thread (tgid, umask, uid/gid sets, supplementary groups). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/task.h"

static void read_self_status(char *buf, size_t size)
{
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  size_t n = 0;
  ssize_t r;
  while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
    n += (size_t)r;
  close(fd);
  assert_true(n > 0 && n + 1 < size);
  buf[n] = '\0';
}

static int cmp_gid(const void *a, const void *b)
{
  gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
  return x < y ? -1 : x > y;
}

/* The real status of this process agrees with the system calls. When the
 * test runs as root it first gives itself distinctive groups and fs ids, so
 * that the order of the Uid:/Gid: fields matters. */
static void test_real_status(void **state)
{
  (void)state;
  static const gid_t groups[] = {4, 27, 100, 4000000000u};
  bool root = setgroups(sizeof groups / sizeof groups[0], groups) == 0;
  if (root) {
    setfsuid(12345);
    setfsgid(23456);
  }
  mode_t old_umask = umask(0027);
  char text[16384];
  read_self_status(text, sizeof text);
  umask(old_umask);

  struct task t;
  memset(&t, 0xa5, sizeof t);
  assert_int_equal(task_parse_status(text, &t), 0);
  assert_int_equal(t.tgid, getpid());
  assert_int_equal(t.umask, 0027);
  assert_int_equal(t.creds.uid, getuid());
  assert_int_equal(t.creds.euid, geteuid());
  assert_int_equal(t.creds.gid, getgid());
  assert_int_equal(t.creds.egid, getegid());
  /* setfs*id(-1) changes nothing and returns the current value */
  assert_int_equal(t.creds.fsuid, (uid_t)setfsuid((uid_t)-1));
  assert_int_equal(t.creds.fsgid, (gid_t)setfsgid((gid_t)-1));
  if (root) {
    assert_int_equal(t.creds.fsuid, 12345);
    assert_int_equal(t.creds.fsgid, 23456);
    setfsuid(geteuid());
    setfsgid(getegid());
  }

  gid_t sys_groups[TASK_MAX_GROUPS + 1];
  int n = getgroups(TASK_MAX_GROUPS, sys_groups);
  if (n < 0) {
    assert_int_equal(errno, EINVAL); /* more than TASK_MAX_GROUPS */
    assert_int_equal(t.creds.ngroups, -1);
    return;
  }
  assert_int_equal(t.creds.ngroups, n);
  gid_t parsed[TASK_MAX_GROUPS];
  memcpy(parsed, t.creds.groups, (size_t)n * sizeof parsed[0]);
  qsort(parsed, (size_t)n, sizeof parsed[0], cmp_gid);
  qsort(sys_groups, (size_t)n, sizeof sys_groups[0], cmp_gid);
  assert_memory_equal(parsed, sys_groups, (size_t)n * sizeof parsed[0]);
  if (root) {
    assert_int_equal(n, 4);
    assert_int_equal(parsed[3], 4000000000u);
  }
}

#define STATUS_HEAD "Name:\tcat\nUmask:\t0002\nState:\tR (running)\nTgid:\t4242\nNgid:\t0\n"
#define STATUS_IDS                                                                                 \
  "Pid:\t4243\nPPid:\t1\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\n"                            \
  "Gid:\t2000\t2001\t2002\t2003\nFDSize:\t64\n"
#define STATUS_TAIL "NStgid:\t4242\nNSpid:\t4243\nVmPeak:\t  1000 kB\n"

static void test_crafted_status(void **state)
{
  (void)state;
  struct task t;
  memset(&t, 0, sizeof t);
  assert_int_equal(task_parse_status(STATUS_HEAD STATUS_IDS "Groups:\t10 20 30 \n" STATUS_TAIL, &t),
                   0);
  assert_int_equal(t.tgid, 4242);
  assert_int_equal(t.umask, 02);
  assert_int_equal(t.creds.uid, 1000);
  assert_int_equal(t.creds.euid, 1001);
  assert_int_equal(t.creds.fsuid, 1003);
  assert_int_equal(t.creds.gid, 2000);
  assert_int_equal(t.creds.egid, 2001);
  assert_int_equal(t.creds.fsgid, 2003);
  assert_int_equal(t.creds.ngroups, 3);
  assert_int_equal(t.creds.groups[0], 10);
  assert_int_equal(t.creds.groups[1], 20);
  assert_int_equal(t.creds.groups[2], 30);

  /* no groups: the numbers of the next line are not groups */
  memset(&t, 0, sizeof t);
  assert_int_equal(task_parse_status(STATUS_HEAD STATUS_IDS "Groups:\t\n" STATUS_TAIL, &t), 0);
  assert_int_equal(t.creds.ngroups, 0);
  memset(&t, 0, sizeof t);
  assert_int_equal(task_parse_status(STATUS_HEAD STATUS_IDS "Groups:\n4242 7\n", &t), 0);
  assert_int_equal(t.creds.ngroups, 0);

  /* Groups as the last line, without a newline */
  memset(&t, 0, sizeof t);
  assert_int_equal(task_parse_status(STATUS_HEAD STATUS_IDS "Groups:\t5 6", &t), 0);
  assert_int_equal(t.creds.ngroups, 2);
  assert_int_equal(t.creds.groups[1], 6);

  /* large ids (nobody, 2^32-2) */
  memset(&t, 0, sizeof t);
  assert_int_equal(task_parse_status("Tgid:\t1\nUmask:\t0777\n"
                                     "Uid:\t65534\t4294967294\t0\t4294967294\n"
                                     "Gid:\t65534\t65534\t65534\t65534\nGroups:\t65534\n",
                                     &t),
                   0);
  assert_int_equal(t.umask, 0777);
  assert_int_equal(t.creds.euid, 4294967294u);
  assert_int_equal(t.creds.fsuid, 4294967294u);
  assert_int_equal(t.creds.groups[0], 65534);
}

static void test_missing_fields(void **state)
{
  (void)state;
  static const char *const texts[] = {
      "",
      "Name:\tx\n",
      /* each of the five fields missing in turn */
      "Umask:\t0022\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n",
      "Tgid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n",
      "Tgid:\t1\nUmask:\t0022\nGid:\t0\t0\t0\t0\nGroups:\t\n",
      "Tgid:\t1\nUmask:\t0022\nUid:\t0\t0\t0\t0\nGroups:\t\n",
      "Tgid:\t1\nUmask:\t0022\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
      /* Uid/Gid with fewer than four ids are not understood */
      "Tgid:\t1\nUmask:\t0022\nUid:\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n",
      "Tgid:\t1\nUmask:\t0022\nUid:\t0\t0\t0\t0\nGid:\t0\nGroups:\t\n",
      /* a field name must start its line */
      "Tgid:\t1\nUmask:\t0022\nxUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    struct task t;
    memset(&t, 0, sizeof t);
    int r = task_parse_status(texts[i], &t);
    if (r != -EINVAL)
      fail_msg("text %zu: returned %d, expected -EINVAL", i, r);
  }
  struct task t;
  assert_int_equal(
      task_parse_status("Tgid:\t1\nUmask:\t0022\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n",
                        &t),
      0);
}

static void test_group_limit(void **state)
{
  (void)state;
  char text[4096];
  for (int count = TASK_MAX_GROUPS - 1; count <= TASK_MAX_GROUPS + 2; count++) {
    int n = snprintf(text, sizeof text,
                     "Tgid:\t1\nUmask:\t0022\nUid:\t0\t0\t0\t0\n"
                     "Gid:\t0\t0\t0\t0\nGroups:\t");
    for (int g = 0; g < count; g++)
      n += snprintf(text + n, sizeof text - (size_t)n, "%d ", 1000 + g);
    snprintf(text + n, sizeof text - (size_t)n, "\nNStgid:\t1\n");
    struct task t;
    memset(&t, 0, sizeof t);
    assert_int_equal(task_parse_status(text, &t), 0);
    if (count <= TASK_MAX_GROUPS) {
      assert_int_equal(t.creds.ngroups, count);
      assert_int_equal(t.creds.groups[count - 1], 1000 + count - 1);
    } else if (t.creds.ngroups != -1) {
      fail_msg("%d groups: ngroups %d, expected -1", count, t.creds.ngroups);
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_status),
      cmocka_unit_test(test_crafted_status),
      cmocka_unit_test(test_missing_fields),
      cmocka_unit_test(test_group_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
