/* The policy file (docs/policy.md), both ways. Read strictly: an unknown
 * field, a field given twice, a wrong type or a bad value is one error
 * naming its JSON path (".mounts[2].destination: must be an absolute
 * path"), and the caller drops the policy. Written (policy_to_json) in the
 * same format and with only what the reader accepts, so that what `usbox
 * policy check` and `show` print reads back as the same policy.
 *
 * The network's and the environment's objects are read and written next
 * to their rules (policy/net.c, policy/env.c). */
#include "policy/policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "policy/caps.h"
#include "policy/preset.h"

/* ---- reading ---- */

/* "PATH: MESSAGE"; policy_load_json and policy_load_file say whose. */
__attribute__((format(printf, 3, 4))) static int bad(usbox_err_t *err, const char *path,
                                                     const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return usbox_err_set(err, EINVAL, "%s: %s", path, msg);
}

/* An object's keys, each once: a second one would silently win. */
static int unique_keys(const cJSON *obj, const char *path, usbox_err_t *err)
{
  for (const cJSON *a = obj->child; a != NULL; a = a->next)
    for (const cJSON *b = a->next; b != NULL; b = b->next)
      if (strcmp(a->string, b->string) == 0)
        return bad(err, path[0] ? path : "the top level", "\"%.64s\" is given twice", a->string);
  return 0;
}

/* path.key, for a field's messages */
static const char *sub(char *buf, size_t size, const char *path, const char *key)
{
  snprintf(buf, size, "%s.%.64s", path, key);
  return buf;
}

typedef int (*string_fn)(struct policy *p, const char *value, usbox_err_t *err);

/* An array of strings, each given to add. */
static int strings(struct policy *p, const cJSON *arr, const char *path, string_fn add,
                   usbox_err_t *err)
{
  if (!cJSON_IsArray(arr))
    return bad(err, path, "must be an array of strings");
  const cJSON *item;
  int i = 0;
  cJSON_ArrayForEach(item, arr)
  {
    char at[96];
    snprintf(at, sizeof at, "%s[%d]", path, i++);
    if (!cJSON_IsString(item))
      return bad(err, at, "must be a string");
    if (add(p, item->valuestring, err) < 0)
      return usbox_err_wrap(err, "%s", at);
  }
  return 0;
}

/* A string given to set. */
static int string(struct policy *p, const cJSON *v, const char *path, string_fn set,
                  usbox_err_t *err)
{
  if (!cJSON_IsString(v))
    return bad(err, path, "must be a string");
  return set(p, v->valuestring, err) < 0 ? usbox_err_wrap(err, "%s", path) : 0;
}

static int bind_mount(struct policy *p, const cJSON *src, const cJSON *dst, bool writable,
                      const char *path, usbox_err_t *err)
{
  if (src == NULL)
    return bad(err, path, "a bind mount needs a \"source\"");
  char dest[PATH_MAX];
  if (dst != NULL)
    snprintf(dest, sizeof dest, "%s", dst->valuestring);
  else if (policy_absolute(src->valuestring, dest, sizeof dest, err) < 0)
    return usbox_err_wrap(err, "%s.source", path);
  if (policy_add_mount(p, src->valuestring, dest, writable, err) < 0)
    return usbox_err_wrap(err, "%s", path);
  return 0;
}

/* A mount's fields: known, of their types, each once. */
static int mount_fields(const cJSON *m, const char *path, usbox_err_t *err)
{
  if (!cJSON_IsObject(m))
    return bad(err, path, "must be an object");
  if (unique_keys(m, path, err) < 0)
    return -1;
  const cJSON *f;
  cJSON_ArrayForEach(f, m)
  {
    char at[128];
    sub(at, sizeof at, path, f->string);
    bool is_string = strcmp(f->string, "type") == 0 || strcmp(f->string, "source") == 0 ||
                     strcmp(f->string, "destination") == 0;
    if (!is_string && strcmp(f->string, "writable") != 0)
      return bad(err, at, "unknown field (type, source, destination, writable)");
    if (is_string && !cJSON_IsString(f))
      return bad(err, at, "must be a string");
    if (!is_string && !cJSON_IsBool(f))
      return bad(err, at, "must be true or false");
  }
  return 0;
}

