/* Presets (docs/policy.md "Presets"): the four risk levels of the isolation
 * guide this project grew from, as settings of usbox's layers. A preset is
 * applied where it stands on the command line: flags and --policy after it
 * override it. */
#ifndef USBOX_POLICY_PRESET_H
#define USBOX_POLICY_PRESET_H

#include "common/error.h"
#include "policy/policy.h"

/* --preset low|medium|high|critical (policy "preset"). */
int policy_apply_preset(struct policy *p, const char *name, usbox_err_t *err);
/* What a preset requires of the finished policy (critical: an explicit
 * policy file with limits and an exec allow list). */
int policy_check_preset(const struct policy *p, usbox_err_t *err);

#endif
