/* Foreign ABIs are killed. The filter is written for x86_64 numbers; an
 * ia32 call (int $0x80) or an x32 call (number with bit 30 set) would be
 * judged by the wrong table, so the whole process is killed (SIGSYS).
 *
 * Each attempt runs in a forked child, which must die of SIGSYS. Natively,
 * for contrast, int $0x80 getpid returns the pid when the kernel has IA32
 * emulation (if it has none the program says so, prints
 * "# no-ia32-emulation", and the script then tells the sandbox run with
 * --no-ia32, where the child dies before seccomp sees anything); an x32
 * number is not killed (ENOSYS, or the pid on kernels with x32).
 *
 * usage: abi [--native] [--no-ia32]
 *        abi --self-ia32 | --self-x32   (make the call in the main process:
 *                                        usbox must exit 128+SIGSYS) */
#include "attack.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define X32_BIT 0x40000000L
#define IA32_EXIT 1
#define IA32_GETPID 20

static bool no_ia32;

static long int80(long nr, long a1)
{
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"(a1), "c"(0L), "d"(0L)
                   : "r8", "r9", "r10", "r11", "memory", "cc");
  return ret;
}

enum attempt { IA32_GETPID_CALL, IA32_EXIT_CALL, X32_GETPID_CALL, X32_SPECIFIC_CALL,
               IA32_IN_THREAD };

static void *thread_int80(void *arg)
{
  int80(IA32_GETPID, 0);
  return NULL;
}

/* In the child: make the call. Exit 0 if it returned what the native kernel
 * would, 1 if it returned something else. Killed: the caller sees it. */
static _Noreturn void attempt(enum attempt a)
{
  long r;
  switch (a) {
  case IA32_GETPID_CALL:
    r = int80(IA32_GETPID, 0);
    _exit(r == getpid() ? 0 : 1);
  case IA32_EXIT_CALL:
    int80(IA32_EXIT, 0); /* natively: exit(0) */
    _exit(1);
  case X32_GETPID_CALL:
    r = syscall(X32_BIT | SYS_getpid);
    _exit(r == getpid() || (r == -1 && errno == ENOSYS) ? 0 : 1);
  case X32_SPECIFIC_CALL:
    r = syscall(X32_BIT | 512); /* x32 rt_sigaction */
    _exit(r == -1 ? 0 : 1);
  case IA32_IN_THREAD: {
    /* KILL_PROCESS: the whole process, not only the calling thread */
    pthread_t t;
    if (pthread_create(&t, NULL, thread_int80, NULL) != 0)
      _exit(3);
    pthread_join(t, NULL);
    _exit(0);
  }
  }
  _exit(2);
}

/* Fork, attempt, return the child's wait status (or -1). */
static int run_attempt(enum attempt a)
{
  pid_t pid = attack_fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    attempt(a);
  return wait_status(pid);
}

static void expect_killed(const char *name, enum attempt a)
{
  int st = run_attempt(a);
  char sdesc[64];
  describe_status(sdesc, sizeof sdesc, st);
  bool sigsys = st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
  /* without IA32 emulation int $0x80 faults before seccomp: still killed */
  bool segv_ok = no_ia32 && a != X32_GETPID_CALL && a != X32_SPECIFIC_CALL && st >= 0 &&
                 WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
  check(name, sigsys || segv_ok, "child %s, want killed by SIGSYS", sdesc);
}

static void native_contrast(void)
{
  char sdesc[64];
  int st = run_attempt(IA32_GETPID_CALL);
  describe_status(sdesc, sizeof sdesc, st);
  if (st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
    note("no-ia32-emulation: this kernel has no IA32 emulation (int $0x80 faults with "
         "SIGSEGV); only the sandbox case is asserted");
  } else {
    check("ia32-int80-getpid-native", st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "child %s, want int $0x80 getpid to return the pid (exit 0)", sdesc);
    st = run_attempt(IA32_EXIT_CALL);
    describe_status(sdesc, sizeof sdesc, st);
    check("ia32-int80-exit-native", st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "child %s, want ia32 exit(0)", sdesc);
  }
  st = run_attempt(X32_GETPID_CALL);
  describe_status(sdesc, sizeof sdesc, st);
  check("x32-getpid-native", st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "child %s, want the x32 call to return (ENOSYS or the pid)", sdesc);
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  /* children killed by SIGSYS would dump core: not here */
  struct rlimit nocore = {0, 0};
  setrlimit(RLIMIT_CORE, &nocore);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--no-ia32") == 0) {
      no_ia32 = true;
    } else if (strcmp(argv[i], "--self-ia32") == 0) {
      int80(IA32_GETPID, 0);
      printf("FAIL self-ia32: int $0x80 returned\n");
      return 1;
    } else if (strcmp(argv[i], "--self-x32") == 0) {
      syscall(X32_BIT | SYS_getpid);
      printf("FAIL self-x32: the x32 call returned\n");
      return 1;
    } else {
      fprintf(stderr, "abi: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (attack_native) {
    native_contrast();
  } else {
    if (no_ia32)
      note("told the kernel has no IA32 emulation: int $0x80 may die of SIGSEGV");
    expect_killed("ia32-int80-getpid-killed", IA32_GETPID_CALL);
    expect_killed("ia32-int80-exit-killed", IA32_EXIT_CALL);
    expect_killed("ia32-int80-in-thread-kills-process", IA32_IN_THREAD);
    expect_killed("x32-getpid-killed", X32_GETPID_CALL);
    expect_killed("x32-specific-number-killed", X32_SPECIFIC_CALL);
  }
  return attack_finish("abi");
}