/* {"type": "bind" (the default) or "tmpfs", "source", "destination", "writable"} */
static int one_mount(struct policy *p, const cJSON *m, const char *path, usbox_err_t *err)
{
  if (mount_fields(m, path, err) < 0)
    return -1;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
  const cJSON *src = cJSON_GetObjectItemCaseSensitive(m, "source");
  const cJSON *dst = cJSON_GetObjectItemCaseSensitive(m, "destination");
  const cJSON *rw = cJSON_GetObjectItemCaseSensitive(m, "writable");
  char at[128];
  if (dst != NULL && dst->valuestring[0] != '/')
    return bad(err, sub(at, sizeof at, path, "destination"), "must be an absolute path");
  bool tmpfs = type != NULL && strcmp(type->valuestring, "tmpfs") == 0;
  if (type != NULL && !tmpfs && strcmp(type->valuestring, "bind") != 0)
    return bad(err, sub(at, sizeof at, path, "type"), "unknown type \"%.64s\" (bind, tmpfs)",
               type->valuestring);
  if (!tmpfs)
    return bind_mount(p, src, dst, rw != NULL && cJSON_IsTrue(rw), path, err);
  if (dst == NULL)
    return bad(err, path, "a tmpfs mount needs a \"destination\"");
  if (src != NULL)
    return bad(err, sub(at, sizeof at, path, "source"), "a tmpfs mount has none");
  if (rw != NULL && !cJSON_IsTrue(rw))
    return bad(err, sub(at, sizeof at, path, "writable"), "a tmpfs mount is writable");
  return policy_add_tmpfs(p, dst->valuestring, err) < 0 ? usbox_err_wrap(err, "%s", path) : 0;
}

static int mounts(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  if (!cJSON_IsArray(v))
    return bad(err, path, "must be an array of objects");
  const cJSON *m;
  int i = 0;
  cJSON_ArrayForEach(m, v)
  {
    char at[48];
    snprintf(at, sizeof at, "%s[%d]", path, i++);
    if (one_mount(p, m, at, err) < 0)
      return -1;
  }
  return 0;
}

static int hide(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  return strings(p, v, path, policy_add_hidden, err);
}

static int default_hide(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  if (!cJSON_IsBool(v))
    return bad(err, path, "must be true or false");
  p->default_hidden = cJSON_IsTrue(v);
  return 0;
}

static int network(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  (void)path; /* the network's messages say ".network" themselves */
  return net_policy_load_json(&p->net, v, err);
}

static int env(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  (void)path;
  return env_policy_load_json(&p->env, v, err);
}

/* "limits": the flags' values, numbers or strings */
static int limits(struct policy *p, const cJSON *obj, const char *path, usbox_err_t *err)
{
  static const struct {
    const char *key;
    int (*parse)(struct limits_config *, const char *, usbox_err_t *);
  } keys[] = {{"memory", limits_parse_memory},   {"pids", limits_parse_pids},
              {"cpus", limits_parse_cpus},       {"timeout", limits_parse_timeout},
              {"timeout_grace", limits_parse_grace}, {"nofile", limits_parse_nofile},
              {"mode", limits_parse_mode}};
  if (!cJSON_IsObject(obj))
    return bad(err, path, "must be an object");
  if (unique_keys(obj, path, err) < 0)
    return -1;
  const cJSON *item;
  cJSON_ArrayForEach(item, obj)
  {
    size_t i = 0;
    char at[128], text[64];
    sub(at, sizeof at, path, item->string);
    while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i].key, item->string) != 0)
      i++;
    if (i == sizeof keys / sizeof keys[0])
      return bad(err, at, "unknown field (memory, pids, cpus, timeout, timeout_grace, nofile, "
                 "mode)");
    if (cJSON_IsString(item))
      snprintf(text, sizeof text, "%s", item->valuestring);
    else if (cJSON_IsNumber(item))
      snprintf(text, sizeof text, "%.17g", item->valuedouble);
    else
      return bad(err, at, "must be a number or a string");
    if (keys[i].parse(&p->limits, text, err) < 0)
      return usbox_err_wrap(err, "%s", at);
  }
  return 0;
}

