#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>

#include "common/sanitizer.h"

int usbox_verbosity = 1;

/* One write per line so lines from several sentry threads do not interleave.
 * (format: the callers' formats are checked; clang wants it said here too) */
__attribute__((format(printf, 2, 0))) static void vlog(const char *tag, const char *fmt, va_list ap)
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

/* Start-up phases at -vv: milliseconds since the first mark, so a slow
 * start shows which step it spent its time in. */
void usbox_phase(const char *what)
{
  if (usbox_verbosity < 3)
    return;
  static struct timespec first;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (first.tv_sec == 0 && first.tv_nsec == 0)
    first = now;
  double ms = (double)(now.tv_sec - first.tv_sec) * 1e3 +
              (double)(now.tv_nsec - first.tv_nsec) / 1e6;
  /* page faults so far (this process's): on a VM each costs microseconds,
   * and a fork makes every page either side writes next fault again */
  struct rusage ru;
  long faults = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt + ru.ru_majflt : -1;
  /* and this thread's CPU time: two processes share the two CPUs here, so
   * a step's wall time also holds the other's work */
  struct timespec cpu = {0};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  char line[200];
  int n = snprintf(line, sizeof line, "usbox: debug: start-up %+8.3f ms %5ld faults %7.3f ms cpu %s\n",
                   ms, faults, (double)cpu.tv_sec * 1e3 + (double)cpu.tv_nsec / 1e6, what);
  if (n > 0)
    fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
}

static bool ending;

void usbox_set_ending(void)
{
  ending = true;
}

bool usbox_frees_memory(void)
{
  return USBOX_UNDER_ASAN || !ending;
}
