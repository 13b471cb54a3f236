/* usbox syscalls [--format table|json|csv]: the syscall table, as the
 * sandbox applies it. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/verbs.h"
#include "table/arg_rules.h"
#include "sentry/supervisor.h"
#include "table/syscall_table.h"

static const char *errno_col(const struct syscall_entry *e, char buf[16])
{
  return e->disposition == SC_DENY ? errno_name(e->deny_errno, buf) : "";
}

static void print_table(void)
{
  char b[16];
  printf("%-4s %-24s %-8s %-8s %-11s %s\n", "NR", "NAME", "FAMILY", "ACTION", "ERRNO", "NOTE");
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    printf("%-4d %-24s %-8s %-8s %-11s %s\n", e->nr, e->name, e->family,
           syscall_disposition_name(e->disposition), errno_col(e, b), e->note);
  }
  printf("\nargument rules (denied uses of calls otherwise passed to the kernel):\n");
  for (size_t i = 0; i < usbox_arg_rule_count; i++) {
    const struct arg_rule *r = &usbox_arg_rules[i];
    char value[24] = "";
    if (r->test == ARG_TEST_EQ)
      snprintf(value, sizeof value, " equals 0x%x", r->value);
    printf("  %-10s arg%d %s 0x%x%s -> %s: %s\n", r->syscall, r->arg,
           r->test == ARG_TEST_ANY ? "has any of" : "masked", r->mask, value,
           errno_name(r->deny_errno, b), r->note);
  }
  printf("\nargument passes (uses of emulated calls BPF lets through; not with --audit or -v):\n");
  for (size_t i = 0; i < usbox_arg_pass_count; i++) {
    const struct arg_pass *p = &usbox_arg_passes[i];
    printf("  %-10s", p->syscall);
    for (int a = 0; a < 3; a++)
      if (p->mask[a] != 0)
        printf(" arg%d&0x%x==%u", a, p->mask[a], p->value[a]);
    printf(": %s\n", p->note);
  }
  printf("\nnumbers not listed: ENOSYS; ia32 and x32 calls: the process is killed\n");
}

static void print_csv(void)
{
  char b[16];
  printf("nr,name,family,action,errno,note\n");
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    printf("%d,%s,%s,%s,%s,\"%s\"\n", e->nr, e->name, e->family,
           syscall_disposition_name(e->disposition), errno_col(e, b), e->note);
  }
}

static int print_json(void)
{
  char b[16];
  cJSON *root = cJSON_CreateObject();
  cJSON *list = cJSON_AddArrayToObject(root, "syscalls");
  for (size_t i = 0; i < usbox_syscall_count; i++) {
    const struct syscall_entry *e = &usbox_syscall_table[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "nr", e->nr);
    cJSON_AddStringToObject(o, "name", e->name);
    cJSON_AddStringToObject(o, "family", e->family);
    cJSON_AddStringToObject(o, "action", syscall_disposition_name(e->disposition));
    if (e->disposition == SC_DENY)
      cJSON_AddStringToObject(o, "errno", errno_name(e->deny_errno, b));
    cJSON_AddStringToObject(o, "note", e->note);
    cJSON_AddItemToArray(list, o);
  }
  cJSON *rules = cJSON_AddArrayToObject(root, "argument_rules");
  for (size_t i = 0; i < usbox_arg_rule_count; i++) {
    const struct arg_rule *r = &usbox_arg_rules[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "syscall", r->syscall);
    cJSON_AddNumberToObject(o, "arg", r->arg);
    cJSON_AddStringToObject(o, "test", r->test == ARG_TEST_ANY ? "any" : "eq");
    cJSON_AddNumberToObject(o, "mask", r->mask);
    cJSON_AddNumberToObject(o, "value", r->value);
    cJSON_AddStringToObject(o, "errno", errno_name(r->deny_errno, b));
    cJSON_AddStringToObject(o, "note", r->note);
    cJSON_AddItemToArray(rules, o);
  }
  cJSON *passes = cJSON_AddArrayToObject(root, "argument_passes");
  for (size_t i = 0; i < usbox_arg_pass_count; i++) {
    const struct arg_pass *p = &usbox_arg_passes[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "syscall", p->syscall);
    cJSON *tests = cJSON_AddArrayToObject(o, "tests");
    for (int a = 0; a < 3; a++) {
      if (p->mask[a] == 0)
        continue;
      cJSON *t = cJSON_CreateObject();
      cJSON_AddNumberToObject(t, "arg", a);
      cJSON_AddNumberToObject(t, "mask", p->mask[a]);
      cJSON_AddNumberToObject(t, "value", p->value[a]);
      cJSON_AddItemToArray(tests, t);
    }
    cJSON_AddStringToObject(o, "note", p->note);
    cJSON_AddItemToArray(passes, o);
  }
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (text == NULL)
    return USBOX_EXIT_ERROR;
  puts(text);
  cJSON_free(text);
  return 0;
}

int cmd_syscalls(int argc, char **argv)
{
  static const struct option options[] = {
      {"format", required_argument, NULL, 'f'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *format = "table";
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "f:h", options, NULL)) != -1) {
    if (c == 'f') {
      format = optarg;
    } else if (c == 'h') {
      printf("usage: usbox syscalls [--format table|json|csv]\n");
      return 0;
    } else {
      fprintf(stderr, "usbox: syscalls: unknown option '%s'\n", argv[optind - 1]);
      return USBOX_EXIT_ERROR;
    }
  }
  if (strcmp(format, "table") == 0)
    print_table();
  else if (strcmp(format, "csv") == 0)
    print_csv();
  else if (strcmp(format, "json") == 0)
    return print_json();
  else {
    fprintf(stderr, "usbox: syscalls: unknown format '%s' (table, json, csv)\n", format);
    return USBOX_EXIT_ERROR;
  }
  return 0;
}
