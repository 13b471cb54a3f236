/* -v's report of what the sandbox refused, printed at exit: for each kind
 * of thing refused (a hidden path, a missing one, a network destination, a
 * DNS name, or any other call a rule refused, by the call's name, so that a
 * new kind of rule shows up without a change here), how many, and the most
 * frequent ones with the rule that decided.
 *
 * Cheap where it matters: nothing is counted for a call that is performed
 * (the common case); a refusal costs a lock and a scan of at most
 * REPORT_SLOTS entries, in memory allocated once, at start. A flood of
 * distinct refusals keeps the most frequent ones ("space-saving" counting:
 * an entry that took the place of the least frequent carries that count as
 * its possible excess, and is printed as "<=N"). */
#ifndef USBOX_SENTRY_REPORT_H
#define USBOX_SENTRY_REPORT_H

#include <stdio.h>

/* The kinds the sentry and the network name; any other string is a kind
 * of its own (a call's name). */
#define REPORT_HIDDEN "hidden path"  /* a hide rule matched: the agent saw ENOENT */
#define REPORT_ABSENT "absent path"  /* ENOENT from the filesystem: no rule involved */
#define REPORT_NETWORK "network"     /* a network rule refused a call */
#define REPORT_DNS "dns"             /* the sandbox's resolver refused a name */

#define REPORT_KINDS 8  /* kinds kept; refusals of more are only counted */
#define REPORT_SLOTS 64 /* distinct (subject, rule) pairs kept per kind */
#define REPORT_TOP 10   /* printed per kind */

struct report;

/* NULL when memory is short (then there is no report). */
struct report *report_new(void);
void report_free(struct report *r);
/* One refusal of subject (a path, a destination, a name) of kind, by rule
 * (NULL: none, a missing path). Thread-safe; texts are copied (cut at 159
 * bytes). */
void report_note(struct report *r, const char *kind, const char *subject, const char *rule);
/* The report, "usbox: " lines; nothing when nothing was refused. */
void report_print(struct report *r, FILE *out);

#endif
