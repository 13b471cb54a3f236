/* OCI hooks (runtime-spec config.md "POSIX-platform Hooks"): programs the
 * engine asks the runtime to run on the host at points of the container's
 * life, with its state as JSON on stdin. They come from the engine's
 * config, not from the container, and run as the runtime does (as runc
 * runs them). Docker's network setup is a prestart hook. */
#ifndef USBOX_OCI_HOOKS_H
#define USBOX_OCI_HOOKS_H

#include "common/error.h"

struct cJSON;

/* Check a config's "hooks" object: each hook has an absolute path, args
 * and env arrays of strings, a positive timeout. createContainer and
 * startContainer (which run inside the container's namespaces) are
 * refused: not supported yet. Returns the object as JSON text to keep (in
 * the state, for poststop), "{}" when there is none, or NULL (err). */
char *oci_hooks_check(const struct cJSON *hooks, usbox_err_t *err);

/* Run the hooks of one kind ("prestart", "createRuntime", "poststart",
 * "poststop") in order, each with state_json on stdin. Stops at the first
 * that fails (exit status, signal, timeout): -1 with err naming it. */
int oci_hooks_run(const char *hooks_json, const char *kind, const char *state_json,
                  usbox_err_t *err);

#endif
