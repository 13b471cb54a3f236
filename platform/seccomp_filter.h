/* The agent's BPF filter, generated from the syscall table and the argument
 * rules; nothing else decides what it contains. */
#ifndef USBOX_PLATFORM_SECCOMP_FILTER_H
#define USBOX_PLATFORM_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include "common/error.h"

struct filter_options {
  /* Route denials through the sentry (SECCOMP_RET_USER_NOTIF) instead of
   * answering them in BPF, so that they can be audited and counted. */
  bool denials_to_sentry;
};

struct bpf_program {
  struct sock_filter *insns;
  unsigned short len;
};

/* Build the program now with libseccomp (the generator, tests). */
int usbox_filter_build(const struct filter_options *opts, struct bpf_program *out,
                       usbox_err_t *err);
void usbox_filter_free(struct bpf_program *prog);

/* The same programs, built from the table at compile time by
 * tools/gen_filter.c (what `usbox exec` installs). *out points to static
 * storage: do not free it. */
void usbox_filter_prebuilt(const struct filter_options *opts, struct bpf_program *out);

/* A libseccomp context (an scmp_filter_ctx) with usbox's attributes: another
 * ABI kills the process, rules in a binary tree, no_new_privs left to the
 * caller (the agent sets it itself). NULL, with err, on failure. */
void *usbox_filter_new_ctx(uint32_t default_action, usbox_err_t *err);

/* libseccomp's program for ctx (an scmp_filter_ctx; this header does not
 * include seccomp.h) into a malloc'd array of at most 4096 instructions. */
int usbox_filter_export(void *ctx, struct sock_filter **insns, size_t *len, usbox_err_t *err);

/* The gofer's allowlist (table/gofer_allowed.def): everything else kills it. */
int usbox_filter_build_gofer(struct bpf_program *out, usbox_err_t *err);
void usbox_filter_prebuilt_gofer(struct bpf_program *out);

#endif
