/* sentry/init_ctl.c: a request to the sandbox's init, encoded by the
 * monitor's side and decoded as the init decodes it; the file to execute
 * of a hook (INIT_EXEC_PATH) apart from argv[0]. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sentry/init_ctl.h"

static union {
  struct init_exec_req h;
  char bytes[sizeof(struct init_exec_req) + INIT_EXEC_MAX_STRINGS];
} buf;

/* spec sent over a socket pair (stdio attached), received as the init
 * receives it: the message's length. */
static size_t send_and_receive(const struct init_exec_spec *spec)
{
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  const int stdio[3] = {0, 1, 2};
  usbox_err_t err = {0};
  assert_int_equal(init_ctl_send_exec(sv[0], spec, stdio, &err), 0);
  ssize_t n = recv(sv[1], &buf, sizeof buf, 0); /* the fds are dropped: closed */
  assert_true(n > 0);
  close(sv[0]);
  close(sv[1]);
  return (size_t)n;
}

static const struct policy_process proc = {.umask = -1};

static void test_path_apart_from_argv0(void **state)
{
  (void)state;
  char *argv[] = {"sh", "-c", "true", NULL}, *envp[] = {"A=1", NULL};
  struct init_exec_spec spec = {.id = 7, .argv = argv, .envp = envp, .cwd = "/",
                                .path = "/bin/busybox", .proc = &proc};
  size_t n = send_and_receive(&spec);
  assert_true(buf.h.flags & INIT_EXEC_PATH);
  struct init_request r;
  assert_int_equal(init_request_decode(&buf.h, buf.bytes + sizeof buf.h, n, 3, &r), 0);
  assert_string_equal(r.cwd, "/");
  assert_string_equal(r.path, "/bin/busybox");
  assert_string_equal(r.argv[0], "sh");
  assert_string_equal(r.argv[2], "true");
  assert_null(r.argv[3]);
  assert_string_equal(r.envp[0], "A=1");
  assert_null(r.envp[1]);
  init_request_free(&r);
}

static void test_no_path(void **state)
{
  (void)state;
  char *argv[] = {"ls", NULL}, *envp[] = {NULL};
  struct init_exec_spec spec = {.id = 1, .argv = argv, .envp = envp, .cwd = "/tmp", .proc = &proc};
  size_t n = send_and_receive(&spec);
  assert_false(buf.h.flags & INIT_EXEC_PATH);
  struct init_request r;
  assert_int_equal(init_request_decode(&buf.h, buf.bytes + sizeof buf.h, n, 3, &r), 0);
  assert_null(r.path);
  assert_string_equal(r.argv[0], "ls");
  init_request_free(&r);
}

/* A relative path would be taken from the cwd: refused, as is a request
 * that says it has a path but lacks the string for it. */
static void test_bad_paths_refused(void **state)
{
  (void)state;
  char *argv[] = {"x", NULL}, *envp[] = {NULL};
  struct init_exec_spec spec = {.id = 1, .argv = argv, .envp = envp, .cwd = "/",
                                .path = "bin/x", .proc = &proc};
  size_t n = send_and_receive(&spec);
  struct init_request r;
  assert_int_equal(init_request_decode(&buf.h, buf.bytes + sizeof buf.h, n, 3, &r), -EINVAL);
  spec.path = NULL;
  n = send_and_receive(&spec);
  buf.h.flags |= INIT_EXEC_PATH; /* "/" and "x": one string short */
  assert_int_equal(init_request_decode(&buf.h, buf.bytes + sizeof buf.h, n, 3, &r), -EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_path_apart_from_argv0),
      cmocka_unit_test(test_no_path),
      cmocka_unit_test(test_bad_paths_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
