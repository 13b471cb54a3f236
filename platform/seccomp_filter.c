/* Filter generation.
 *
 * libseccomp builds the per-syscall part (a binary tree over the table). It
 * cannot express "allow this syscall unless argument X has value Y" (an
 * unconditional rule swallows the conditional ones), so the argument rules
 * are compiled by hand into a short prefix that runs first:
 *
 *   if arch != x86_64:            goto libseccomp   (which kills: bad arch)
 *   if nr == R.nr and R matches:  return deny(R)
 *   goto libseccomp
 *
 * The libseccomp part reloads arch and number itself, so prepending is safe.
 * Its x86_64 program also kills every x32 number (bit 30 set), and the
 * bad-arch action kills ia32 calls made with int 0x80.
 */
#include "platform/seccomp_filter.h"

#include <errno.h>
#include <sched.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "table/arg_rules.h"
#include "table/syscall_table.h"

#define BPF_MAX_INSNS 4096

static uint32_t action_for_deny(const struct filter_options *opts, int err)
{
  if (opts->denials_to_sentry)
    return SECCOMP_RET_USER_NOTIF;
  return SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA);
}

static uint32_t scmp_action_for(const struct filter_options *opts,
                                const struct syscall_entry *e)
{
  switch (e->disposition) {
  case SC_PASS:
    return SCMP_ACT_ALLOW;
  case SC_EMUL:
    return SCMP_ACT_NOTIFY;
  case SC_DENY:
    return opts->denials_to_sentry ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO((uint32_t)e->deny_errno);
  }
  return SCMP_ACT_ERRNO(ENOSYS);
}

int usbox_filter_export(void *ctx, struct sock_filter **insns, size_t *len, usbox_err_t *err)
{
  cleanup_close int memfd = memfd_create("usbox-bpf", MFD_CLOEXEC);
  if (memfd < 0)
    return usbox_err_set(err, errno, "memfd_create");
  int rc = seccomp_export_bpf((scmp_filter_ctx)ctx, memfd);
  if (rc < 0)
    return usbox_err_set(err, -rc, "seccomp_export_bpf");
  off_t size = lseek(memfd, 0, SEEK_END);
  if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
      size > (off_t)(BPF_MAX_INSNS * sizeof(struct sock_filter)))
    return usbox_err_set(err, E2BIG, "libseccomp produced a program of %lld bytes",
                         (long long)size);
  cleanup_free struct sock_filter *buf = malloc((size_t)size);
  if (buf == NULL)
    return usbox_err_set(err, ENOMEM, "allocating BPF");
  if (pread(memfd, buf, (size_t)size, 0) != size)
    return usbox_err_set(err, errno, "reading exported BPF");
  *len = (size_t)size / sizeof(struct sock_filter);
  *insns = steal_ptr(&buf);
  return 0;
}

/* Export libseccomp's program into a malloc'd array. */
void *usbox_filter_new_ctx(uint32_t default_action, usbox_err_t *err)
{
  scmp_filter_ctx ctx = seccomp_init(default_action);
  if (ctx == NULL) {
    usbox_err_set(err, ENOMEM, "seccomp_init failed");
    return NULL;
  }
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc == 0)
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* binary tree */
  if (rc == 0)
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0) {
    seccomp_release(ctx);
    usbox_err_set(err, -rc, "configuring libseccomp");
    return NULL;
  }
  return ctx;
}

static int libseccomp_part(const struct filter_options *opts, struct sock_filter **insns,
                           size_t *len, usbox_err_t *err)
{
  scmp_filter_ctx ctx = usbox_filter_new_ctx(SCMP_ACT_ERRNO(ENOSYS), err);
  if (ctx == NULL)
    return -1;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    uint32_t action = scmp_action_for(opts, e);
    if (action == SCMP_ACT_ERRNO(ENOSYS))
      continue; /* the default already; libseccomp refuses a redundant rule */
    rc = seccomp_rule_add(ctx, action, e->nr, 0);
    if (rc < 0)
      usbox_err_set(err, -rc, "seccomp rule for %s (%d)", e->name, e->nr);
  }
  if (rc < 0) {
    seccomp_release(ctx);
    if (err != NULL && err->msg[0] == '\0')
      usbox_err_set(err, -rc, "configuring libseccomp");
    return -1;
  }
  rc = usbox_filter_export(ctx, insns, len, err);
  seccomp_release(ctx);
  return rc;
}

struct prefix {
  struct sock_filter insns[256];
  size_t len;
};

