/* `usbox exec` in runc's form: a process started in a running container.
 *
 *   usbox exec [--process FILE] [--tty] [--console-socket S] [--detach]
 *              [--pid-file F] [--cwd DIR] [--env K=V]... [--user UID[:GID]]
 *              [--additional-gids G]... [--cap CAP]... [--ignore-paused]
 *              [--preserve-fds N] ID [CMD...]
 *
 * Without --process the process is the container's own (config.json) with
 * CMD and the options' changes, as runc builds it. Told apart from
 * `usbox exec -- PROGRAM` by cli_exec_is_oci(). docs/oci.md. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/oci_args.h"
#include "cli/verbs.h"
#include "common/cleanup.h"
#include "oci/spec.h"
#include "oci/state.h"

#define MAX_CHANGES 64

/* Options only runc's exec has (usbox exec's own never look like these). */
static bool runc_only_option(const char *arg)
{
  static const char *const names[] = {
      "process", "p", "console-socket", "pid-file", "detach", "d", "tty", "t", "cwd",
      "user", "u", "additional-gids", "g", "cap", "c", "ignore-paused", "preserve-fds",
      "process-label", "apparmor", "no-new-privs", "cgroup", "e"};
  if (arg[0] != '-')
    return false;
  const char *a = arg + (arg[1] == '-' ? 2 : 1);
  size_t n = strcspn(a, "=");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == n && strncmp(a, names[i], n) == 0)
      return true;
  return false;
}

/* --user (-u) is usbox exec's own too (the agent's user): runc's only when
 * nothing is after a "--" (usbox's form always ends "-- PROGRAM"; engines
 * call runc's with --process, or with global options before the verb). */
static bool is_user_option(const char *arg)
{
  return strcmp(arg, "-u") == 0 || strcmp(arg, "--user") == 0 || strncmp(arg, "--user=", 7) == 0;
}

bool cli_exec_is_oci(int argc, char **argv)
{
  if (cli_global_options_given)
    return true;
  bool dashdash = false;
  for (int i = 1; i < argc; i++)
    dashdash |= strcmp(argv[i], "--") == 0;
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (runc_only_option(argv[i]) && !(dashdash && is_user_option(argv[i])))
      return true;
  /* `usbox exec NAME ...` where NAME is a container */
  char path[PATH_MAX];
  struct stat st;
  return argc > 1 && argv[1][0] != '-' && oci_valid_id(argv[1]) &&
         snprintf(path, sizeof path, "%s/%s/state.json", cli_runtime.root, argv[1]) <
             (int)sizeof path &&
         stat(path, &st) == 0;
}

struct exec_args {
  struct oci_exec_options o;
  const char *process_file;
  bool tty;
  const char *cwd, *user;
  const char *env[MAX_CHANGES], *gids[MAX_CHANGES], *caps[MAX_CHANGES];
  size_t nenv, ngids, ncaps;
  char **cmd; /* CMD... (NULL-terminated, may be empty) */
};

static void set_string(cJSON *obj, const char *name, const char *value)
{
  cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
  cJSON_AddStringToObject(obj, name, value);
}

/* env: KEY=V replaces KEY, else it is added */
static void apply_env(cJSON *proc, const struct exec_args *a)
{
  cJSON *env = cJSON_GetObjectItemCaseSensitive(proc, "env");
  if (!cJSON_IsArray(env))
    env = cJSON_AddArrayToObject(proc, "env");
  for (size_t i = 0; i < a->nenv && env != NULL; i++) {
    size_t key = strcspn(a->env[i], "=");
    int at = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, env)
    {
      if (cJSON_IsString(e) && strncmp(e->valuestring, a->env[i], key) == 0 &&
          e->valuestring[key] == '=')
        break;
      at++;
    }
    if (e != NULL)
      cJSON_ReplaceItemInArray(env, at, cJSON_CreateString(a->env[i]));
    else
      cJSON_AddItemToArray(env, cJSON_CreateString(a->env[i]));
  }
}

