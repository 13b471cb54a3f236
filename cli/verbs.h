#ifndef USBOX_CLI_VERBS_H
#define USBOX_CLI_VERBS_H

/* One file per verb; each parses its own options and calls the library. */
int cmd_exec(int argc, char **argv);
int cmd_syscalls(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
