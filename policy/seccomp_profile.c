/* The Docker/OCI seccomp profile format, read strictly: every field is
 * checked, an unknown one is an error, and each error names its JSON path.
 * The result is what applies to this agent (platform/profile_filter.h). */
#include "policy/seccomp_profile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "policy/caps.h"

#define PATH_LEN 160
#define PROFILE_FILE_MAX (4u << 20) /* Docker's default profile is ~20 KiB */
#define EXACT_MAX 9007199254740992.0 /* 2^53: JSON numbers here are doubles */

struct parser {
  const struct seccomp_profile_options *opts;
  unsigned kmajor, kminor;
  struct seccomp_profile prof; /* being built */
  size_t cap;
  usbox_err_t *err;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parser *ps, const char *path,
                                                      const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  usbox_err_set(ps->err, 0, "%s: %s", path, msg);
  /* names and strings of the profile are quoted: one printable line */
  for (char *c = ps->err != NULL ? ps->err->msg : ""; *c != '\0'; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      *c = '?';
  return -1;
}

void seccomp_profile_free(struct seccomp_profile *p)
{
  free(p->rules);
  p->rules = NULL;
  p->nrules = 0;
}

/* obj's key, NULL when absent or null (Go, which writes most profiles,
 * writes an empty list as null and reads null as absent). */
static const cJSON *field(const cJSON *obj, const char *key)
{
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsNull(f) ? NULL : f;
}

/* A key of obj given twice would be read once and ignored once. */
static int check_unique(struct parser *ps, const cJSON *obj, const char *path)
{
  const cJSON *c;
  cJSON_ArrayForEach(c, obj)
  {
    if (cJSON_GetObjectItemCaseSensitive(obj, c->string) != c)
      return fail(ps, path, "field \"%s\" given twice", c->string);
  }
  return 0;
}

static int want_string(struct parser *ps, const cJSON *item, const char *path)
{
  return cJSON_IsString(item) ? 0 : fail(ps, path, "must be a string");
}

static int parse_u64(struct parser *ps, const cJSON *item, const char *path, uint64_t *out)
{
  if (!cJSON_IsNumber(item))
    return fail(ps, path, "must be a number");
  double d = item->valuedouble;
  if (!(d >= 0 && d <= EXACT_MAX) || d != (double)(uint64_t)d)
    return fail(ps, path, "must be a whole number from 0 to 2^53 (JSON numbers above are not exact)");
  *out = (uint64_t)d;
  return 0;
}

static int parse_errno(struct parser *ps, const cJSON *item, const char *path, int *out)
{
  uint64_t v = 0;
  if (parse_u64(ps, item, path, &v) < 0)
    return -1;
  /* 0 would answer success without performing the call: refused, so that
   * a call usbox denies can never look as if it had worked. */
  if (v < 1 || v > 4095)
    return fail(ps, path, "errno %llu is not from 1 to 4095", (unsigned long long)v);
  *out = (int)v;
  return 0;
}

enum parsed_act { ACT_PLAIN, ACT_TRACE };

static int parse_action_name(struct parser *ps, const cJSON *item, const char *path,
                             struct profile_action *out, enum parsed_act *how)
{
  static const struct {
    const char *name;
    enum profile_act kind;
  } names[] = {
      {"SCMP_ACT_ALLOW", PROFILE_ALLOW},
      {"SCMP_ACT_LOG", PROFILE_LOG},
      {"SCMP_ACT_ERRNO", PROFILE_ERRNO},
      {"SCMP_ACT_TRAP", PROFILE_TRAP},
      {"SCMP_ACT_KILL", PROFILE_KILL_THREAD},
      {"SCMP_ACT_KILL_THREAD", PROFILE_KILL_THREAD},
      {"SCMP_ACT_KILL_PROCESS", PROFILE_KILL_PROCESS},
  };
  if (want_string(ps, item, path) < 0)
    return -1;
  const char *s = item->valuestring;
  *how = ACT_PLAIN;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(s, names[i].name) == 0) {
      *out = (struct profile_action){.kind = names[i].kind, .errno_ret = EPERM};
      return 0;
    }
  if (strcmp(s, "SCMP_ACT_TRACE") == 0) {
    /* No tracer ever attaches to the agent (ptrace is denied in it): the
     * kernel's answer without one, ENOSYS, decided here. */
    *out = (struct profile_action){.kind = PROFILE_ERRNO, .errno_ret = ENOSYS};
    *how = ACT_TRACE;
    return 0;
  }
  if (strcmp(s, "SCMP_ACT_NOTIFY") == 0)
    return fail(ps, path, "SCMP_ACT_NOTIFY is refused: usbox's sentry is the only supervisor "
                          "of the agent's calls");
  return fail(ps, path, "unknown action \"%.64s\"", s);
}

