/* The audit log: JSON string escaping, and lines written by audit_write()
 * read back with cJSON. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sentry/audit.h"

/* Decode a JSON string value that cJSON returned (UTF-8) back into the bytes
 * audit_json_string was given: every code point must be below 256. */
static size_t utf8_to_bytes(const char *s, unsigned char *out, size_t outsize)
{
  size_t n = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p != '\0') {
    unsigned cp;
    if (*p < 0x80) {
      cp = *p++;
    } else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
      cp = (unsigned)(*p & 0x1f) << 6 | (p[1] & 0x3f);
      p += 2;
    } else {
      fail_msg("unexpected UTF-8 byte 0x%02x in decoded string", *p);
      return 0;
    }
    if (cp > 0xff)
      fail_msg("code point U+%04X cannot be a byte", cp);
    if (n >= outsize)
      fail_msg("decoded string too long");
    out[n++] = (unsigned char)cp;
  }
  return n;
}

/* out must be one JSON string whose decoded bytes are a prefix of s (all of
 * s when complete is set). */
static void expect_json_string_of(const char *out, const char *s, bool complete)
{
  cJSON *j = cJSON_Parse(out);
  if (j == NULL || !cJSON_IsString(j))
    fail_msg("not a JSON string: [%s]", out);
  unsigned char bytes[4096];
  size_t n = utf8_to_bytes(j->valuestring, bytes, sizeof bytes);
  cJSON_Delete(j);
  if (n > strlen(s) || memcmp(bytes, s, n) != 0)
    fail_msg("[%s] does not decode to a prefix of the input", out);
  if (complete && n != strlen(s))
    fail_msg("[%s] lost bytes: %zu of %zu", out, n, strlen(s));
}

static void test_plain_and_empty(void **state)
{
  (void)state;
  char out[64];
  assert_int_equal(audit_json_string(out, sizeof out, "/etc/passwd"), 13);
  assert_string_equal(out, "\"/etc/passwd\"");
  assert_int_equal(audit_json_string(out, sizeof out, ""), 2);
  assert_string_equal(out, "\"\"");
}

static void test_quote_and_backslash(void **state)
{
  (void)state;
  char out[64];
  size_t n = audit_json_string(out, sizeof out, "a\"b\\c");
  assert_string_equal(out, "\"a\\\"b\\\\c\"");
  assert_int_equal(n, strlen(out));
  expect_json_string_of(out, "a\"b\\c", true);
}

static void test_control_and_high_bytes(void **state)
{
  (void)state;
  char out[128];
  size_t n = audit_json_string(out, sizeof out, "\x01\n\t\x1f x\x7f\x80\xff");
  assert_int_equal(n, strlen(out));
  /* \u00XX, hex digits in either case */
  assert_int_equal(strcasecmp(out, "\"\\u0001\\u000a\\u0009\\u001f x\\u007f\\u0080\\u00ff\""), 0);
  /* no raw control or high byte survives */
  for (const unsigned char *p = (const unsigned char *)out; *p; p++)
    assert_true(*p >= 0x20 && *p < 0x7f);
}

/* Every byte value round-trips through the escaping and a JSON parser. */
static void test_all_bytes_round_trip(void **state)
{
  (void)state;
  char in[256];
  for (int i = 1; i < 256; i++)
    in[i - 1] = (char)i;
  in[255] = '\0';
  char out[256 * 6 + 3];
  size_t n = audit_json_string(out, sizeof out, in);
  assert_int_equal(n, strlen(out));
  expect_json_string_of(out, in, true);
}

/* Truncation never splits an escape, always closes the quote, and stays
 * within outsize. */