static int apply_user(cJSON *proc, const struct exec_args *a, usbox_err_t *err)
{
  cJSON *user = cJSON_GetObjectItemCaseSensitive(proc, "user");
  if (!cJSON_IsObject(user))
    user = cJSON_AddObjectToObject(proc, "user");
  if (a->user != NULL) {
    char *end;
    unsigned long uid = strtoul(a->user, &end, 10), gid = 0;
    if (end != a->user && *end == ':')
      gid = strtoul(end + 1, &end, 10);
    if (end == a->user || *end != '\0')
      return usbox_err_set(err, EINVAL, "--user %s: must be UID[:GID] (numbers)", a->user);
    cJSON_DeleteItemFromObjectCaseSensitive(user, "uid");
    cJSON_DeleteItemFromObjectCaseSensitive(user, "gid");
    cJSON_AddNumberToObject(user, "uid", (double)uid);
    cJSON_AddNumberToObject(user, "gid", (double)gid);
  }
  if (a->ngids > 0) {
    cJSON *gids = cJSON_AddArrayToObject(user, "additionalGids");
    for (size_t i = 0; i < a->ngids && gids != NULL; i++)
      cJSON_AddItemToArray(gids, cJSON_CreateNumber(strtod(a->gids[i], NULL)));
  }
  return 0;
}

/* --cap adds to every set the container's process has */
static void apply_caps(cJSON *proc, const struct exec_args *a)
{
  static const char *const sets[] = {"bounding", "effective", "permitted"};
  cJSON *caps = cJSON_GetObjectItemCaseSensitive(proc, "capabilities");
  for (size_t i = 0; i < a->ncaps && cJSON_IsObject(caps); i++)
    for (size_t j = 0; j < sizeof sets / sizeof sets[0]; j++) {
      cJSON *set = cJSON_GetObjectItemCaseSensitive(caps, sets[j]);
      if (cJSON_IsArray(set))
        cJSON_AddItemToArray(set, cJSON_CreateString(a->caps[i]));
    }
}

/* runc's way without --process: the container's process (config.json)
 * with CMD and the options' changes. */
static char *build_process(const struct exec_args *a, usbox_err_t *err)
{
  if (a->cmd[0] == NULL)
    return usbox_err_set(err, EINVAL, "usbox: exec: the command to run is missing (or --process)"), NULL;
  struct oci_state st;
  if (oci_state_read(cli_runtime.root, a->o.id, &st, err) < 0)
    return NULL;
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/config.json", st.bundle);
  oci_state_free(&st);
  cleanup_free char *text = oci_read_text(path, OCI_CONFIG_MAX, err);
  cJSON *config = text != NULL ? cJSON_Parse(text) : NULL;
  cJSON *proc = cJSON_DetachItemFromObjectCaseSensitive(config, "process");
  cJSON_Delete(config);
  if (!cJSON_IsObject(proc)) {
    cJSON_Delete(proc);
    return text == NULL ? NULL : (usbox_err_set(err, EINVAL, "%s: no process object", path), NULL);
  }
  cJSON *args = cJSON_CreateArray();
  for (char **c = a->cmd; *c != NULL; c++)
    cJSON_AddItemToArray(args, cJSON_CreateString(*c));
  if (!cJSON_ReplaceItemInObjectCaseSensitive(proc, "args", args))
    cJSON_AddItemToObject(proc, "args", args);
  cJSON_DeleteItemFromObjectCaseSensitive(proc, "terminal");
  cJSON_AddBoolToObject(proc, "terminal", a->tty);
  if (a->cwd != NULL)
    set_string(proc, "cwd", a->cwd);
  apply_env(proc, a);
  apply_caps(proc, a);
  char *out = apply_user(proc, a, err) == 0 ? cJSON_PrintUnformatted(proc) : NULL;
  cJSON_Delete(proc);
  return out;
}

enum { OPT_CONSOLE = 256, OPT_PID_FILE, OPT_CWD, OPT_IGNORE_PAUSED, OPT_PRESERVE_FDS,
       OPT_ACCEPTED, OPT_CGROUP };

