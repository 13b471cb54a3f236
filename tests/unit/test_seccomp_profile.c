/* The seccomp profile parser (policy/seccomp_profile.c): valid profiles and
 * what they mean for this agent, every error with its message; and the
 * filter built from them (platform/profile_filter.c) run in the BPF
 * interpreter: arguments, defaults, and usbox's own errno kept for the
 * calls its table denies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/audit.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf_interp.h"
#include "platform/profile_filter.h"
#include "policy/seccomp_profile.h"
#include "table/syscall_table.h"

#define CAP_SYS_ADMIN_BIT (1ull << 21)
#define CAP_NET_ADMIN_BIT (1ull << 12)

static const struct seccomp_profile_options no_caps = {.kernel_major = 5, .kernel_minor = 10};

static int parse(const char *json, const struct seccomp_profile_options *o,
                 struct seccomp_profile *out, usbox_err_t *err)
{
  return seccomp_profile_parse_text(json, strlen(json), o, out, err);
}

static struct seccomp_profile parse_ok(const char *json, const struct seccomp_profile_options *o)
{
  struct seccomp_profile p;
  usbox_err_t err = {0};
  if (parse(json, o, &p, &err) < 0)
    fail_msg("%s: %s", json, err.msg);
  return p;
}

static const struct profile_rule *rule(const struct seccomp_profile *p, const char *name)
{
  for (size_t i = 0; i < p->nrules; i++)
    if (strcmp(p->rules[i].name, name) == 0)
      return &p->rules[i];
  return NULL;
}

static void test_minimal_and_actions(void **state)
{
  (void)state;
  struct seccomp_profile p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", &no_caps);
  assert_int_equal(p.default_action.kind, PROFILE_ALLOW);
  assert_int_equal(p.nrules, 0);
  seccomp_profile_free(&p);

  p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
               "{\"names\": [\"a\"], \"action\": \"SCMP_ACT_KILL\"},"
               "{\"names\": [\"b\"], \"action\": \"SCMP_ACT_KILL_THREAD\"},"
               "{\"names\": [\"c\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
               "{\"names\": [\"d\"], \"action\": \"SCMP_ACT_TRAP\"},"
               "{\"names\": [\"e\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7},"
               "{\"names\": [\"f\"], \"action\": \"SCMP_ACT_LOG\"},"
               "{\"names\": [\"g\"], \"action\": \"SCMP_ACT_ERRNO\"},"
               "{\"name\": \"h\", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},"
               "{\"names\": [\"i\"], \"action\": \"SCMP_ACT_ERRNO\", \"errno\": \"EACCES\"}]}",
               &no_caps);
  /* ERRNO without an errno is EPERM, as in Docker */
  assert_int_equal(p.default_action.kind, PROFILE_ERRNO);
  assert_int_equal(p.default_action.errno_ret, EPERM);
  assert_int_equal(p.nrules, 9);
  assert_int_equal(rule(&p, "a")->action.kind, PROFILE_KILL_THREAD);
  assert_int_equal(rule(&p, "b")->action.kind, PROFILE_KILL_THREAD);
  assert_int_equal(rule(&p, "c")->action.kind, PROFILE_KILL_PROCESS);
  assert_int_equal(rule(&p, "d")->action.kind, PROFILE_TRAP);
  /* no tracer ever: the kernel's answer without one */
  assert_int_equal(rule(&p, "e")->action.kind, PROFILE_ERRNO);
  assert_int_equal(rule(&p, "e")->action.errno_ret, ENOSYS);
  assert_int_equal(rule(&p, "f")->action.kind, PROFILE_LOG);
  assert_int_equal(rule(&p, "g")->action.errno_ret, EPERM);
  assert_int_equal(rule(&p, "h")->action.errno_ret, EACCES);
  assert_int_equal(rule(&p, "i")->action.errno_ret, EACCES);
  assert_int_equal(rule(&p, "h")->entry, 7);
  seccomp_profile_free(&p);

  p = parse_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
               " \"defaultErrno\": \"ENOSYS\"}", &no_caps);
  assert_int_equal(p.default_action.errno_ret, ENOSYS);
  seccomp_profile_free(&p);
}