static int emit(struct prefix *p, struct sock_filter insn)
{
  if (p->len >= sizeof p->insns / sizeof p->insns[0])
    return -1;
  p->insns[p->len++] = insn;
  return 0;
}

#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + (size_t)(i) * sizeof(uint64_t))

/* One block per rule: load the low word, test, return the deny action.
 * Every jump in the prefix is forward; "end" targets are patched afterwards. */
static int emit_rule(struct prefix *p, const struct arg_rule *r, uint32_t action)
{
  int rc = emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(r->arg)));
  if (r->test == ARG_TEST_ANY) {
    /* jset mask: true -> next (ret), false -> skip the ret */
    rc |= emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, r->mask, 0, 1));
  } else {
    if (r->mask != 0xffffffffu)
      rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, r->mask));
    rc |= emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, r->value, 0, 1));
  }
  rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
  return rc;
}

/* One pass: each tested argument's low word, masked, must equal its value,
 * else on to the next pass (the jumps are patched to the end of this one);
 * all equal: allow. */
static int emit_pass(struct prefix *p, const struct arg_pass *ps)
{
  size_t fails[3];
  size_t nfails = 0;
  int rc = 0;
  for (int a = 0; a < 3; a++) {
    if (ps->mask[a] == 0)
      continue;
    rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(a)));
    if (ps->mask[a] != 0xffffffffu)
      rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ps->mask[a]));
    fails[nfails++] = p->len;
    rc |= emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ps->value[a], 0, 0));
  }
  rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  for (size_t k = 0; k < nfails && rc == 0; k++)
    p->insns[fails[k]].jf = (uint8_t)(p->len - fails[k] - 1);
  return rc;
}

/* The block of one syscall's passes: entered when nr matches (A holds nr);
 * no pass matching leaves the prefix through the jump recorded in end. */
static int emit_pass_block(struct prefix *p, size_t first, size_t *end_jump, usbox_err_t *err)
{
  const struct arg_pass *ps = &usbox_arg_passes[first];
  size_t test_at = p->len;
  int rc = emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ps->nr, 0, 0));
  for (size_t j = first; j < usbox_arg_pass_count && usbox_arg_passes[j].nr == ps->nr; j++)
    rc |= emit_pass(p, &usbox_arg_passes[j]);
  *end_jump = p->len;
  rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0));
  if (rc != 0)
    return usbox_err_set(err, E2BIG, "argument pass prefix too long");
  size_t skip = p->len - test_at - 1;
  if (skip > 255)
    return usbox_err_set(err, E2BIG, "argument passes of %s do not fit a BPF jump", ps->syscall);
  p->insns[test_at].jf = (uint8_t)skip;
  return 0;
}

static int build_prefix(const struct filter_options *opts, struct prefix *p, usbox_err_t *err)
{
  size_t end_jumps[64];
  size_t n_end = 0;
  int rc = 0;
  p->len = 0;
  rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, arch)));
  /* wrong arch: jump to the end (patched below via jf) */
  size_t arch_jump = p->len;
  rc |= emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 0));
  rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, nr)));
  /* For each syscall that has rules: if nr matches, run its rules (reloading
   * nr after them); if not, skip its block. */
  for (size_t i = 0; i < usbox_arg_rule_count; i++) {
    const struct arg_rule *r = &usbox_arg_rules[i];
    if (i > 0 && usbox_arg_rules[i - 1].nr == r->nr)
      continue; /* block already emitted */
    size_t test_at = p->len;
    rc |= emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, 0));
    for (size_t j = i; j < usbox_arg_rule_count && usbox_arg_rules[j].nr == r->nr; j++)
      rc |= emit_rule(p, &usbox_arg_rules[j], action_for_deny(opts, usbox_arg_rules[j].deny_errno));
    /* no rule matched: leave the prefix */
    if (n_end >= sizeof end_jumps / sizeof end_jumps[0])
      return usbox_err_set(err, E2BIG, "too many argument rules");
    end_jumps[n_end++] = p->len;
    rc |= emit(p, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0));
    size_t skip = p->len - test_at - 1;
    if (skip > 255)
      return usbox_err_set(err, E2BIG, "argument rules of %s do not fit a BPF jump", r->syscall);
    p->insns[test_at].jf = (uint8_t)skip;
  }
  if (rc != 0)
    return usbox_err_set(err, E2BIG, "argument rule prefix too long");
  /* Passes only when denials are not the sentry's to log: with --audit or
   * -v every call of these syscalls goes to the sentry, which decides the
   * same and writes it down. */
  for (size_t i = 0; !opts->denials_to_sentry && i < usbox_arg_pass_count; i++) {
    if (i > 0 && usbox_arg_passes[i - 1].nr == usbox_arg_passes[i].nr)
      continue;
    if (n_end >= sizeof end_jumps / sizeof end_jumps[0])
      return usbox_err_set(err, E2BIG, "too many argument rules and passes");
    if (emit_pass_block(p, i, &end_jumps[n_end++], err) < 0)
      return -1;
  }
  size_t end = p->len;
  for (size_t k = 0; k < n_end; k++)
    p->insns[end_jumps[k]].k = (uint32_t)(end - end_jumps[k] - 1);
  if (end - arch_jump - 1 > 255)
    return usbox_err_set(err, E2BIG, "argument rule prefix too long for one jump");
  p->insns[arch_jump].jf = (uint8_t)(end - arch_jump - 1);
  return 0;
}

