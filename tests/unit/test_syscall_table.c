/* The syscall table (table/syscalls.def): numbering against the kernel
 * headers, internal consistency, lookups, and the dispositions that the
 * sandbox's security depends on. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/syscall.h>

#include "sentry/handler.h"
#include "table/arg_rules.h"
#include "table/syscall_table.h"

struct known_nr {
  const char *name;
  long nr;
};

/* Every table name the kernel headers define, with the headers' number. */
#define KNR(name) {#name, __NR_##name},
static const struct known_nr header_nrs[] = {
#include "tests/unit/x86_64_syscall_numbers.h"
};
#undef KNR

/* Calls newer than Debian 12's headers, numbered as in upstream
 * arch/x86/entry/syscalls/syscall_64.tbl. */
static const struct known_nr upstream_nrs[] = {
    {"cachestat", 451},         {"fchmodat2", 452},        {"map_shadow_stack", 453},
    {"futex_wake", 454},        {"futex_wait", 455},       {"futex_requeue", 456},
    {"statmount", 457},         {"listmount", 458},        {"lsm_get_self_attr", 459},
    {"lsm_set_self_attr", 460}, {"lsm_list_modules", 461}, {"mseal", 462},
    {"setxattrat", 463},        {"getxattrat", 464},       {"listxattrat", 465},
    {"removexattrat", 466},     {"open_tree_attr", 467},   {"file_getattr", 468},
    {"file_setattr", 469},      {"listns", 470},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct syscall_entry *entry(const char *name)
{
  const struct syscall_entry *e = syscall_by_name(name);
  if (e == NULL)
    fail_msg("syscall %s is not in the table", name);
  return e;
}

static void test_sorted_unique_in_range(void **state)
{
  (void)state;
  assert_true(usbox_syscall_count > 300);
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    assert_non_null(e->name);
    assert_true(e->name[0] != '\0');
    assert_non_null(e->family);
    assert_non_null(e->note);
    if (e->nr < 0 || e->nr >= SC_NR_LIMIT)
      fail_msg("%s: number %d outside [0, %d)", e->name, e->nr, SC_NR_LIMIT);
    if (i > 0 && usbox_syscall_table[i - 1].nr >= e->nr)
      fail_msg("entries not sorted by unique number: %s (%d) after %s (%d)", e->name, e->nr,
               usbox_syscall_table[i - 1].name, usbox_syscall_table[i - 1].nr);
    for (size_t j = 0; j < i; j++)
      if (strcmp(usbox_syscall_table[j].name, e->name) == 0)
        fail_msg("name %s appears twice (%d and %d)", e->name, usbox_syscall_table[j].nr, e->nr);
  }
}

static void test_numbers_match_kernel_headers(void **state)
{
  (void)state;
  /* Debian 12's asm/unistd_64.h defines 362 of the table's names; fewer means
   * the #ifdefs silently dropped names and the check below proves little. */
  assert_true(ARRAY_LEN(header_nrs) >= 362);
  for (size_t i = 0; i < ARRAY_LEN(header_nrs); i++) {
    const struct known_nr *k = &header_nrs[i];
    const struct syscall_entry *e = syscall_by_name(k->name);
    if (e == NULL)
      fail_msg("kernel header names %s (%ld) but the table does not", k->name, k->nr);
    if (e->nr != k->nr)
      fail_msg("%s: table says %d, kernel header says %ld", k->name, e->nr, k->nr);
    const struct syscall_entry *by_nr = syscall_by_nr(k->nr);
    if (by_nr == NULL || strcmp(by_nr->name, k->name) != 0)
      fail_msg("number %ld: table has %s, kernel header has %s", k->nr,
               by_nr ? by_nr->name : "nothing", k->name);
  }
  for (size_t i = 0; i < ARRAY_LEN(upstream_nrs); i++) {
    const struct known_nr *k = &upstream_nrs[i];
    const struct syscall_entry *e = syscall_by_name(k->name);
    if (e == NULL || e->nr != k->nr)
      fail_msg("%s: table says %d, upstream syscall_64.tbl says %ld", k->name, e ? e->nr : -1,
               k->nr);
  }
}

/* Every table entry is vouched for by the headers or the upstream list. */
static void test_every_entry_is_a_known_syscall(void **state)
{
  (void)state;
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    bool known = false;
    for (size_t j = 0; !known && j < ARRAY_LEN(header_nrs); j++)
      known = strcmp(header_nrs[j].name, e->name) == 0 && header_nrs[j].nr == e->nr;
    for (size_t j = 0; !known && j < ARRAY_LEN(upstream_nrs); j++)
      known = strcmp(upstream_nrs[j].name, e->name) == 0 && upstream_nrs[j].nr == e->nr;
    if (!known)
      fail_msg("%s (%d) is neither in the kernel headers nor in the upstream list", e->name, e->nr);
  }
}

