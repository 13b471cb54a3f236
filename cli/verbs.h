#ifndef USBOX_CLI_VERBS_H
#define USBOX_CLI_VERBS_H

/* One file per verb; each parses its own options and calls the library. */
int cmd_exec(int argc, char **argv);
int cmd_syscalls(int argc, char **argv);
int cmd_check(int argc, char **argv);
/* reviewing --overlay sessions (docs/overlay.md) */
int cmd_diff(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_discard(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_policy(int argc, char **argv);
/* the OCI runtime's (runc's contract: docs/oci.md) */
int cmd_create(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_spec(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_update(int argc, char **argv);
/* runc's `exec ID` (cmd_exec_oci.c), told apart from `usbox exec -- PROGRAM` */
int cmd_exec_oci(int argc, char **argv);
#include <stdbool.h>
bool cli_exec_is_oci(int argc, char **argv);

#endif