static void test_truncation_stays_valid(void **state)
{
  (void)state;
  static const char *const inputs[] = {
      "abcdefghijklmnopqrstuvwxyz",
      "\"\"\"\"\"\"\"\"\"\"",
      "\\\\\\\\\\\\\\\\",
      "\x01\x02\x03\x04\x05\x06\x07",
      ("a\"b\\c\nd\xff" /* split so that \xff does not take the e */
       "e\x7f/\"\\"),
      "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    char full[256];
    size_t full_len = audit_json_string(full, sizeof full, inputs[i]);
    for (size_t size = 3; size <= full_len + 1; size++) {
      char out[256];
      memset(out, 'Z', sizeof out);
      size_t n = audit_json_string(out, size, inputs[i]);
      if (n >= size || out[n] != '\0' || strlen(out) != n)
        fail_msg("input %zu size %zu: length %zu, [%.*s]", i, size, n, (int)size, out);
      if (out[size] != 'Z')
        fail_msg("input %zu size %zu: wrote past outsize", i, size);
      assert_true(n >= 2 && out[0] == '"' && out[n - 1] == '"');
      expect_json_string_of(out, inputs[i], size == full_len + 1);
    }
  }
}

/* Below the 3 bytes of an empty quoted string nothing fits; the result must
 * still be a C string of the returned length. */
static void test_tiny_buffers_terminated(void **state)
{
  (void)state;
  for (size_t size = 1; size < 3; size++) {
    char out[4] = {'Z', 'Z', 'Z', 'Z'};
    size_t n = audit_json_string(out, size, "abc");
    assert_true(n < size);
    if (out[n] != '\0')
      fail_msg("outsize %zu: returned %zu but out[%zu] is 0x%02x, not NUL", size, n, n,
               (unsigned char)out[n]);
    assert_int_equal(out[size], 'Z');
  }
  char out[1] = {'Z'};
  assert_int_equal(audit_json_string(out, 0, "abc"), 0);
  assert_int_equal(out[0], 'Z'); /* outsize 0: nothing written */
}

/* ---- audit_open / audit_write ---- */

struct tmp {
  char dir[64];
  char path[128];
};

static int setup_tmp(void **state)
{
  struct tmp *t = calloc(1, sizeof *t);
  if (t == NULL)
    return -1;
  snprintf(t->dir, sizeof t->dir, "/tmp/usbox-audit-XXXXXX");
  if (mkdtemp(t->dir) == NULL) {
    free(t);
    return -1;
  }
  snprintf(t->path, sizeof t->path, "%s/audit.jsonl", t->dir);
  *state = t;
  return 0;
}

static int teardown_tmp(void **state)
{
  struct tmp *t = *state;
  unlink(t->path);
  rmdir(t->dir);
  free(t);
  return 0;
}

/* The file's lines, parsed; returns how many. */
static size_t read_lines(const char *path, cJSON **out, size_t max)
{
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char line[1 << 16];
  size_t n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    size_t len = strlen(line);
    if (len == 0 || line[len - 1] != '\n')
      fail_msg("line %zu is not newline-terminated", n + 1);
    assert_true(n < max);
    out[n] = cJSON_Parse(line);
    if (out[n] == NULL || !cJSON_IsObject(out[n]))
      fail_msg("line %zu is not a JSON object: %.200s", n + 1, line);
    n++;
  }
  fclose(f);
  return n;
}

static const cJSON *field(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (v == NULL)
    fail_msg("no field \"%s\"", name);
  return v;
}

static void expect_string_field(const cJSON *o, const char *name, const char *want)
{
  const cJSON *v = field(o, name);
  if (!cJSON_IsString(v))
    fail_msg("\"%s\" is not a string", name);
  assert_string_equal(v->valuestring, want);
}

static void expect_number_field(const cJSON *o, const char *name, double want)
{
  const cJSON *v = field(o, name);
  if (!cJSON_IsNumber(v))
    fail_msg("\"%s\" is not a number", name);
  if (v->valuedouble != want)
    fail_msg("\"%s\" is %.17g, expected %.17g", name, v->valuedouble, want);
}

