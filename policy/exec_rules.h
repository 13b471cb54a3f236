/* Exec rules: which programs the agent may start (--exec-allow GLOB,
 * --exec-deny GLOB, the policy's "exec": {"allow": [...], "deny": [...]}).
 *
 * A rule is a glob over absolute paths of the view. It is decided on the
 * canonical path of every file an execve or execveat would run (the
 * program, and each #! interpreter the kernel would run for it), as the
 * sentry resolves it: after symlinks, in the sandbox's view
 * (sentry/sys_exec.c). A deny match refuses; when any allow rule exists, a
 * path no allow rule matches is refused; deny wins over allow.
 *
 * Globs are fnmatch(3) patterns matched a component at a time: `*`, `?` and
 * `[...]` never match a `/` (so /usr/bin/\* is the files of /usr/bin, not
 * of its subdirectories), and do match a leading dot (/tmp/\* covers
 * /tmp/.x). A component that is exactly `**` matches any number of
 * components, at least one when it ends the glob (/opt/tool/\*\* is
 * everything below /opt/tool).
 *
 * Each rule is matched as written and, once the sandbox's view exists, as
 * resolved there (exec_rule.resolved): its literal part (the components
 * before the first one with a wildcard; the whole path when there is none)
 * with every symlink followed. So --exec-deny /bin/sh also refuses
 * /usr/bin/dash, whatever name runs it, when /bin/sh leads there. The
 * matching is pure and unit-tested (tests/unit/test_exec_rules.c). */
#ifndef USBOX_POLICY_EXEC_RULES_H
#define USBOX_POLICY_EXEC_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct cJSON;

struct exec_rule {
  char *glob;     /* as given (lexically normalised): what an audit line names */
  char *resolved; /* the glob with its literal part resolved in the view; NULL: not known */
};

struct exec_rules {
  struct exec_rule *allow, *deny;
  size_t nallow, ndeny;
};

/* The reason given for a path no allow rule matches. */
#define EXEC_NOT_ALLOWED "not in exec.allow"

void exec_rules_init(struct exec_rules *r);
void exec_rules_free(struct exec_rules *r);
/* Whether there is any rule to check. */
static inline bool exec_rules_any(const struct exec_rules *r)
{
  return r->nallow + r->ndeny > 0;
}
/* --exec-allow GLOB / --exec-deny GLOB: checked (absolute, `**` a whole
 * component, brackets closed, no trailing backslash) and added; what names
 * the source in an error ("--exec-deny", "exec.deny"). */
int exec_rules_add(struct exec_rules *r, bool allow, const char *glob, const char *what,
                   usbox_err_t *err);
/* A deep copy (the sentry's, whose rules it resolves). */
int exec_rules_copy(struct exec_rules *to, const struct exec_rules *from, usbox_err_t *err);
/* The policy's "exec" object: {"allow": [GLOB...], "deny": [GLOB...]}. */
int exec_rules_load_json(struct exec_rules *r, const struct cJSON *obj, usbox_err_t *err);

/* Where a glob's literal part ends: the length of its components before
 * the first one holding a wildcard (or a backslash), without the slash
 * that follows them; the whole length when there is no wildcard. */
size_t exec_glob_literal_len(const char *glob);
/* Whether a canonical absolute path matches a glob (the rules above). */
bool exec_glob_match(const char *glob, const char *path);
/* The rule that refuses path, or NULL when it may run: the deny rule that
 * matched, or NULL with *not_allowed set when an allow list misses it. */
const struct exec_rule *exec_rules_decide(const struct exec_rules *r, const char *path,
                                          bool *not_allowed);

/* What the kernel reads of a file to choose its format (BINPRM_BUF_SIZE),
 * and how many #! interpreters it follows before ELOOP (fs/exec.c allows
 * six formats in a row: the file and five interpreters). */
#define EXEC_HEAD_SIZE 256
#define EXEC_MAX_INTERPRETERS 5

/* The interpreter a "#!" line names, parsed as fs/binfmt_script.c does from
 * the first len bytes of a file (at most EXEC_HEAD_SIZE): 1 with its path in
 * interp, 0 when the file is not a script, -ENOEXEC when the kernel would
 * refuse the line (no name, or one that may be cut off), -ENAMETOOLONG. */
int exec_parse_shebang(const char *head, size_t len, char *interp, size_t size);

#endif
