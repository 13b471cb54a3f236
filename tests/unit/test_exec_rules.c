/* Exec rules (policy/exec_rules.h): glob matching a component at a time,
 * the decision (deny wins, an allow list refuses the rest), bad globs and
 * JSON, and #! lines parsed as fs/binfmt_script.c parses them. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/exec_rules.h"
#include "policy/policy.h"

static void test_glob_match(void **state)
{
  (void)state;
  static const struct {
    const char *glob, *path;
    bool match;
  } cases[] = {
      {"/bin/sh", "/bin/sh", true},
      {"/bin/sh", "/bin/shx", false},
      {"/bin/sh", "/bin", false},
      {"/usr/bin/*", "/usr/bin/ls", true},
      {"/usr/bin/*", "/usr/bin/.hidden", true}, /* a leading dot is no exception */
      {"/usr/bin/*", "/usr/bin/x/ls", false},   /* * does not cross / */
      {"/usr/bin/*", "/usr/bin", false},
      {"/usr/bin/python3*", "/usr/bin/python3.11", true},
      {"/usr/bin/python3*", "/usr/bin/python2.7", false},
      {"/usr/bin/s?", "/usr/bin/sh", true},
      {"/usr/bin/[bd]ash", "/usr/bin/dash", true},
      {"/usr/bin/[!bd]ash", "/usr/bin/dash", false},
      {"/usr/bin/\\*", "/usr/bin/*", true},
      {"/usr/bin/\\*", "/usr/bin/ls", false},
      {"/opt/tool/**", "/opt/tool/bin/x", true},
      {"/opt/tool/**", "/opt/tool/x", true},
      {"/opt/tool/**", "/opt/tool", false}, /* a trailing ** is what is below */
      {"/opt/tool/**", "/opt/toolbox/x", false},
      {"/opt/**/bin/*", "/opt/bin/x", true}, /* an inner ** may be nothing */
      {"/opt/**/bin/*", "/opt/a/b/c/bin/x", true},
      {"/opt/**/bin/*", "/opt/a/b/c/bin", false},
      {"/opt/**/bin/*", "/opt/a/bin/c/x", false},
      {"/**", "/x", true},
      {"/**/sh", "/bin/sh", true},
      {"/**/sh", "/sh", true},
      {"/**/sh", "/bin/dash", false},
      {"/a/**/**/b", "/a/b", true},
      {"/a/**/b/**", "/a/x/b/y/z", true},
      {"/a/**/b/**", "/a/x/b", false},
      {"/", "/x", false},
      {"/*/*", "/a/b", true},
      {"/*/*", "/a/b/c", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bool got = exec_glob_match(cases[i].glob, cases[i].path);
    if (got != cases[i].match)
      fail_msg("%s vs %s: got %d", cases[i].glob, cases[i].path, got);
  }
}

/* Many **s against a deep path: the walk is not exponential. */
static void test_glob_deep(void **state)
{
  (void)state;
  char path[PATH_MAX] = "";
  for (int i = 0; i < 1000; i++)
    strcat(path, "/a");
  assert_false(exec_glob_match("/**/**/**/**/**/**/b", path));
  assert_true(exec_glob_match("/**/**/**/**/**/**/a", path));
}

static void test_literal_len(void **state)
{
  (void)state;
  assert_int_equal(exec_glob_literal_len("/bin/sh"), strlen("/bin/sh"));
  assert_int_equal(exec_glob_literal_len("/usr/bin/*"), strlen("/usr/bin"));
  assert_int_equal(exec_glob_literal_len("/usr/bin/py*"), strlen("/usr/bin"));
  assert_int_equal(exec_glob_literal_len("/opt/**/x"), strlen("/opt"));
  assert_int_equal(exec_glob_literal_len("/*"), 0);
  assert_int_equal(exec_glob_literal_len("/a\\*b/c"), 0);
}

static void test_decide(void **state)
{
  (void)state;
  struct exec_rules r;
  exec_rules_init(&r);
  usbox_err_t err = {0};
  bool not_allowed;
  assert_null(exec_rules_decide(&r, "/bin/sh", &not_allowed)); /* no rules: anything */
  assert_false(not_allowed);
  assert_int_equal(exec_rules_add(&r, false, "/bin/sh", "--exec-deny", &err), 0);
  assert_int_equal(exec_rules_add(&r, true, "/usr/bin/*", "--exec-allow", &err), 0);
  assert_int_equal(exec_rules_add(&r, true, "/bin/*", "--exec-allow", &err), 0);
  const struct exec_rule *d = exec_rules_decide(&r, "/bin/sh", &not_allowed);
  assert_non_null(d); /* deny wins over an allow that matches too */
  assert_string_equal(d->glob, "/bin/sh");
  assert_null(exec_rules_decide(&r, "/usr/bin/ls", &not_allowed));
  assert_false(not_allowed);
  assert_null(exec_rules_decide(&r, "/opt/x", &not_allowed));
  assert_true(not_allowed);
  /* a rule resolved in the view matches what it resolved to as well */
  r.deny[0].resolved = strdup("/usr/bin/dash");
  d = exec_rules_decide(&r, "/usr/bin/dash", &not_allowed);
  assert_non_null(d);
  assert_string_equal(d->glob, "/bin/sh");
  exec_rules_free(&r);
}

