#include "policy/exec_rules.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

void exec_rules_init(struct exec_rules *r)
{
  memset(r, 0, sizeof *r);
}

static void free_list(struct exec_rule *list, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(list[i].glob);
    free(list[i].resolved);
  }
  free(list);
}

void exec_rules_free(struct exec_rules *r)
{
  free_list(r->allow, r->nallow);
  free_list(r->deny, r->ndeny);
  exec_rules_init(r);
}

/* ---- globs ---- */

static bool is_wild(char c)
{
  return c == '*' || c == '?' || c == '[' || c == '\\';
}

/* Why one component of a glob cannot be used, or NULL. */
static const char *component_problem(const char *c, size_t len)
{
  bool stars = false;
  for (size_t i = 0; i < len; i++) {
    if (c[i] == '\\' && i + 1 == len)
      return "a backslash ends a component";
    if (c[i] == '\\') {
      i++; /* the escaped character is literal */
    } else if (c[i] == '*' && i + 1 < len && c[i + 1] == '*') {
      stars = true;
    } else if (c[i] == '[') {
      size_t j = i + 1;
      if (j < len && (c[j] == '!' || c[j] == '^'))
        j++;
      if (j < len && c[j] == ']')
        j++; /* a leading ] is a member */
      while (j < len && c[j] != ']')
        j++;
      if (j == len)
        return "a [ is not closed within its component";
      i = j;
    }
  }
  if (stars && !(len == 2 && c[0] == '*' && c[1] == '*'))
    return "** must be a whole component (/opt/tool/**)";
  return NULL;
}

static int check_glob(const char *glob, const char *what, usbox_err_t *err)
{
  if (glob[0] != '/')
    return usbox_err_set(err, EINVAL,
                         "%s \"%s\": a rule is an absolute path or glob (/usr/bin/*)", what, glob);
  for (const char *c = glob + 1; *c != '\0';) {
    size_t len = strcspn(c, "/");
    const char *why = component_problem(c, len);
    if (why != NULL)
      return usbox_err_set(err, EINVAL, "%s \"%s\": %s", what, glob, why);
    c += len;
    c += *c == '/';
  }
  return 0;
}

size_t exec_glob_literal_len(const char *glob)
{
  size_t literal = 0; /* up to the end of the last literal component */
  for (size_t i = 1;; i++) {
    if (glob[i] == '/' || glob[i] == '\0') {
      literal = i;
      if (glob[i] == '\0')
        return literal;
    } else if (is_wild(glob[i])) {
      return literal;
    }
  }
}

/* One component of path against one of glob (neither holds a slash). */
static bool component_match(const char *g, size_t glen, const char *p, size_t plen)
{
  char gc[NAME_MAX * 2 + 1], pc[NAME_MAX + 1];
  if (glen >= sizeof gc || plen >= sizeof pc)
    return false;
  memcpy(gc, g, glen), gc[glen] = '\0';
  memcpy(pc, p, plen), pc[plen] = '\0';
  return fnmatch(gc, pc, 0) == 0;
}

static const char *next_component(const char *s, size_t len)
{
  return s + len + (s[len] == '/');
}

static bool is_globstar(const char *g, size_t glen)
{
  return glen == 2 && g[0] == '*' && g[1] == '*';
}

/* g and p at the start of a component. `**` is to components what `*` is
 * to characters, so this is the classic two-pointer walk that goes back to
 * the last `**` only: never exponential, whatever path depth an agent
 * makes. A `**` that ends the glob needs at least one component. */
static bool match_components(const char *g, const char *p)
{
  const char *star_g = NULL, *star_p = NULL;
  while (*p != '\0') {
    size_t glen = strcspn(g, "/"), plen = strcspn(p, "/");
    if (*g != '\0' && is_globstar(g, glen)) {
      g = next_component(g, glen);
      if (*g == '\0')
        return true; /* a trailing ** takes the rest, one component or more */
      star_g = g, star_p = p;
    } else if (*g != '\0' && component_match(g, glen, p, plen)) {
      g = next_component(g, glen);
      p = next_component(p, plen);
    } else if (star_g != NULL) {
      star_p = next_component(star_p, strcspn(star_p, "/"));
      g = star_g, p = star_p; /* that ** takes one component more */
    } else {
      return false;
    }
  }
  /* the path is used up: what is left of the glob must be inner **s */
  for (size_t glen; *g != '\0'; g = next_component(g, glen)) {
    glen = strcspn(g, "/");
    if (!is_globstar(g, glen) || *next_component(g, glen) == '\0')
      return false;
  }
  return true;
}

bool exec_glob_match(const char *glob, const char *path)
{
  if (glob[0] != '/' || path[0] != '/')
    return false;
  return match_components(glob + 1, path + 1);
}

static bool rule_matches(const struct exec_rule *rule, const char *path)
{
  return exec_glob_match(rule->glob, path) ||
         (rule->resolved != NULL && exec_glob_match(rule->resolved, path));
}

