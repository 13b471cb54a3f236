/* Seccomp profiles in the Docker/OCI format (`usbox exec --seccomp-profile`,
 * the policy's "seccomp_profile", and later config.json's linux.seccomp):
 * JSON in, a struct seccomp_profile out (platform/profile_filter.h), with
 * includes/excludes (capabilities, architectures, minimum kernel) already
 * decided for this agent. Pure: nothing here touches the host but reading
 * the file in seccomp_profile_load_file. docs/policy.md has the format. */
#ifndef USBOX_POLICY_SECCOMP_PROFILE_H
#define USBOX_POLICY_SECCOMP_PROFILE_H

#include <stdint.h>

#include "common/error.h"
#include "platform/profile_filter.h"

struct cJSON;

struct seccomp_profile_options {
  uint64_t caps; /* the agent's capabilities (bit N: capability N), policy.keep_caps */
  /* the kernel for "minKernel" (0.0: this one, from uname) */
  unsigned kernel_major;
  unsigned kernel_minor;
};

/* An error's message names the JSON path: `.syscalls[3].action: unknown
 * action "SCMP_ACT_FOO"`, code 0. *out is filled only on success. */
int seccomp_profile_parse(const struct cJSON *root, const struct seccomp_profile_options *opts,
                          struct seccomp_profile *out, usbox_err_t *err);
int seccomp_profile_parse_text(const char *text, size_t len,
                               const struct seccomp_profile_options *opts,
                               struct seccomp_profile *out, usbox_err_t *err);
/* The same from a file; messages start "seccomp profile FILE: ". */
int seccomp_profile_load_file(const char *file, const struct seccomp_profile_options *opts,
                              struct seccomp_profile *out, usbox_err_t *err);

#endif
