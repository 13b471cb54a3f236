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

/* Where a profile comes from: a file (usbox exec), or JSON text (an OCI
 * config's linux.seccomp); name is what messages call it. */
struct seccomp_profile_source {
  const char *file;
  const char *text;
  const char *name;
};

/* Read and compile a profile for an agent keeping caps: the filter in out
 * (platform/profile_filter.h) and its PROFILE_FLAG_* in *flags. Done before
 * anything starts, so a bad profile is one line and nothing has changed. */
int seccomp_profile_compile(const struct seccomp_profile_source *src, uint64_t caps,
                            struct bpf_program *out, unsigned *flags, usbox_err_t *err);

#endif