const struct exec_rule *exec_rules_decide(const struct exec_rules *r, const char *path,
                                          bool *not_allowed)
{
  *not_allowed = false;
  for (size_t i = 0; i < r->ndeny; i++)
    if (rule_matches(&r->deny[i], path))
      return &r->deny[i];
  if (r->nallow == 0)
    return NULL;
  for (size_t i = 0; i < r->nallow; i++)
    if (rule_matches(&r->allow[i], path))
      return NULL;
  *not_allowed = true;
  return NULL;
}

/* ---- building the rules ---- */

static int push_rule(struct exec_rule **list, size_t *n, const char *glob, const char *resolved,
                     usbox_err_t *err)
{
  struct exec_rule *grown = realloc(*list, (*n + 1) * sizeof *grown);
  if (grown == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the exec rules");
  *list = grown;
  struct exec_rule rule = {.glob = strdup(glob), .resolved = resolved ? strdup(resolved) : NULL};
  if (rule.glob == NULL || (resolved != NULL && rule.resolved == NULL)) {
    free(rule.glob);
    free(rule.resolved);
    return usbox_err_set(err, ENOMEM, "allocating the exec rules");
  }
  grown[(*n)++] = rule;
  return 0;
}

int exec_rules_add(struct exec_rules *r, bool allow, const char *glob, const char *what,
                   usbox_err_t *err)
{
  if (check_glob(glob, what, err) < 0)
    return usbox_err_printable(err);
  char norm[PATH_MAX];
  if (policy_normalize(glob, norm, sizeof norm) < 0)
    return usbox_err_set(err, ENAMETOOLONG, "%s: the rule is too long", what);
  return allow ? push_rule(&r->allow, &r->nallow, norm, NULL, err)
               : push_rule(&r->deny, &r->ndeny, norm, NULL, err);
}

int exec_rules_copy(struct exec_rules *to, const struct exec_rules *from, usbox_err_t *err)
{
  exec_rules_init(to);
  for (size_t i = 0; i < from->nallow; i++)
    if (push_rule(&to->allow, &to->nallow, from->allow[i].glob, from->allow[i].resolved, err) < 0)
      goto fail;
  for (size_t i = 0; i < from->ndeny; i++)
    if (push_rule(&to->deny, &to->ndeny, from->deny[i].glob, from->deny[i].resolved, err) < 0)
      goto fail;
  return 0;
fail:
  exec_rules_free(to);
  return -1;
}

int exec_rules_load_json(struct exec_rules *r, const cJSON *obj, usbox_err_t *err)
{
  if (!cJSON_IsObject(obj))
    return usbox_err_set(err, EINVAL, "policy: \"exec\" must be an object (allow, deny)");
  const cJSON *list;
  cJSON_ArrayForEach(list, obj)
  {
    bool allow = strcmp(list->string, "allow") == 0;
    if (!allow && strcmp(list->string, "deny") != 0)
      return usbox_err_set(err, EINVAL, "policy: unknown field \"exec.%s\" (allow, deny)",
                           list->string);
    const char *what = allow ? "exec.allow" : "exec.deny";
    if (!cJSON_IsArray(list))
      return usbox_err_set(err, EINVAL, "policy: \"%s\" must be an array of strings", what);
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
      if (!cJSON_IsString(item))
        return usbox_err_set(err, EINVAL, "policy: \"%s\" must be an array of strings", what);
      if (exec_rules_add(r, allow, item->valuestring, what, err) < 0)
        return usbox_err_wrap(err, "policy");
    }
  }
  return 0;
}

/* ---- #! lines, as fs/binfmt_script.c reads them ---- */

static bool spacetab(char c)
{
  return c == ' ' || c == '\t';
}

int exec_parse_shebang(const char *head, size_t len, char *interp, size_t size)
{
  char buf[EXEC_HEAD_SIZE] = {0}; /* the kernel's buffer: zeros past the file's end */
  memcpy(buf, head, len < sizeof buf ? len : sizeof buf);
  if (buf[0] != '#' || buf[1] != '!')
    return 0;
  const char *last = buf + sizeof buf - 1, *i_end = NULL;
  for (const char *c = buf; c <= last && *c != '\0' && i_end == NULL; c++)
    if (*c == '\n')
      i_end = c;
  if (i_end == NULL) {
    /* no newline: the name must end (space, tab or NUL) within the buffer,
     * else it may be cut off and the kernel refuses it */
    const char *c = buf + 2;
    while (c <= last && spacetab(*c))
      c++;
    const char *t = c;
    while (t <= last && !spacetab(*t) && *t != '\0')
      t++;
    if (c > last || t > last)
      return -ENOEXEC;
    i_end = last;
  }
  while (spacetab(i_end[-1]))
    i_end--;
  const char *name = buf + 2;
  while (name < i_end && spacetab(*name))
    name++;
  if (name >= i_end)
    return -ENOEXEC; /* no interpreter named */
  const char *sep = name;
  while (sep < i_end && !spacetab(*sep) && *sep != '\0')
    sep++;
  size_t n = (size_t)(sep - name);
  if (n + 1 > size)
    return -ENAMETOOLONG;
  memcpy(interp, name, n);
  interp[n] = '\0';
  return 1;
}
