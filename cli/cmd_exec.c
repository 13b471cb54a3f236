/* usbox exec [OPTIONS] [--] PROGRAM [ARGS...] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/verbs.h"
#include "common/log.h"
#include "sentry/supervisor.h"

static void usage(FILE *out)
{
  fprintf(out,
          "usage: usbox exec [OPTIONS] [--] PROGRAM [ARGS...]\n"
          "\n"
          "Run PROGRAM in the sandbox. Its exit status is usbox's; killed by signal N\n"
          "gives 128+N; usbox's own errors give 125, a program that cannot be run 126,\n"
          "one that is not found 127.\n"
          "\n"
          "options:\n"
          "  --audit FILE   append one JSON line per sandbox decision to FILE\n"
          "  -v, --verbose  print a summary of emulated and denied calls at exit\n"
          "                 (-vv: debug messages)\n"
          "  -q, --quiet    no warnings\n"
          "  -h, --help     this help\n");
}

int cmd_exec(int argc, char **argv)
{
  static const struct option options[] = {
      {"audit", required_argument, NULL, 'a'},
      {"verbose", no_argument, NULL, 'v'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct exec_config cfg = {0};
  int verbosity = 1;
  opterr = 0;
  optind = 1;
  int c;
  /* "+": options end at the program's name, so its own flags stay its own */
  while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
    switch (c) {
    case 'a':
      cfg.audit_path = optarg;
      break;
    case 'v':
      verbosity++;
      break;
    case 'q':
      verbosity = 0;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      if (optopt != 0)
        fprintf(stderr, "usbox exec: option '-%c' %s\n", optopt,
                strchr("a", optopt) ? "needs an argument" : "is not known");
      else
        fprintf(stderr, "usbox exec: option '%s' is not known or lacks its argument\n",
                argv[optind - 1]);
      return USBOX_EXIT_ERROR;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "usbox exec: no program given (usage: usbox exec [OPTIONS] -- PROGRAM)\n");
    return USBOX_EXIT_ERROR;
  }
  usbox_verbosity = verbosity;
  cfg.count_denials = verbosity >= 2;
  cfg.argv = argv + optind;
  return supervisor_exec(&cfg);
}
