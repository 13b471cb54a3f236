/* The runtime's global options (runc's: --root, --log, --log-format,
 * --debug, --systemd-cgroup), read by main.c before the verb, and what the
 * OCI verbs share. */
#ifndef USBOX_CLI_OCI_ARGS_H
#define USBOX_CLI_OCI_ARGS_H

#include "oci/runtime.h"

extern struct oci_runtime cli_runtime;
/* a global option came before the verb (runc's form, then) */
extern bool cli_global_options_given;

/* The one positional argument a verb takes (the container id): it or an
 * error (NULL). */
const char *cli_container_id(const char *verb, int argc, char **argv, int optind);

#endif
