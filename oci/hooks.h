/* OCI hooks (runtime-spec config.md "POSIX-platform Hooks"): programs the
 * engine asks the runtime to run at points of the container's life, with
 * its state as JSON on stdin. prestart, createRuntime, poststart and
 * poststop run on the host: they come from the engine's config, not from
 * the container, and run as the runtime does (as runc runs them); Docker's
 * network setup is a prestart hook. createContainer and startContainer
 * run inside the container, sandboxed as its processes are. */
#ifndef USBOX_OCI_HOOKS_H
#define USBOX_OCI_HOOKS_H

#include "common/error.h"

struct cJSON;

/* Check a config's "hooks" object: each hook has an absolute path, args
 * and env arrays of strings, a positive timeout. Returns the object as
 * JSON text to keep (in the state, for the hooks of start and delete),
 * "{}" when there is none, or NULL (err). */
char *oci_hooks_check(const struct cJSON *hooks, usbox_err_t *err);

/* Run the hooks of one kind ("prestart", "createRuntime", "poststart",
 * "poststop") on the host, in order, each with state_json on stdin. Stops
 * at the first that fails (exit status, signal, timeout): -1 with err
 * naming it. */
int oci_hooks_run(const char *hooks_json, const char *kind, const char *state_json,
                  usbox_err_t *err);

/* createContainer and startContainer (oci/hooks_inside.c): run inside the
 * container, each started as `usbox exec ID` starts a process (through
 * its monitor, by the sandbox's init), so it has what such a process has
 * and no more; its path is resolved in the container's view. Same order,
 * stdin, timeout and failures as oci_hooks_run; its output goes to the
 * runtime's log (stderr without one), and its last line into err. */
struct oci_runtime;
struct oci_hooks_inside {
  const struct oci_runtime *rt;
  const char *id;         /* the container: its monitor serves the hooks */
  const char *hooks_json; /* the config's hooks (the state's copy) */
  const char *kind;       /* "createContainer" or "startContainer" */
  const char *state_json; /* the state, for their stdin */
};
int oci_hooks_run_inside(const struct oci_hooks_inside *o, usbox_err_t *err);

#endif
