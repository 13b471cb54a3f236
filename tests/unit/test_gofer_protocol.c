/* The gofer's input validation: every malformed message is refused with an
 * error, never a crash; canonical paths only. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fdpass.h"
#include "gofer/gofer.h"
#include "gofer/ops.h"
#include "gofer/protocol.h"

static void test_path_valid(void **state)
{
  (void)state;
  static const char *const good[] = {"", "a", "a/b", "a/b/c.txt", "..a", "a..", ".hidden"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(gofer_path_valid(good[i], (uint32_t)strlen(good[i]) + 1));
  static const char *const bad[] = {"/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a/.."};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(gofer_path_valid(bad[i], (uint32_t)strlen(bad[i]) + 1));
  /* length must match, NUL must end it, no embedded NUL */
  assert_false(gofer_path_valid("abc", 3));
  assert_false(gofer_path_valid("ab\0c", 5));
  char longname[NAME_MAX + 2];
  memset(longname, 'x', NAME_MAX + 1);
  longname[NAME_MAX + 1] = '\0';
  assert_false(gofer_path_valid(longname, NAME_MAX + 2));
  longname[NAME_MAX] = '\0';
  assert_true(gofer_path_valid(longname, NAME_MAX + 1));
}

static void test_name_valid(void **state)
{
  (void)state;
  assert_true(gofer_name_valid("x"));
  assert_true(gofer_name_valid("x/"));
  assert_true(gofer_name_valid("."));
  assert_true(gofer_name_valid(".."));
  assert_false(gofer_name_valid(""));
  assert_false(gofer_name_valid("a/b"));
  assert_false(gofer_name_valid("x//"));
}

static struct gofer_state one_mount(void)
{
  struct gofer_state g = {.nmounts = 1};
  g.mounts[0].fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return g;
}

/* Build a message: header + path + path2 + data. */
static size_t build(char *buf, uint16_t op, const char *path, const char *path2, const void *data,
                    size_t data_len)
{
  struct gofer_req req = {.magic = GOFER_MAGIC, .id = 7, .op = op};
  req.path_len = path ? (uint32_t)strlen(path) + 1 : 0;
  req.path2_len = path2 ? (uint32_t)strlen(path2) + 1 : 0;
  req.data_len = (uint32_t)data_len;
  size_t n = 0;
  memcpy(buf, &req, sizeof req);
  n += sizeof req;
  if (path)
    memcpy(buf + n, path, req.path_len), n += req.path_len;
  if (path2)
    memcpy(buf + n, path2, req.path2_len), n += req.path2_len;
  if (data_len)
    memcpy(buf + n, data, data_len), n += data_len;
  return n;
}

static void test_decode_refuses(void **state)
{
  (void)state;
  struct gofer_state g = one_mount();
  static char buf[GOFER_MAX_MSG] __attribute__((aligned(16)));
  struct gofer_call c;
  /* well formed */
  size_t n = build(buf, GOFER_WALK, "etc", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), 0);
  /* too short, bad magic, bad op, bad mount */
  assert_int_equal(gofer_decode(&g, buf, sizeof(struct gofer_req) - 1, -1, &c), -EPROTO);
  ((struct gofer_req *)buf)->magic = 1;
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EPROTO);
  n = build(buf, GOFER_OP_MAX, "etc", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  n = build(buf, GOFER_WALK, "etc", NULL, NULL, 0);
  ((struct gofer_req *)buf)->mount = 3;
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  /* lengths that do not add up */
  n = build(buf, GOFER_WALK, "etc", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n + 5, -1, &c), -EPROTO);
  /* paths that are not canonical */
  n = build(buf, GOFER_WALK, "../etc", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  n = build(buf, GOFER_WALK, "/etc", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  /* an entry op needs parent/name; "a/.." is a name of "..": allowed */
  n = build(buf, GOFER_MKDIR, "tmp/..", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), 0);
  n = build(buf, GOFER_MKDIR, "../tmp", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  /* rename needs a valid second entry */
  n = build(buf, GOFER_RENAME, "a", "/b", NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  /* symlink text must be NUL-terminated, utimens data two timespecs */
  n = build(buf, GOFER_SYMLINK, "a", NULL, "xy", 2);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  n = build(buf, GOFER_UTIMENS, "a", NULL, "123", 3);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EINVAL);
  /* data up to GOFER_MAX_DATA, not a byte more (the fuzz target's inputs
   * stop short of this length) */
  static char value[GOFER_MAX_DATA + 1];
  n = build(buf, GOFER_SETXATTR, "a", "user.x", value, GOFER_MAX_DATA);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), 0);
  n = build(buf, GOFER_SETXATTR, "a", "user.x", value, GOFER_MAX_DATA + 1);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EPROTO);
  /* inotify needs its fd; proc follow only on procfs mounts */
  n = build(buf, GOFER_INOTIFY, "a", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EBADF);
  n = build(buf, GOFER_PROC_FOLLOW, "a", NULL, NULL, 0);
  assert_int_equal(gofer_decode(&g, buf, n, -1, &c), -EPERM);
  close(g.mounts[0].fd);
}