static void test_args_arches_flags_nulls(void **state)
{
  (void)state;
  struct seccomp_profile p = parse_ok(
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\","
      " \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], \"archMap\": [{\"architecture\": "
      "\"SCMP_ARCH_AARCH64\", \"subArchitectures\": [\"SCMP_ARCH_ARM\"]}, {\"architecture\": "
      "\"SCMP_ARCH_X86_64\", \"subArchitectures\": null}], \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\","
      " \"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"], \"listenerPath\": \"\","
      " \"syscalls\": [{\"names\": [\"personality\", \"uname\"], \"action\": \"SCMP_ACT_ERRNO\","
      " \"comment\": \"x\", \"includes\": {}, \"excludes\": null, \"args\": ["
      "{\"index\": 0, \"value\": 8, \"valueTwo\": 0, \"op\": \"SCMP_CMP_NE\"},"
      "{\"index\": 5, \"value\": 4294967295, \"op\": \"SCMP_CMP_MASKED_EQ\", \"valueTwo\": 3},"
      "{\"index\": 1, \"value\": 9007199254740992, \"op\": \"SCMP_CMP_LT\"},"
      "{\"index\": 2, \"value\": 1, \"op\": \"SCMP_CMP_LE\"},"
      "{\"index\": 3, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},"
      "{\"index\": 4, \"value\": 1, \"op\": \"SCMP_CMP_GE\"},"
      "{\"index\": 4, \"value\": 1, \"op\": \"SCMP_CMP_GT\"}]},"
      " {\"names\": [\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"],"
      " \"action\": \"SCMP_ACT_KILL\", \"args\": null}]}",
      &no_caps);
  assert_int_equal(p.flags, PROFILE_FLAG_LOG);
  assert_int_equal(p.nrules, 2); /* the overlong name is no call: skipped */
  const struct profile_rule *r = rule(&p, "uname");
  assert_non_null(r);
  assert_int_equal(r->nargs, 7);
  assert_int_equal(r->args[0].op, PROFILE_NE);
  assert_int_equal(r->args[0].value, 8);
  assert_int_equal(r->args[1].index, 5);
  assert_int_equal(r->args[1].op, PROFILE_MASKED_EQ);
  assert_true(r->args[1].value == 4294967295u && r->args[1].value_two == 3);
  assert_true(r->args[2].value == 9007199254740992ull);
  assert_int_equal(r->args[3].op, PROFILE_LE);
  assert_int_equal(r->args[4].op, PROFILE_EQ);
  assert_int_equal(r->args[5].op, PROFILE_GE);
  assert_int_equal(r->args[6].op, PROFILE_GT);
  seccomp_profile_free(&p);
}

/* includes: all caps held, the native arch listed, kernel at least;
 * excludes: any cap held, the native arch listed, kernel at least. */
