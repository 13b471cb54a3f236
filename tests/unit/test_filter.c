/* The agent's BPF filter, run in a classic-BPF interpreter: every table entry
 * gets the verdict its disposition names, unlisted numbers get ENOSYS,
 * foreign ABIs are killed, and the argument rules deny exactly what
 * arg_rule_match() denies. Both the program built now with libseccomp and
 * the prebuilt one that `usbox exec` installs are checked. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>

#include "netstack-shim/rules.h"
#include "platform/seccomp_filter.h"
#include "table/arg_rules.h"
#include "table/syscall_table.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define ALLOW SECCOMP_RET_ALLOW
#define NOTIFY SECCOMP_RET_USER_NOTIF
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((uint32_t)(e)&SECCOMP_RET_DATA))
#define X32_BIT 0x40000000

#include "bpf_interp.h"

/* ---- fixtures: the built and the prebuilt programs, both options ---- */

struct programs {
  struct bpf_program built[2]; /* [denials_to_sentry] */
  struct bpf_program prebuilt[2];
};

static int setup(void **state)
{
  static struct programs progs;
  for (int ds = 0; ds < 2; ds++) {
    struct filter_options opts = {.denials_to_sentry = ds};
    usbox_err_t err = {0};
    if (usbox_filter_build(&opts, &progs.built[ds], &err) < 0) {
      fprintf(stderr, "usbox_filter_build: %s\n", err.msg);
      return -1;
    }
    usbox_filter_prebuilt(&opts, &progs.prebuilt[ds]);
  }
  *state = &progs;
  return 0;
}

static int teardown(void **state)
{
  struct programs *progs = *state;
  for (int ds = 0; ds < 2; ds++)
    usbox_filter_free(&progs->built[ds]);
  return 0;
}

/* The four programs under test, with a label for messages. */
struct variant {
  const struct bpf_program *prog;
  bool denials_to_sentry;
  const char *label;
};

static size_t variants(void **state, struct variant out[4])
{
  struct programs *progs = *state;
  static const char *const labels[2][2] = {{"built", "built/denials_to_sentry"},
                                           {"prebuilt", "prebuilt/denials_to_sentry"}};
  size_t n = 0;
  for (int pre = 0; pre < 2; pre++)
    for (int ds = 0; ds < 2; ds++)
      out[n++] = (struct variant){pre ? &progs->prebuilt[ds] : &progs->built[ds], ds != 0,
                                  labels[pre][ds]};
  return n;
}

static struct seccomp_data call(uint32_t arch, int nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
  struct seccomp_data d;
  memset(&d, 0, sizeof d);
  d.arch = arch;
  d.nr = nr;
  d.instruction_pointer = 0x401000;
  d.args[0] = a0;
  d.args[1] = a1;
  d.args[2] = a2;
  return d;
}

static uint32_t verdict(const struct variant *v, int nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
  struct seccomp_data d = call(AUDIT_ARCH_X86_64, nr, a0, a1, a2);
  return run(v->prog, &d);
}

static void expect(const struct variant *v, const char *what, uint32_t want, uint32_t got)
{
  if (want != got)
    fail_msg("%s: %s: expected 0x%08x, got 0x%08x", v->label, what, want, got);
}

static uint32_t deny_action(const struct variant *v, int err)
{
  return v->denials_to_sentry ? NOTIFY : ERRNO(err);
}

/* ---- tests ---- */

static void test_programs_are_valid(void **state)
{
  struct variant v[4];
  for (size_t i = 0; i < variants(state, v); i++)
    check_program(v[i].prog);
  /* built and prebuilt differ only if the generator is stale */
  struct programs *progs = *state;
  for (int ds = 0; ds < 2; ds++) {
    assert_int_equal(progs->built[ds].len, progs->prebuilt[ds].len);
    assert_memory_equal(progs->built[ds].insns, progs->prebuilt[ds].insns,
                        progs->built[ds].len * sizeof(struct sock_filter));
  }
}

static void test_every_table_entry(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  for (size_t i = 0; i < nv; i++) {
    for (size_t j = 0; j < usbox_syscall_count; j++) {
      const struct syscall_entry *e = &usbox_syscall_table[j];
      uint32_t want = e->disposition == SC_PASS   ? ALLOW
                      : e->disposition == SC_EMUL ? NOTIFY
                                                  : deny_action(&v[i], e->deny_errno);
      /* all-zero arguments match no argument rule; an argument pass may let
       * them through (fchmod's mode 0) unless denials go to the sentry */
      const uint64_t zero[6] = {0};
      uint32_t want0 = e->disposition == SC_EMUL && !v[i].denials_to_sentry &&
                               arg_pass_match(e->nr, zero)
                           ? ALLOW
                           : want;
      expect(&v[i], e->name, want0, verdict(&v[i], e->nr, 0, 0, 0));
      /* arguments do not matter to calls without rules */
      if (!arg_rule_has(e->nr))
        expect(&v[i], e->name, want, verdict(&v[i], e->nr, ~0ULL, ~0ULL, ~0ULL));
    }
  }
}