/* "errno": "EPERM" (containers/common writes the name beside errnoRet). */
static int parse_errno_name(struct parser *ps, const cJSON *item, const char *path, int *out)
{
  if (want_string(ps, item, path) < 0)
    return -1;
  for (int e = 1; e < 4096; e++) {
    const char *name = strerrorname_np(e);
    if (name != NULL && strcmp(name, item->valuestring) == 0) {
      *out = e;
      return 0;
    }
  }
  return fail(ps, path, "unknown errno name \"%.64s\"", item->valuestring);
}

/* The errno of an action: errnoRet and/or its name; both must agree. */
static int parse_errno_pair(struct parser *ps, const cJSON *num, const cJSON *name,
                            const char *num_path, const char *name_path, int *out)
{
  int a = 0, b = 0;
  if (num != NULL && parse_errno(ps, num, num_path, &a) < 0)
    return -1;
  if (name != NULL && parse_errno_name(ps, name, name_path, &b) < 0)
    return -1;
  if (num != NULL && name != NULL && a != b)
    return fail(ps, name_path, "%.64s is not errno %d", name->valuestring, a);
  *out = num != NULL ? a : b;
  return 0;
}

struct action_fields {
  const cJSON *action, *errno_ret, *errno_name;
  const char *action_path, *errno_ret_path, *errno_name_path;
};

/* "action" with its "errnoRet" and "errno" (defaultAction, defaultErrnoRet,
 * defaultErrno). */
static int parse_action(struct parser *ps, const struct action_fields *f,
                        struct profile_action *out)
{
  if (f->action == NULL)
    return fail(ps, f->action_path, "missing");
  enum parsed_act how;
  if (parse_action_name(ps, f->action, f->action_path, out, &how) < 0)
    return -1;
  if (f->errno_ret == NULL && f->errno_name == NULL)
    return 0;
  int e = 0;
  if (parse_errno_pair(ps, f->errno_ret, f->errno_name, f->errno_ret_path, f->errno_name_path,
                       &e) < 0)
    return -1;
  if (how == ACT_TRACE)
    return 0; /* the tracer's message: there is no tracer */
  if (out->kind != PROFILE_ERRNO)
    return fail(ps, f->errno_ret != NULL ? f->errno_ret_path : f->errno_name_path,
                "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno");
  out->errno_ret = e;
  return 0;
}

/* libseccomp's names; a profile may list any of them (they are accepted
 * and ignored: usbox kills every ABI but x86_64's). */
static bool known_arch(const char *s)
{
  static const char *const arches[] = {
      "SCMP_ARCH_NATIVE", "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",
      "SCMP_ARCH_ARM",    "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",
      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
      "SCMP_ARCH_PPC",    "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",
      "SCMP_ARCH_S390X",  "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",
      "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
  };
  for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
    if (strcmp(s, arches[i]) == 0)
      return true;
  return false;
}

/* An array of strings, each checked by ok (if given). */
static int string_array(struct parser *ps, const cJSON *arr, const char *path,
                        bool (*ok)(const char *), const char *what)
{
  if (!cJSON_IsArray(arr))
    return fail(ps, path, "must be an array of strings");
  const cJSON *it;
  int i = 0;
  cJSON_ArrayForEach(it, arr)
  {
    char at[PATH_LEN];
    snprintf(at, sizeof at, "%s[%d]", path, i++);
    if (!cJSON_IsString(it))
      return fail(ps, at, "must be a string");
    if (ok != NULL && !ok(it->valuestring))
      return fail(ps, at, "unknown %s \"%.64s\"", what, it->valuestring);
  }
  return 0;
}

