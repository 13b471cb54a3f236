/* --audit FILE: one JSON object per line for each decision the sentry makes. */
#ifndef USBOX_SENTRY_AUDIT_H
#define USBOX_SENTRY_AUDIT_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct audit;

struct audit_record {
  pid_t pid;
  const char *syscall;
  const char *arg;      /* key argument (a path), may be NULL */
  const char *decision; /* "emulate", "kernel", "deny" */
  int err;              /* agent errno, 0 for success */
  int64_t result;       /* return value when err == 0 */
  const char *rule;     /* why, for denials; may be NULL */
};

/* Default cap on the log file's size (--audit-max). */
#define AUDIT_DEFAULT_MAX (100ull << 20)

struct audit_options {
  const char *path;
  uint64_t max_bytes; /* 0: AUDIT_DEFAULT_MAX */
};

/* Bounded: an argument is written up to 256 bytes (with "arg_len" when
 * longer); more than 5 identical decisions in a second are counted into one
 * line with "repeated"; when the file would pass max_bytes, one "full" line
 * is written and the rest counted, reported by an "end" line at close. */
struct audit *audit_open(const struct audit_options *opts, usbox_err_t *err);
void audit_write(struct audit *a, const struct audit_record *rec);
void audit_close(struct audit *a);
/* JSON string escaping (unit-tested): writes a quoted string into out,
 * returns its length, truncating safely to outsize. */
size_t audit_json_string(char *out, size_t outsize, const char *s);

#endif
