/* The limits' flags and JSON values, checked before anything starts. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits/limits.h"

void limits_config_init(struct limits_config *c)
{
  memset(c, 0, sizeof *c);
  c->grace = LIMITS_DEFAULT_GRACE;
}

/* "64M", "1G", "512k", "1048576": bytes, at least one page */
int limits_parse_size(const char *flag, const char *text, uint64_t *out, usbox_err_t *err)
{
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  uint64_t unit = 1;
  if (end != text && *end != '\0') {
    switch (*end == '\0' ? 0 : (*end | 0x20)) {
    case 'k': unit = 1ull << 10; break;
    case 'm': unit = 1ull << 20; break;
    case 'g': unit = 1ull << 30; break;
    case 't': unit = 1ull << 40; break;
    default: unit = 0;
    }
    end++;
    if (*end == 'b' || *end == 'B')
      end++;
  }
  if (end == text || *end != '\0' || unit == 0 || errno != 0 || !(v > 0) || v * unit < 4096 ||
      v * unit > 9.2e18)
    return usbox_err_set(err, EINVAL,
                         "%s %s: a size of at least 4k, like 512M or 2G, is expected", flag, text);
  *out = (uint64_t)(v * (double)unit);
  return 0;
}

int limits_parse_memory(struct limits_config *c, const char *text, usbox_err_t *err)
{
  return limits_parse_size("--memory", text, &c->memory, err);
}

static int parse_count(const char *flag, const char *text, long min, long max, long *out,
                       usbox_err_t *err)
{
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || v < min || v > max)
    return usbox_err_set(err, EINVAL, "%s %s: a whole number from %ld to %ld is expected", flag,
                         text, min, max);
  *out = v;
  return 0;
}

int limits_parse_pids(struct limits_config *c, const char *text, usbox_err_t *err)
{
  return parse_count("--pids", text, 1, 4194304, &c->pids, err);
}

int limits_parse_nofile(struct limits_config *c, const char *text, usbox_err_t *err)
{
  return parse_count("--nofile", text, 8, 1 << 30, &c->nofile, err);
}

static int parse_seconds(const char *flag, const char *text, double min, double *out,
                         usbox_err_t *err)
{
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !isfinite(v) || v < min || v > 1e9)
    return usbox_err_set(err, EINVAL, "%s %s: a number of at least %g is expected", flag, text,
                         min);
  *out = v;
  return 0;
}

int limits_parse_cpus(struct limits_config *c, const char *text, usbox_err_t *err)
{
  return parse_seconds("--cpus", text, 0.01, &c->cpus, err);
}

int limits_parse_timeout(struct limits_config *c, const char *text, usbox_err_t *err)
{
  return parse_seconds("--timeout", text, 0.001, &c->timeout, err);
}

int limits_parse_grace(struct limits_config *c, const char *text, usbox_err_t *err)
{
  return parse_seconds("--timeout-grace", text, 0, &c->grace, err);
}

int limits_parse_mode(struct limits_config *c, const char *text, usbox_err_t *err)
{
  if (strcasecmp(text, "strict") == 0)
    c->best_effort = false;
  else if (strcasecmp(text, "best-effort") == 0)
    c->best_effort = true;
  else
    return usbox_err_set(err, EINVAL, "--limits %s: strict or best-effort is expected", text);
  return 0;
}
