#include "sentry/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "table/syscall_table.h"

/* Bytes of an argument written; a longer one gets "arg_len". */
#define ARG_KEEP 256
/* Identical decisions (process, call, argument, outcome, rule) written per
 * second; the rest are counted into one "repeated" line. */
#define REPEAT_KEEP 5
#define REPEAT_SLOTS 64
#define REPEAT_WAYS 4
/* Kept free below the cap for the "full" and "end" lines. */
#define TAIL_RESERVE 1024

/* What a run of identical decisions has in common, kept to summarize it. */
struct repeat_slot {
  uint64_t key; /* 0: free */
  uint64_t used; /* when last used (audit.ticks) */
  time_t second;
  unsigned written;
  unsigned long suppressed;
  pid_t pid;
  int err;
  char syscall[32], decision[16];
  char arg[ARG_KEEP * 6 + 3]; /* JSON, escaped, or "null" */
  char rule[480];            /* JSON, or "" */
  size_t arg_len;
};

struct audit {
  int fd;
  pthread_mutex_t lock;
  uint64_t max_bytes;
  uint64_t size; /* of the file: what it had plus what this run wrote */
  bool full;
  unsigned long long dropped; /* records not written because the log is full */
  struct repeat_slot slots[REPEAT_SLOTS];
  uint64_t ticks;
};

struct audit *audit_open(const struct audit_options *opts, usbox_err_t *err)
{
  /* "-" is usbox's standard error, as for most tools that take a file */
  int fd = strcmp(opts->path, "-") == 0
               ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)
               : open(opts->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    usbox_err_set(err, errno, "cannot open audit log %s", opts->path);
    return NULL;
  }
  struct audit *a = calloc(1, sizeof *a);
  if (a == NULL) {
    close(fd);
    usbox_err_set(err, ENOMEM, "allocating audit log");
    return NULL;
  }
  a->fd = fd;
  a->max_bytes = opts->max_bytes != 0 ? opts->max_bytes : AUDIT_DEFAULT_MAX;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    a->size = (uint64_t)st.st_size; /* a pipe or terminal counts from 0 */
  pthread_mutex_init(&a->lock, NULL);
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

/* The first ARG_KEEP bytes of arg as JSON; *len gets its whole length. */
static void json_arg(char *out, size_t outsize, const char *arg, size_t *len)
{
  *len = 0;
  if (arg == NULL) {
    snprintf(out, outsize, "null");
    return;
  }
  *len = strlen(arg);
  char kept[ARG_KEEP + 1];
  size_t n = *len < ARG_KEEP ? *len : ARG_KEEP;
  memcpy(kept, arg, n);
  kept[n] = '\0';
  audit_json_string(out, outsize, kept);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
  return h;
}

static uint64_t record_key(const struct audit_record *rec)
{
  uint64_t h = 0xcbf29ce484222325ull;
  h = fnv(h, &rec->pid, sizeof rec->pid);
  h = fnv(h, rec->syscall, strlen(rec->syscall) + 1);
  h = fnv(h, rec->decision, strlen(rec->decision) + 1);
  h = fnv(h, &rec->err, sizeof rec->err);
  if (rec->arg != NULL)
    h = fnv(h, rec->arg, strlen(rec->arg) + 1);
  if (rec->rule != NULL)
    h = fnv(h, rec->rule, strlen(rec->rule) + 1);
  return h | 1;
}

static int time_prefix(char *out, size_t size)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  return snprintf(out, size, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  ts.tv_nsec / 1000);
}

/* Lock held. One write per line (O_APPEND keeps lines whole); a line that
 * would pass the cap is dropped, and the first such one makes the "full"
 * line, written into the room kept for it. */
static void put_line(struct audit *a, const char *line, size_t n)
{
  if (a->full || a->size + n + TAIL_RESERVE > a->max_bytes) {
    if (!a->full) {
      a->full = true;
      char full[256];
      int m = time_prefix(full, sizeof full);
      m += snprintf(full + m, sizeof full - (size_t)m,
                    ",\"audit\":\"full\",\"max_bytes\":%llu}\n", (unsigned long long)a->max_bytes);
      if (write(a->fd, full, (size_t)m) == m)
        a->size += (uint64_t)m;
    }
    a->dropped++;
    return;
  }
  if (write(a->fd, line, n) == (ssize_t)n)
    a->size += n;
}

struct line_parts {
  pid_t pid;
  const char *syscall, *decision, *arg_json, *rule_json;
  size_t arg_len;
  int err;
  const char *result; /* JSON */
  unsigned long repeated; /* 0: an ordinary record */
};

