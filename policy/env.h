/* The agent's environment. By default it is usbox's own minus the variables
 * whose names look like secrets (cloud keys, API tokens, passwords, agent
 * sockets: docs/policy.md has the rule and the lists); --env, --unsetenv,
 * --clearenv and the policy's "env" object change that. It is built once,
 * before anything starts, and given to the agent's execve whole: nothing
 * changes it afterwards. Values are never printed (an error names the
 * variable only). */
#ifndef USBOX_POLICY_ENV_H
#define USBOX_POLICY_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct cJSON;

enum env_action {
  ENV_SET,   /* --env NAME=VALUE: the agent gets this value */
  ENV_KEEP,  /* --env NAME: usbox's own value, even if the name looks secret */
  ENV_UNSET, /* --unsetenv NAME: the agent does not get NAME */
};

/* One rule per name: a later rule for the same name replaces the earlier
 * one (flags after --policy win over the file, as everywhere). */
struct env_rule {
  char *name;
  char *value; /* ENV_SET only */
  enum env_action action;
};

struct env_policy {
  struct env_rule *rules;
  size_t nrules;
  bool clear; /* --clearenv: start from nothing, not from usbox's environment */
};

void env_policy_init(struct env_policy *e);
void env_policy_free(struct env_policy *e);

/* --env NAME=VALUE (set) or --env NAME (keep). */
int env_policy_add(struct env_policy *e, const char *spec, usbox_err_t *err);
/* --unsetenv NAME */
int env_policy_unset(struct env_policy *e, const char *name, usbox_err_t *err);
/* The "env" object of a JSON policy:
 * {"set": {"NAME": "VALUE"}, "keep": ["NAME"], "unset": ["NAME"], "clear": true}.
 * A name given twice in one object is an error (the object has no order). */
int env_policy_load_json(struct env_policy *e, const struct cJSON *obj, usbox_err_t *err);
/* The same object, written from the rules (the loader reads it back as the
 * same; values included: it is the policy, for whoever may read it). NULL
 * when memory is short. */
struct cJSON *env_policy_to_json(const struct env_policy *e);

/* Whether a variable's name looks like it holds a secret. name ends at its
 * first '=' or at the end of the string, so a whole "NAME=VALUE" entry may
 * be passed. Case does not matter. (Pure; unit-tested.) */
bool env_name_looks_secret(const char *name);

struct env_result {
  char **envp;            /* NULL-terminated "NAME=VALUE" strings, owned */
  size_t n;               /* entries of envp */
  const char **withheld;  /* the host's entries left out because their names look
                             secret (pointers into the host's array: print
                             the name only, up to '=') */
  size_t nwithheld;
};

/* The agent's environment from usbox's own (host, NULL-terminated) and the
 * policy: rules decide for their names; without one a variable passes
 * unless --clearenv or its name looks secret. Pure (unit-tested). */
int env_build(const struct env_policy *e, char *const *host, struct env_result *out,
              usbox_err_t *err);
void env_result_free(struct env_result *r);

/* The value of NAME in envp, or NULL. */
const char *env_lookup(char *const *envp, const char *name);

#endif