static void test_disposition_fields(void **state)
{
  (void)state;
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    switch (e->disposition) {
    case SC_PASS:
      if (sentry_handler_for(e->nr) != NULL || e->deny_errno != 0)
        fail_msg("PASS %s has a handler or an errno", e->name);
      break;
    case SC_EMUL:
      if (sentry_handler_for(e->nr) == NULL)
        fail_msg("EMUL %s has no handler", e->name);
      if (e->deny_errno != 0)
        fail_msg("EMUL %s has an errno", e->name);
      break;
    case SC_DENY:
      /* SECCOMP_RET_ERRNO carries 16 bits and the kernel caps it at 4095 */
      if (e->deny_errno <= 0 || e->deny_errno > 4095)
        fail_msg("DENY %s has errno %d", e->name, e->deny_errno);
      if (sentry_handler_for(e->nr) != NULL)
        fail_msg("DENY %s has a handler", e->name);
      break;
    default:
      fail_msg("%s has disposition %d", e->name, (int)e->disposition);
    }
  }
}

static void test_lookups_round_trip(void **state)
{
  (void)state;
  size_t found = 0;
  for (long nr = 0; nr < SC_NR_LIMIT; nr++) {
    const struct syscall_entry *e = syscall_by_nr(nr);
    if (e == NULL)
      continue;
    found++;
    assert_int_equal(e->nr, nr);
    assert_ptr_equal(syscall_by_name(e->name), e);
  }
  assert_int_equal(found, usbox_syscall_count);
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    assert_ptr_equal(syscall_by_nr(e->nr), e);
    assert_ptr_equal(syscall_by_name(e->name), e);
  }
  assert_null(syscall_by_nr(-1));
  assert_null(syscall_by_nr(SC_NR_LIMIT));
  assert_null(syscall_by_nr(1000));
  assert_null(syscall_by_nr(0x40000000L | 39)); /* x32 getpid */
  assert_null(syscall_by_nr(335));              /* hole before pidfd_send_signal */
  assert_null(syscall_by_nr(423));
  assert_null(syscall_by_name("no_such_syscall"));
  assert_null(syscall_by_name(""));
  assert_null(syscall_by_name("open ")); /* exact match only */
  assert_int_equal(syscall_by_nr(257)->nr, 257);
  assert_string_equal(syscall_by_nr(257)->name, "openat");
}

static void expect_deny(const char *name, int err)
{
  const struct syscall_entry *e = entry(name);
  if (e->disposition != SC_DENY || e->deny_errno != err)
    fail_msg("%s: expected DENY %s, got %s errno %d", name, strerrorname_np(err),
             syscall_disposition_name(e->disposition), e->deny_errno);
}

static void expect_disposition(const char *name, enum sc_disposition d)
{
  const struct syscall_entry *e = entry(name);
  if (e->disposition != d)
    fail_msg("%s: expected %s, got %s", name, syscall_disposition_name(d),
             syscall_disposition_name(e->disposition));
}

static void test_security_dispositions(void **state)
{
  (void)state;
  /* io_uring performs calls the filter never sees; clone3's flags are in
   * memory BPF cannot read. ENOSYS makes libraries fall back. */
  static const char *const enosys[] = {"io_uring_setup", "io_uring_enter", "io_uring_register",
                                       "clone3"};
  static const char *const eperm[] = {
      "bpf",
      "ptrace",
      "mount",
      "umount2",
      "pivot_root",
      "keyctl",
      "userfaultfd",
      "perf_event_open",
      "kexec_load",
      "kexec_file_load",
      "init_module",
      "finit_module",
      "delete_module",
      "open_by_handle_at",
      "process_vm_readv",
      "process_vm_writev",
      "pidfd_getfd",
      /* the rest of the mount family (new mount API), chroot */
      "open_tree",
      "move_mount",
      "fsopen",
      "fsconfig",
      "fsmount",
      "fspick",
      "mount_setattr",
      "chroot",
      "kcmp",
      "process_madvise",
  };
  static const char *const emul[] = {"openat", "open",   "stat",     "newfstatat",
                                     "statx",  "execve", "execveat", "readlink",
                                     "access", "mkdir",  "unlink",   "rename",
                                     /* refused by the sentry after the
                                      * kernel's own argument checks */
                                     "setns", "settimeofday", "clock_settime", "add_key",
                                     "request_key"};
  static const char *const pass[] = {"read", "write", "getpid", "mmap"};
  for (size_t i = 0; i < ARRAY_LEN(enosys); i++)
    expect_deny(enosys[i], ENOSYS);
  for (size_t i = 0; i < ARRAY_LEN(eperm); i++)
    expect_deny(eperm[i], EPERM);
  for (size_t i = 0; i < ARRAY_LEN(emul); i++)
    expect_disposition(emul[i], SC_EMUL);
  for (size_t i = 0; i < ARRAY_LEN(pass); i++)
    expect_disposition(pass[i], SC_PASS);
}

