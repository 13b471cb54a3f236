/* What a preset (policy/preset.h) asks of one `usbox exec` run once its
 * program and environment are known: low's exec allow list (the program
 * itself, and the interpreter of its #! line), high's and critical's
 * audit log (in the state directory unless --audit names one). */
#ifndef USBOX_CLI_EXEC_PRESET_H
#define USBOX_CLI_EXEC_PRESET_H

#include <limits.h>

#include "common/error.h"
#include "policy/policy.h"

/* audit_path: --audit's, or NULL; a default is written into audit_buf and
 * *audit_path pointed at it. */
int exec_preset_finish(struct policy *p, char *const *argv, char *const *envp,
                       const char **audit_path, char audit_buf[PATH_MAX], usbox_err_t *err);

#endif
