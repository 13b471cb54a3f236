#include "sentry/report.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXT 160

struct entry {
  uint64_t key; /* of subject and rule */
  unsigned long count;
  unsigned long excess; /* count that may be another's (it took that one's place) */
  char subject[TEXT];
  char rule[TEXT]; /* "": none */
};

struct kind {
  char name[32];
  unsigned long total;
  size_t n;
  struct entry e[REPORT_SLOTS];
};

struct report {
  pthread_mutex_t lock;
  size_t nkinds;
  struct kind kinds[REPORT_KINDS];
  unsigned long untracked; /* refusals of kinds beyond REPORT_KINDS */
};

struct report *report_new(void)
{
  struct report *r = calloc(1, sizeof *r);
  if (r != NULL)
    pthread_mutex_init(&r->lock, NULL);
  return r;
}

void report_free(struct report *r)
{
  if (r == NULL)
    return;
  pthread_mutex_destroy(&r->lock);
  free(r);
}

static uint64_t fnv(uint64_t h, const char *s)
{
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull; /* the end, so that "ab"+"c" is not "a"+"bc" */
}

/* Lock held: the kind's record, made when new; NULL when there is no room. */
static struct kind *kind_of(struct report *r, const char *name)
{
  for (size_t i = 0; i < r->nkinds; i++)
    if (strncmp(r->kinds[i].name, name, sizeof r->kinds[i].name - 1) == 0)
      return &r->kinds[i];
  if (r->nkinds == REPORT_KINDS)
    return NULL;
  struct kind *k = &r->kinds[r->nkinds++];
  snprintf(k->name, sizeof k->name, "%s", name);
  return k;
}

/* Lock held: the entry of (subject, rule) in k, or the one it replaces. */
static struct entry *entry_of(struct kind *k, uint64_t key, const char *subject, const char *rule)
{
  struct entry *least = NULL;
  for (size_t i = 0; i < k->n; i++) {
    struct entry *e = &k->e[i];
    if (e->key == key && strncmp(e->subject, subject, TEXT - 1) == 0 &&
        strncmp(e->rule, rule, TEXT - 1) == 0)
      return e;
    if (least == NULL || e->count < least->count)
      least = e;
  }
  struct entry *e = k->n < REPORT_SLOTS ? &k->e[k->n++] : least;
  e->excess = e->count; /* 0 for a new slot */
  e->key = key;
  snprintf(e->subject, sizeof e->subject, "%s", subject);
  snprintf(e->rule, sizeof e->rule, "%s", rule);
  return e;
}

void report_note(struct report *r, const char *kind, const char *subject, const char *rule)
{
  if (r == NULL)
    return;
  if (rule == NULL)
    rule = "";
  uint64_t key = fnv(fnv(0xcbf29ce484222325ull, subject), rule);
  pthread_mutex_lock(&r->lock);
  struct kind *k = kind_of(r, kind);
  if (k == NULL) {
    r->untracked++;
  } else {
    k->total++;
    entry_of(k, key, subject, rule)->count++;
  }
  pthread_mutex_unlock(&r->lock);
}

/* ---- printing ---- */

static int by_count_desc(const void *a, const void *b)
{
  const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
  return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->subject, y->subject);
}

/* Known kinds first, in this order; the others as they came. */
static int rank(const char *kind)
{
  static const char *const known[] = {REPORT_HIDDEN, REPORT_ABSENT, REPORT_NETWORK, REPORT_DNS};
  for (int i = 0; i < 4; i++)
    if (strcmp(kind, known[i]) == 0)
      return i;
  return 4;
}

static void print_heading(const struct kind *k, FILE *out)
{
  if (strcmp(k->name, REPORT_HIDDEN) == 0)
    fprintf(out, "usbox: hidden paths (a hide rule matched; the agent saw ENOENT)");
  else if (strcmp(k->name, REPORT_ABSENT) == 0)
    fprintf(out, "usbox: absent paths (ENOENT from the filesystem; no rule involved)");
  else if (strcmp(k->name, REPORT_NETWORK) == 0)
    fprintf(out, "usbox: refused network calls");
  else if (strcmp(k->name, REPORT_DNS) == 0)
    fprintf(out, "usbox: refused DNS names");
  else
    fprintf(out, "usbox: refused %s calls", k->name);
  fprintf(out, ": %lu\n", k->total);
}

static void print_kind(const struct kind *k, FILE *out)
{
  const struct entry *sorted[REPORT_SLOTS];
  for (size_t i = 0; i < k->n; i++)
    sorted[i] = &k->e[i];
  qsort(sorted, k->n, sizeof sorted[0], by_count_desc);
  print_heading(k, out);
  size_t shown = k->n < REPORT_TOP ? k->n : REPORT_TOP;
  unsigned long listed = 0;
  for (size_t i = 0; i < shown; i++) {
    const struct entry *e = sorted[i];
    listed += e->count - e->excess;
    fprintf(out, "usbox:   %s%lu %s", e->excess > 0 ? "<=" : "", e->count, e->subject);
    if (e->rule[0] != '\0')
      fprintf(out, " (%s)", e->rule);
    fputc('\n', out);
  }
  if (k->total > listed)
    fprintf(out, "usbox:   and %lu more\n", k->total - listed);
}

void report_print(struct report *r, FILE *out)
{
  if (r == NULL)
    return;
  pthread_mutex_lock(&r->lock);
  for (int want = 0; want <= 4; want++)
    for (size_t i = 0; i < r->nkinds; i++)
      if (rank(r->kinds[i].name) == want)
        print_kind(&r->kinds[i], out);
  if (r->untracked > 0)
    fprintf(out, "usbox: %lu more refusals, of other kinds\n", r->untracked);
  pthread_mutex_unlock(&r->lock);
}