static void test_includes_excludes(void **state)
{
  (void)state;
  static const char *json =
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
      "{\"names\": [\"inc_admin\"], \"action\": \"SCMP_ACT_KILL\", \"includes\": {\"caps\": "
      "[\"CAP_SYS_ADMIN\"]}},"
      "{\"names\": [\"inc_both\"], \"action\": \"SCMP_ACT_KILL\", \"includes\": {\"caps\": "
      "[\"CAP_SYS_ADMIN\", \"CAP_NET_ADMIN\"]}},"
      "{\"names\": [\"exc_admin\"], \"action\": \"SCMP_ACT_KILL\", \"excludes\": {\"caps\": "
      "[\"CAP_SYS_ADMIN\", \"CAP_NOSUCH\"]}},"
      "{\"names\": [\"inc_amd64\"], \"action\": \"SCMP_ACT_KILL\", \"includes\": {\"arches\": "
      "[\"arm64\", \"amd64\"]}},"
      "{\"names\": [\"inc_x32\"], \"action\": \"SCMP_ACT_KILL\", \"includes\": {\"arches\": "
      "[\"x32\", \"386\"]}},"
      "{\"names\": [\"exc_amd64\"], \"action\": \"SCMP_ACT_KILL\", \"excludes\": {\"arches\": "
      "[\"amd64\"]}},"
      "{\"names\": [\"inc_k58\"], \"action\": \"SCMP_ACT_KILL\", \"includes\": {\"minKernel\": "
      "\"5.8\"}},"
      "{\"names\": [\"inc_k511\"], \"action\": \"SCMP_ACT_KILL\", \"includes\": {\"minKernel\": "
      "\"5.11\"}},"
      "{\"names\": [\"exc_k58\"], \"action\": \"SCMP_ACT_KILL\", \"excludes\": {\"minKernel\": "
      "\"5.8\"}}]}";
  struct seccomp_profile p = parse_ok(json, &no_caps);
  assert_null(rule(&p, "inc_admin"));
  assert_null(rule(&p, "inc_both"));
  assert_non_null(rule(&p, "exc_admin"));
  assert_non_null(rule(&p, "inc_amd64"));
  assert_null(rule(&p, "inc_x32"));
  assert_null(rule(&p, "exc_amd64"));
  assert_non_null(rule(&p, "inc_k58"));
  assert_null(rule(&p, "inc_k511"));
  assert_null(rule(&p, "exc_k58"));
  seccomp_profile_free(&p);

  struct seccomp_profile_options admin = {.caps = CAP_SYS_ADMIN_BIT, .kernel_major = 6};
  p = parse_ok(json, &admin);
  assert_non_null(rule(&p, "inc_admin"));
  assert_null(rule(&p, "inc_both"));
  assert_null(rule(&p, "exc_admin"));
  assert_non_null(rule(&p, "inc_k511"));
  seccomp_profile_free(&p);

  struct seccomp_profile_options both = {.caps = CAP_SYS_ADMIN_BIT | CAP_NET_ADMIN_BIT,
                                         .kernel_major = 6};
  p = parse_ok(json, &both);
  assert_non_null(rule(&p, "inc_both"));
  seccomp_profile_free(&p);
}

