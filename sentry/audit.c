#include "sentry/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sentry/syscall_table.h"

struct audit {
  int fd;
};

struct audit *audit_open(const char *path, usbox_err_t *err)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    usbox_err_set(err, errno, "cannot open audit log %s", path);
    return NULL;
  }
  struct audit *a = malloc(sizeof *a);
  if (a == NULL) {
    close(fd);
    usbox_err_set(err, ENOMEM, "allocating audit log");
    return NULL;
  }
  a->fd = fd;
  return a;
}

size_t audit_json_string(char *out, size_t outsize, const char *s)
{
  size_t n = 0;
  /* reserve room for the closing quote and NUL */
  if (outsize < 3) {
    if (outsize > 0)
      out[0] = '\0';
    return 0;
  }
  out[n++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    char esc[8];
    size_t elen;
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\', esc[1] = (char)*p, elen = 2;
    } else if (*p < 0x20 || *p >= 0x7f) {
      /* control characters and bytes that may not be UTF-8: \u00XX keeps the
       * line valid JSON and the byte recoverable */
      elen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
    } else {
      esc[0] = (char)*p, elen = 1;
    }
    if (n + elen + 2 > outsize)
      break;
    memcpy(out + n, esc, elen);
    n += elen;
  }
  out[n++] = '"';
  out[n] = '\0';
  return n;
}

void audit_write(struct audit *a, const struct audit_record *rec)
{
  if (a == NULL)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char arg[PATH_MAX * 2 + 8] = "null";
  if (rec->arg != NULL)
    audit_json_string(arg, sizeof arg, rec->arg);
  char rule[512] = "";
  if (rec->rule != NULL) {
    char q[480];
    audit_json_string(q, sizeof q, rec->rule);
    snprintf(rule, sizeof rule, ",\"rule\":%s", q);
  }
  char ebuf[16];
  char line[PATH_MAX * 2 + 1024];
  int n = snprintf(line, sizeof line,
                   "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\",\"pid\":%d,"
                   "\"syscall\":\"%s\",\"arg\":%s,\"decision\":\"%s\",\"errno\":%s%s%s,"
                   "\"result\":%lld%s}\n",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000, (int)rec->pid, rec->syscall, arg, rec->decision,
                   rec->err ? "\"" : "", rec->err ? errno_name(rec->err, ebuf) : "0",
                   rec->err ? "\"" : "", rec->err ? -1LL : (long long)rec->result, rule);
  if (n > 0 && (size_t)n < sizeof line) {
    /* one write per line: O_APPEND keeps lines of concurrent receivers whole */
    ssize_t w = write(a->fd, line, (size_t)n);
    (void)w;
  }
}

void audit_close(struct audit *a)
{
  if (a == NULL)
    return;
  close(a->fd);
  free(a);
}