/* "archMap": [{"architecture": A, "subArchitectures": [B, ...]}] */
static int parse_arch_map(struct parser *ps, const cJSON *arr, const char *path)
{
  if (!cJSON_IsArray(arr))
    return fail(ps, path, "must be an array of objects");
  const cJSON *m;
  int i = 0;
  cJSON_ArrayForEach(m, arr)
  {
    char at[PATH_LEN], sub[PATH_LEN];
    snprintf(at, sizeof at, "%s[%d]", path, i++);
    if (!cJSON_IsObject(m))
      return fail(ps, at, "must be an object");
    if (check_unique(ps, m, at) < 0)
      return -1;
    const cJSON *f;
    cJSON_ArrayForEach(f, m)
    {
      snprintf(sub, sizeof sub, "%s.%.40s", at, f->string);
      if (cJSON_IsNull(f))
        continue;
      if (strcmp(f->string, "architecture") == 0) {
        if (want_string(ps, f, sub) < 0)
          return -1;
        if (!known_arch(f->valuestring))
          return fail(ps, sub, "unknown architecture \"%.64s\"", f->valuestring);
      } else if (strcmp(f->string, "subArchitectures") == 0) {
        if (string_array(ps, f, sub, known_arch, "architecture") < 0)
          return -1;
      } else {
        return fail(ps, sub, "unknown field");
      }
    }
  }
  return 0;
}