/* Every error: the JSON path, then what is wrong; nothing returned. */
static void test_errors(void **state)
{
  (void)state;
#define D "\"defaultAction\": \"SCMP_ACT_ALLOW\""
#define E(x) "{" D ", \"syscalls\": [" x "]}"
#define N "\"names\": [\"mkdir\"]"
  static const char *const cases[][2] = {
      {"{\"defaultAction\": ", "invalid JSON at byte 17 (near \" \")"},
      /* the message stays one printable line */
      {"{\"a\": tru\x01\n\"}", "invalid JSON at byte 6 (near \"tru???}\")"},
      {"[]", ".: the profile must be a JSON object"},
      {"{" D ", " D "}", ".: field \"defaultAction\" given twice"},
      {"{}", ".defaultAction: missing"},
      {"{\"defaultAction\": null}", ".defaultAction: missing"},
      {"{\"defaultAction\": 1}", ".defaultAction: must be a string"},
      {"{\"defaultAction\": \"SCMP_ACT_FOO\"}", ".defaultAction: unknown action \"SCMP_ACT_FOO\""},
      /* a quoted string of the profile cannot break the line or reach the
       * terminal (fuzz/corpus/seccomp_profile/crash-control-char-in-message) */
      {"{\"defaultAction\": \"A\\n\\u001b[31m\"}", ".defaultAction: unknown action \"A??[31m\""},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"x\\ty\": 1}", ".x?y: unknown field"},
      {"{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
       ".defaultAction: SCMP_ACT_NOTIFY is refused: usbox's sentry is the only supervisor of "
       "the agent's calls"},
      {"{\"defaultAction\": \"SCMP_ACT_KILL\", \"defaultErrnoRet\": 1}",
       ".defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": \"1\"}",
       ".defaultErrnoRet: must be a number"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrno\": \"EFOO\"}",
       ".defaultErrno: unknown errno name \"EFOO\""},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1, \"defaultErrno\": "
       "\"EACCES\"}",
       ".defaultErrno: EACCES is not errno 1"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrno\": 1}",
       ".defaultErrno: must be a string"},
      {"{" D ", \"defaultActoin\": 1}", ".defaultActoin: unknown field"},
      {"{" D ", \"architectures\": \"SCMP_ARCH_X86_64\"}",
       ".architectures: must be an array of strings"},
      {"{" D ", \"architectures\": [1]}", ".architectures[0]: must be a string"},
      {"{" D ", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_VAX\"]}",
       ".architectures[1]: unknown architecture \"SCMP_ARCH_VAX\""},
      {"{" D ", \"archMap\": {}}", ".archMap: must be an array of objects"},
      {"{" D ", \"archMap\": [1]}", ".archMap[0]: must be an object"},
      {"{" D ", \"archMap\": [{\"arch\": 1}]}", ".archMap[0].arch: unknown field"},
      {"{" D ", \"archMap\": [{\"architecture\": 1}]}", ".archMap[0].architecture: must be a string"},
      {"{" D ", \"archMap\": [{\"architecture\": \"x86_64\"}]}",
       ".archMap[0].architecture: unknown architecture \"x86_64\""},
      {"{" D ", \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": "
       "[\"SCMP_ARCH_X86\", \"i386\"]}]}",
       ".archMap[0].subArchitectures[1]: unknown architecture \"i386\""},
      {"{" D ", \"flags\": [\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
       ".flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\""},
      {"{" D ", \"listenerPath\": \"/run/x.sock\"}",
       ".listenerPath: refused: a profile cannot hand the agent's calls to another supervisor "
       "(usbox's sentry is the only one)"},
      {"{" D ", \"listenerMetadata\": \"x\"}",
       ".listenerMetadata: refused: a profile cannot hand the agent's calls to another "
       "supervisor (usbox's sentry is the only one)"},
      {"{" D ", \"listenerPath\": 1}", ".listenerPath: must be a string"},
      {"{" D ", \"syscalls\": {}}", ".syscalls: must be an array of objects"},
      {E("1"), ".syscalls[0]: must be an object"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\"}, {" N ", \"action\": \"SCMP_ACT_ERRNO\"}, {" N
         ", \"action\": \"SCMP_ACT_ERRNO\"}, {" N ", \"action\": \"SCMP_ACT_FOO\"}"),
       ".syscalls[3].action: unknown action \"SCMP_ACT_FOO\""},
      {E("{" N ", \"action\": \"SCMP_ACT_NOTIFY\"}"),
       ".syscalls[0].action: SCMP_ACT_NOTIFY is refused: usbox's sentry is the only supervisor "
       "of the agent's calls"},
      {E("{" N "}"), ".syscalls[0].action: missing"},
      {E("{" N ", \"nmaes\": 1, \"action\": \"SCMP_ACT_ERRNO\"}"), ".syscalls[0].nmaes: unknown field"},
      {E("{" N ", " N ", \"action\": \"SCMP_ACT_ERRNO\"}"),
       ".syscalls[0]: field \"names\" given twice"},
      {E("{\"action\": \"SCMP_ACT_ERRNO\"}"), ".syscalls[0]: no \"names\""},
      {E("{" N ", \"name\": \"x\", \"action\": \"SCMP_ACT_ERRNO\"}"),
       ".syscalls[0]: both \"name\" and \"names\""},
      {E("{\"names\": \"mkdir\", \"action\": \"SCMP_ACT_ERRNO\"}"),
       ".syscalls[0].names: must be an array of strings"},
      {E("{\"names\": [], \"action\": \"SCMP_ACT_ERRNO\"}"), ".syscalls[0].names: empty"},
      {E("{\"names\": [\"a\", 2], \"action\": \"SCMP_ACT_ERRNO\"}"),
       ".syscalls[0].names[1]: must be a string"},
      {E("{\"names\": [\"a\", \"\"], \"action\": \"SCMP_ACT_ERRNO\"}"),
       ".syscalls[0].names: an empty name"},
      {E("{\"name\": 1, \"action\": \"SCMP_ACT_ERRNO\"}"), ".syscalls[0].name: must be a string"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 0}"),
       ".syscalls[0].errnoRet: errno 0 is not from 1 to 4095"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 4096}"),
       ".syscalls[0].errnoRet: errno 4096 is not from 1 to 4095"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1.5}"),
       ".syscalls[0].errnoRet: must be a whole number from 0 to 2^53 (JSON numbers above are "
       "not exact)"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": -1}"),
       ".syscalls[0].errnoRet: must be a whole number from 0 to 2^53 (JSON numbers above are "
       "not exact)"},
      {E("{" N ", \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}"),
       ".syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"},
      {E("{" N ", \"action\": \"SCMP_ACT_LOG\", \"errno\": \"EPERM\"}"),
       ".syscalls[0].errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"comment\": 1}"),
       ".syscalls[0].comment: must be a string"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": {}}"),
       ".syscalls[0].args: must be an array of objects"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [1]}"),
       ".syscalls[0].args[0]: must be an object"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 0, "
         "\"op\": \"SCMP_CMP_EQ\", \"mask\": 1}]}"),
       ".syscalls[0].args[0].mask: unknown field"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"value\": 0, \"op\": "
         "\"SCMP_CMP_EQ\"}]}"),
       ".syscalls[0].args[0].index: missing"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 0, "
         "\"op\": \"SCMP_CMP_EQ\"}]}"),
       ".syscalls[0].args[0].index: 6 is not an argument index (0 to 5)"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": \"0\", \"value\": 0, "
         "\"op\": \"SCMP_CMP_EQ\"}]}"),
       ".syscalls[0].args[0].index: must be a number"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"op\": "
         "\"SCMP_CMP_EQ\"}]}"),
       ".syscalls[0].args[0].value: missing"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": "
         "18446744073709551615, \"op\": \"SCMP_CMP_EQ\"}]}"),
       ".syscalls[0].args[0].value: must be a whole number from 0 to 2^53 (JSON numbers above "
       "are not exact)"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, "
         "\"valueTwo\": true, \"op\": \"SCMP_CMP_EQ\"}]}"),
       ".syscalls[0].args[0].valueTwo: must be a number"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1}]}"),
       ".syscalls[0].args[0].op: missing"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, "
         "\"op\": 1}]}"),
       ".syscalls[0].args[0].op: must be a string"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, "
         "\"op\": \"SCMP_CMP_MASKED_NE\"}]}"),
       ".syscalls[0].args[0].op: unknown operator \"SCMP_CMP_MASKED_NE\""},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
         "\"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, "
         "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 1, \"op\": "
         "\"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, "
         "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 1, \"op\": "
         "\"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, "
         "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}"),
       ".syscalls[0].args[8]: more than 8 argument tests in one entry"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"includes\": []}"),
       ".syscalls[0].includes: must be an object"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"cap\": []}}"),
       ".syscalls[0].excludes.cap: unknown field"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": \"CAP_SYS_ADMIN\"}}"),
       ".syscalls[0].includes.caps: must be an array of strings"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"arches\": [1]}}"),
       ".syscalls[0].excludes.arches[0]: must be a string"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": 5}}"),
       ".syscalls[0].includes.minKernel: must be a string"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": \"5\"}}"),
       ".syscalls[0].includes.minKernel: \"5\" is not a kernel version MAJOR.MINOR"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": \"5.x\"}}"),
       ".syscalls[0].includes.minKernel: \"5.x\" is not a kernel version MAJOR.MINOR"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"minKernel\": \"v5.8\"}}"),
       ".syscalls[0].excludes.minKernel: \"v5.8\" is not a kernel version MAJOR.MINOR"},
      {E("{" N ", \"action\": \"SCMP_ACT_ERRNO\", \"excludes\": {\"minKernel\": \"5.8.1\"}}"),
       ".syscalls[0].excludes.minKernel: \"5.8.1\" is not a kernel version MAJOR.MINOR"},
      /* an entry that does not apply here is still checked */
      {E("{\"names\": [\"x\"], \"action\": \"SCMP_ACT_FOO\", \"includes\": {\"arches\": "
         "[\"s390x\"]}}"),
       ".syscalls[0].action: unknown action \"SCMP_ACT_FOO\""},
  };
