/* usbox policy check FILE | usbox policy show: a policy as JSON (the
 * format of docs/policy.md), with every key and the defaults merged.
 *
 * A policy is built in layers, each applied over the one before, as `usbox
 * exec` builds it: the defaults (policy_init), then what is given in order
 * (policy files, flags). A layer is a policy as JSON text. A preset is one
 * more layer, applied right after the defaults so that files and flags
 * override it: `usbox policy show --preset NAME` is `show` with that
 * layer ({"preset": NAME}: policy/preset.c). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/verbs.h"
#include "platform/seccomp_filter.h"
#include "policy/policy.h"
#include "policy/seccomp_profile.h"
#include "sentry/supervisor.h"

struct layer {
  const char *json; /* the policy */
  const char *name; /* where it comes from, for messages ("p.json", "preset high") */
};

/* The defaults, then each layer in order. */
static int build(struct policy *p, const struct layer *layers, size_t n, usbox_err_t *err)
{
  policy_init(p);
  for (size_t i = 0; i < n; i++)
    if (policy_load_named(p, layers[i].json, layers[i].name, err) < 0)
      return -1;
  return 0;
}

/* The seccomp profile a policy names, read and compiled as `usbox exec`
 * would for an agent of usbox's own user. */
static int check_profile(struct policy *q, usbox_err_t *err)
{
  if (q->seccomp_profile == NULL)
    return 0;
  policy_resolve_caps(q, geteuid() == 0);
  struct seccomp_profile_source src = {.file = q->seccomp_profile, .name = q->seccomp_profile};
  struct bpf_program prog = {0};
  unsigned flags;
  int rc = seccomp_profile_compile(&src, q->keep_caps, &prog, &flags, err);
  usbox_filter_free(&prog);
  return rc;
}

/* Whether `usbox exec` would take it: the checks that need the whole
 * picture and this host (two mounts at one place, a path bound and
 * hidden, a network rule that can never match, the seccomp profile), made
 * on a copy built alike, since they complete it for a run (the hidden
 * paths expanded). */
static int validate(const struct layer *layers, size_t n, usbox_err_t *err)
{
  struct policy q;
  int rc = build(&q, layers, n, err);
  if (rc == 0 && (net_policy_finish(&q, err) < 0 || policy_finish(&q, err) < 0 ||
                  check_profile(&q, err) < 0))
    rc = n > 0 ? usbox_err_wrap(err, "policy %s", layers[n - 1].name) : -1;
  policy_free(&q);
  return rc;
}

/* The effective policy on stdout: the layers over the defaults, and the
 * view's own defaults (the read-only root, the private /tmp). */
static int print_policy(const struct layer *layers, size_t n)
{
  usbox_err_t err = {0};
  struct policy p;
  int rc = build(&p, layers, n, &err);
  if (rc == 0)
    rc = validate(layers, n, &err);
  if (rc == 0)
    rc = policy_complete_view(&p, &err);
  cJSON *json = rc == 0 ? policy_to_json(&p) : NULL;
  char *text = json != NULL ? cJSON_Print(json) : NULL;
  if (rc == 0 && text == NULL)
    rc = usbox_err_set(&err, ENOMEM, "writing the policy as JSON");
  if (rc == 0)
    printf("%s\n", text);
  else
    usbox_err_print(&err);
  free(text);
  cJSON_Delete(json);
  policy_free(&p);
  return rc == 0 ? 0 : USBOX_EXIT_ERROR;
}

static void usage(FILE *out)
{
  fprintf(out, "usage: usbox policy check FILE   check a policy file (docs/policy.md; -: stdin)\n"
               "                                 and print the policy it makes, defaults merged,\n"
               "                                 as JSON\n"
               "       usbox policy show [--preset LEVEL]  print the default policy (or a\n"
               "                                 preset's: low, medium, high, critical) as JSON\n"
               "\n"
               "A bad policy is one line naming the JSON path of the problem, and exit 125.\n");
}

int cmd_policy(int argc, char **argv)
{
  const char *what = argc > 1 ? argv[1] : NULL;
  if (what != NULL && (strcmp(what, "-h") == 0 || strcmp(what, "--help") == 0)) {
    usage(stdout);
    return 0;
  }
  if (what != NULL && strcmp(what, "check") == 0) {
    if (argc != 3 || (argv[2][0] == '-' && argv[2][1] != '\0')) {
      fprintf(stderr, "usbox: policy check: %s (usage: usbox policy check FILE)\n",
              argc < 3 ? "no file given" : argc > 3 ? "one file only" : "no options");
      return USBOX_EXIT_ERROR;
    }
    /* "-": the standard input (`usbox policy show | usbox policy check -`),
     * read once: the policy is built twice (validate) */
    usbox_err_t err = {0};
    char *text = policy_read_file(strcmp(argv[2], "-") == 0 ? "/dev/stdin" : argv[2], &err);
    if (text == NULL) {
      usbox_err_print(&err);
      return USBOX_EXIT_ERROR;
    }
    const struct layer file = {.json = text, .name = argv[2]};
    int code = print_policy(&file, 1);
    free(text);
    return code;
  }
  if (what != NULL && strcmp(what, "show") == 0) {
    if (argc == 4 && strcmp(argv[2], "--preset") == 0) {
      /* a preset is a layer over the defaults (policy/preset.h) */
      char text[64];
      snprintf(text, sizeof text, "{\"preset\": \"%.32s\"}", argv[3]);
      const struct layer preset = {.json = text, .name = "--preset"};
      return print_policy(&preset, 1);
    }
    if (argc != 2) {
      fprintf(stderr, "usbox: policy show: '%s' is not known (usage: usbox policy show "
                      "[--preset LEVEL])\n", argv[2]);
      return USBOX_EXIT_ERROR;
    }
    return print_policy(NULL, 0);
  }
  if (what == NULL)
    fprintf(stderr, "usbox: policy: check or show? (usage: usbox policy check FILE | show)\n");
  else
    fprintf(stderr, "usbox: policy: unknown command '%s' (check, show)\n", what);
  return USBOX_EXIT_ERROR;
}
