/* The nested-listener bypass. The kernel sends a user notification to the
 * newest filter that asks for one, so an agent that installs its own filter
 * with SECCOMP_FILTER_FLAG_NEW_LISTENER, returning USER_NOTIF for openat,
 * gets openat's notifications instead of usbox, answers them with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE, and the kernel opens whatever the agent
 * asked for without usbox ever seeing it.
 *
 * Natively (--native) the whole attack works and the program shows it: the
 * filter installs, its own supervisor thread receives the openat and
 * CONTINUEs it, and the open succeeds. In the sandbox installing the filter
 * must fail with EPERM (table/arg_rules.def), and nothing is notified.
 *
 * Also: a USER_NOTIF filter without a listener (allowed) cannot be used to
 * skip usbox either: the newest filter wins and, having no listener, fails
 * the call with ENOSYS, in both modes.
 *
 * usage: nested_listener [--native] */
#include "attack.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

/* Results of the attack, written by the child that performs it. */
struct attack_result {
  long install_ret;
  int install_err;
  int notified;       /* notifications the agent's own supervisor received */
  int notified_nr;    /* the syscall number of the first */
  int continued;      /* answered with CONTINUE */
  long open_ret;
  int open_err;
  int same_file;      /* the fd is the file asked for */
  int done;
};

/* openat and open -> USER_NOTIF, everything else allowed. */
static struct sock_filter notify_open[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_open, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
};
static struct sock_fprog notify_open_prog = {sizeof notify_open / sizeof notify_open[0],
                                             notify_open};

struct supervisor {
  int listener;
  struct attack_result *res;
};

/* The agent's own supervisor: CONTINUE every notification. */
static void *supervisor_main(void *p)
{
  struct supervisor *s = p;
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
    return NULL;
  struct seccomp_notif *req = calloc(1, sizes.seccomp_notif + sizeof *req);
  struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp + sizeof *resp);
  if (req == NULL || resp == NULL)
    return NULL;
  for (;;) {
    memset(req, 0, sizes.seccomp_notif);
    if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR || errno == ENOENT)
        continue;
      return NULL;
    }
    if (__atomic_fetch_add(&s->res->notified, 1, __ATOMIC_SEQ_CST) == 0)
      s->res->notified_nr = req->data.nr;
    memset(resp, 0, sizes.seccomp_notif_resp);
    resp->id = req->id;
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, resp) == 0)
      __atomic_fetch_add(&s->res->continued, 1, __ATOMIC_SEQ_CST);
  }
}

/* In a child (the filter stays with it): install, serve, open. */
static _Noreturn void perform_attack(struct attack_result *res, const char *target)
{
  struct stat want;
  if (stat(target, &want) < 0)
    _exit(3);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    _exit(4);
  errno = 0;
  res->install_ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                             SECCOMP_FILTER_FLAG_NEW_LISTENER, &notify_open_prog);
  res->install_err = errno;
  if (res->install_ret >= 0) {
    static struct supervisor sup;
    sup.listener = (int)res->install_ret;
    sup.res = res;
    pthread_t t;
    if (pthread_create(&t, NULL, supervisor_main, &sup) != 0)
      _exit(5);
  }
  /* the open the agent wants usbox not to see */
  errno = 0;
  res->open_ret = syscall(SYS_openat, AT_FDCWD, target, O_RDONLY | O_CLOEXEC);
  res->open_err = errno;
  /* the supervisor counts its answer after SEND returns, which may be after
   * this thread already woke up: give it a moment */
  for (int i = 0; i < 1000 && __atomic_load_n(&res->continued, __ATOMIC_SEQ_CST) <
                                  __atomic_load_n(&res->notified, __ATOMIC_SEQ_CST);
       i++)
    usleep(1000);
  struct stat got;
  res->same_file = res->open_ret >= 0 && fstat((int)res->open_ret, &got) == 0 &&
                   got.st_dev == want.st_dev && got.st_ino == want.st_ino;
  res->done = 1;
  _exit(0);
}

static struct attack_result *run_attack(const char *target)
{
  struct attack_result *res = mmap(NULL, sizeof *res, PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (res == MAP_FAILED)
    return NULL;
  memset(res, 0, sizeof *res);
  pid_t pid = attack_fork();
  if (pid == 0)
    perform_attack(res, target);
  int st = pid > 0 ? wait_status(pid) : -1;
  if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !res->done) {
    char sdesc[64];
    describe_status(sdesc, sizeof sdesc, st);
    fail("attack-child", "the attacking child did not finish (%s)", sdesc);
    return NULL;
  }
  return res;
}

/* A USER_NOTIF filter with no listener: the call fails (ENOSYS), it is not
 * performed behind usbox's back. */
static void no_listener_filter(const char *target)
{
  struct child_result *res = shared_result();
  pid_t pid = attack_fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &notify_open_prog) < 0)
      _exit(3);
    errno = 0;
    res->ret = syscall(SYS_openat, AT_FDCWD, target, O_RDONLY | O_CLOEXEC);
    res->err = errno;
    res->done = 1;
    _exit(0);
  }
  int st = pid > 0 ? wait_status(pid) : -1;
  char sdesc[64];
  describe_status(sdesc, sizeof sdesc, st);
  if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !res->done)
    fail("notif-filter-without-listener", "child %s (installing a listener-less filter failed?)",
         sdesc);
  else
    judge("notif-filter-without-listener", ERR(ENOSYS), res->ret, res->err);
}

int main(int argc, char **argv)
{
  attack_init(argc, argv);
  const char *target = "/proc/self/exe"; /* any file both modes can open */
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    target = exe;
  }

  struct attack_result *res = run_attack(target);
  if (res != NULL && attack_native) {
    /* the attack, complete */
    check("nested-listener-installs-native", res->install_ret >= 0,
          "seccomp(NEW_LISTENER) failed natively: %s", errname(res->install_err));
    check("nested-listener-gets-openat-native",
          res->notified >= 1 && res->notified_nr == __NR_openat,
          "own supervisor received %d notifications (first nr %d), want openat (%d)",
          res->notified, res->notified_nr, __NR_openat);
    check("nested-listener-continue-opens-native",
          res->continued >= 1 && res->open_ret >= 0 && res->same_file,
          "continued %d, open returned %ld (%s), same file %d", res->continued, res->open_ret,
          res->open_ret < 0 ? errname(res->open_err) : "fd", res->same_file);
  } else if (res != NULL) {
    judge("nested-listener-denied", ERR(EPERM), res->install_ret, res->install_err);
    check("nested-listener-saw-nothing", res->notified == 0 && res->continued == 0,
          "the agent's own supervisor received %d notifications and continued %d: usbox was "
          "bypassed",
          res->notified, res->continued);
    check("open-still-works", res->open_ret >= 0 && res->same_file,
          "open of %s after the refused filter: %ld (%s), same file %d", target, res->open_ret,
          res->open_ret < 0 ? errname(res->open_err) : "fd", res->same_file);
  }
  no_listener_filter(target);
  return attack_finish("nested_listener");
}
