/* usbox: a userspace syscall-interception sandbox for AI agents. */
#include <stdio.h>
#include <string.h>

#include "cli/verbs.h"
#include "sentry/supervisor.h"

#ifndef USBOX_VERSION
#define USBOX_VERSION "0.1.0"
#endif

struct verb {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct verb verbs[] = {
    {"exec", cmd_exec, "run a program in the sandbox"},
    {"syscalls", cmd_syscalls, "print what the sandbox does with each system call"},
    {"check", cmd_check, "probe which layers of the sandbox this host supports"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "show this help"},
};

static int cmd_version(int argc, char **argv)
{
  (void)argc, (void)argv;
  printf("usbox %s\n", USBOX_VERSION);
  return 0;
}

static int cmd_help(int argc, char **argv)
{
  (void)argc, (void)argv;
  printf("usage: usbox VERB [OPTIONS] ...\n\nverbs:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
  printf("\n`usbox VERB --help` describes a verb's options. Documentation: docs/cli.md\n");
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    cmd_help(0, NULL);
    return USBOX_EXIT_ERROR;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return cmd_help(0, NULL);
  if (strcmp(argv[1], "--version") == 0)
    return cmd_version(0, NULL);
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[1], verbs[i].name) == 0)
      return verbs[i].run(argc - 1, argv + 1);
  fprintf(stderr, "usbox: unknown verb '%s' (try 'usbox help')\n", argv[1]);
  return USBOX_EXIT_ERROR;
}
