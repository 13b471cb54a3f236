/* -v's report of refusals (sentry/report.c): counts by kind, the most
 * frequent first with their rules, bounded memory whatever the flood. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sentry/report.h"

/* The report as text. */
static char *printed(struct report *r)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  report_print(r, f);
  fclose(f);
  return text;
}

static void test_empty_prints_nothing(void **state)
{
  (void)state;
  struct report *r = report_new();
  assert_non_null(r);
  char *t = printed(r);
  assert_string_equal(t, "");
  free(t);
  report_free(r);
  report_note(NULL, REPORT_HIDDEN, "/x", "hide /x"); /* no report: nothing, no crash */
}

static void test_kinds_in_order_with_rules(void **state)
{
  (void)state;
  struct report *r = report_new();
  report_note(r, "execve", "/bin/sh", "exec-deny /bin/sh");
  report_note(r, REPORT_DNS, "evil.example", "no --net-allow rule names it: NXDOMAIN");
  report_note(r, REPORT_ABSENT, "/nope", NULL);
  report_note(r, REPORT_HIDDEN, "/etc/shadow", "built-in secret /etc/shadow");
  report_note(r, REPORT_HIDDEN, "/x/y", "hide /x");
  report_note(r, REPORT_HIDDEN, "/x/y", "hide /x");
  report_note(r, REPORT_NETWORK, "tcp 192.0.2.1:80", "no --net-allow rule allows it");
  char *t = printed(r);
  const char *expected =
      "usbox: hidden paths (a hide rule matched; the agent saw ENOENT): 3\n"
      "usbox:   2 /x/y (hide /x)\n"
      "usbox:   1 /etc/shadow (built-in secret /etc/shadow)\n"
      "usbox: absent paths (ENOENT from the filesystem; no rule involved): 1\n"
      "usbox:   1 /nope\n"
      "usbox: refused network calls: 1\n"
      "usbox:   1 tcp 192.0.2.1:80 (no --net-allow rule allows it)\n"
      "usbox: refused DNS names: 1\n"
      "usbox:   1 evil.example (no --net-allow rule names it: NXDOMAIN)\n"
      "usbox: refused execve calls: 1\n"
      "usbox:   1 /bin/sh (exec-deny /bin/sh)\n";
  assert_string_equal(t, expected);
  free(t);
  report_free(r);
}

/* The same subject under two rules is two entries; only the top ten are
 * printed, and the rest is counted. */
static void test_top_ten_and_the_rest(void **state)
{
  (void)state;
  struct report *r = report_new();
  char path[32];
  for (int i = 0; i < 15; i++) {
    snprintf(path, sizeof path, "/p%02d", i);
    for (int n = 0; n <= i; n++)
      report_note(r, REPORT_ABSENT, path, NULL);
  }
  char *t = printed(r);
  assert_non_null(strstr(t, ": 120\nusbox:   15 /p14\nusbox:   14 /p13\n"));
  assert_non_null(strstr(t, "usbox:   6 /p05\nusbox:   and 15 more\n")); /* 1+2+3+4+5 */
  assert_null(strstr(t, "/p04"));
  free(t);
  report_free(r);
}

/* A flood of distinct refusals: memory stays bounded, and one frequent
 * refusal that comes after the table filled still makes the top, marked
 * as a count that may include others'. */
static void test_flood_keeps_the_frequent(void **state)
{
  (void)state;
  struct report *r = report_new();
  char path[32];
  for (int i = 0; i < 10000; i++) {
    snprintf(path, sizeof path, "/flood/%d", i);
    report_note(r, REPORT_ABSENT, path, NULL);
  }
  for (int i = 0; i < 50; i++)
    report_note(r, REPORT_ABSENT, "/late/but/often", NULL);
  char *t = printed(r);
  assert_non_null(strstr(t, ": 10050\n"));
  const char *line = strstr(t, "/late/but/often");
  assert_non_null(line);
  /* first entry listed, its count given as an upper bound */
  assert_non_null(strstr(t, "no rule involved): 10050\nusbox:   <="));
  free(t);
  report_free(r);
}

/* More kinds than kept: counted, not lost. */
static void test_too_many_kinds(void **state)
{
  (void)state;
  struct report *r = report_new();
  char kind[16];
  for (int i = 0; i < REPORT_KINDS + 3; i++) {
    snprintf(kind, sizeof kind, "call%d", i);
    report_note(r, kind, "x", "rule");
  }
  char *t = printed(r);
  assert_non_null(strstr(t, "usbox: refused call0 calls: 1\n"));
  assert_null(strstr(t, "refused call8 calls"));
  assert_non_null(strstr(t, "usbox: 3 more refusals, of other kinds\n"));
  free(t);
  report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_prints_nothing),
      cmocka_unit_test(test_kinds_in_order_with_rules),
      cmocka_unit_test(test_top_ten_and_the_rest),
      cmocka_unit_test(test_flood_keeps_the_frequent),
      cmocka_unit_test(test_too_many_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
