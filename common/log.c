#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int usbox_verbosity = 1;

/* One write per line so lines from several sentry threads do not interleave. */
static void vlog(const char *tag, const char *fmt, va_list ap)
{
  char line[1024];
  int n = snprintf(line, sizeof line, "usbox: %s", tag);
  if (n < 0 || (size_t)n >= sizeof line)
    return;
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  if (m < 0)
    return;
  size_t len = strnlen(line, sizeof line - 2);
  line[len++] = '\n';
  fwrite(line, 1, len, stderr);
}

void usbox_warn(const char *fmt, ...)
{
  if (usbox_verbosity < 1)
    return;
  va_list ap;
  va_start(ap, fmt);
  vlog("warning: ", fmt, ap);
  va_end(ap);
}

void usbox_info(const char *fmt, ...)
{
  if (usbox_verbosity < 2)
    return;
  va_list ap;
  va_start(ap, fmt);
  vlog("", fmt, ap);
  va_end(ap);
}

void usbox_debug(const char *fmt, ...)
{
  if (usbox_verbosity < 3)
    return;
  va_list ap;
  va_start(ap, fmt);
  vlog("debug: ", fmt, ap);
  va_end(ap);
}
