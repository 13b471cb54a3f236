/* supervisor_find_program: execvp's search, done before anything starts so
 * that "not found" (127) and "cannot execute" (126) are clear. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/supervisor.h"

#define PROG "usbox-find-program-test"

/* A scratch tree:
 *   empty/            nothing
 *   exec1/PROG        0755
 *   exec2/PROG        0755
 *   noexec/PROG       0644
 *   dirs/PROG/        a directory named like the program */
struct tree {
  char root[64];
  char cwd[PATH_MAX];
};

static void make_file(const char *root, const char *rel, mode_t mode)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  static const char script[] = "#!/bin/sh\nexit 0\n";
  assert_int_equal(write(fd, script, sizeof script - 1), (ssize_t)(sizeof script - 1));
  close(fd);
  assert_int_equal(chmod(path, mode), 0);
}

static void make_dir(const char *root, const char *rel)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
  struct tree *t = calloc(1, sizeof *t);
  if (t == NULL || getcwd(t->cwd, sizeof t->cwd) == NULL)
    return -1;
  snprintf(t->root, sizeof t->root, "/tmp/usbox-findprog-XXXXXX");
  if (mkdtemp(t->root) == NULL)
    return -1;
  make_dir(t->root, "empty");
  make_dir(t->root, "exec1");
  make_dir(t->root, "exec2");
  make_dir(t->root, "noexec");
  make_dir(t->root, "dirs");
  make_dir(t->root, "dirs/" PROG);
  make_file(t->root, "exec1/" PROG, 0755);
  make_file(t->root, "exec2/" PROG, 0755);
  make_file(t->root, "noexec/" PROG, 0644);
  *state = t;
  return 0;
}

static int teardown(void **state)
{
  struct tree *t = *state;
  if (chdir(t->cwd) != 0)
    return -1;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
  int rc = system(cmd);
  free(t);
  return rc == 0 ? 0 : -1;
}

/* "a:b" with each element prefixed by the tree's root ("" stays empty). */
static void tree_path(const struct tree *t, char *out, size_t size, const char *const *dirs,
                      size_t n)
{
  size_t len = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const char *sep = i > 0 ? ":" : "";
    if (dirs[i][0] == '\0' || dirs[i][0] == '/')
      len += (size_t)snprintf(out + len, size - len, "%s%s", sep, dirs[i]);
    else
      len += (size_t)snprintf(out + len, size - len, "%s%s/%s", sep, t->root, dirs[i]);
  }
}

