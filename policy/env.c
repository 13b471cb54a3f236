#include "common/log.h"
#include "policy/env.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- which names look secret (docs/policy.md lists the same) ----
 *
 * A name is cut into words at every character that is not a letter or a
 * digit ("AWS_SECRET_ACCESS_KEY": AWS, SECRET, ACCESS, KEY). It looks secret
 * if it is one of env_secret_names, if one of its words is one of
 * env_secret_words, or if two words in a row are one of env_secret_pairs;
 * case does not matter. Whole words, not substrings: TOKENIZERS_PARALLELISM
 * and OPENAI_MAX_TOKENS stay, GITHUB_TOKEN goes. */

/* Secrets (or the way to one) whose names no word gives away. */
static const char *const env_secret_names[] = {
    "SSH_AUTH_SOCK",            /* the ssh-agent: signs with the user's keys */
    "SSH_AGENT_PID",
    "GPG_AGENT_INFO",           /* the gpg-agent (older GnuPG) */
    "DBUS_SESSION_BUS_ADDRESS", /* the session bus: keyrings, portals, the desktop */
    "DBUS_SYSTEM_BUS_ADDRESS",
    "KUBECONFIG",               /* the cluster credentials file */
    "DOCKER_AUTH_CONFIG",       /* registry credentials, inline */
    "DATABASE_URL",             /* scheme://user:password@host/db */
    "PGPASSWORD",               /* libpq */
    "MYSQL_PWD",                /* mysql client */
    "REDISCLI_AUTH",            /* redis-cli */
    "SSHPASS",                  /* sshpass */
    "BW_SESSION",               /* Bitwarden CLI's unlocked vault key */
    "NPM_CONFIG__AUTH",         /* npm's base64 user:password */
    NULL,
};

/* Words that name a secret wherever they are in the name. */
static const char *const env_secret_words[] = {
    "TOKEN",      "SECRET",      "SECRETS",  "PASSWORD", "PASSWORDS", "PASSWD",
    "PASSPHRASE", "PASS",        "PAT",      "APIKEY",   "AUTHTOKEN", "AUTHKEY",
    "CREDENTIAL", "CREDENTIALS", "CREDS",    "JWT",      "PRIVATEKEY",
    NULL,
};

/* Two words in a row that name a secret: a KEY that is more than an
 * identifier (GPG_KEY, the fingerprint Docker's python images set, stays). */
static const char *const env_secret_pairs[][2] = {
    {"API", "KEY"},        {"ACCESS", "KEY"},  {"PRIVATE", "KEY"}, {"SIGNING", "KEY"},
    {"ENCRYPTION", "KEY"}, {"MASTER", "KEY"},  {"ACCOUNT", "KEY"}, {"APP", "KEY"},
    {"LICENSE", "KEY"},    {"CLIENT", "KEY"},  {"AUTH", "KEY"},    {"SESSION", "KEY"},
    {"DEPLOY", "KEY"},     {"SERVICE", "KEY"}, {"ROLE", "KEY"},    {"CONNECTION", "STRING"},
    {"WEBHOOK", "URL"},    {NULL, NULL},
};

static bool word_is(const char *word, size_t len, const char *want)
{
  return strlen(want) == len && strncasecmp(word, want, len) == 0;
}

static bool in_list(const char *const *list, const char *word, size_t len)
{
  for (size_t i = 0; list[i] != NULL; i++)
    if (word_is(word, len, list[i]))
      return true;
  return false;
}

static bool is_pair(const char *prev, size_t prev_len, const char *word, size_t len)
{
  for (size_t i = 0; env_secret_pairs[i][0] != NULL; i++)
    if (word_is(prev, prev_len, env_secret_pairs[i][0]) &&
        word_is(word, len, env_secret_pairs[i][1]))
      return true;
  return false;
}

bool env_name_looks_secret(const char *name)
{
  size_t name_len = strcspn(name, "=");
  if (in_list(env_secret_names, name, name_len))
    return true;
  const char *prev = NULL;
  size_t prev_len = 0;
  for (size_t i = 0; i < name_len;) {
    while (i < name_len && !isalnum((unsigned char)name[i]))
      i++;
    size_t start = i;
    while (i < name_len && isalnum((unsigned char)name[i]))
      i++;
    if (i == start)
      break;
    const char *word = name + start;
    size_t len = i - start;
    if (in_list(env_secret_words, word, len) ||
        (prev != NULL && is_pair(prev, prev_len, word, len)))
      return true;
    prev = word;
    prev_len = len;
  }
  return false;
}

/* ---- the rules (--env, --unsetenv, "env") ---- */

void env_policy_init(struct env_policy *e)
{
  memset(e, 0, sizeof *e);
}

void env_policy_free(struct env_policy *e)
{
  for (size_t i = 0; i < e->nrules; i++) {
    free(e->rules[i].name);
    free(e->rules[i].value);
  }
  free(e->rules);
  memset(e, 0, sizeof *e);
}