static bool known_flag(const char *s)
{
  return strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC") == 0 || strcmp(s, "SECCOMP_FILTER_FLAG_LOG") == 0 ||
         strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0 ||
         strcmp(s, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0;
}

/* "flags": TSYNC is moot (the agent is one thread when the filter goes in),
 * SPEC_ALLOW too (usbox's own filter already turned the mitigation on),
 * WAIT_KILLABLE_RECV is for listeners (none here); LOG is applied. */
static int parse_flags(struct parser *ps, const cJSON *arr, const char *path)
{
  if (string_array(ps, arr, path, known_flag, "flag") < 0)
    return -1;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    if (strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_LOG") == 0)
      ps->prof.flags |= PROFILE_FLAG_LOG;
  }
  return 0;
}

/* One of "args": {"index": N, "value": V, "valueTwo": W, "op": "SCMP_CMP_.."} */
static int parse_arg(struct parser *ps, const cJSON *a, const char *path, struct profile_arg *out)
{
  static const char *const ops[] = {
      [PROFILE_NE] = "SCMP_CMP_NE", [PROFILE_LT] = "SCMP_CMP_LT", [PROFILE_LE] = "SCMP_CMP_LE",
      [PROFILE_EQ] = "SCMP_CMP_EQ", [PROFILE_GE] = "SCMP_CMP_GE", [PROFILE_GT] = "SCMP_CMP_GT",
      [PROFILE_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
  };
  if (!cJSON_IsObject(a))
    return fail(ps, path, "must be an object");
  if (check_unique(ps, a, path) < 0)
    return -1;
  char sub[PATH_LEN];
  const cJSON *f;
  cJSON_ArrayForEach(f, a)
  {
    snprintf(sub, sizeof sub, "%s.%.40s", path, f->string);
    if (strcmp(f->string, "index") != 0 && strcmp(f->string, "value") != 0 &&
        strcmp(f->string, "valueTwo") != 0 && strcmp(f->string, "op") != 0)
      return fail(ps, sub, "unknown field");
  }
  const cJSON *index = field(a, "index");
  const cJSON *value = field(a, "value");
  const cJSON *two = field(a, "valueTwo");
  const cJSON *op = field(a, "op");
  uint64_t idx = 0;
  *out = (struct profile_arg){0};
  snprintf(sub, sizeof sub, "%s.index", path);
  if (index == NULL)
    return fail(ps, sub, "missing");
  if (parse_u64(ps, index, sub, &idx) < 0)
    return -1;
  if (idx > 5)
    return fail(ps, sub, "%llu is not an argument index (0 to 5)", (unsigned long long)idx);
  out->index = (unsigned)idx;
  snprintf(sub, sizeof sub, "%s.value", path);
  if (value == NULL)
    return fail(ps, sub, "missing");
  if (parse_u64(ps, value, sub, &out->value) < 0)
    return -1;
  snprintf(sub, sizeof sub, "%s.valueTwo", path);
  if (two != NULL && parse_u64(ps, two, sub, &out->value_two) < 0)
    return -1;
  snprintf(sub, sizeof sub, "%s.op", path);
  if (op == NULL)
    return fail(ps, sub, "missing");
  if (want_string(ps, op, sub) < 0)
    return -1;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(op->valuestring, ops[i]) == 0) {
      out->op = (enum profile_op)i;
      return 0;
    }
  return fail(ps, sub, "unknown operator \"%.64s\"", op->valuestring);
}

static int parse_args(struct parser *ps, const cJSON *arr, const char *path,
                      struct profile_rule *r)
{
  if (!cJSON_IsArray(arr))
    return fail(ps, path, "must be an array of objects");
  const cJSON *a;
  r->nargs = 0;
  cJSON_ArrayForEach(a, arr)
  {
    char at[PATH_LEN];
    snprintf(at, sizeof at, "%s[%zu]", path, r->nargs);
    if (r->nargs == PROFILE_MAX_ARGS)
      return fail(ps, at, "more than %d argument tests in one entry", PROFILE_MAX_ARGS);
    if (parse_arg(ps, a, at, &r->args[r->nargs]) < 0)
      return -1;
    r->nargs++;
  }
  return 0;
}

/* "minKernel": "MAJOR.MINOR" */
static int parse_kernel(struct parser *ps, const cJSON *item, const char *path, unsigned *major,
                        unsigned *minor)
{
  if (want_string(ps, item, path) < 0)
    return -1;
  const char *s = item->valuestring;
  char *end;
  errno = 0;
  unsigned long a = s[0] >= '0' && s[0] <= '9' ? strtoul(s, &end, 10) : 0;
  if (s[0] < '0' || s[0] > '9' || *end != '.' || end[1] < '0' || end[1] > '9' || errno != 0 ||
      a > 65535)
    return fail(ps, path, "\"%.32s\" is not a kernel version MAJOR.MINOR", s);
  const char *m = end + 1;
  unsigned long b = strtoul(m, &end, 10);
  if (*end != '\0' || errno != 0 || b > 65535)
    return fail(ps, path, "\"%.32s\" is not a kernel version MAJOR.MINOR", s);
  *major = (unsigned)a;
  *minor = (unsigned)b;
  return 0;
}

static bool in_list(const cJSON *arr, bool (*match)(const char *))
{
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    if (match(it->valuestring))
      return true;
  }
  return false;
}

/* Docker's names for architectures (Go's GOARCH): this one is amd64. */
static bool native_goarch(const char *s)
{
  return strcmp(s, "amd64") == 0 || strcmp(s, "x86_64") == 0;
}

/* includes: every cap held; excludes: any cap held (as Docker and podman
 * decide, against the capabilities the agent keeps). */
static bool caps_held(const struct parser *ps, const cJSON *caps, bool all)
{
  const cJSON *it;
  cJSON_ArrayForEach(it, caps)
  {
    int n = policy_cap_number(it->valuestring);
    bool held = n >= 0 && n < 64 && (ps->opts->caps & (1ull << n)) != 0;
    if (all && !held)
      return false;
    if (!all && held)
      return true;
  }
  return all;
}

/* "includes" (include) or "excludes": does the entry apply? Checked whole
 * either way, so a mistake shows whatever this host is. */
