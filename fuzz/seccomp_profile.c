/* Seccomp profiles (policy/seccomp_profile.c) on arbitrary bytes, and the
 * filter built from what parses (platform/profile_filter.c, libseccomp).
 * The profile comes from whoever runs usbox or, later, from an OCI
 * bundle's config.json: not the agent, but input no one has checked.
 *
 * Input: one byte choosing the agent's capabilities and kernel (for
 * includes/excludes), then the JSON text (not NUL-terminated: the parser
 * takes a length). Checked: a success is a profile whose every field is
 * in range; an error is one printable line naming a JSON path (or the
 * JSON's own error) and leaves *out untouched; a parsed profile compiles
 * to a valid-length program or fails with a message. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/profile_filter.h"
#include "policy/seccomp_profile.h"

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "seccomp_profile: invariant broken: %s (%s:%d)\n", #cond, __FILE__,        \
              __LINE__);                                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static void check_action(struct profile_action a)
{
  CHECK(a.kind >= PROFILE_ALLOW && a.kind <= PROFILE_KILL_PROCESS);
  if (a.kind == PROFILE_ERRNO)
    CHECK(a.errno_ret >= 1 && a.errno_ret <= 4095);
}

static void check_profile(const struct seccomp_profile *p)
{
  check_action(p->default_action);
  CHECK((p->flags & ~PROFILE_FLAG_LOG) == 0);
  CHECK(p->nrules == 0 || p->rules != NULL);
  for (size_t i = 0; i < p->nrules; i++) {
    const struct profile_rule *r = &p->rules[i];
    size_t len = strnlen(r->name, sizeof r->name);
    CHECK(len > 0 && len < sizeof r->name);
    check_action(r->action);
    CHECK(r->nargs <= PROFILE_MAX_ARGS);
    CHECK(i == 0 || r->entry >= p->rules[i - 1].entry);
    for (size_t j = 0; j < r->nargs; j++) {
      CHECK(r->args[j].index <= 5);
      CHECK(r->args[j].op >= PROFILE_NE && r->args[j].op <= PROFILE_MASKED_EQ);
      CHECK(r->args[j].value <= (1ull << 53) && r->args[j].value_two <= (1ull << 53));
    }
  }
}

static void check_error(const usbox_err_t *err)
{
  size_t len = strnlen(err->msg, sizeof err->msg);
  CHECK(len > 0 && len < sizeof err->msg);
  CHECK(err->msg[0] == '.' || strncmp(err->msg, "invalid JSON at byte ", 21) == 0);
  for (size_t i = 0; i < len; i++)
    CHECK((unsigned char)err->msg[i] >= 0x20 && err->msg[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  static const uint64_t caps[] = {0, 1ull << 21, ~0ull, 1ull << 0};
  struct seccomp_profile_options opts = {.caps = caps[data[0] & 3],
                                         .kernel_major = (data[0] & 4) ? 4 : 6,
                                         .kernel_minor = (data[0] >> 3) & 31};
  struct seccomp_profile p = {.nrules = 424242};
  usbox_err_t err = {0};
  if (seccomp_profile_parse_text((const char *)data + 1, size - 1, &opts, &p, &err) < 0) {
    check_error(&err);
    CHECK(p.nrules == 424242 && p.rules == NULL);
    return 0;
  }
  check_profile(&p);
  struct bpf_program prog = {0};
  usbox_err_t berr = {0};
  if (profile_filter_build(&p, &prog, NULL, &berr) == 0) {
    CHECK(prog.len > 0 && prog.insns != NULL);
    usbox_filter_free(&prog);
  } else {
    CHECK(berr.msg[0] != '\0');
  }
  seccomp_profile_free(&p);
  return 0;
}