static struct env_rule *find_rule(const struct env_policy *e, const char *name, size_t len)
{
  for (size_t i = 0; i < e->nrules; i++)
    if (strlen(e->rules[i].name) == len && strncmp(e->rules[i].name, name, len) == 0)
      return &e->rules[i];
  return NULL;
}

/* what: the flag or field, for the message; the value is never shown */
static int check_name(const char *name, size_t len, const char *what, usbox_err_t *err)
{
  if (len == 0)
    return usbox_err_set(err, EINVAL, "%s: a variable needs a name", what);
  /* up to the '=' only: what follows may be a value */
  if (memchr(name, '=', len) != NULL)
    return usbox_err_set(err, EINVAL, "%s %.*s=...: a variable's name cannot contain '='", what,
                         (int)strcspn(name, "="), name);
  return 0;
}

/* The rule for name (len bytes of it), replacing any earlier one. */
static int put_rule(struct env_policy *e, const char *name, size_t len, enum env_action action,
                    const char *value, usbox_err_t *err)
{
  struct env_rule r = {.name = strndup(name, len), .action = action};
  if (action == ENV_SET)
    r.value = strdup(value);
  if (r.name == NULL || (action == ENV_SET && r.value == NULL)) {
    free(r.name);
    free(r.value);
    return usbox_err_set(err, ENOMEM, "allocating the environment's rules");
  }
  struct env_rule *old = find_rule(e, name, len);
  if (old != NULL) {
    free(old->name);
    free(old->value);
    *old = r;
    return 0;
  }
  struct env_rule *grown = realloc(e->rules, (e->nrules + 1) * sizeof *grown);
  if (grown == NULL) {
    free(r.name);
    free(r.value);
    return usbox_err_set(err, ENOMEM, "allocating the environment's rules");
  }
  e->rules = grown;
  e->rules[e->nrules++] = r;
  return 0;
}

int env_policy_add(struct env_policy *e, const char *spec, usbox_err_t *err)
{
  const char *eq = strchr(spec, '=');
  size_t len = eq != NULL ? (size_t)(eq - spec) : strlen(spec);
  if (check_name(spec, len, "--env", err) < 0)
    return -1;
  return put_rule(e, spec, len, eq != NULL ? ENV_SET : ENV_KEEP, eq != NULL ? eq + 1 : NULL, err);
}

int env_policy_unset(struct env_policy *e, const char *name, usbox_err_t *err)
{
  size_t len = strlen(name);
  if (check_name(name, len, "--unsetenv", err) < 0)
    return -1;
  return put_rule(e, name, len, ENV_UNSET, NULL, err);
}

/* ---- JSON ---- */

/* A name the same "env" object already gave: the object has no order to
 * say which one wins. */
static int json_check_new(const cJSON *env, const cJSON *upto, const char *name,
                          usbox_err_t *err)
{
  const cJSON *field;
  cJSON_ArrayForEach(field, env)
  {
    const cJSON *item;
    if (!cJSON_IsObject(field) && !cJSON_IsArray(field))
      continue;
    cJSON_ArrayForEach(item, field)
    {
      if (item == upto)
        return 0;
      const char *other = cJSON_IsObject(field) ? item->string : item->valuestring;
      if (other != NULL && strcmp(other, name) == 0)
        return usbox_err_set(err, EINVAL, ".env: names %s twice", name);
    }
  }
  return 0;
}

static int json_names(struct env_policy *e, const cJSON *env, const cJSON *list,
                      enum env_action action, usbox_err_t *err)
{
  if (!cJSON_IsArray(list))
    return usbox_err_set(err, EINVAL, ".env.%s: must be an array of names", list->string);
  const cJSON *item;
  int i = 0;
  cJSON_ArrayForEach(item, list)
  {
    char at[32];
    snprintf(at, sizeof at, ".env.%s[%d]", list->string, i++);
    if (!cJSON_IsString(item))
      return usbox_err_set(err, EINVAL, "%s: must be a string (a name)", at);
    const char *name = item->valuestring;
    if (check_name(name, strlen(name), at, err) < 0 || json_check_new(env, item, name, err) < 0 ||
        put_rule(e, name, strlen(name), action, NULL, err) < 0)
      return -1;
  }
  return 0;
}

static int json_set(struct env_policy *e, const cJSON *env, const cJSON *set, usbox_err_t *err)
{
  if (!cJSON_IsObject(set))
    return usbox_err_set(err, EINVAL, ".env.set: must be an object of strings");
  const cJSON *item;
  cJSON_ArrayForEach(item, set)
  {
    const char *name = item->string;
    if (check_name(name, strlen(name), ".env.set", err) < 0)
      return -1;
    if (!cJSON_IsString(item))
      return usbox_err_set(err, EINVAL, ".env.set.%s: must be a string", name);
    if (json_check_new(env, item, name, err) < 0 ||
        put_rule(e, name, strlen(name), ENV_SET, item->valuestring, err) < 0)
      return -1;
  }
  return 0;
}