static int capabilities(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  return strings(p, v, path, policy_add_cap, err);
}

static int cap_drop(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  return strings(p, v, path, policy_drop_cap, err);
}

static int process(struct policy *p, const cJSON *obj, const char *path, usbox_err_t *err)
{
  if (!cJSON_IsObject(obj))
    return bad(err, path, "must be an object");
  if (unique_keys(obj, path, err) < 0)
    return -1;
  const cJSON *child;
  cJSON_ArrayForEach(child, obj)
  {
    char at[128];
    sub(at, sizeof at, path, child->string);
    if (strcmp(child->string, "cwd") != 0)
      return bad(err, at, "unknown field (cwd)");
    if (string(p, child, at, policy_set_cwd, err) < 0)
      return -1;
  }
  return 0;
}

static int set_hostname(struct policy *p, const char *name, usbox_err_t *err)
{
  return policy_set_hostname(p, name, err);
}

static int hostname(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  return string(p, v, path, set_hostname, err);
}

static int seccomp_profile(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  return string(p, v, path, policy_set_seccomp_profile, err);
}

static int exec_rules(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  (void)path; /* its messages say ".exec" themselves */
  return exec_rules_load_json(&p->exec, v, err);
}

/* true | false | "disk" | "memory" | "memory:SIZE" | "none" */
static int overlay(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  if (cJSON_IsBool(v))
    return policy_set_overlay(p, cJSON_IsTrue(v) ? "disk" : "none", err);
  return string(p, v, path, policy_set_overlay, err);
}

static int home(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  return string(p, v, path, policy_set_home, err);
}

static int preset(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err)
{
  return string(p, v, path, policy_apply_preset, err);
}

/* Every key of the top level (docs/policy.md documents each). */
static const struct {
  const char *key;
  int (*load)(struct policy *p, const cJSON *v, const char *path, usbox_err_t *err);
} top_keys[] = {
    {"mounts", mounts},   {"hide", hide},
    {"default_hide", default_hide}, {"network", network},
    {"env", env},         {"limits", limits},
    {"capabilities", capabilities}, {"cap_drop", cap_drop},
    {"process", process}, {"hostname", hostname},
    {"seccomp_profile", seccomp_profile},
    {"exec", exec_rules}, {"overlay", overlay}, {"home", home}, {"preset", preset},
};

/* Where cJSON stopped, as a line and column of text. */
static int syntax_error(const char *text, usbox_err_t *err)
{
  const char *at = cJSON_GetErrorPtr();
  if (at == NULL || at < text || at > text + strlen(text))
    at = text;
  int line = 1, col = 1;
  for (const char *c = text; c < at; c++, col++)
    if (*c == '\n')
      line++, col = 0;
  int near = (int)strcspn(at, "\n");
  usbox_err_set(err, EINVAL, "invalid JSON at line %d, column %d, near \"%.*s\"", line, col,
                near < 20 ? near : 20, at);
  return usbox_err_printable(err); /* the quoted text may hold a newline */
}

static int load(struct policy *p, const char *text, usbox_err_t *err)
{
  cJSON *root = cJSON_Parse(text);
  if (root == NULL)
    return syntax_error(text, err);
  int rc = 0;
  if (!cJSON_IsObject(root))
    rc = usbox_err_set(err, EINVAL, "the top level must be an object");
  else
    rc = unique_keys(root, "", err);
  const cJSON *field;
  for (field = root->child; rc == 0 && field != NULL; field = field->next) {
    size_t i = 0, n = sizeof top_keys / sizeof top_keys[0];
    while (i < n && strcmp(top_keys[i].key, field->string) != 0)
      i++;
    char path[80];
    snprintf(path, sizeof path, ".%.64s", field->string);
    if (i == n)
      rc = bad(err, path, "unknown field (mounts, hide, default_hide, network, env, limits, "
               "capabilities, cap_drop, process, hostname, seccomp_profile)");
    else
      rc = top_keys[i].load(p, field, path, err);
  }
  cJSON_Delete(root);
  return rc < 0 ? usbox_err_printable(err) : 0;
}