/* A call that takes a path must never go to the kernel unchecked: the path
 * would be resolved by the kernel, outside the VFS view. */
static void test_path_calls_never_pass(void **state)
{
  (void)state;
  static const char *const path_calls[] = {
      "open",
      "stat",
      "lstat",
      "access",
      "execve",
      "truncate",
      "chdir",
      "rename",
      "mkdir",
      "rmdir",
      "creat",
      "link",
      "unlink",
      "symlink",
      "readlink",
      "chmod",
      "chown",
      "lchown",
      "utime",
      "mknod",
      "uselib",
      "statfs",
      "pivot_root",
      "chroot",
      "acct",
      "mount",
      "umount2",
      "swapon",
      "swapoff",
      "setxattr",
      "lsetxattr",
      "getxattr",
      "lgetxattr",
      "listxattr",
      "llistxattr",
      "removexattr",
      "lremovexattr",
      "utimes",
      "inotify_add_watch",
      "openat",
      "mkdirat",
      "mknodat",
      "fchownat",
      "futimesat",
      "newfstatat",
      "unlinkat",
      "renameat",
      "linkat",
      "symlinkat",
      "readlinkat",
      "fchmodat",
      "faccessat",
      "utimensat",
      "fanotify_mark",
      "name_to_handle_at",
      "renameat2",
      "execveat",
      "statx",
      "open_tree",
      "move_mount",
      "fspick",
      "openat2",
      "faccessat2",
      "mount_setattr",
      "fchmodat2",
      "setxattrat",
      "getxattrat",
      "listxattrat",
      "removexattrat",
      "open_tree_attr",
      "file_getattr",
      "file_setattr",
      "quotactl",
  };
  for (size_t i = 0; i < ARRAY_LEN(path_calls); i++) {
    const struct syscall_entry *e = entry(path_calls[i]);
    if (e->disposition == SC_PASS)
      fail_msg("%s takes a path but is passed to the kernel", e->name);
  }
}

/* Argument rules only refine PASS calls, and name them consistently. */
static void test_arg_rules_refer_to_pass_entries(void **state)
{
  (void)state;
  assert_true(usbox_arg_rule_count > 0);
  for (size_t i = 0; i < usbox_arg_rule_count; i++) {
    const struct arg_rule *r = &usbox_arg_rules[i];
    const struct syscall_entry *e = syscall_by_nr(r->nr);
    if (e == NULL || strcmp(e->name, r->syscall) != 0)
      fail_msg("rule %zu names %s (%d), table has %s", i, r->syscall, r->nr,
               e ? e->name : "nothing");
    if (e->disposition != SC_PASS)
      fail_msg("rule for %s refines a %s entry", r->syscall,
               syscall_disposition_name(e->disposition));
    assert_true(r->arg >= 0 && r->arg < 6);
    assert_true(r->deny_errno > 0 && r->deny_errno <= 4095);
    assert_true(arg_rule_has(r->nr));
  }
  assert_false(arg_rule_has(__NR_read));
  assert_false(arg_rule_has(-1));
}

static void test_names_of_things(void **state)
{
  (void)state;
  char buf[16];
  assert_string_equal(syscall_disposition_name(SC_PASS), "kernel");
  assert_string_equal(syscall_disposition_name(SC_EMUL), "emulate");
  assert_string_equal(syscall_disposition_name(SC_DENY), "deny");
  assert_string_equal(errno_name(EPERM, buf), "EPERM");
  assert_string_equal(errno_name(ENOSYS, buf), "ENOSYS");
  assert_string_equal(errno_name(EOPNOTSUPP, buf), "EOPNOTSUPP");
  assert_string_equal(errno_name(4000, buf), "4000");
  assert_string_equal(errno_name(0, buf), "0");
  assert_string_equal(errno_name(-5, buf), "-5");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sorted_unique_in_range),
      cmocka_unit_test(test_numbers_match_kernel_headers),
      cmocka_unit_test(test_every_entry_is_a_known_syscall),
      cmocka_unit_test(test_disposition_fields),
      cmocka_unit_test(test_lookups_round_trip),
      cmocka_unit_test(test_security_dispositions),
      cmocka_unit_test(test_path_calls_never_pass),
      cmocka_unit_test(test_arg_rules_refer_to_pass_entries),
      cmocka_unit_test(test_names_of_things),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