#undef D
#undef E
#undef N
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct seccomp_profile p = {.nrules = 12345};
    usbox_err_t err = {0};
    if (parse(cases[i][0], &no_caps, &p, &err) == 0)
      fail_msg("accepted: %s", cases[i][0]);
    if (strcmp(err.msg, cases[i][1]) != 0)
      fail_msg("%s\n  said: %s\n  want: %s", cases[i][0], err.msg, cases[i][1]);
    assert_int_equal(err.code, 0);
    assert_int_equal(p.nrules, 12345); /* untouched */
  }
}

static void test_load_file(void **state)
{
  (void)state;
  struct seccomp_profile p;
  usbox_err_t err = {0};
  assert_int_equal(seccomp_profile_load_file("/nonexistent/p.json", &no_caps, &p, &err), -1);
  assert_string_equal(err.msg, "seccomp profile /nonexistent/p.json");
  assert_int_equal(err.code, ENOENT);
  char path[] = "/tmp/usbox-profile-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                     "[\"mkdir\"], \"action\": \"SCMP_ACT_BAR\"}]}";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  usbox_err_clear(&err);
  assert_int_equal(seccomp_profile_load_file(path, &no_caps, &p, &err), -1);
  char want[256];
  snprintf(want, sizeof want,
           "seccomp profile %s: .syscalls[0].action: unknown action \"SCMP_ACT_BAR\"", path);
  assert_string_equal(err.msg, want);
  unlink(path);
}

/* ---- the filter ---- */

static struct bpf_program build(const char *json, struct profile_build_stats *stats)
{
  struct seccomp_profile p = parse_ok(json, &no_caps);
  struct bpf_program prog;
  usbox_err_t err = {0};
  if (profile_filter_build(&p, &prog, stats, &err) < 0)
    fail_msg("%s: %s", json, err.msg);
  seccomp_profile_free(&p);
  check_program(&prog);
  return prog;
}

static uint32_t verdict(const struct bpf_program *p, uint32_t arch, int nr, uint64_t a0)
{
  struct seccomp_data d = {.nr = nr, .arch = arch, .args = {a0}};
  return run(p, &d);
}

#define X86_64 AUDIT_ARCH_X86_64
#define ERRNO(e) (SECCOMP_RET_ERRNO | (uint32_t)(e))

static void test_filter_args(void **state)
{
  (void)state;
  /* deny personality unless arg0 == 0 */
  struct bpf_program p = build(
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"personality\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 0, \"op\": "
      "\"SCMP_CMP_NE\"}]}, {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_KILL\"}, {\"names\": "
      "[\"getpid\"], \"action\": \"SCMP_ACT_TRAP\"}, {\"names\": [\"no_such_call\"], \"action\": "
      "\"SCMP_ACT_KILL\"}]}",
      NULL);
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 0), SECCOMP_RET_ALLOW);
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 8), ERRNO(EPERM));
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 0x100000000ull), ERRNO(EPERM));
  assert_int_equal(verdict(&p, X86_64, SYS_getppid, 0), SECCOMP_RET_KILL_THREAD);
  assert_int_equal(verdict(&p, X86_64, SYS_getpid, 0), SECCOMP_RET_TRAP);
  assert_int_equal(verdict(&p, X86_64, SYS_read, 0), SECCOMP_RET_ALLOW);
  /* other ABIs are killed here too (usbox's own filter kills them anyway) */
  assert_int_equal(verdict(&p, AUDIT_ARCH_I386, 1, 0), SECCOMP_RET_KILL_PROCESS);
  assert_int_equal(verdict(&p, X86_64, 0x40000000 | SYS_read, 0), SECCOMP_RET_KILL_PROCESS);
  usbox_filter_free(&p);

  /* one index tested twice: alternatives (runc, crun) */
  struct profile_build_stats stats = {0};
  p = build("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": "
            "[{\"names\": [\"personality\", \"no_such_call\"], \"action\": \"SCMP_ACT_ALLOW\", "
            "\"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, "
            "\"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]}, {\"names\": [\"read\"], \"action\": "
            "\"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 240, \"valueTwo\": 16, "
            "\"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
            &stats);
  assert_int_equal(stats.skipped, 1);
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 0), SECCOMP_RET_ALLOW);
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 8), SECCOMP_RET_ALLOW);
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 3), ERRNO(ENOSYS));
  assert_int_equal(verdict(&p, X86_64, SYS_read, 0x1f), SECCOMP_RET_ALLOW);
  assert_int_equal(verdict(&p, X86_64, SYS_read, 0x2f), ERRNO(ENOSYS));
  usbox_filter_free(&p);
}