/* Random bytes and mutated good messages: decode either refuses or accepts
 * something canonical, and never crashes (ASan build runs this too). */
static void test_decode_fuzz(void **state)
{
  (void)state;
  struct gofer_state g = one_mount();
  static char buf[GOFER_MAX_MSG] __attribute__((aligned(16)));
  struct gofer_call c;
  unsigned seed = 12345;
  for (int i = 0; i < 200000; i++) {
    size_t n = build(buf, (uint16_t)(1 + rand_r(&seed) % (GOFER_OP_MAX + 1)), "usr/lib", "x", "d\0", 2);
    int flips = 1 + rand_r(&seed) % 4;
    for (int f = 0; f < flips; f++)
      buf[rand_r(&seed) % n] = (char)rand_r(&seed);
    size_t len = (i % 7 == 0) ? (size_t)rand_r(&seed) % (n + 8) : n;
    int r = gofer_decode(&g, buf, len, -1, &c);
    if (r == 0 && c.req->op != GOFER_CANCEL) {
      /* whatever was accepted has a well-formed path */
      assert_true(strlen(c.path) + 1 == c.req->path_len);
      assert_false(strstr(c.path, "..") != NULL && gofer_path_valid(c.path, c.req->path_len) &&
                   (strcmp(c.path, "..") == 0 || strncmp(c.path, "../", 3) == 0));
    }
  }
  close(g.mounts[0].fd);
}

/* The records gofer_give_mounts sends (gofer/gofer.c), as raw bytes. */
struct raw_mount_record {
  uint32_t index, count, procfs, served;
};

static void send_raw(int control, const void *rec, size_t len, int fd)
{
  struct iovec iov = {(void *)rec, len};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg cm;
  fdpass_attach(&hdr, &cm, fd);
  assert_int_equal(fdpass_sendmsg(control, &hdr), (ssize_t)len);
}

/* The gofer's exit status after these records and then the end of its
 * control socket. */
static int gofer_after(const struct raw_mount_record *recs, size_t n, size_t short_len,
                       const bool *attach)
{
  usbox_err_t err = {0};
  int control, root = open("/", O_PATH | O_CLOEXEC);
  assert_true(root >= 0);
  pid_t pid = gofer_fork(&control, &err);
  assert_true(pid > 0);
  for (size_t i = 0; i < n; i++)
    send_raw(control, &recs[i], i == 0 && short_len > 0 ? short_len : sizeof recs[i],
             attach[i] ? root : -1);
  close(control);
  close(root);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The view's mounts reach the gofer in order, with an fd where one is
 * served and none elsewhere; anything else ends it (exit 125) before it
 * serves. A gofer whose usbox goes away first just ends (0). */
static void test_mounts_refused(void **state)
{
  (void)state;
  const bool yes[] = {true, true}, no[] = {false, false}, mixed[] = {true, false};
  struct raw_mount_record good[] = {{0, 2, 0, 1}, {1, 2, 1, 0}};
  assert_int_equal(gofer_after(good, 2, 0, mixed), 0);
  assert_int_equal(gofer_after(NULL, 0, 0, no), 0);
  struct raw_mount_record none[] = {{0, 0, 0, 0}};
  assert_int_equal(gofer_after(none, 1, 0, no), 0);
  struct raw_mount_record order[] = {{1, 2, 0, 1}};
  assert_int_equal(gofer_after(order, 1, 0, yes), 125);
  struct raw_mount_record many[] = {{0, GOFER_MAX_MOUNTS + 1, 0, 1}};
  assert_int_equal(gofer_after(many, 1, 0, yes), 125);
  struct raw_mount_record served_no_fd[] = {{0, 1, 0, 1}};
  assert_int_equal(gofer_after(served_no_fd, 1, 0, no), 125);
  struct raw_mount_record fd_not_served[] = {{0, 1, 1, 0}};
  assert_int_equal(gofer_after(fd_not_served, 1, 0, yes), 125);
  struct raw_mount_record count_changed[] = {{0, 2, 0, 1}, {1, 3, 0, 1}};
  assert_int_equal(gofer_after(count_changed, 2, 0, yes), 125);
  assert_int_equal(gofer_after(good, 1, 8, yes), 125); /* a short record */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_path_valid),
      cmocka_unit_test(test_name_valid),
      cmocka_unit_test(test_decode_refuses),
      cmocka_unit_test(test_decode_fuzz),
      cmocka_unit_test(test_mounts_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