int policy_load_json(struct policy *p, const char *text, usbox_err_t *err)
{
  return load(p, text, err) < 0 ? usbox_err_wrap(err, "policy") : 0;
}

int policy_load_named(struct policy *p, const char *text, const char *name, usbox_err_t *err)
{
  return load(p, text, err) < 0 ? usbox_err_wrap(err, "policy %s", name) : 0;
}

#define POLICY_FILE_MAX (64 * 1024)

char *policy_read_file(const char *file, usbox_err_t *err)
{
  cleanup_fclose FILE *f = fopen(file, "re");
  if (f == NULL) {
    usbox_err_set(err, errno, "policy file %s", file);
    return NULL;
  }
  cleanup_free char *buf = malloc(POLICY_FILE_MAX);
  if (buf == NULL) {
    usbox_err_set(err, ENOMEM, "reading policy file %s", file);
    return NULL;
  }
  size_t n = fread(buf, 1, POLICY_FILE_MAX - 1, f);
  if (ferror(f)) {
    usbox_err_set(err, errno, "reading policy file %s", file);
    return NULL;
  }
  if (n == POLICY_FILE_MAX - 1) {
    usbox_err_set(err, EFBIG, "policy file %s is over 64 KiB", file);
    return NULL;
  }
  buf[n] = '\0';
  return steal_ptr(&buf);
}

int policy_load_file(struct policy *p, const char *file, usbox_err_t *err)
{
  cleanup_free char *text = policy_read_file(file, err);
  if (text == NULL || policy_load_named(p, text, file, err) < 0)
    return -1;
  p->from_file = true; /* --preset critical asks for one */
  return 0;
}

/* ---- writing ---- */

static cJSON *mounts_json(const struct policy *p)
{
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; arr != NULL && i < p->nmounts; i++) {
    const struct policy_mount *m = &p->mounts[i];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
      cJSON_Delete(o);
      cJSON_Delete(arr);
      return NULL;
    }
    if (m->kind == MOUNT_TMPFS) {
      cJSON_AddStringToObject(o, "type", "tmpfs");
      cJSON_AddStringToObject(o, "destination", m->dest);
    } else {
      cJSON_AddStringToObject(o, "source", m->source);
      cJSON_AddStringToObject(o, "destination", m->dest);
      cJSON_AddBoolToObject(o, "writable", m->writable);
    }
  }
  return arr;
}

/* The paths given with --hide and "hide" (their rules are "hide PATH"). */
static cJSON *hide_json(const struct policy *p)
{
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; arr != NULL && i < p->nhidden; i++) {
    const char *rule = policy_hidden_rule(p, i);
    if (strncmp(rule, "hide ", 5) == 0 && strcmp(rule + 5, p->hidden[i]) == 0)
      cJSON_AddItemToArray(arr, cJSON_CreateString(p->hidden[i]));
  }
  return arr;
}

/* Unset limits are left out (there is no value for "none"). */
static cJSON *limits_json(const struct limits_config *c)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  if (c->memory > 0)
    cJSON_AddNumberToObject(o, "memory", (double)c->memory);
  if (c->pids > 0)
    cJSON_AddNumberToObject(o, "pids", (double)c->pids);
  if (c->cpus > 0)
    cJSON_AddNumberToObject(o, "cpus", c->cpus);
  if (c->timeout > 0)
    cJSON_AddNumberToObject(o, "timeout", c->timeout);
  cJSON_AddNumberToObject(o, "timeout_grace", c->grace);
  if (c->nofile > 0)
    cJSON_AddNumberToObject(o, "nofile", (double)c->nofile);
  cJSON_AddStringToObject(o, "mode", c->best_effort ? "best-effort" : "strict");
  return o;
}