/* fchmod always reaches the sentry, whatever the mode: a file the agent
 * was handed outside the view must not change, and no setuid or setgid bit
 * reaches the host's files. */
static void test_fchmod_always_notifies(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  static const struct {
    uint64_t mode;
  } modes[] = {{0755}, {01777}, {04755}, {02755}, {06777}, {0x100000000ull | 0644},
               {0x100000000ull | 04644}};
  for (size_t i = 0; i < nv; i++)
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
      char what[48];
      snprintf(what, sizeof what, "fchmod(3, 0%llo)", (unsigned long long)modes[m].mode);
      expect(&v[i], what, NOTIFY, verdict(&v[i], __NR_fchmod, 3, modes[m].mode, 0));
    }
}

static void test_unlisted_numbers_enosys(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  for (size_t i = 0; i < nv; i++) {
    for (int nr = 0; nr < 1100; nr++) {
      if (syscall_by_nr(nr) != NULL)
        continue;
      char what[32];
      snprintf(what, sizeof what, "unlisted %d", nr);
      expect(&v[i], what, ERRNO(ENOSYS), verdict(&v[i], nr, 0, 0, 0));
    }
    expect(&v[i], "480", ERRNO(ENOSYS), verdict(&v[i], 480, 0, 0, 0));
    expect(&v[i], "1000", ERRNO(ENOSYS), verdict(&v[i], 1000, 0, 0, 0));
    expect(&v[i], "0x3fffffff", ERRNO(ENOSYS), verdict(&v[i], 0x3fffffff, 0, 0, 0));
    expect(&v[i], "-1", ERRNO(ENOSYS), verdict(&v[i], -1, 0, 0, 0));
  }
}

static bool is_kill(uint32_t action)
{
  uint32_t a = action & SECCOMP_RET_ACTION_FULL;
  return a == SECCOMP_RET_KILL_PROCESS || a == SECCOMP_RET_KILL_THREAD;
}

static void test_foreign_abis_killed(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  static const uint32_t arches[] = {AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64,
                                    AUDIT_ARCH_X86_64 & ~__AUDIT_ARCH_64BIT, 0};
  for (size_t i = 0; i < nv; i++) {
    /* ia32 through int 0x80: every number, including ones the x86_64 table
     * allows, and ia32 ioctl (54) with TIOCSTI */
    for (int nr = 0; nr < 480; nr++) {
      struct seccomp_data d = call(AUDIT_ARCH_I386, nr, 0, 0, 0);
      expect(&v[i], "ia32", SECCOMP_RET_KILL_PROCESS, run(v[i].prog, &d));
    }
    struct seccomp_data d = call(AUDIT_ARCH_I386, 54, 0, TIOCSTI, 0);
    expect(&v[i], "ia32 ioctl TIOCSTI", SECCOMP_RET_KILL_PROCESS, run(v[i].prog, &d));
    for (size_t a = 0; a < sizeof arches / sizeof arches[0]; a++) {
      d = call(arches[a], __NR_getpid, 0, 0, 0);
      if (!is_kill(run(v[i].prog, &d)))
        fail_msg("%s: arch 0x%08x not killed", v[i].label, arches[a]);
    }
    /* x32: bit 30 set, whatever the number below it */
    static const int x32[] = {X32_BIT | 39,         X32_BIT | 0,   X32_BIT | 16,
                              X32_BIT | 257,        X32_BIT | 514, X32_BIT | 0x3fffffff,
                              (int)0x80000000u | 39};
    for (size_t k = 0; k < sizeof x32 / sizeof x32[0]; k++) {
      uint32_t r = verdict(&v[i], x32[k], 0, TIOCSTI, 0);
      if (!is_kill(r))
        fail_msg("%s: x32 number 0x%08x gave 0x%08x", v[i].label, (unsigned)x32[k], r);
    }
  }
}