/* A call usbox's table denies keeps usbox's errno under the profile's
 * errno answers (the newest filter's errno would win otherwise); its
 * KILL still kills. Calls usbox does not deny get the profile's errno. */
static void test_filter_keeps_usbox_errno(void **state)
{
  (void)state;
  struct bpf_program p = build(
      "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": ["
      "{\"names\": [\"bpf\", \"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},"
      "{\"names\": [\"kexec_load\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
      "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
      NULL);
  size_t denied = 0;
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    uint32_t got = verdict(&p, X86_64, e->nr, 0);
    if (e->disposition == SC_DENY && e->nr != SYS_kexec_load) {
      if (got != ERRNO(e->deny_errno))
        fail_msg("%s: 0x%x, want usbox's errno %d", e->name, got, e->deny_errno);
      denied++;
    }
  }
  assert_true(denied > 20);
  assert_int_equal(verdict(&p, X86_64, SYS_kexec_load, 0), SECCOMP_RET_KILL_PROCESS);
  assert_int_equal(verdict(&p, X86_64, SYS_mkdir, 0), ERRNO(EACCES));
  assert_int_equal(verdict(&p, X86_64, SYS_getpid, 0), ERRNO(ENOSYS));
  assert_int_equal(verdict(&p, X86_64, SYS_read, 0), SECCOMP_RET_ALLOW);
  usbox_filter_free(&p);
}