/* A set of capabilities by name (every one: "ALL"). */
static cJSON *caps_json(uint64_t set)
{
  cJSON *arr = cJSON_CreateArray();
  if (arr != NULL && set == ~0ull) {
    cJSON_AddItemToArray(arr, cJSON_CreateString("ALL"));
    return arr;
  }
  for (int n = 0; arr != NULL && n < 64; n++) {
    char name[64];
    if ((set & (1ull << n)) && policy_cap_name(n) != NULL) {
      snprintf(name, sizeof name, "CAP_%s", policy_cap_name(n));
      cJSON_AddItemToArray(arr, cJSON_CreateString(name));
    }
  }
  return arr;
}

static cJSON *exec_json(const struct exec_rules *r)
{
  cJSON *o = cJSON_CreateObject(), *allow = cJSON_CreateArray(), *deny = cJSON_CreateArray();
  for (size_t i = 0; allow != NULL && i < r->nallow; i++)
    cJSON_AddItemToArray(allow, cJSON_CreateString(r->allow[i].glob));
  for (size_t i = 0; deny != NULL && i < r->ndeny; i++)
    cJSON_AddItemToArray(deny, cJSON_CreateString(r->deny[i].glob));
  if (o == NULL || allow == NULL || deny == NULL) {
    cJSON_Delete(o);
    cJSON_Delete(allow);
    cJSON_Delete(deny);
    return NULL;
  }
  if (r->nallow > 0)
    cJSON_AddItemToObject(o, "allow", allow);
  else
    cJSON_Delete(allow);
  if (r->ndeny > 0)
    cJSON_AddItemToObject(o, "deny", deny);
  else
    cJSON_Delete(deny);
  return o;
}

static bool add(cJSON *o, const char *key, cJSON *value)
{
  if (value == NULL)
    return false;
  if (!cJSON_AddItemToObject(o, key, value)) {
    cJSON_Delete(value);
    return false;
  }
  return true;
}

cJSON *policy_to_json(const struct policy *p)
{
  cJSON *o = cJSON_CreateObject();
  /* first: read back, a preset applies where it stands, under the rest */
  if (o != NULL && p->preset[0] != '\0' && !add(o, "preset", cJSON_CreateString(p->preset))) {
    cJSON_Delete(o);
    return NULL;
  }
  bool ok = o != NULL && add(o, "mounts", mounts_json(p)) && add(o, "hide", hide_json(p)) &&
            add(o, "default_hide", cJSON_CreateBool(p->default_hidden)) &&
            add(o, "network", net_policy_to_json(&p->net)) &&
            add(o, "env", env_policy_to_json(&p->env)) && add(o, "limits", limits_json(&p->limits)) &&
            add(o, "capabilities", caps_json(p->keep_caps)) &&
            add(o, "cap_drop", caps_json(p->drop_caps)) &&
            add(o, "hostname", cJSON_CreateString(p->hostname));
  if (ok && p->process.cwd != NULL) {
    cJSON *process = cJSON_CreateObject();
    ok = add(o, "process", process) && cJSON_AddStringToObject(process, "cwd", p->process.cwd);
  }
  if (ok && p->seccomp_profile != NULL)
    ok = add(o, "seccomp_profile", cJSON_CreateString(p->seccomp_profile));
  if (ok && p->exec.nallow + p->exec.ndeny > 0)
    ok = add(o, "exec", exec_json(&p->exec));
  static const char *const modes[] = {"none", "disk", "memory"};
  if (ok)
    ok = add(o, "overlay", cJSON_CreateString(modes[p->overlay.mode])) &&
         add(o, "home", cJSON_CreateString(p->overlay.cow_home ? "overlay" : "ro"));
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}
