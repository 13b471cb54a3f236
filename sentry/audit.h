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

struct audit *audit_open(const char *path, usbox_err_t *err);
void audit_write(struct audit *a, const struct audit_record *rec);
void audit_close(struct audit *a);
/* JSON string escaping (unit-tested): writes a quoted string into out,
 * returns its length, truncating safely to outsize. */
size_t audit_json_string(char *out, size_t outsize, const char *s);

#endif
