/* A classic-BPF interpreter for the unit tests of usbox's filters
 * (test_filter.c, test_seccomp_profile.c): check_program refuses what the
 * kernel's checker would, run returns the program's verdict. Include after
 * cmocka.h. */
#ifndef USBOX_TESTS_UNIT_BPF_INTERP_H
#define USBOX_TESTS_UNIT_BPF_INTERP_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "platform/seccomp_filter.h"

/* ---- classic BPF, as the kernel accepts it for seccomp ---- */

/* What the kernel's checker (bpf_check_classic + seccomp_check_filter) would
 * refuse: unknown opcodes, loads outside struct seccomp_data, jumps out of
 * the program, a last instruction that is not a return. */
static void check_program(const struct bpf_program *p)
{
  if (p->len == 0 || p->len > BPF_MAXINSNS)
    fail_msg("program of %u instructions", p->len);
  for (unsigned pc = 0; pc < p->len; pc++) {
    const struct sock_filter *f = &p->insns[pc];
    switch (f->code) {
    case BPF_LD | BPF_W | BPF_ABS:
      if (f->k >= sizeof(struct seccomp_data) || f->k % 4 != 0)
        fail_msg("pc %u: load at offset %u", pc, f->k);
      break;
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_ALU | BPF_ADD | BPF_K:
    case BPF_ALU | BPF_ADD | BPF_X:
    case BPF_ALU | BPF_SUB | BPF_K:
    case BPF_ALU | BPF_SUB | BPF_X:
    case BPF_ALU | BPF_MUL | BPF_K:
    case BPF_ALU | BPF_MUL | BPF_X:
    case BPF_ALU | BPF_DIV | BPF_X:
    case BPF_ALU | BPF_MOD | BPF_X:
    case BPF_ALU | BPF_AND | BPF_K:
    case BPF_ALU | BPF_AND | BPF_X:
    case BPF_ALU | BPF_OR | BPF_K:
    case BPF_ALU | BPF_OR | BPF_X:
    case BPF_ALU | BPF_XOR | BPF_K:
    case BPF_ALU | BPF_XOR | BPF_X:
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_LSH | BPF_X:
    case BPF_ALU | BPF_RSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_X:
    case BPF_ALU | BPF_NEG:
      break;
    case BPF_ALU | BPF_DIV | BPF_K:
    case BPF_ALU | BPF_MOD | BPF_K:
      if (f->k == 0)
        fail_msg("pc %u: division by constant zero", pc);
      break;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      if (f->k >= BPF_MEMWORDS)
        fail_msg("pc %u: scratch slot %u", pc, f->k);
      break;
    case BPF_JMP | BPF_JA:
      if (f->k >= p->len - pc - 1)
        fail_msg("pc %u: ja %u leaves the program", pc, f->k);
      break;
    case BPF_JMP | BPF_JEQ | BPF_K:
    case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K:
    case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K:
    case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K:
    case BPF_JMP | BPF_JSET | BPF_X:
      if (pc + 1u + f->jt >= p->len || pc + 1u + f->jf >= p->len)
        fail_msg("pc %u: jump (%u, %u) leaves the program", pc, f->jt, f->jf);
      break;
    default:
      fail_msg("pc %u: opcode 0x%04x not supported by this interpreter or by seccomp", pc, f->code);
    }
  }
  uint16_t last = p->insns[p->len - 1].code;
  if (last != (BPF_RET | BPF_K) && last != (BPF_RET | BPF_A))
    fail_msg("last instruction 0x%04x is not a return", last);
}

static uint32_t run(const struct bpf_program *p, const struct seccomp_data *d)
{
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
  bool mem_set[BPF_MEMWORDS] = {false};
  unsigned pc = 0;
  for (unsigned steps = 0; steps <= p->len; steps++) {
    if (pc >= p->len)
      fail_msg("fell off the program at pc %u", pc);
    const struct sock_filter *f = &p->insns[pc++];
    uint32_t src = BPF_SRC(f->code) == BPF_X ? x : f->k;
    switch (f->code) {
    case BPF_LD | BPF_W | BPF_ABS:
      memcpy(&a, (const char *)d + f->k, sizeof a);
      break;
    case BPF_LD | BPF_W | BPF_LEN:
      a = sizeof *d;
      break;
    case BPF_LDX | BPF_W | BPF_LEN:
      x = sizeof *d;
      break;
    case BPF_LD | BPF_IMM:
      a = f->k;
      break;
    case BPF_LDX | BPF_IMM:
      x = f->k;
      break;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
      if (!mem_set[f->k])
        fail_msg("pc %u: read of unset M[%u]", pc - 1, f->k);
      *(BPF_CLASS(f->code) == BPF_LD ? &a : &x) = mem[f->k];
      break;
    case BPF_ST:
    case BPF_STX:
      mem[f->k] = f->code == BPF_ST ? a : x;
      mem_set[f->k] = true;
      break;
    case BPF_MISC | BPF_TAX:
      x = a;
      break;
    case BPF_MISC | BPF_TXA:
      a = x;
      break;
    case BPF_RET | BPF_K:
      return f->k;
    case BPF_RET | BPF_A:
      return a;
    case BPF_JMP | BPF_JA:
      pc += f->k;
      break;
    case BPF_JMP | BPF_JEQ | BPF_K:
    case BPF_JMP | BPF_JEQ | BPF_X:
      pc += a == src ? f->jt : f->jf;
      break;
    case BPF_JMP | BPF_JGT | BPF_K:
    case BPF_JMP | BPF_JGT | BPF_X:
      pc += a > src ? f->jt : f->jf;
      break;
    case BPF_JMP | BPF_JGE | BPF_K:
    case BPF_JMP | BPF_JGE | BPF_X:
      pc += a >= src ? f->jt : f->jf;
      break;
    case BPF_JMP | BPF_JSET | BPF_K:
    case BPF_JMP | BPF_JSET | BPF_X:
      pc += (a & src) != 0 ? f->jt : f->jf;
      break;
    case BPF_ALU | BPF_NEG:
      a = -a;
      break;
    default:
      if (BPF_CLASS(f->code) != BPF_ALU)
        fail_msg("pc %u: opcode 0x%04x", pc - 1, f->code);
      switch (BPF_OP(f->code)) {
      case BPF_ADD:
        a += src;
        break;
      case BPF_SUB:
        a -= src;
        break;
      case BPF_MUL:
        a *= src;
        break;
      case BPF_DIV:
        a = src == 0 ? 0 : a / src;
        break;
      case BPF_MOD:
        a = src == 0 ? 0 : a % src;
        break;
      case BPF_AND:
        a &= src;
        break;
      case BPF_OR:
        a |= src;
        break;
      case BPF_XOR:
        a ^= src;
        break;
      case BPF_LSH:
        a = src >= 32 ? 0 : a << src;
        break;
      case BPF_RSH:
        a = src >= 32 ? 0 : a >> src;
        break;
      default:
        fail_msg("pc %u: ALU opcode 0x%04x", pc - 1, f->code);
      }
    }
  }
  fail_msg("program did not return");
  return 0;
}

#endif