/* "2024-05-01T12:34:56.123456Z", within a minute of now */
static void expect_time_field(const cJSON *o)
{
  const cJSON *v = field(o, "time");
  assert_true(cJSON_IsString(v));
  const char *s = v->valuestring;
  assert_int_equal(strlen(s), 27);
  static const char pattern[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  for (size_t i = 0; i < 27; i++)
    if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
      fail_msg("time \"%s\" is not YYYY-MM-DDTHH:MM:SS.uuuuuuZ", s);
  struct tm tm = {0};
  assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm));
  time_t when = timegm(&tm);
  time_t now = time(NULL);
  if (when < now - 60 || when > now + 1)
    fail_msg("time %s is not now (UTC)", s);
}

static void test_audit_lines(void **state)
{
  struct tmp *t = *state;
  usbox_err_t err = {0};
  mode_t old = umask(022);
  struct audit *a = audit_open(&(struct audit_options){.path = t->path}, &err);
  umask(old);
  assert_non_null(a);
  struct stat st;
  assert_int_equal(stat(t->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  const struct audit_record recs[] = {
      {.pid = 1234,
       .syscall = "openat",
       .arg = "/etc/passwd",
       .decision = "emulate",
       .err = 0,
       .result = 3,
       .rule = NULL},
      {.pid = 42,
       .syscall = "openat",
       .arg = "/nonexistent",
       .decision = "emulate",
       .err = ENOENT,
       .result = -1,
       .rule = NULL},
      {.pid = 7,
       .syscall = "ptrace",
       .arg = NULL,
       .decision = "deny",
       .err = EPERM,
       .result = -1,
       .rule = "tracing other processes"},
      {.pid = 8,
       .syscall = "mkdir",
       .arg = "we\"ird\\name\n\x01\xff",
       .decision = "emulate",
       .err = 0,
       .result = 0,
       .rule = "a \"quoted\" rule"},
      {.pid = 9,
       .syscall = "read",
       .arg = NULL,
       .decision = "kernel",
       .err = 0,
       .result = 1LL << 40,
       .rule = NULL},
  };
  const size_t nrecs = sizeof recs / sizeof recs[0];
  for (size_t i = 0; i < nrecs; i++)
    audit_write(a, &recs[i]);
  audit_write(NULL, &recs[0]); /* no log: nothing, no crash */
  audit_close(a);

  cJSON *lines[16];
  assert_int_equal(read_lines(t->path, lines, 16), nrecs);

  for (size_t i = 0; i < nrecs; i++) {
    const cJSON *o = lines[i];
    expect_time_field(o);
    expect_number_field(o, "pid", recs[i].pid);
    expect_string_field(o, "syscall", recs[i].syscall);
    expect_string_field(o, "decision", recs[i].decision);
    if (recs[i].arg == NULL)
      assert_true(cJSON_IsNull(field(o, "arg")));
    else if (i != 3)
      expect_string_field(o, "arg", recs[i].arg);
    if (recs[i].rule == NULL)
      assert_null(cJSON_GetObjectItemCaseSensitive(o, "rule"));
    else
      expect_string_field(o, "rule", recs[i].rule);
  }
  /* success: errno 0 (a number), result the value */
  expect_number_field(lines[0], "errno", 0);
  expect_number_field(lines[0], "result", 3);
  expect_number_field(lines[4], "result", (double)(1LL << 40));
  /* failure: errno by name, result -1 */
  expect_string_field(lines[1], "errno", "ENOENT");
  expect_number_field(lines[1], "result", -1);
  expect_string_field(lines[2], "errno", "EPERM");
  /* escaped arg: the high byte comes back as U+00FF */
  expect_string_field(lines[3], "arg", "we\"ird\\name\n\x01\xc3\xbf");

  for (size_t i = 0; i < nrecs; i++)
    cJSON_Delete(lines[i]);
}

static void test_audit_appends_and_long_args(void **state)
{
  struct tmp *t = *state;
  usbox_err_t err = {0};
  struct audit *a = audit_open(&(struct audit_options){.path = t->path}, &err);
  assert_non_null(a);
  struct audit_record rec = {.pid = 1, .syscall = "openat", .arg = "first", .decision = "emulate"};
  audit_write(a, &rec);
  audit_close(a);

  /* reopening appends */
  a = audit_open(&(struct audit_options){.path = t->path}, &err);
  assert_non_null(a);
  /* a path of PATH_MAX-1 bytes that all need \u00XX: truncated, still one
   * valid line */
  static char longarg[PATH_MAX];
  memset(longarg, 0xff, sizeof longarg - 1);
  longarg[sizeof longarg - 1] = '\0';
  rec.arg = longarg;
  audit_write(a, &rec);
  /* a long plain path: its first 256 bytes, and its length */
  memset(longarg, 'p', sizeof longarg - 1);
  longarg[0] = '/';
  rec.arg = longarg;
  audit_write(a, &rec);
  audit_close(a);

  cJSON *lines[8];
  assert_int_equal(read_lines(t->path, lines, 8), 3);
  expect_string_field(lines[0], "arg", "first");
  assert_null(cJSON_GetObjectItemCaseSensitive(lines[0], "arg_len"));
  const cJSON *arg = field(lines[1], "arg");
  assert_true(cJSON_IsString(arg));
  assert_int_equal(strlen(arg->valuestring), 256 * 2); /* U+00FF is two bytes of UTF-8 */
  expect_number_field(lines[1], "arg_len", PATH_MAX - 1);
  longarg[256] = '\0';
  expect_string_field(lines[2], "arg", longarg);
  expect_number_field(lines[2], "arg_len", PATH_MAX - 1);
  for (int i = 0; i < 3; i++)
    cJSON_Delete(lines[i]);
}

/* Two decisions that alternate in a loop (a denied mount, then a failing
 * access), for 1,000 processes: however their keys fall in the table of
 * runs, each process writes at most 5 lines of each and a count each (in
 * one second). With one slot per key, a pair sharing a slot flushed the
 * other's count at every call: a line per call (1 in 64 pairs). */
static void test_audit_alternating_runs(void **state)
{
  struct tmp *t = *state;
  usbox_err_t err = {0};
  struct audit *a = audit_open(&(struct audit_options){.path = t->path, .max_bytes = 1ull << 30},
                               &err);
  assert_non_null(a);
  for (int pid = 1; pid <= 1000; pid++) {
    struct audit_record mount = {.pid = pid, .syscall = "mount", .decision = "deny", .err = EPERM,
                                 .result = -1, .rule = "table"};
    struct audit_record access = {.pid = pid, .syscall = "access", .arg = "/nonexistent",
                                  .decision = "emulate", .err = ENOENT, .result = -1};
    for (int i = 0; i < 30; i++) {
      audit_write(a, &mount);
      audit_write(a, &access);
    }
  }
  audit_close(a);
  FILE *f = fopen(t->path, "r");
  assert_non_null(f);
  size_t lines = 0;
  int c;
  while ((c = fgetc(f)) != EOF)
    lines += c == '\n';
  fclose(f);
  /* per process: 2 x (5 + 1 count) = 12; a second boundary crossed while
   * the loop runs splits a few runs in two (slack: 100). One pair sharing
   * a slot instead writes a line per call, 60. */
  assert_true(lines <= 1000 * 12 + 100);
}

/* 40 identical denials: 5 lines, then one line counting the other 35; a
 * different argument is a different decision */
static void test_audit_repeats_counted(void **state)
{
  struct tmp *t = *state;
  usbox_err_t err = {0};
  struct audit *a = audit_open(&(struct audit_options){.path = t->path}, &err);
  assert_non_null(a);
  struct audit_record rec = {.pid = 5, .syscall = "ptrace", .decision = "deny", .err = EPERM,
                             .result = -1, .rule = "tracing other processes"};
  struct audit_record other = {.pid = 5, .syscall = "openat", .arg = "/x", .decision = "emulate"};
  for (int i = 0; i < 40; i++)
    audit_write(a, &rec);
  audit_write(a, &other);
  audit_close(a);
  cJSON *lines[32];
  size_t n = read_lines(t->path, lines, 32);
  /* (a second may begin during the loop: then two runs of 5 and a count) */
  int plain = 0, counted = 0, others = 0;
  for (size_t i = 0; i < n; i++) {
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(lines[i], "repeated");
    if (strcmp(field(lines[i], "syscall")->valuestring, "openat") == 0) {
      expect_string_field(lines[i], "arg", "/x");
      others++;
    } else if (rep == NULL) {
      plain++;
    } else {
      /* the count, with what the decisions had in common */
      expect_string_field(lines[i], "syscall", "ptrace");
      expect_string_field(lines[i], "errno", "EPERM");
      expect_string_field(lines[i], "rule", "tracing other processes");
      assert_true(cJSON_IsNull(field(lines[i], "result")));
      counted += (int)rep->valuedouble;
    }
  }
  assert_int_equal(others, 1);
  assert_true(plain == 5 || plain == 10);
  assert_int_equal(plain + counted, 40);
  assert_true(n <= 14);
  for (size_t i = 0; i < n; i++)
    cJSON_Delete(lines[i]);
}

/* a cap of 16 KiB: the file stays under it, says it is full, and the last
 * line counts what was not written */
static void test_audit_capped(void **state)
{
  struct tmp *t = *state;
  usbox_err_t err = {0};
  struct audit *a = audit_open(&(struct audit_options){.path = t->path, .max_bytes = 16384}, &err);
  assert_non_null(a);
  char path[64];
  struct audit_record rec = {.pid = 5, .syscall = "openat", .arg = path, .decision = "emulate"};
  for (int i = 0; i < 1000; i++) {
    snprintf(path, sizeof path, "/file/number/%d", i);
    audit_write(a, &rec);
  }
  audit_close(a);
  struct stat st;
  assert_int_equal(stat(t->path, &st), 0);
  assert_true(st.st_size <= 16384);
  static cJSON *lines[1000];
  size_t n = read_lines(t->path, lines, 1000);
  assert_true(n > 50 && n < 200);
  expect_string_field(lines[n - 2], "audit", "full");
  expect_number_field(lines[n - 2], "max_bytes", 16384);
  expect_string_field(lines[n - 1], "audit", "end");
  expect_number_field(lines[n - 1], "dropped", 1000 - (double)(n - 2));
  for (size_t i = 0; i < n; i++)
    cJSON_Delete(lines[i]);
}

static void test_audit_open_fails_cleanly(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  assert_null(audit_open(&(struct audit_options){.path = "/nonexistent-dir-usbox/audit.jsonl"}, &err));
  assert_int_equal(err.code, ENOENT);
  assert_non_null(strstr(err.msg, "/nonexistent-dir-usbox/audit.jsonl"));
  audit_close(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_and_empty),
      cmocka_unit_test(test_quote_and_backslash),
      cmocka_unit_test(test_control_and_high_bytes),
      cmocka_unit_test(test_all_bytes_round_trip),
      cmocka_unit_test(test_truncation_stays_valid),
      cmocka_unit_test(test_tiny_buffers_terminated),
      cmocka_unit_test_setup_teardown(test_audit_lines, setup_tmp, teardown_tmp),
      cmocka_unit_test_setup_teardown(test_audit_appends_and_long_args, setup_tmp, teardown_tmp),
      cmocka_unit_test(test_audit_open_fails_cleanly),
      cmocka_unit_test_setup_teardown(test_audit_repeats_counted, setup_tmp, teardown_tmp),
      cmocka_unit_test_setup_teardown(test_audit_alternating_runs, setup_tmp, teardown_tmp),
      cmocka_unit_test_setup_teardown(test_audit_capped, setup_tmp, teardown_tmp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