static void test_ioctl_rules(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  for (size_t i = 0; i < nv; i++) {
    uint32_t deny = deny_action(&v[i], EPERM);
    expect(&v[i], "ioctl TIOCSTI", deny, verdict(&v[i], __NR_ioctl, 0, TIOCSTI, 0));
    expect(&v[i], "ioctl TIOCSTI, high bits", deny,
           verdict(&v[i], __NR_ioctl, 0, 0x100000000ULL | TIOCSTI, 0));
    expect(&v[i], "ioctl TIOCSTI, all high bits", deny,
           verdict(&v[i], __NR_ioctl, 5, 0xffffffff00000000ULL | TIOCSTI, 0));
    expect(&v[i], "ioctl TIOCLINUX", deny, verdict(&v[i], __NR_ioctl, 0, TIOCLINUX, 0));
    expect(&v[i], "ioctl TIOCSETD", deny, verdict(&v[i], __NR_ioctl, 0, TIOCSETD, 0));
    expect(&v[i], "ioctl TIOCGETD", ALLOW, verdict(&v[i], __NR_ioctl, 0, TIOCGETD, 0));
    expect(&v[i], "ioctl TCGETS", ALLOW, verdict(&v[i], __NR_ioctl, 0, TCGETS, 0));
    expect(&v[i], "ioctl FIONREAD", ALLOW, verdict(&v[i], __NR_ioctl, 0, FIONREAD, 0));
    /* TIOCSTI as the fd or the pointer is not TIOCSTI as the request */
    expect(&v[i], "ioctl fd=TIOCSTI", ALLOW, verdict(&v[i], __NR_ioctl, TIOCSTI, TCGETS, 0));
    expect(&v[i], "ioctl arg=TIOCSTI", ALLOW, verdict(&v[i], __NR_ioctl, 0, TCGETS, TIOCSTI));
    expect(&v[i], "ioctl TIOCSTI+1", ALLOW, verdict(&v[i], __NR_ioctl, 0, TIOCSTI + 1, 0));
  }
}

static void test_clone_unshare_seccomp_rules(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  static const uint64_t ns_flags[] = {CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                      CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};
  const uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                                CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                CLONE_CHILD_CLEARTID;
  for (size_t i = 0; i < nv; i++) {
    uint32_t deny = deny_action(&v[i], EPERM);
    expect(&v[i], "clone CLONE_NEWUSER", deny, verdict(&v[i], __NR_clone, CLONE_NEWUSER, 0, 0));
    expect(&v[i], "clone thread", ALLOW, verdict(&v[i], __NR_clone, thread_flags, 0, 0));
    expect(&v[i], "clone fork", ALLOW, verdict(&v[i], __NR_clone, SIGCHLD, 0, 0));
    expect(&v[i], "clone thread|NEWPID", deny,
           verdict(&v[i], __NR_clone, thread_flags | CLONE_NEWPID, 0, 0));
    for (size_t k = 0; k < sizeof ns_flags / sizeof ns_flags[0]; k++) {
      expect(&v[i], "clone ns flag", deny, verdict(&v[i], __NR_clone, ns_flags[k], 0, 0));
      expect(&v[i], "unshare ns flag", deny, verdict(&v[i], __NR_unshare, ns_flags[k], 0, 0));
      expect(&v[i], "clone ns flag, high bits", deny,
             verdict(&v[i], __NR_clone, 0xabcd000000000000ULL | ns_flags[k], 0, 0));
    }
    expect(&v[i], "unshare CLONE_NEWNS", deny, verdict(&v[i], __NR_unshare, CLONE_NEWNS, 0, 0));
    expect(&v[i], "unshare CLONE_NEWTIME", deny, verdict(&v[i], __NR_unshare, CLONE_NEWTIME, 0, 0));
    expect(&v[i], "unshare CLONE_FILES", ALLOW, verdict(&v[i], __NR_unshare, CLONE_FILES, 0, 0));
    expect(&v[i], "unshare CLONE_FS|CLONE_SYSVSEM", ALLOW,
           verdict(&v[i], __NR_unshare, CLONE_FS | CLONE_SYSVSEM, 0, 0));
    expect(&v[i], "unshare 0", ALLOW, verdict(&v[i], __NR_unshare, 0, 0, 0));
    /* seccomp(op, flags, args): a new listener is refused, plain filters not */
    expect(&v[i], "seccomp NEW_LISTENER", deny,
           verdict(&v[i], __NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                   0x7fff0000));
    expect(&v[i], "seccomp TSYNC|NEW_LISTENER", deny,
           verdict(&v[i], __NR_seccomp, SECCOMP_SET_MODE_FILTER,
                   SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER, 0));
    expect(&v[i], "seccomp flags 0", ALLOW,
           verdict(&v[i], __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, 0x7fff0000));
    expect(&v[i], "seccomp TSYNC", ALLOW,
           verdict(&v[i], __NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0));
    /* the listener flag as the op (arg 0) is not the flag */
    expect(&v[i], "seccomp op=8", ALLOW,
           verdict(&v[i], __NR_seccomp, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0, 0));
  }
}