int env_policy_load_json(struct env_policy *e, const struct cJSON *obj, usbox_err_t *err)
{
  if (!cJSON_IsObject(obj))
    return usbox_err_set(err, EINVAL, ".env: must be an object");
  const cJSON *f;
  cJSON_ArrayForEach(f, obj)
  {
    const char *k = f->string;
    int rc = 0;
    if (strcmp(k, "set") == 0)
      rc = json_set(e, obj, f, err);
    else if (strcmp(k, "keep") == 0)
      rc = json_names(e, obj, f, ENV_KEEP, err);
    else if (strcmp(k, "unset") == 0)
      rc = json_names(e, obj, f, ENV_UNSET, err);
    else if (strcmp(k, "clear") == 0 && cJSON_IsBool(f))
      e->clear = cJSON_IsTrue(f);
    else if (strcmp(k, "clear") == 0)
      rc = usbox_err_set(err, EINVAL, ".env.clear: must be true or false");
    else
      rc = usbox_err_set(err, EINVAL, ".env.%.64s: unknown field (set, keep, unset, clear)", k);
    if (rc < 0)
      return -1;
  }
  return 0;
}

struct cJSON *env_policy_to_json(const struct env_policy *e)
{
  cJSON *o = cJSON_CreateObject();
  cJSON *set = cJSON_AddObjectToObject(o, "set");
  cJSON *keep = cJSON_AddArrayToObject(o, "keep");
  cJSON *unset = cJSON_AddArrayToObject(o, "unset");
  if (set == NULL || keep == NULL || unset == NULL ||
      cJSON_AddBoolToObject(o, "clear", e->clear) == NULL) {
    cJSON_Delete(o);
    return NULL;
  }
  for (size_t i = 0; i < e->nrules; i++) {
    const struct env_rule *r = &e->rules[i];
    if (r->action == ENV_SET)
      cJSON_AddStringToObject(set, r->name, r->value);
    else
      cJSON_AddItemToArray(r->action == ENV_KEEP ? keep : unset, cJSON_CreateString(r->name));
  }
  return o;
}

/* ---- the agent's environment ---- */

static char *set_entry(const struct env_rule *r)
{
  size_t n = strlen(r->name), m = strlen(r->value);
  char *s = malloc(n + m + 2);
  if (s != NULL) {
    memcpy(s, r->name, n);
    s[n] = '=';
    memcpy(s + n + 1, r->value, m + 1);
  }
  return s;
}

/* What becomes of the host's entry: NULL when it is left out (*withheld
 * when for its name), else the string the agent gets (owned). A set rule
 * takes the place of the name's first entry; done[] marks it used. */
static char *host_entry(const struct env_policy *e, const char *entry, bool *done,
                        bool *withheld, bool *failed)
{
  size_t len = strcspn(entry, "=");
  const struct env_rule *r = find_rule(e, entry, len);
  char *out = NULL;
  if (r != NULL && r->action == ENV_SET) {
    if (done[r - e->rules])
      return NULL;
    done[r - e->rules] = true;
    out = set_entry(r);
  } else if (r != NULL) {
    if (r->action == ENV_UNSET)
      return NULL;
    out = strdup(entry);
  } else if (e->clear) {
    return NULL;
  } else if (env_name_looks_secret(entry)) {
    *withheld = true;
    return NULL;
  } else {
    out = strdup(entry);
  }
  *failed = out == NULL;
  return out;
}

int env_build(const struct env_policy *e, char *const *host, struct env_result *out,
              usbox_err_t *err)
{
  memset(out, 0, sizeof *out);
  size_t nhost = 0;
  while (host[nhost] != NULL)
    nhost++;
  bool *done = calloc(e->nrules + 1, sizeof *done);
  out->envp = calloc(nhost + e->nrules + 1, sizeof *out->envp);
  out->withheld = calloc(nhost + 1, sizeof *out->withheld);
  bool failed = done == NULL || out->envp == NULL || out->withheld == NULL;
  for (size_t i = 0; i < nhost && !failed; i++) {
    bool withheld = false;
    char *s = host_entry(e, host[i], done, &withheld, &failed);
    if (s != NULL)
      out->envp[out->n++] = s;
    if (withheld)
      out->withheld[out->nwithheld++] = host[i];
  }
  /* set rules for names usbox does not have: after the host's, in order */
  for (size_t i = 0; i < e->nrules && !failed; i++)
    if (e->rules[i].action == ENV_SET && !done[i]) {
      char *s = set_entry(&e->rules[i]);
      failed = s == NULL;
      if (s != NULL)
        out->envp[out->n++] = s;
    }
  free(done);
  if (failed) {
    env_result_free(out);
    return usbox_err_set(err, ENOMEM, "building the agent's environment");
  }
  return 0;
}

void env_result_free(struct env_result *r)
{
  if (!usbox_frees_memory())
    return;
  for (size_t i = 0; r->envp != NULL && i < r->n; i++)
    free(r->envp[i]);
  free(r->envp);
  free(r->withheld);
  memset(r, 0, sizeof *r);
}

const char *env_lookup(char *const *envp, const char *name)
{
  size_t len = strlen(name);
  for (size_t i = 0; envp[i] != NULL; i++)
    if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
      return envp[i] + len + 1;
  return NULL;
}
