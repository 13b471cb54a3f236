/* usbox check: which of the sandbox's layers this host supports, probed for
 * real (each probe runs in a throwaway child, so nothing here changes the
 * host). */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <liburing.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/verbs.h"
#include "common/landlock.h"
#include "gofer/confine.h"
#include "platform/unotify.h"
#include "sentry/supervisor.h"

/* Run probe in a child; its exit status 0 means "works". */
static int in_child(int (*probe)(void))
{
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    _exit(probe() == 0 ? 0 : 1);
  int st;
  if (waitpid(pid, &st, 0) < 0)
    return -1;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A filter that sends getppid to a listener; the listener answers it. */
static int probe_unotify_with(unsigned long flags, bool addfd, bool sync)
{
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), /* nr */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = 4, .filter = insns};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return -1;
  int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                              SECCOMP_FILTER_FLAG_NEW_LISTENER | flags, &prog);
  if (listener < 0)
    return -1;
  if (sync && unotify_set_sync_wakeup(listener) < 0)
    return -1;
  pid_t pid = fork(); /* inherits the filter: the call to answer */
  if (pid == 0) {
    long r = syscall(SYS_getppid);
    _exit(r == (addfd ? 3 : 42) || (addfd && r >= 0) ? 0 : 1);
  }
  struct unotify_sizes sizes;
  if (unotify_sizes(&sizes) < 0)
    return -1;
  struct seccomp_notif *req = calloc(1, sizes.notif);
  if (req == NULL || unotify_recv(listener, req) < 0)
    return -1;
  int r = addfd ? unotify_addfd_send(listener, req->id, 0, true)
                : unotify_respond(listener, req->id, 42, 0, false);
  int st;
  waitpid(pid, &st, 0);
  free(req);
  return r >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int probe_unotify(void) { return probe_unotify_with(0, false, false); }
static int probe_addfd(void) { return probe_unotify_with(0, true, false); }
static int probe_sync(void) { return probe_unotify_with(0, false, true); }
static int probe_killable(void)
{
  return probe_unotify_with(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, false, false);
}

static int probe_pidfd_getfd(void)
{
  int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (pidfd < 0)
    return -1;
  int fd = (int)syscall(SYS_pidfd_getfd, pidfd, 1, 0);
  return fd >= 0 ? 0 : -1;
}

static int probe_userns(void) { return unshare(CLONE_NEWUSER); }
static int probe_mountns(void)
{
  if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
    return -1;
  return unshare(CLONE_NEWNS);
}
static int probe_pidns(void)
{
  if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
    return -1;
  return unshare(CLONE_NEWPID);
}
static int probe_netns(void)
{
  if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
    return -1;
  return unshare(CLONE_NEWNET);
}
static int probe_io_uring(void)
{
  struct io_uring ring;
  if (io_uring_queue_init(2, &ring, 0) < 0)
    return -1;
  io_uring_queue_exit(&ring);
  return 0;
}

static void line(const char *what, bool ok, const char *detail)
{
  printf("  %-44s %s%s%s\n", what, ok ? "yes" : "NO", detail[0] ? "  " : "", detail);
}

static bool writable(const char *path)
{
  return access(path, W_OK) == 0;
}

/* cgroup v2: the unified tree and which controllers it offers; v1: the
 * controllers usbox uses as separate hierarchies. */
static void cgroups(void)
{
  char controllers[256] = "";
  const char *v2 = NULL;
  static const char *const roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
  for (size_t i = 0; i < 2 && v2 == NULL; i++) {
    char path[128];
    snprintf(path, sizeof path, "%s/cgroup.controllers", roots[i]);
    FILE *f = fopen(path, "re");
    if (f == NULL)
      continue;
    if (fgets(controllers, sizeof controllers, f) == NULL)
      controllers[0] = '\0';
    controllers[strcspn(controllers, "\n")] = '\0';
    fclose(f);
    v2 = roots[i];
  }
  char detail[400];
  snprintf(detail, sizeof detail, "%s (controllers: %s)", v2 ? v2 : "-",
           controllers[0] ? controllers : "none");
  line("cgroup v2", v2 != NULL, detail);
  static const char *const v1[] = {"memory", "pids", "cpu"};
  for (size_t i = 0; i < 3; i++) {
    char path[128], what[64];
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/cgroup.procs", v1[i]);
    snprintf(what, sizeof what, "cgroup v1 %s controller", v1[i]);
    struct stat st;
    bool there = stat(path, &st) == 0;
    line(what, there, there ? (writable(path) ? "writable" : "not writable by you") : "");
  }
}

static int cmd_check_run(void)
{
  /* what usbox exec cannot run without */
  bool essential = true;
  printf("usbox check: what this host supports\n");
  printf("platform (seccomp user-notify):\n");
  bool unotify = in_child(probe_unotify) == 0, addfd = in_child(probe_addfd) == 0;
  line("seccomp user notification", unotify, "");
  line("SECCOMP_IOCTL_NOTIF_ADDFD (fd injection)", addfd, "");
  line("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", in_child(probe_sync) == 0, "");
  line("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", in_child(probe_killable) == 0, "");
  bool getfd = in_child(probe_pidfd_getfd) == 0;
  line("pidfd_getfd", getfd, "");
  essential = essential && unotify && addfd && getfd;
  printf("kernel backstops:\n");
  bool userns = in_child(probe_userns) == 0, mountns = in_child(probe_mountns) == 0;
  bool pidns = in_child(probe_pidns) == 0, netns = in_child(probe_netns) == 0;
  line("user namespaces", userns, geteuid() == 0 ? "" : "needed without root");
  line("mount namespaces", mountns, "");
  line("pid namespaces", pidns, "");
  line("network namespaces", netns, "");
  essential = essential && mountns && pidns && netns && (geteuid() == 0 || userns);
  int abi = landlock_abi();
  char detail[64];
  snprintf(detail, sizeof detail, "ABI %d", abi);
  line("Landlock", abi > 0, abi > 0 ? detail : "(usbox exec warns and runs without it)");
  cgroups();
  printf("gofer:\n");
  line("io_uring", in_child(probe_io_uring) == 0, "");
  printf("running as %s\n", geteuid() == 0 ? "root" : "an unprivileged user");
  printf("usbox exec %s run here\n", essential ? "can" : "cannot");
  return essential ? 0 : 1;
}

int cmd_check(int argc, char **argv)
{
  if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    printf("usage: usbox check\n\nProbe which layers of the sandbox this host supports.\n");
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "usbox: check: unexpected argument '%s'\n", argv[1]);
    return USBOX_EXIT_ERROR;
  }
  return cmd_check_run();
}