static int parse_filter(struct parser *ps, const cJSON *obj, const char *path, bool include,
                        bool *applies)
{
  if (!cJSON_IsObject(obj))
    return fail(ps, path, "must be an object");
  if (check_unique(ps, obj, path) < 0)
    return -1;
  const cJSON *f;
  cJSON_ArrayForEach(f, obj)
  {
    char sub[PATH_LEN];
    snprintf(sub, sizeof sub, "%s.%.40s", path, f->string);
    if (cJSON_IsNull(f))
      continue;
    bool caps = strcmp(f->string, "caps") == 0, arches = strcmp(f->string, "arches") == 0;
    if (caps || arches) {
      if (string_array(ps, f, sub, NULL, NULL) < 0)
        return -1;
      if (cJSON_GetArraySize(f) == 0)
        continue;
      bool hit = caps ? caps_held(ps, f, include) : in_list(f, native_goarch);
      if (hit != include)
        *applies = false;
    } else if (strcmp(f->string, "minKernel") == 0) {
      unsigned major = 0, minor = 0;
      if (parse_kernel(ps, f, sub, &major, &minor) < 0)
        return -1;
      bool at_least = ps->kmajor > major || (ps->kmajor == major && ps->kminor >= minor);
      if (at_least != include)
        *applies = false;
    } else {
      return fail(ps, sub, "unknown field");
    }
  }
  return 0;
}

static int push_rule(struct parser *ps, const struct profile_rule *r, const char *path)
{
  if (ps->prof.nrules == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 64;
    if (cap > SIZE_MAX / sizeof *ps->prof.rules)
      return fail(ps, path, "too many rules");
    struct profile_rule *n = realloc(ps->prof.rules, cap * sizeof *n);
    if (n == NULL)
      return usbox_err_set(ps->err, ENOMEM, "%s: allocating rules", path);
    ps->prof.rules = n;
    ps->cap = cap;
  }
  ps->prof.rules[ps->prof.nrules++] = *r;
  return 0;
}

static bool entry_key(const char *k)
{
  static const char *const keys[] = {"names",   "name",     "action",   "errnoRet", "errno",
                                     "args",    "comment",  "includes", "excludes"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(k, keys[i]) == 0)
      return true;
  return false;
}

/* "names" (or the legacy "name"): each name becomes a rule. A name longer
 * than any system call's is no call of this architecture: skipped, as
 * unknown names are when the filter is built. */
static int push_names(struct parser *ps, const cJSON *e, const char *path, struct profile_rule *r)
{
  const cJSON *names = field(e, "names");
  const cJSON *name = field(e, "name");
  char sub[PATH_LEN];
  if (names != NULL && name != NULL)
    return fail(ps, path, "both \"name\" and \"names\"");
  if (names == NULL && name == NULL)
    return fail(ps, path, "no \"names\"");
  snprintf(sub, sizeof sub, "%s.%s", path, names != NULL ? "names" : "name");
  if (name != NULL && want_string(ps, name, sub) < 0)
    return -1;
  if (names != NULL && string_array(ps, names, sub, NULL, NULL) < 0)
    return -1;
  if (names != NULL && cJSON_GetArraySize(names) == 0)
    return fail(ps, sub, "empty");
  const cJSON *it = names != NULL ? names->child : name;
  for (; it != NULL; it = names != NULL ? it->next : NULL) {
    size_t len = strlen(it->valuestring);
    if (len == 0)
      return fail(ps, sub, "an empty name");
    if (len >= sizeof r->name)
      continue;
    memcpy(r->name, it->valuestring, len + 1);
    if (push_rule(ps, r, path) < 0)
      return -1;
  }
  return 0;
}

