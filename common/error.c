#include "common/error.h"

#include <stdio.h>
#include <string.h>

int usbox_err_set(usbox_err_t *err, int code, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  err->code = code;
  return -1;
}

int usbox_err_wrap(usbox_err_t *err, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  char prefix[256];
  char old[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
  return -1;
}

void (*usbox_err_sink)(const char *line);

void usbox_err_print(const usbox_err_t *err)
{
  if (usbox_err_sink != NULL) {
    char line[sizeof err->msg + 128];
    if (err->code != 0)
      snprintf(line, sizeof line, "%s: %s", err->msg, strerror(err->code));
    else
      snprintf(line, sizeof line, "%s", err->msg);
    usbox_err_sink(line);
    return;
  }
  if (err->code != 0)
    fprintf(stderr, "usbox: %s: %s\n", err->msg, strerror(err->code));
  else
    fprintf(stderr, "usbox: %s\n", err->msg);
}

void usbox_err_clear(usbox_err_t *err)
{
  err->code = 0;
  err->msg[0] = '\0';
}

int usbox_err_printable(usbox_err_t *err)
{
  for (char *c = err != NULL ? err->msg : ""; *c != '\0'; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      *c = '?';
  return -1;
}
