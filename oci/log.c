/* The runtime's log (--log, --log-format) and signal names. */
#include "oci/runtime.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"

static int held_log = -1; /* oci_log_hold */

int oci_log_hold(const struct oci_runtime *rt)
{
  if (rt->log != NULL && held_log < 0)
    held_log = open(rt->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  return held_log;
}

static void log_line(const struct oci_runtime *rt, const char *level, const char *msg)
{
  if (rt->log == NULL)
    return;
  int held = held_log >= 0 ? dup(held_log) : -1;
  cleanup_fclose FILE *f = held >= 0 ? fdopen(held, "a") : fopen(rt->log, "ae");
  if (f == NULL) {
    if (held >= 0)
      close(held);
    return;
  }
  char when[40];
  time_t now = time(NULL);
  struct tm tm;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
  if (!rt->log_json) {
    fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", when, level, msg);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "level", level);
  cJSON_AddStringToObject(o, "msg", msg);
  cJSON_AddStringToObject(o, "time", when);
  cleanup_free char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (text != NULL)
    fprintf(f, "%s\n", text);
}

void oci_log(const struct oci_runtime *rt, const char *level, const char *fmt, ...)
{
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  msg[strcspn(msg, "\n")] = '\0';
  log_line(rt, level, msg);
  if (strcmp(level, "error") == 0)
    fprintf(stderr, "usbox: %s\n", msg);
  else if (rt->debug)
    fprintf(stderr, "usbox: %s: %s\n", level, msg);
}

int oci_fail(const struct oci_runtime *rt, const usbox_err_t *err)
{
  if (err->code != 0)
    oci_log(rt, "error", "%s: %s", err->msg, strerror(err->code));
  else
    oci_log(rt, "error", "%s", err->msg);
  return OCI_EXIT_ERROR;
}

int oci_signal_number(const char *name)
{
  static const struct {
    const char *name;
    int sig;
  } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
              {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},   {"BUS", SIGBUS},   {"FPE", SIGFPE},
              {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
              {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
              {"CONT", SIGCONT}, {"STOP", SIGSTOP},   {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
              {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
              {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
              {"PWR", SIGPWR},   {"SYS", SIGSYS}};
  char *end;
  long n = strtol(name, &end, 10);
  if (end != name && *end == '\0')
    return n > 0 && n < SIGRTMAX + 1 ? (int)n : -1;
  const char *bare = strncasecmp(name, "SIG", 3) == 0 ? name + 3 : name;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (strcasecmp(bare, sigs[i].name) == 0)
      return sigs[i].sig;
  if (strncasecmp(bare, "RTMIN", 5) == 0 || strncasecmp(bare, "RTMAX", 5) == 0) {
    bool min = strncasecmp(bare, "RTMIN", 5) == 0;
    long off = bare[5] == '\0' ? 0 : strtol(bare + 5, &end, 10);
    if (bare[5] != '\0' && *end != '\0')
      return -1;
    int sig = min ? SIGRTMIN + (int)off : SIGRTMAX + (int)off;
    return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
  }
  return -1;
}