static int parse_entry(struct parser *ps, const cJSON *e, size_t index)
{
  char path[PATH_LEN], sub[PATH_LEN], sub2[PATH_LEN], sub3[PATH_LEN];
  snprintf(path, sizeof path, ".syscalls[%zu]", index);
  if (!cJSON_IsObject(e))
    return fail(ps, path, "must be an object");
  if (check_unique(ps, e, path) < 0)
    return -1;
  const cJSON *f;
  cJSON_ArrayForEach(f, e)
  {
    snprintf(sub, sizeof sub, "%s.%.40s", path, f->string);
    if (!entry_key(f->string))
      return fail(ps, sub, "unknown field");
  }
  struct profile_rule r = {.entry = index};
  snprintf(sub, sizeof sub, "%s.action", path);
  snprintf(sub2, sizeof sub2, "%s.errnoRet", path);
  snprintf(sub3, sizeof sub3, "%s.errno", path);
  struct action_fields af = {.action = field(e, "action"),
                             .errno_ret = field(e, "errnoRet"),
                             .errno_name = field(e, "errno"),
                             .action_path = sub, .errno_ret_path = sub2, .errno_name_path = sub3};
  if (parse_action(ps, &af, &r.action) < 0)
    return -1;
  const cJSON *args = field(e, "args");
  snprintf(sub, sizeof sub, "%s.args", path);
  if (args != NULL && parse_args(ps, args, sub, &r) < 0)
    return -1;
  const cJSON *comment = field(e, "comment");
  snprintf(sub, sizeof sub, "%s.comment", path);
  if (comment != NULL && want_string(ps, comment, sub) < 0)
    return -1;
  bool applies = true;
  const cJSON *inc = field(e, "includes");
  const cJSON *exc = field(e, "excludes");
  snprintf(sub, sizeof sub, "%s.includes", path);
  if (inc != NULL && parse_filter(ps, inc, sub, true, &applies) < 0)
    return -1;
  snprintf(sub, sizeof sub, "%s.excludes", path);
  if (exc != NULL && parse_filter(ps, exc, sub, false, &applies) < 0)
    return -1;
  size_t before = ps->prof.nrules;
  if (push_names(ps, e, path, &r) < 0)
    return -1;
  if (!applies)
    ps->prof.nrules = before; /* checked, not for this agent */
  return 0;
}

static int parse_syscalls(struct parser *ps, const cJSON *arr)
{
  if (!cJSON_IsArray(arr))
    return fail(ps, ".syscalls", "must be an array of objects");
  const cJSON *e;
  size_t i = 0;
  cJSON_ArrayForEach(e, arr)
  {
    if (parse_entry(ps, e, i++) < 0)
      return -1;
  }
  return 0;
}

/* "listenerPath", "listenerMetadata": an agent's calls handed to another
 * supervisor. Refused when set; an empty string is no listener. */
static int refuse_listener(struct parser *ps, const cJSON *f, const char *path)
{
  if (want_string(ps, f, path) < 0)
    return -1;
  if (f->valuestring[0] != '\0')
    return fail(ps, path, "refused: a profile cannot hand the agent's calls to another "
                          "supervisor (usbox's sentry is the only one)");
  return 0;
}

static int parse_top_field(struct parser *ps, const cJSON *f)
{
  char path[PATH_LEN];
  snprintf(path, sizeof path, ".%.40s", f->string);
  const char *k = f->string;
  if (cJSON_IsNull(f))
    return 0;
  if (strcmp(k, "defaultAction") == 0 || strcmp(k, "defaultErrnoRet") == 0 ||
      strcmp(k, "defaultErrno") == 0)
    return 0; /* together, in seccomp_profile_parse */
  if (strcmp(k, "architectures") == 0)
    return string_array(ps, f, path, known_arch, "architecture");
  if (strcmp(k, "archMap") == 0)
    return parse_arch_map(ps, f, path);
  if (strcmp(k, "flags") == 0)
    return parse_flags(ps, f, path);
  if (strcmp(k, "syscalls") == 0)
    return parse_syscalls(ps, f);
  if (strcmp(k, "listenerPath") == 0 || strcmp(k, "listenerMetadata") == 0)
    return refuse_listener(ps, f, path);
  return fail(ps, path, "unknown field");
}

static void this_kernel(unsigned *major, unsigned *minor)
{
  struct utsname u;
  *major = *minor = 0;
  if (uname(&u) == 0 && sscanf(u.release, "%u.%u", major, minor) != 2)
    *major = *minor = 0;
}