/* Arguments that make rule r match, one per set bit of an ANY mask. */
static size_t matching_values(const struct arg_rule *r, uint64_t out[40])
{
  size_t n = 0;
  if (r->test == ARG_TEST_EQ) {
    out[n++] = r->value;
    out[n++] = 0x100000000ULL | r->value;
    out[n++] = r->value | ~(uint64_t)r->mask; /* bits outside the mask do not matter */
    return n;
  }
  for (int bit = 0; bit < 32; bit++)
    if (r->mask & (1u << bit))
      out[n++] = 1ULL << bit;
  out[n++] = r->mask;
  out[n++] = 0xffffffff00000000ULL | r->mask;
  return n;
}

static void test_every_arg_rule(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  for (size_t ri = 0; ri < usbox_arg_rule_count; ri++) {
    const struct arg_rule *r = &usbox_arg_rules[ri];
    uint64_t vals[40];
    size_t nvals = matching_values(r, vals);
    for (size_t k = 0; k < nvals; k++) {
      uint64_t args[6] = {0};
      args[r->arg] = vals[k];
      const struct arg_rule *m = arg_rule_match(r->nr, args);
      if (m == NULL || m->deny_errno != r->deny_errno)
        fail_msg("arg_rule_match: %s arg%d=0x%llx not denied", r->syscall, r->arg,
                 (unsigned long long)vals[k]);
      for (size_t i = 0; i < nv; i++) {
        struct seccomp_data d = call(AUDIT_ARCH_X86_64, r->nr, 0, 0, 0);
        memcpy(d.args, args, sizeof args);
        uint32_t got = run(v[i].prog, &d);
        if (got != deny_action(&v[i], r->deny_errno))
          fail_msg("%s: %s arg%d=0x%llx gave 0x%08x (rule: %s)", v[i].label, r->syscall, r->arg,
                   (unsigned long long)vals[k], got, r->note);
      }
    }
  }
}

/* BPF and arg_rule_match() (the sentry's evaluator when denials are audited)
 * agree on many argument patterns for every syscall that has rules. */
static void test_bpf_agrees_with_arg_rule_match(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (size_t ri = 0; ri < usbox_arg_rule_count; ri++) {
    const struct arg_rule *r = &usbox_arg_rules[ri];
    if (ri > 0 && usbox_arg_rules[ri - 1].nr == r->nr)
      continue;
    for (int iter = 0; iter < 3000; iter++) {
      uint64_t args[6];
      for (int a = 0; a < 6; a++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        /* sparse values so that single flags and exact values come up */
        switch (seed % 4) {
        case 0:
          args[a] = seed;
          break;
        case 1:
          args[a] = 1ULL << (seed >> 8) % 64;
          break;
        case 2:
          args[a] = (seed >> 16) & (seed >> 32) & (seed >> 48) & 0xffff;
          break;
        default: {
          /* the value of a rule of this syscall, maybe with noise */
          const struct arg_rule *q = &usbox_arg_rules[(seed >> 8) % usbox_arg_rule_count];
          args[a] = (q->test == ARG_TEST_EQ ? q->value : q->mask & (seed >> 20)) |
                    ((seed >> 2) & 1 ? (seed & 0xffffffff00000000ULL) : 0);
        }
        }
      }
      const struct arg_rule *m = arg_rule_match(r->nr, args);
      for (size_t i = 0; i < nv; i++) {
        struct seccomp_data d = call(AUDIT_ARCH_X86_64, r->nr, 0, 0, 0);
        memcpy(d.args, args, sizeof args);
        uint32_t want = m ? deny_action(&v[i], m->deny_errno) : ALLOW;
        uint32_t got = run(v[i].prog, &d);
        if (got != want)
          fail_msg("%s: %s(0x%llx, 0x%llx, 0x%llx): BPF 0x%08x, arg_rule_match says 0x%08x",
                   v[i].label, r->syscall, (unsigned long long)args[0], (unsigned long long)args[1],
                   (unsigned long long)args[2], got, want);
      }
    }
  }
  /* no rule for calls without rules */
  uint64_t all[6] = {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL};
  assert_null(arg_rule_match(__NR_read, all));
  assert_null(arg_rule_match(__NR_openat, all));
}

/* The socket passes: the common families and types go straight to the
 * kernel, everything else (and everything when denials go to the sentry)
 * to the sentry. */