static void put_record(struct audit *a, const struct line_parts *p)
{
  char line[ARG_KEEP * 6 + 1200];
  char ebuf[16], extra[96] = "";
  int n = time_prefix(line, sizeof line);
  if (p->arg_len > ARG_KEEP)
    snprintf(extra, sizeof extra, ",\"arg_len\":%zu", p->arg_len);
  if (p->repeated > 0)
    snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ",\"repeated\":%lu",
             p->repeated);
  n += snprintf(line + n, sizeof line - (size_t)n,
                ",\"pid\":%d,\"syscall\":\"%s\",\"arg\":%s%s,\"decision\":\"%s\",\"errno\":%s%s%s,"
                "\"result\":%s%s%s}\n",
                (int)p->pid, p->syscall, p->arg_json, extra, p->decision, p->err ? "\"" : "",
                p->err ? errno_name(p->err, ebuf) : "0", p->err ? "\"" : "", p->result,
                p->rule_json[0] ? ",\"rule\":" : "", p->rule_json);
  if (n > 0 && (size_t)n < sizeof line)
    put_line(a, line, (size_t)n);
}

/* Lock held: the count of a run of identical decisions, if any. */
static void flush_slot(struct audit *a, struct repeat_slot *sl)
{
  if (sl->key != 0 && sl->suppressed > 0) {
    struct line_parts p = {.pid = sl->pid, .syscall = sl->syscall, .decision = sl->decision,
                           .arg_json = sl->arg, .rule_json = sl->rule, .arg_len = sl->arg_len,
                           .err = sl->err, .result = "null", .repeated = sl->suppressed};
    put_record(a, &p);
  }
  sl->suppressed = 0;
  sl->written = 0;
}

/* Lock held: the slot of key, among REPEAT_WAYS neighbours: its own, else
 * a free one, else the least recently used (flushed when it is taken).
 * Runs of two decisions that alternate (a denied call, then a failing one,
 * in a loop) must not take each other's slot, or each would flush the
 * other's count at every call and write a line each time. */
static struct repeat_slot *find_slot(struct audit *a, uint64_t key)
{
  struct repeat_slot *spare = NULL;
  for (unsigned i = 0; i < REPEAT_WAYS; i++) {
    struct repeat_slot *sl = &a->slots[(key + i) % REPEAT_SLOTS];
    if (sl->key == key)
      return sl;
    if (spare == NULL || (spare->key != 0 && (sl->key == 0 || sl->used < spare->used)))
      spare = sl;
  }
  return spare;
}

/* Lock held: whether rec is written (false: counted in its slot). */
static bool count_repeat(struct audit *a, const struct audit_record *rec, const char *arg_json,
                         size_t arg_len, const char *rule_json)
{
  uint64_t key = record_key(rec);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct repeat_slot *sl = find_slot(a, key);
  sl->used = ++a->ticks;
  if (sl->key != key || sl->second != now.tv_sec) {
    flush_slot(a, sl);
    sl->key = key;
    sl->second = now.tv_sec;
    sl->pid = rec->pid;
    sl->err = rec->err;
    sl->arg_len = arg_len;
    snprintf(sl->syscall, sizeof sl->syscall, "%s", rec->syscall);
    snprintf(sl->decision, sizeof sl->decision, "%s", rec->decision);
    snprintf(sl->arg, sizeof sl->arg, "%s", arg_json);
    snprintf(sl->rule, sizeof sl->rule, "%s", rule_json);
  }
  if (sl->written < REPEAT_KEEP) {
    sl->written++;
    return true;
  }
  sl->suppressed++;
  return false;
}

void audit_write(struct audit *a, const struct audit_record *rec)
{
  if (a == NULL)
    return;
  char arg[ARG_KEEP * 6 + 3], rule[480] = "", result[24];
  size_t arg_len;
  json_arg(arg, sizeof arg, rec->arg, &arg_len);
  if (rec->rule != NULL)
    audit_json_string(rule, sizeof rule, rec->rule);
  snprintf(result, sizeof result, "%lld", rec->err ? -1LL : (long long)rec->result);
  struct line_parts p = {.pid = rec->pid, .syscall = rec->syscall, .decision = rec->decision,
                         .arg_json = arg, .rule_json = rule, .arg_len = arg_len,
                         .err = rec->err, .result = result};
  pthread_mutex_lock(&a->lock);
  if (count_repeat(a, rec, arg, arg_len, rule))
    put_record(a, &p);
  pthread_mutex_unlock(&a->lock);
}

/* The counts still held, and, if the cap dropped records, the "end" line
 * with their number (in the room kept for it). */
void audit_close(struct audit *a)
{
  if (a == NULL)
    return;
  pthread_mutex_lock(&a->lock);
  for (int i = 0; i < REPEAT_SLOTS; i++)
    flush_slot(a, &a->slots[i]);
  if (a->dropped > 0) {
    char end[256];
    int m = time_prefix(end, sizeof end);
    m += snprintf(end + m, sizeof end - (size_t)m, ",\"audit\":\"end\",\"dropped\":%llu}\n",
                  a->dropped);
    ssize_t w = write(a->fd, end, (size_t)m);
    (void)w;
  }
  pthread_mutex_unlock(&a->lock);
  pthread_mutex_destroy(&a->lock);
  close(a->fd);
  free(a);
}