int seccomp_profile_parse(const cJSON *root, const struct seccomp_profile_options *opts,
                          struct seccomp_profile *out, usbox_err_t *err)
{
  struct parser ps = {.opts = opts, .err = err};
  if (opts->kernel_major != 0) {
    ps.kmajor = opts->kernel_major;
    ps.kminor = opts->kernel_minor;
  } else {
    this_kernel(&ps.kmajor, &ps.kminor);
  }
  if (!cJSON_IsObject(root))
    return fail(&ps, ".", "the profile must be a JSON object");
  int rc = check_unique(&ps, root, ".");
  struct action_fields af = {.action = field(root, "defaultAction"),
                             .errno_ret = field(root, "defaultErrnoRet"),
                             .errno_name = field(root, "defaultErrno"),
                             .action_path = ".defaultAction",
                             .errno_ret_path = ".defaultErrnoRet",
                             .errno_name_path = ".defaultErrno"};
  if (rc == 0)
    rc = parse_action(&ps, &af, &ps.prof.default_action);
  const cJSON *f;
  for (f = root->child; rc == 0 && f != NULL; f = f->next)
    rc = parse_top_field(&ps, f);
  if (rc < 0) {
    seccomp_profile_free(&ps.prof);
    return -1;
  }
  *out = ps.prof;
  return 0;
}

int seccomp_profile_parse_text(const char *text, size_t len,
                               const struct seccomp_profile_options *opts,
                               struct seccomp_profile *out, usbox_err_t *err)
{
  cJSON *root = cJSON_ParseWithLength(text, len);
  if (root == NULL) {
    const char *at = cJSON_GetErrorPtr();
    size_t off = at != NULL && at >= text && at <= text + len ? (size_t)(at - text) : len;
    char near[24];
    size_t n = 0;
    for (size_t i = off; i < len && n < 20; i++) /* one printable line */
      near[n++] = text[i] >= 0x20 && text[i] < 0x7f && text[i] != '"' ? text[i] : '?';
    near[n] = '\0';
    return usbox_err_set(err, 0, "invalid JSON at byte %zu (near \"%s\")", off, near);
  }
  int rc = seccomp_profile_parse(root, opts, out, err);
  cJSON_Delete(root);
  return rc;
}

int seccomp_profile_load_file(const char *file, const struct seccomp_profile_options *opts,
                              struct seccomp_profile *out, usbox_err_t *err)
{
  cleanup_fclose FILE *f = fopen(file, "re");
  if (f == NULL)
    return usbox_err_set(err, errno, "seccomp profile %s", file);
  cleanup_free char *buf = malloc(PROFILE_FILE_MAX);
  if (buf == NULL)
    return usbox_err_set(err, ENOMEM, "seccomp profile %s", file);
  size_t n = fread(buf, 1, PROFILE_FILE_MAX, f);
  if (ferror(f))
    return usbox_err_set(err, errno, "seccomp profile %s", file);
  if (n == PROFILE_FILE_MAX)
    return usbox_err_set(err, 0, "seccomp profile %s: over %u MiB", file, PROFILE_FILE_MAX >> 20);
  if (seccomp_profile_parse_text(buf, n, opts, out, err) < 0)
    return usbox_err_wrap(err, "seccomp profile %s", file);
  return 0;
}

int seccomp_profile_compile(const struct seccomp_profile_source *src, uint64_t caps,
                            struct bpf_program *out, unsigned *flags, usbox_err_t *err)
{
  out->insns = NULL;
  out->len = 0;
  *flags = 0;
  struct seccomp_profile_options opts = {.caps = caps};
  struct seccomp_profile prof;
  int rc = src->file != NULL
               ? seccomp_profile_load_file(src->file, &opts, &prof, err)
               : seccomp_profile_parse_text(src->text, strlen(src->text), &opts, &prof, err);
  if (rc < 0)
    return -1;
  usbox_phase("seccomp profile read");
  struct profile_build_stats stats = {0};
  rc = profile_filter_build(&prof, out, &stats, err);
  *flags = prof.flags;
  usbox_debug("seccomp profile %s: %zu rules, %zu names skipped (no such call on x86_64), "
              "%u instructions",
              src->name, prof.nrules, stats.skipped, (unsigned)out->len);
  seccomp_profile_free(&prof);
  if (rc < 0)
    return usbox_err_wrap(err, "seccomp profile %s", src->name);
  usbox_phase("seccomp profile compiled");
  return 0;
}
