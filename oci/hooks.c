#include "oci/hooks.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

static const char *const kinds[] = {"prestart", "createRuntime", "createContainer",
                                    "startContainer", "poststart", "poststop"};

static bool strings(const cJSON *a)
{
  if (a == NULL)
    return true;
  if (!cJSON_IsArray(a))
    return false;
  const cJSON *e;
  cJSON_ArrayForEach(e, a)
  {
    if (!cJSON_IsString(e))
      return false;
  }
  return true;
}

static int check_one(const char *kind, int i, const cJSON *h, usbox_err_t *err)
{
  const cJSON *path = cJSON_GetObjectItemCaseSensitive(h, "path");
  const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(h, "timeout");
  if (!cJSON_IsString(path) || path->valuestring[0] != '/')
    return usbox_err_set(err, EINVAL, "config.json: .hooks.%s[%d].path: must be absolute", kind, i);
  if (!strings(cJSON_GetObjectItemCaseSensitive(h, "args")) ||
      !strings(cJSON_GetObjectItemCaseSensitive(h, "env")))
    return usbox_err_set(err, EINVAL, "config.json: .hooks.%s[%d]: args and env must be arrays of strings",
                         kind, i);
  if (timeout != NULL &&
      (!cJSON_IsNumber(timeout) || timeout->valuedouble < 1 || timeout->valuedouble > INT_MAX))
    return usbox_err_set(err, EINVAL,
                         "config.json: .hooks.%s[%d].timeout: must be from 1 to 2^31-1 seconds",
                         kind, i);
  return 0;
}

char *oci_hooks_check(const cJSON *hooks, usbox_err_t *err)
{
  if (hooks == NULL || cJSON_IsNull(hooks))
    return strdup("{}");
  if (!cJSON_IsObject(hooks))
    return usbox_err_set(err, EINVAL, "config.json: .hooks: must be an object"), NULL;
  const cJSON *list;
  cJSON_ArrayForEach(list, hooks)
  {
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k], list->string) != 0)
      k++;
    if (k == sizeof kinds / sizeof kinds[0])
      return usbox_err_set(err, EINVAL, "config.json: .hooks: unknown kind \"%s\"", list->string), NULL;
    if (!cJSON_IsArray(list))
      return usbox_err_set(err, EINVAL, "config.json: .hooks.%s: must be an array", list->string), NULL;
    int i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, list)
    {
      if (check_one(list->string, i++, h, err) < 0)
        return NULL;
    }
  }
  char *text = cJSON_PrintUnformatted(hooks);
  if (text == NULL)
    usbox_err_set(err, ENOMEM, "config.json: .hooks");
  return text;
}

/* NULL-terminated copy of a string array (argv[0] defaults to path). */
static char **vector(const cJSON *a, const char *first)
{
  size_t n = (size_t)cJSON_GetArraySize(a);
  char **v = calloc(n + 2, sizeof *v);
  if (v == NULL)
    return NULL;
  size_t i = 0;
  if (n == 0 && first != NULL)
    v[i++] = (char *)first;
  const cJSON *e;
  cJSON_ArrayForEach(e, a)
  {
    v[i++] = e->valuestring;
  }
  return v;
}

static unsigned long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* Wait for pid, killing it at the deadline (0: none). Its wait status, or
 * -1 if it had to be killed. */
static int wait_hook(pid_t pid, int timeout_s)
{
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  unsigned long long deadline = timeout_s > 0 ? now_ms() + (unsigned long long)timeout_s * 1000 : 0;
  int status = 0;
  for (;;) {
    long left = deadline == 0 ? -1 : (long)(deadline > now_ms() ? deadline - now_ms() : 0);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    if (pidfd >= 0 && poll(&p, 1, (int)left) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      close(pidfd);
      return -1;
    }
    if (waitpid(pid, &status, 0) == pid || errno != EINTR)
      break;
  }
  if (pidfd >= 0)
    close(pidfd);
  return status;
}

static int run_one(const char *kind, int i, const cJSON *h, const char *state, usbox_err_t *err)
{
  const char *path = cJSON_GetObjectItemCaseSensitive(h, "path")->valuestring;
  const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(h, "timeout");
  cleanup_free char **argv = vector(cJSON_GetObjectItemCaseSensitive(h, "args"), path);
  cleanup_free char **envp = vector(cJSON_GetObjectItemCaseSensitive(h, "env"), NULL);
  int in[2];
  if (argv == NULL || envp == NULL || pipe2(in, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "hook %s[%d]", kind, i);
  pid_t pid = fork();
  if (pid == 0) {
    /* the state on stdin; nothing else of usbox's (close-on-exec) */
    if (dup2(in[0], 0) < 0)
      _exit(127);
    execve(path, argv, envp);
    _exit(127);
  }
  close(in[0]);
  /* a hook that does not read its stdin must not block usbox */
  signal(SIGPIPE, SIG_IGN);
  if (pid > 0) {
    ssize_t w = write(in[1], state, strlen(state));
    (void)w;
  }
  close(in[1]);
  if (pid < 0)
    return usbox_err_set(err, errno, "hook %s[%d] %s", kind, i, path);
  int status = wait_hook(pid, cJSON_IsNumber(timeout) ? (int)timeout->valuedouble : 0);
  if (status == -1)
    return usbox_err_set(err, ETIMEDOUT, "hook %s[%d] %s ran out of time", kind, i, path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return usbox_err_set(err, 0, "hook %s[%d] %s failed (%s %d)", kind, i, path,
                         WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  return 0;
}

int oci_hooks_run(const char *hooks_json, const char *kind, const char *state_json,
                  usbox_err_t *err)
{
  if (hooks_json == NULL)
    return 0;
  cJSON *hooks = cJSON_Parse(hooks_json);
  int rc = 0, i = 0;
  const cJSON *h;
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(hooks, kind))
  {
    if ((rc = run_one(kind, i++, h, state_json, err)) < 0)
      break;
  }
  cJSON_Delete(hooks);
  return rc;
}