int usbox_filter_build(const struct filter_options *opts, struct bpf_program *out,
                       usbox_err_t *err)
{
  /* build_prefix needs the rules (and the passes) of one syscall next to
   * each other, and a syscall with passes to have no rules */
  for (size_t i = 1; i < usbox_arg_rule_count; i++) {
    if (usbox_arg_rules[i].nr == usbox_arg_rules[i - 1].nr)
      continue;
    for (size_t j = 0; j + 1 < i; j++)
      if (usbox_arg_rules[j].nr == usbox_arg_rules[i].nr)
        return usbox_err_set(err, EINVAL, "arg_rules.def: rules of %s are not adjacent",
                             usbox_arg_rules[i].syscall);
  }
  for (size_t i = 0; i < usbox_arg_pass_count; i++) {
    if (arg_rule_has(usbox_arg_passes[i].nr))
      return usbox_err_set(err, EINVAL, "arg_rules.def: %s has both rules and passes",
                           usbox_arg_passes[i].syscall);
    if (i == 0 || usbox_arg_passes[i].nr == usbox_arg_passes[i - 1].nr)
      continue;
    for (size_t j = 0; j + 1 < i; j++)
      if (usbox_arg_passes[j].nr == usbox_arg_passes[i].nr)
        return usbox_err_set(err, EINVAL, "arg_rules.def: passes of %s are not adjacent",
                             usbox_arg_passes[i].syscall);
  }
  struct prefix prefix;
  if (build_prefix(opts, &prefix, err) < 0)
    return -1;
  cleanup_free struct sock_filter *body = NULL;
  size_t body_len = 0;
  if (libseccomp_part(opts, &body, &body_len, err) < 0)
    return -1;
  size_t total = prefix.len + body_len;
  if (total > BPF_MAX_INSNS)
    return usbox_err_set(err, E2BIG, "filter of %zu instructions is over the kernel's limit", total);
  struct sock_filter *all = calloc(total, sizeof *all);
  if (all == NULL)
    return usbox_err_set(err, ENOMEM, "allocating BPF");
  memcpy(all, prefix.insns, prefix.len * sizeof *all);
  memcpy(all + prefix.len, body, body_len * sizeof *all);
  out->insns = all;
  out->len = (unsigned short)total;
  return 0;
}

void usbox_filter_free(struct bpf_program *prog)
{
  free(prog->insns);
  prog->insns = NULL;
  prog->len = 0;
}

int usbox_filter_build_gofer(struct bpf_program *out, usbox_err_t *err)
{
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == NULL)
    return usbox_err_set(err, ENOMEM, "seccomp_init failed");
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc == 0)
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
#define GOFER_ALLOW(name)                                                                        \
  if (rc == 0 && (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), 0)) < 0)            \
    usbox_err_set(err, -rc, "gofer allowlist: %s", #name);
#include "table/gofer_allowed.def"
#ifdef USBOX_SANITIZE_GOFER
#include "table/gofer_allowed_sanitizer.def"
#endif
#undef GOFER_ALLOW
  /* a thread of its own, never a new process */
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  if (rc < 0) {
    seccomp_release(ctx);
    return err != NULL && err->msg[0] ? -1 : usbox_err_set(err, -rc, "building the gofer filter");
  }
  struct sock_filter *insns = NULL;
  size_t len = 0;
  rc = usbox_filter_export(ctx, &insns, &len, err);
  seccomp_release(ctx);
  if (rc < 0)
    return usbox_err_wrap(err, "the gofer filter");
  out->insns = insns;
  out->len = (unsigned short)len;
  return 0;
}