static void test_socket_passes(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  static const struct {
    uint64_t domain, type, protocol;
    bool passed;
  } cases[] = {
      {AF_INET, SOCK_STREAM, 0, true},
      {AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP, true},
      {AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP, true},
      {AF_UNIX, SOCK_SEQPACKET, 0, true},
      {0x100000000ULL | AF_INET, SOCK_STREAM, 0, true}, /* the kernel takes an int */
      {AF_INET, SOCK_RAW, IPPROTO_ICMP, false},
      {AF_INET, SOCK_DGRAM, IPPROTO_ICMP, false},
      {AF_INET6, SOCK_STREAM, IPPROTO_SCTP, false},
      {AF_PACKET, SOCK_RAW, 0, false},
      {AF_NETLINK, SOCK_RAW, 0, false}, /* NETLINK_ROUTE: the sentry decides */
      {AF_NETLINK, SOCK_RAW, 9, false},
      {AF_INET, SOCK_STREAM, 0x100000006ULL, true},
      {AF_INET, SOCK_STREAM, 7, false},
  };
  for (size_t i = 0; i < nv; i++)
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      char what[96];
      snprintf(what, sizeof what, "socket(0x%llx, 0x%llx, 0x%llx)",
               (unsigned long long)cases[c].domain, (unsigned long long)cases[c].type,
               (unsigned long long)cases[c].protocol);
      bool passed = cases[c].passed && !v[i].denials_to_sentry;
      expect(&v[i], what, passed ? ALLOW : NOTIFY,
             verdict(&v[i], __NR_socket, cases[c].domain, cases[c].type, cases[c].protocol));
    }
}

/* What BPF lets through, the sentry would have let through too: over a grid
 * of families, types (with flags) and protocols, every ALLOW of the program
 * is a socket net_socket_check accepts, and arg_pass_match says the same. */
static void test_passes_agree_with_the_sentry(void **state)
{
  struct variant v[4];
  size_t nv = variants(state, v);
  static const int domains[] = {AF_UNSPEC, AF_UNIX, AF_INET, AF_AX25, AF_INET6, AF_NETLINK,
                                AF_PACKET, AF_BLUETOOTH, AF_VSOCK, 45};
  static const int types[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET,
                              SOCK_PACKET, 15};
  static const int protos[] = {0, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6,
                               IPPROTO_SCTP, IPPROTO_RAW, 9, 255};
  for (size_t d = 0; d < sizeof domains / sizeof domains[0]; d++)
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
      for (size_t f = 0; f < 3; f++)
        for (size_t p = 0; p < sizeof protos / sizeof protos[0]; p++) {
          int type = types[t] | (f == 1 ? SOCK_CLOEXEC : f == 2 ? SOCK_NONBLOCK : 0);
          uint64_t args[6] = {(uint64_t)domains[d], (uint64_t)type, (uint64_t)protos[p]};
          int err = 0;
          bool sentry_allows = net_socket_check(domains[d], type, protos[p], &err) == NULL;
          bool matched = arg_pass_match(__NR_socket, args);
          if (matched && !sentry_allows)
            fail_msg("socket(%d, %d, %d): passed in BPF, refused by the sentry", domains[d],
                     type, protos[p]);
          for (size_t i = 0; i < nv; i++) {
            uint32_t got = verdict(&v[i], __NR_socket, args[0], args[1], args[2]);
            uint32_t want = matched && !v[i].denials_to_sentry ? ALLOW : NOTIFY;
            if (got != want)
              fail_msg("%s: socket(%d, %d, %d): BPF 0x%08x, arg_pass_match says 0x%08x",
                       v[i].label, domains[d], type, protos[p], got, want);
          }
        }
  /* the common ones do pass */
  uint64_t tcp[6] = {AF_INET, SOCK_STREAM, 0}, unix_dgram[6] = {AF_UNIX, SOCK_DGRAM, 0};
  assert_true(arg_pass_match(__NR_socket, tcp));
  assert_true(arg_pass_match(__NR_socket, unix_dgram));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_programs_are_valid),
      cmocka_unit_test(test_every_table_entry),
      cmocka_unit_test(test_fchmod_always_notifies),
      cmocka_unit_test(test_unlisted_numbers_enosys),
      cmocka_unit_test(test_foreign_abis_killed),
      cmocka_unit_test(test_ioctl_rules),
      cmocka_unit_test(test_clone_unshare_seccomp_rules),
      cmocka_unit_test(test_every_arg_rule),
      cmocka_unit_test(test_bpf_agrees_with_arg_rule_match),
      cmocka_unit_test(test_socket_passes),
      cmocka_unit_test(test_passes_agree_with_the_sentry),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