static void test_bad_globs(void **state)
{
  (void)state;
  static const char *const bad[] = {"", "bin/sh", "./x", "/usr/bin/[ab", "/usr/bin/x\\",
                                    "/opt/a**", "/opt/**x/y", "/opt/[a/b]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct exec_rules r;
    exec_rules_init(&r);
    usbox_err_t err = {0};
    if (exec_rules_add(&r, false, bad[i], "--exec-deny", &err) == 0)
      fail_msg("accepted %s", bad[i]);
    assert_non_null(strstr(err.msg, "--exec-deny"));
    assert_int_equal(r.ndeny, 0);
    exec_rules_free(&r);
  }
  struct exec_rules r;
  exec_rules_init(&r);
  usbox_err_t err = {0};
  assert_int_equal(exec_rules_add(&r, false, "/usr//bin/./x/../sh", "--exec-deny", &err), 0);
  assert_string_equal(r.deny[0].glob, "/usr/bin/sh"); /* normalised */
  assert_int_equal(exec_rules_add(&r, false, "/usr/bin/[]ab]", "--exec-deny", &err), 0);
  exec_rules_free(&r);
}

static void test_json(void **state)
{
  (void)state;
  struct policy p;
  policy_init(&p);
  usbox_err_t err = {0};
  assert_int_equal(policy_load_json(&p, "{\"exec\": {\"allow\": [\"/usr/bin/*\"], "
                                        "\"deny\": [\"/bin/sh\", \"/bin/bash\"]}}",
                                    &err),
                   0);
  assert_int_equal(p.exec.nallow, 1);
  assert_int_equal(p.exec.ndeny, 2);
  assert_string_equal(p.exec.deny[1].glob, "/bin/bash");
  policy_free(&p);
  static const struct {
    const char *json, *msg;
  } bad[] = {
      {"{\"exec\": [\"/bin/sh\"]}", "\"exec\" must be an object"},
      {"{\"exec\": {\"deny\": \"/bin/sh\"}}", "\"exec.deny\" must be an array of strings"},
      {"{\"exec\": {\"allow\": [1]}}", "\"exec.allow\" must be an array of strings"},
      {"{\"exec\": {\"refuse\": []}}", "unknown field \"exec.refuse\""},
      {"{\"exec\": {\"deny\": [\"sh\"]}}", "exec.deny \"sh\": a rule is an absolute path"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    policy_init(&p);
    memset(&err, 0, sizeof err);
    assert_int_equal(policy_load_json(&p, bad[i].json, &err), -1);
    if (strstr(err.msg, bad[i].msg) == NULL)
      fail_msg("%s: got \"%s\"", bad[i].json, err.msg);
    policy_free(&p);
  }
}

static void test_shebang(void **state)
{
  (void)state;
  static const struct {
    const char *head;
    int rc;
    const char *interp;
  } cases[] = {
      {"#!/bin/sh\necho hi\n", 1, "/bin/sh"},
      {"#! /bin/sh -e\n", 1, "/bin/sh"},
      {"#!\t/usr/bin/env  python3 \n", 1, "/usr/bin/env"},
      {"#!/bin/sh", 1, "/bin/sh"},          /* no newline: the file's end (NULs) ends it */
      {"#!relative/interp\n", 1, "relative/interp"},
      {"#!\n", -ENOEXEC, NULL},             /* no name */
      {"#!   \t\n", -ENOEXEC, NULL},
      {"\x7f" "ELF\x02\x01", 0, NULL},
      {"# !/bin/sh\n", 0, NULL},
      {"", 0, NULL},
  };
  char interp[PATH_MAX];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = exec_parse_shebang(cases[i].head, strlen(cases[i].head), interp, sizeof interp);
    if (rc != cases[i].rc)
      fail_msg("%s: rc %d", cases[i].head, rc);
    if (rc == 1 && strcmp(interp, cases[i].interp) != 0)
      fail_msg("%s: interpreter %s", cases[i].head, interp);
  }
  /* A line that fills the kernel's buffer: with a separator inside, the
   * name is complete; without one, it may be cut off (refused). */
  char head[EXEC_HEAD_SIZE + 50];
  memset(head, 'a', sizeof head);
  memcpy(head, "#!/x ", 5);
  assert_int_equal(exec_parse_shebang(head, sizeof head, interp, sizeof interp), 1);
  assert_string_equal(interp, "/x");
  memcpy(head, "#!/xa", 5);
  assert_int_equal(exec_parse_shebang(head, sizeof head, interp, sizeof interp), -ENOEXEC);
  /* the kernel reads 256 bytes: a newline after them does not count */
  memset(head, ' ', sizeof head);
  memcpy(head, "#!/y", 4);
  head[EXEC_HEAD_SIZE + 10] = '\n';
  assert_int_equal(exec_parse_shebang(head, sizeof head, interp, sizeof interp), 1);
  assert_string_equal(interp, "/y");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_glob_match), cmocka_unit_test(test_glob_deep),
      cmocka_unit_test(test_literal_len), cmocka_unit_test(test_decide),
      cmocka_unit_test(test_bad_globs),  cmocka_unit_test(test_json),
      cmocka_unit_test(test_shebang),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
