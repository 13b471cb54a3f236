/* Capability names (CAP_CHOWN ... CAP_CHECKPOINT_RESTORE) and their numbers,
 * shared by --cap-add and the seccomp profile's includes/excludes. */
#ifndef USBOX_POLICY_CAPS_H
#define USBOX_POLICY_CAPS_H

/* NAME or CAP_NAME, any case: its number, or -1 if unknown. */
int policy_cap_number(const char *name);
/* Capability n's name without CAP_ ("CHOWN"), or NULL if unknown. */
const char *policy_cap_name(int n);

#endif