static int add_change(const char **list, size_t *n, const char *value, const char *what)
{
  if (*n == MAX_CHANGES) {
    fprintf(stderr, "usbox: exec: more than %d %s\n", MAX_CHANGES, what);
    return -1;
  }
  list[(*n)++] = value;
  return 0;
}

static int parse_option(int c, struct exec_args *a)
{
  switch (c) {
  case 'p': a->process_file = optarg; return 0;
  case 't': a->tty = true; return 0;
  case 'd': a->o.detach = true; return 0;
  case 'e': return add_change(a->env, &a->nenv, optarg, "--env");
  case 'u': a->user = optarg; return 0;
  case 'g': return add_change(a->gids, &a->ngids, optarg, "--additional-gids");
  case 'c': return add_change(a->caps, &a->ncaps, optarg, "--cap");
  case OPT_CONSOLE: a->o.console_socket = optarg; return 0;
  case OPT_PID_FILE: a->o.pid_file = optarg; return 0;
  case OPT_CWD: a->cwd = optarg; return 0;
  case OPT_IGNORE_PAUSED: a->o.ignore_paused = true; return 0;
  case OPT_PRESERVE_FDS: {
    usbox_err_t err = {0};
    if (oci_preserve_parse(optarg, &a->o.preserve_fds, &err) < 0) {
      oci_fail(&cli_runtime, &err);
      return -1;
    }
    return 0;
  }
  case OPT_CGROUP:
    fprintf(stderr, "usbox: exec: --cgroup is not supported (usbox makes its own cgroups)\n");
    return -1;
  case OPT_ACCEPTED: /* --process-label, --apparmor: not applied; --no-new-privs: always */
    oci_log(&cli_runtime, "warning", "exec: --%s accepted, not applied", "process-label/apparmor");
    return 0;
  default: return -1;
  }
}

static int parse_args(int argc, char **argv, struct exec_args *a)
{
  static const struct option options[] = {
      {"process", required_argument, NULL, 'p'}, {"tty", no_argument, NULL, 't'},
      {"detach", no_argument, NULL, 'd'}, {"env", required_argument, NULL, 'e'},
      {"user", required_argument, NULL, 'u'}, {"additional-gids", required_argument, NULL, 'g'},
      {"cap", required_argument, NULL, 'c'}, {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"pid-file", required_argument, NULL, OPT_PID_FILE}, {"cwd", required_argument, NULL, OPT_CWD},
      {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
      {"process-label", required_argument, NULL, OPT_ACCEPTED},
      {"apparmor", required_argument, NULL, OPT_ACCEPTED},
      {"no-new-privs", no_argument, NULL, 'n'}, {"cgroup", required_argument, NULL, OPT_CGROUP},
      {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long_only(argc, argv, "+p:tde:u:g:c:", options, NULL)) != -1)
    if (c != 'n' && parse_option(c, a) < 0)
      return -1;
  if (optind >= argc) {
    fprintf(stderr, "usbox: exec: missing the container id\n");
    return -1;
  }
  a->o.id = argv[optind];
  a->cmd = argv + optind + 1;
  if (a->cmd[0] != NULL && strcmp(a->cmd[0], "--") == 0)
    a->cmd++;
  return 0;
}

int cmd_exec_oci(int argc, char **argv)
{
  struct exec_args a = {0};
  usbox_err_t err = {0};
  if (parse_args(argc, argv, &a) < 0)
    return OCI_EXIT_ERROR;
  cleanup_free char *json = NULL;
  if (a.process_file != NULL && a.cmd[0] != NULL)
    usbox_err_set(&err, EINVAL, "usbox: exec: --process and a command: give one");
  else
    json = a.process_file != NULL ? oci_read_text(a.process_file, 1u << 20, &err) : build_process(&a, &err);
  if (json == NULL)
    return oci_fail(&cli_runtime, &err);
  a.o.process_json = json;
  int code = 0;
  if (oci_exec(&cli_runtime, &a.o, &code, &err) < 0)
    return oci_fail(&cli_runtime, &err);
  return code;
}
