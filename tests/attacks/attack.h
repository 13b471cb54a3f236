/* Shared by the attack programs (tests/attacks/NAME.c). Each program runs inside
 * the sandbox (`usbox exec -- PROG`) or, with --native, directly on the host
 * for contrast, and prints one line per check:
 *
 *   ok NAME
 *   FAIL NAME: detail
 *
 * Lines starting with "# " are notes. The program exits 1 if any check
 * failed, 0 otherwise. Every program also accepts --exit N (exit at once with
 * status N; tests/integration/test_attacks.sh uses it to check that usbox
 * passes the agent's status on).
 *
 * Only this header is shared; each program is a single translation unit. */
#ifndef USBOX_TESTS_ATTACK_H
#define USBOX_TESTS_ATTACK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int attack_failures;
static int attack_checks;
static bool attack_native; /* --native: running outside the sandbox */

__attribute__((format(printf, 2, 3))) static inline void fail(const char *name, const char *fmt, ...)
{
  char detail[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  printf("FAIL %s: %s\n", name, detail);
  fflush(stdout);
  attack_failures++;
  attack_checks++;
}

static inline void ok(const char *name)
{
  printf("ok %s\n", name);
  fflush(stdout);
  attack_checks++;
}

__attribute__((format(printf, 1, 2))) static inline void note(const char *fmt, ...)
{
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  printf("# %s\n", text);
  fflush(stdout);
}

/* ok if cond, else FAIL with the detail. Returns cond. */
__attribute__((format(printf, 3, 4))) static inline bool check(const char *name, bool cond,
                                                         const char *fmt, ...)
{
  if (cond) {
    ok(name);
    return true;
  }
  char detail[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  fail(name, "%s", detail);
  return false;
}

static inline const char *errname(int e)
{
  const char *n = strerrorname_np(e);
  return n != NULL ? n : "E?";
}

/* What a call should give. */
enum expect_kind {
  EX_NONE,  /* not run in this mode (a sandbox-only or native-only check) */
  EX_ERR,   /* fails with exactly this errno */
  EX_NOT,   /* anything but failing with this errno (the native contrast:
              the kernel itself does not answer what the sandbox answers) */
  EX_OK,    /* succeeds (>= 0) */
  EX_FAIL,  /* fails, with this errno or ENOSYS (a seccomp profile on top may
             * answer a call the sentry refuses with its own errno first) */
};
struct expect {
  enum expect_kind kind;
  int err;
};
#define ERR(e) ((struct expect){EX_ERR, (e)})
#define NOT(e) ((struct expect){EX_NOT, (e)})
#define SUCCEEDS ((struct expect){EX_OK, 0})
#define NOT_RUN ((struct expect){EX_NONE, 0})
#define ERR_OR_ENOSYS(e) ((struct expect){EX_FAIL, (e)})

static inline void describe_result(char *buf, size_t size, long ret, int err)
{
  if (ret == -1)
    snprintf(buf, size, "-1 %s", errname(err));
  else
    snprintf(buf, size, "%ld", ret);
}

/* Judge one result against an expectation. Returns true when as expected. */
static inline bool judge(const char *name, struct expect x, long ret, int err)
{
  char got[64];
  describe_result(got, sizeof got, ret, err);
  switch (x.kind) {
  case EX_NONE:
    return true;
  case EX_ERR:
    return check(name, ret == -1 && err == x.err, "got %s, want -1 %s", got, errname(x.err));
  case EX_NOT:
    return check(name, !(ret == -1 && err == x.err), "got %s, want anything but -1 %s", got,
                 errname(x.err));
  case EX_OK:
    return check(name, ret >= 0, "got %s, want success", got);
  case EX_FAIL:
    return check(name, ret == -1 && (err == x.err || err == ENOSYS), "got %s, want -1 %s or ENOSYS",
                 got, errname(x.err));
  }
  return false;
}

/* The expectation for the current mode. */
static inline struct expect mode_expect(struct expect sandbox, struct expect native)
{
  return attack_native ? native : sandbox;
}

/* Run a call with the expectation of the current mode; r_out gets its
 * result (so that a call that unexpectedly succeeded can be undone). */
#define EXPECT_CALL(name, sandbox_x, native_x, expr)                                               \
  ({                                                                                               \
    struct expect x_ = mode_expect((sandbox_x), (native_x));                                      \
    long r_ = -1;                                                                                  \
    if (x_.kind != EX_NONE) {                                                                       \
      errno = 0;                                                                                   \
      r_ = (long)(expr);                                                                           \
      judge((name), x_, r_, errno);                                                                \
    }                                                                                              \
    r_;                                                                                            \
  })

/* Result of a call made in a child process, reported through shared memory. */
struct child_result {
  long ret;
  int err;
  int done;
};

static inline struct child_result *shared_result(void)
{
  void *p = mmap(NULL, sizeof(struct child_result), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  memset(p, 0, sizeof(struct child_result));
  return p;
}

/* Describe a wait status ("exit 3", "signal 31 (SIGSYS)"). */
static inline void describe_status(char *buf, size_t size, int st)
{
  if (WIFEXITED(st))
    snprintf(buf, size, "exit %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(buf, size, "signal %d (SIG%s)", WTERMSIG(st), sigabbrev_np(WTERMSIG(st)) ?: "?");
  else
    snprintf(buf, size, "status 0x%x", st);
}

/* fork, flushing stdio first so that nothing is printed twice. */
static inline pid_t attack_fork(void)
{
  fflush(stdout);
  fflush(stderr);
  return fork();
}

/* waitpid that retries on EINTR; returns the status or -1. */
static inline int wait_status(pid_t pid)
{
  int st;
  pid_t r;
  do
    r = waitpid(pid, &st, __WALL);
  while (r < 0 && errno == EINTR);
  return r == pid ? st : -1;
}

/* Common argument handling: --native and --exit N. Other arguments are left
 * for the program (argv is compacted; returns the new argc). */
static inline int attack_init(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  int out = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--native") == 0) {
      attack_native = true;
    } else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) {
      exit(atoi(argv[i + 1]));
    } else {
      argv[out++] = argv[i];
    }
  }
  argv[out] = NULL;
  /* a hung sandbox must not hang the test: the script's timeout is a second net */
  alarm(120);
  return out;
}

static inline int attack_finish(const char *program)
{
  if (attack_checks == 0) {
    printf("FAIL %s: no check ran\n", program);
    return 1;
  }
  printf("# %s (%s): %d checks, %d failed\n", program, attack_native ? "native" : "sandbox",
         attack_checks, attack_failures);
  return attack_failures > 0 ? 1 : 0;
}

#endif
