#include "cli/exec_preset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "overlay/session.h"
#include "policy/env.h"
#include "policy/exec_rules.h"
#include "sentry/supervisor.h"

/* The program, and the interpreter its #! line names, are all that may
 * run (an interpreter's own #! is not followed: name it with --exec-allow). */
static int allow_program_only(struct policy *p, char *const *argv, char *const *envp,
                              usbox_err_t *err)
{
  char resolved[PATH_MAX];
  if (supervisor_find_program(argv[0], env_lookup(envp, "PATH"), resolved, sizeof resolved, err) != 0)
    return -1;
  if (exec_rules_add(&p->exec, true, resolved, "--preset low", err) < 0)
    return -1;
  cleanup_close int fd = open(resolved, O_RDONLY | O_CLOEXEC);
  char head[EXEC_HEAD_SIZE], interp[PATH_MAX];
  ssize_t n = fd < 0 ? 0 : read(fd, head, sizeof head);
  if (n > 0 && exec_parse_shebang(head, (size_t)n, interp, sizeof interp) == 1)
    return exec_rules_add(&p->exec, true, interp, "--preset low", err);
  return 0;
}

static int default_audit(char buf[PATH_MAX], usbox_err_t *err)
{
  char sessions[PATH_MAX];
  if (session_root(sessions, err) < 0)
    return -1;
  char *cut = strrchr(sessions, '/'); /* STATE/sessions -> STATE/audit */
  if (cut != NULL)
    *cut = '\0';
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%.*s/audit", PATH_MAX - 8, sessions);
  for (char *c = dir + 1; *c != '\0'; c++)
    if (*c == '/') {
      *c = '\0';
      mkdir(dir, 0700);
      *c = '/';
    }
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return usbox_err_set(err, errno, "making %s", dir);
  struct tm tm;
  time_t now = time(NULL);
  char when[32];
  strftime(when, sizeof when, "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
  snprintf(buf, PATH_MAX, "%.*s/%s-%ld.jsonl", PATH_MAX - 64, dir, when, (long)getpid());
  return 0;
}

int exec_preset_finish(struct policy *p, char *const *argv, char *const *envp,
                       const char **audit_path, char audit_buf[PATH_MAX], usbox_err_t *err)
{
  if (p->exec_program_only && allow_program_only(p, argv, envp, err) < 0)
    return -1;
  if (p->audit_all && *audit_path == NULL) {
    if (default_audit(audit_buf, err) < 0)
      return -1;
    *audit_path = audit_buf;
    fprintf(stderr, "usbox: --preset %s: the audit log is %s\n", p->preset, audit_buf);
  }
  return 0;
}