/* Podman's default profile (Debian: golang-github-containers-common)
 * parses and compiles, and allows what a shell needs. */
static void test_podman_default(void **state)
{
  (void)state;
  const char *path = "/usr/share/containers/seccomp.json";
  if (access(path, R_OK) != 0)
    skip();
  struct seccomp_profile prof;
  usbox_err_t err = {0};
  if (seccomp_profile_load_file(path, &no_caps, &prof, &err) < 0)
    fail_msg("%s", err.msg);
  assert_true(prof.nrules > 300);
  struct bpf_program p;
  if (profile_filter_build(&prof, &p, NULL, &err) < 0)
    fail_msg("%s", err.msg);
  seccomp_profile_free(&prof);
  check_program(&p);
  assert_int_equal(verdict(&p, X86_64, SYS_read, 0), SECCOMP_RET_ALLOW);
  assert_int_equal(verdict(&p, X86_64, SYS_execve, 0), SECCOMP_RET_ALLOW);
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 0), SECCOMP_RET_ALLOW);
  assert_int_equal(verdict(&p, X86_64, SYS_personality, 1), ERRNO(ENOSYS));
  usbox_filter_free(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minimal_and_actions),
      cmocka_unit_test(test_args_arches_flags_nulls),
      cmocka_unit_test(test_includes_excludes),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_load_file),
      cmocka_unit_test(test_filter_args),
      cmocka_unit_test(test_filter_keeps_usbox_errno),
      cmocka_unit_test(test_podman_default),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
