/* The limits' flags and JSON: sizes, counts, fractions, modes; every bad
 * value is an error that leaves the configuration as it was. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limits/limits.h"
#include "policy/policy.h"

static void test_memory(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    uint64_t bytes;
  } good[] = {{"64M", 64ull << 20}, {"64m", 64ull << 20}, {"2G", 2ull << 30},
              {"512k", 512ull << 10}, {"1.5G", 3ull << 29}, {"4096", 4096},
              {"100MB", 100ull << 20}, {"1T", 1ull << 40}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    struct limits_config c;
    limits_config_init(&c);
    usbox_err_t err = {0};
    assert_int_equal(limits_parse_memory(&c, good[i].text, &err), 0);
    assert_true(c.memory == good[i].bytes);
  }
  static const char *const bad[] = {"", "lots", "0", "-1M", "12X", "1k", "64M5", "1e30G", "M"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct limits_config c;
    limits_config_init(&c);
    usbox_err_t err = {0};
    assert_int_equal(limits_parse_memory(&c, bad[i], &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_true(c.memory == 0);
    assert_non_null(strstr(err.msg, "--memory"));
  }
}

static void test_counts_and_seconds(void **state)
{
  (void)state;
  struct limits_config c;
  limits_config_init(&c);
  usbox_err_t err = {0};
  assert_true(c.grace == LIMITS_DEFAULT_GRACE);
  assert_int_equal(limits_parse_pids(&c, "100", &err), 0);
  assert_int_equal(c.pids, 100);
  assert_int_equal(limits_parse_nofile(&c, "1024", &err), 0);
  assert_int_equal(c.nofile, 1024);
  assert_int_equal(limits_parse_cpus(&c, "0.5", &err), 0);
  assert_true(c.cpus == 0.5);
  assert_int_equal(limits_parse_timeout(&c, "1.25", &err), 0);
  assert_true(c.timeout == 1.25);
  assert_int_equal(limits_parse_grace(&c, "0", &err), 0);
  assert_true(c.grace == 0);
  static const char *const bad_counts[] = {"", "0", "-3", "1.5", "ten", "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
    assert_int_equal(limits_parse_pids(&c, bad_counts[i], &err), -1);
    assert_int_equal(c.pids, 100);
  }
  assert_int_equal(limits_parse_nofile(&c, "3", &err), -1); /* below stdio and a few */
  static const char *const bad_seconds[] = {"", "-1", "0", "nan", "inf", "1s", "0.0001"};
  for (size_t i = 0; i < sizeof bad_seconds / sizeof bad_seconds[0]; i++) {
    assert_int_equal(limits_parse_timeout(&c, bad_seconds[i], &err), -1);
    assert_true(c.timeout == 1.25);
  }
  assert_int_equal(limits_parse_cpus(&c, "0.001", &err), -1);
}

static void test_mode(void **state)
{
  (void)state;
  struct limits_config c;
  limits_config_init(&c);
  usbox_err_t err = {0};
  assert_false(c.best_effort);
  assert_int_equal(limits_parse_mode(&c, "best-effort", &err), 0);
  assert_true(c.best_effort);
  assert_int_equal(limits_parse_mode(&c, "strict", &err), 0);
  assert_false(c.best_effort);
  assert_int_equal(limits_parse_mode(&c, "sometimes", &err), -1);
}

static void test_json(void **state)
{
  (void)state;
  struct policy p;
  policy_init(&p);
  usbox_err_t err = {0};
  assert_int_equal(policy_load_json(&p,
                                    "{\"limits\": {\"memory\": \"512M\", \"pids\": 64, \"cpus\": 1.5,"
                                    " \"timeout\": 10, \"timeout_grace\": 2, \"nofile\": 4096,"
                                    " \"mode\": \"best-effort\"}}",
                                    &err),
                   0);
  assert_true(p.limits.memory == 512ull << 20);
  assert_int_equal(p.limits.pids, 64);
  assert_true(p.limits.cpus == 1.5);
  assert_true(p.limits.timeout == 10);
  assert_true(p.limits.grace == 2);
  assert_int_equal(p.limits.nofile, 4096);
  assert_true(p.limits.best_effort);
  policy_free(&p);

  static const char *const bad[] = {"{\"limits\": 5}", "{\"limits\": {\"memory\": true}}",
                                     "{\"limits\": {\"swap\": \"1G\"}}",
                                     "{\"limits\": {\"pids\": 0}}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    policy_init(&p);
    assert_int_equal(policy_load_json(&p, bad[i], &err), -1);
    assert_int_equal(err.code, EINVAL);
    policy_free(&p);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_memory),
      cmocka_unit_test(test_counts_and_seconds),
      cmocka_unit_test(test_mode),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
