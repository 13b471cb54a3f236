/* The deputy's credential switch (common/deputy.h), lingering included:
 * what the thread holds inside a scope, after it, and after
 * deputy_unlinger. Runs as root with its capabilities (as CI and usbox's
 * sentry do): the scopes below switch to a root without some of them and
 * to another fsuid. Each case ends with the thread's own credentials
 * back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/deputy.h"

#define CAP_BIT(n) (1ull << (n))

static uint64_t effective_now(void)
{
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  assert_int_equal(syscall(SYS_capget, &h, d), 0);
  return (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32);
}

/* A root agent with the given effective set and no other difference. */
static struct deputy_creds root_with(uint64_t caps)
{
  struct deputy_creds c;
  deputy_own_creds(&c);
  c.cap_eff = caps;
  return c;
}

static int setup(void **state)
{
  (void)state;
  /* the cases need root's own capabilities to switch to others */
  return geteuid() == 0 && (effective_now() & CAP_BIT(CAP_SETUID)) ? 0 : -1;
}

static void test_scope_restores_without_lingering(void **state)
{
  (void)state;
  uint64_t own = effective_now();
  struct deputy_creds agent = root_with(CAP_BIT(CAP_CHOWN));
  assert_int_equal(deputy_enter(&agent, 0), 0);
  assert_true(effective_now() == CAP_BIT(CAP_CHOWN));
  deputy_leave();
  assert_true(effective_now() == own);
  assert_false(deputy_unlinger()); /* nothing lingered */
}

static void test_lingering_keeps_only_the_effective_set(void **state)
{
  (void)state;
  uint64_t own = effective_now();
  deputy_linger_allow(true);
  struct deputy_creds agent = root_with(CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_KILL));
  assert_int_equal(deputy_enter(&agent, 0), 0);
  deputy_leave();
  /* after the scope: the agent's set, never more than the thread's own */
  assert_true(effective_now() == (CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_KILL)));
  assert_false(deputy_active());
  assert_int_equal(deputy_enter(&agent, 0), 0);
  assert_true(effective_now() == (CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_KILL)));
  deputy_leave();
  /* another set: exactly that one inside */
  struct deputy_creds fewer = root_with(0);
  assert_int_equal(deputy_enter(&fewer, 0), 0);
  assert_true(effective_now() == 0);
  deputy_leave();
  assert_true(deputy_unlinger());
  assert_true(effective_now() == own);
  assert_false(deputy_unlinger());
  deputy_linger_allow(false);
}

static void test_other_ids_end_lingering(void **state)
{
  (void)state;
  uint64_t own = effective_now();
  uid_t own_fsuid = (uid_t)setfsuid((uid_t)-1);
  deputy_linger_allow(true);
  struct deputy_creds root = root_with(CAP_BIT(CAP_CHOWN));
  assert_int_equal(deputy_enter(&root, 0), 0);
  deputy_leave();
  assert_true(effective_now() == CAP_BIT(CAP_CHOWN));
  /* a scope of another fsuid starts from the thread's own set (setfsuid
   * needs it) and leaves nothing behind: only a caps-only scope lingers */
  struct deputy_creds user = root_with(0);
  user.fsuid = 4242;
  assert_int_equal(deputy_enter(&user, 0), 0);
  assert_int_equal((uid_t)setfsuid((uid_t)-1), 4242);
  assert_true(effective_now() == 0);
  deputy_leave();
  assert_int_equal((uid_t)setfsuid((uid_t)-1), own_fsuid);
  assert_true(effective_now() == own);
  assert_false(deputy_unlinger());
  deputy_linger_allow(false);
}

static void test_forbidding_restores_now(void **state)
{
  (void)state;
  uint64_t own = effective_now();
  deputy_linger_allow(true);
  struct deputy_creds agent = root_with(0);
  assert_int_equal(deputy_enter(&agent, DEPUTY_UMASK), 0);
  deputy_leave();
  assert_true(effective_now() == 0);
  deputy_linger_allow(false); /* code not audited for lingering runs next */
  assert_true(effective_now() == own);
  /* and a scope then restores on leave again */
  assert_int_equal(deputy_enter(&agent, 0), 0);
  deputy_leave();
  assert_true(effective_now() == own);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scope_restores_without_lingering),
      cmocka_unit_test(test_lingering_keeps_only_the_effective_set),
      cmocka_unit_test(test_other_ids_end_lingering),
      cmocka_unit_test(test_forbidding_restores_now),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