static void expect_same_file(const char *a, const char *b)
{
  struct stat sa, sb;
  if (stat(a, &sa) != 0 || stat(b, &sb) != 0 || sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
    fail_msg("\"%s\" is not \"%s\"", a, b);
}

static int find(const char *name, const char *path_env, char *resolved, usbox_err_t *err)
{
  memset(resolved, 0, PATH_MAX);
  memset(err, 0, sizeof *err);
  return supervisor_find_program(name, path_env, resolved, PATH_MAX, err);
}

static void test_finds_sh(void **state)
{
  (void)state;
  char resolved[PATH_MAX];
  usbox_err_t err;
  assert_int_equal(find("sh", "/nonexistent-usbox:/usr/bin:/bin", resolved, &err), 0);
  assert_string_equal(resolved, "/usr/bin/sh");
  assert_int_equal(access(resolved, X_OK), 0);
  assert_int_equal(find("sh", "/bin", resolved, &err), 0);
  assert_string_equal(resolved, "/bin/sh");
  /* no PATH: a default search path */
  assert_int_equal(find("sh", NULL, resolved, &err), 0);
  assert_int_equal(access(resolved, X_OK), 0);
  assert_non_null(strstr(resolved, "/sh"));
}

static void test_path_order(void **state)
{
  struct tree *t = *state;
  char path_env[1024], resolved[PATH_MAX], want[PATH_MAX];
  usbox_err_t err;
  const char *const dirs[] = {"empty", "exec2", "exec1"};
  tree_path(t, path_env, sizeof path_env, dirs, 3);
  assert_int_equal(find(PROG, path_env, resolved, &err), 0);
  snprintf(want, sizeof want, "%s/exec2/%s", t->root, PROG);
  assert_string_equal(resolved, want);
}

static void test_not_found(void **state)
{
  struct tree *t = *state;
  char path_env[1024], resolved[PATH_MAX];
  usbox_err_t err;
  const char *const dirs[] = {"empty", "/nonexistent-usbox"};
  tree_path(t, path_env, sizeof path_env, dirs, 2);
  assert_int_equal(find(PROG, path_env, resolved, &err), USBOX_EXIT_NOT_FOUND);
  assert_int_equal(USBOX_EXIT_NOT_FOUND, 127);
  assert_non_null(strstr(err.msg, PROG));
  assert_int_equal(find("no-such-program-usbox", "/usr/bin:/bin", resolved, &err), 127);
  /* a directory named like the program is not the program */
  const char *const dirdirs[] = {"dirs"};
  tree_path(t, path_env, sizeof path_env, dirdirs, 1);
  assert_int_equal(find(PROG, path_env, resolved, &err), USBOX_EXIT_NOT_FOUND);
  /* with a slash: no search, and missing is 127 */
  assert_int_equal(find("/nonexistent-usbox/prog", "/usr/bin", resolved, &err), 127);
  assert_int_equal(err.code, ENOENT);
}

static void test_cannot_exec(void **state)
{
  struct tree *t = *state;
  char path_env[1024], resolved[PATH_MAX], name[PATH_MAX];
  usbox_err_t err;
  assert_int_equal(USBOX_EXIT_CANNOT_EXEC, 126);
  /* found only without execute permission: 126, EACCES */
  const char *const dirs[] = {"empty", "noexec", "dirs"};
  tree_path(t, path_env, sizeof path_env, dirs, 3);
  assert_int_equal(find(PROG, path_env, resolved, &err), USBOX_EXIT_CANNOT_EXEC);
  assert_int_equal(err.code, EACCES);
  /* like execvp, a later executable one wins over an earlier denied one */
  const char *const later[] = {"noexec", "exec1"};
  tree_path(t, path_env, sizeof path_env, later, 2);
  assert_int_equal(find(PROG, path_env, resolved, &err), 0);
  char want[PATH_MAX];
  snprintf(want, sizeof want, "%s/exec1/%s", t->root, PROG);
  assert_string_equal(resolved, want);
  /* a directory given with a slash */
  snprintf(name, sizeof name, "%s/dirs/%s", t->root, PROG);
  assert_int_equal(find(name, "/usr/bin", resolved, &err), USBOX_EXIT_CANNOT_EXEC);
  assert_int_equal(find("/tmp", "/usr/bin", resolved, &err), USBOX_EXIT_CANNOT_EXEC);
  assert_int_equal(find("/tmp/", "/usr/bin", resolved, &err), USBOX_EXIT_CANNOT_EXEC);
  /* a non-executable file given with a slash */
  snprintf(name, sizeof name, "%s/noexec/%s", t->root, PROG);
  assert_int_equal(find(name, "/usr/bin", resolved, &err), USBOX_EXIT_CANNOT_EXEC);
  /* an executable given with a slash is taken as is, without a search */
  snprintf(name, sizeof name, "%s/exec1/%s", t->root, PROG);
  assert_int_equal(find(name, "", resolved, &err), 0);
  assert_string_equal(resolved, name);
}

/* POSIX: an empty element of PATH (leading, trailing or doubled colon) is the
 * current directory. */
static void test_empty_path_entries_mean_cwd(void **state)
{
  struct tree *t = *state;
  char dir[PATH_MAX], want[PATH_MAX], resolved[PATH_MAX];
  usbox_err_t err;
  snprintf(dir, sizeof dir, "%s/exec1", t->root);
  snprintf(want, sizeof want, "%s/%s", dir, PROG);
  assert_int_equal(chdir(dir), 0);
  static const char *const paths[] = {
      ":/nonexistent-usbox", "/nonexistent-usbox:", "/nonexistent-usbox::/nonexistent-usbox2", ""};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    int rc = find(PROG, paths[i], resolved, &err);
    if (rc != 0)
      fail_msg("PATH=\"%s\" in %s: returned %d (%s), resolved \"%s\"", paths[i], dir, rc, err.msg,
               resolved);
    expect_same_file(resolved, want);
  }
  /* and not found when the current directory does not have it */
  assert_int_equal(chdir(t->root), 0);
  assert_int_equal(find(PROG, ":/nonexistent-usbox", resolved, &err), USBOX_EXIT_NOT_FOUND);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_finds_sh),
      cmocka_unit_test(test_path_order),
      cmocka_unit_test(test_not_found),
      cmocka_unit_test(test_cannot_exec),
      cmocka_unit_test(test_empty_path_entries_mean_cwd),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
