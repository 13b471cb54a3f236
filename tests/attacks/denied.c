/* Every call the sandbox must deny, made through raw syscall() with harmless
 * arguments, checking the exact errno (table/syscalls.def, arg_rules.def).
 *
 * The arguments are chosen so that the kernel itself would answer something
 * else than the sandbox (an fd, ENOENT, EINVAL, ...): if a denial leaked, the
 * check sees the kernel's answer and fails. With --native the program runs
 * outside the sandbox and checks exactly that (the kernel does not answer
 * what the sandbox answers; io_uring_setup, clone3, unshare(CLONE_NEWUSER),
 * ... really work). Checks whose native answer depends on the host's
 * configuration (kexec, modules, lockdown) or that would disturb the host
 * run in the sandbox only.
 *
 * usage: denied [--native] */
#include "attack.h"
#include "platform/seccomp_uapi.h" /* header-only */

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

/* Debian 12's headers may lack the newest numbers and flags. */
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_fsopen
#define __NR_fsopen 430
#endif
#ifndef __NR_fsconfig
#define __NR_fsconfig 431
#endif
#ifndef __NR_fsmount
#define __NR_fsmount 432
#endif
#ifndef __NR_fspick
#define __NR_fspick 433
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_process_mrelease
#define __NR_process_mrelease 448
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

/* struct clone_args, version 0 (64 bytes); not taken from <linux/sched.h>,
 * which clashes with <sched.h> on some systems. */
struct clone_args_v0 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* A value in our memory that a child reads and writes back with
 * process_vm_readv/writev (the same address in the forked child). */
static volatile uint64_t parent_marker = 0x7573626f78214f4bULL;

/* ---- running a call in a child ---- */

typedef long (*child_fn)(void *arg);

/* Run fn in a forked child and judge its result. A child killed by a signal
 * is a failure. */
static void in_child(const char *name, struct expect sandbox_x, struct expect native_x,
                     child_fn fn, void *arg)
{
  struct expect x = mode_expect(sandbox_x, native_x);
  if (x.kind == EX_NONE)
    return;
  struct child_result *res = shared_result();
  pid_t pid = attack_fork();
  if (pid < 0) {
    fail(name, "fork: %s", strerror(errno));
    return;
  }
  if (pid == 0) {
    errno = 0;
    long r = fn(arg);
    res->ret = r;
    res->err = errno;
    res->done = 1;
    _exit(0);
  }
  int st = wait_status(pid);
  char sdesc[64];
  describe_status(sdesc, sizeof sdesc, st);
  if (st < 0 || !WIFEXITED(st) || !res->done)
    fail(name, "child did not report (%s)", sdesc);
  else
    judge(name, x, res->ret, res->err);
  munmap(res, sizeof *res);
}

/* A raw clone or clone3 (no CLONE_VM, no stack: fork-like). A child that
 * was created leaves at once, before anything is printed; the parent judges
 * the result and reaps it. */
static void raw_clone_check(const char *name, struct expect sandbox_x, struct expect native_x,
                            long nr, unsigned long a0, unsigned long a1)
{
  struct expect x = mode_expect(sandbox_x, native_x);
  if (x.kind == EX_NONE)
    return;
  fflush(stdout);
  fflush(stderr);
  errno = 0;
  long r = syscall(nr, a0, a1, 0UL, 0UL, 0UL);
  if (r == 0)
    _exit(0);
  int e = errno;
  if (r > 0)
    wait_status((pid_t)r);
  judge(name, x, r, e);
}

static long close_if_fd(long ret)
{
  if (ret >= 0)
    close((int)ret);
  return ret;
}

/* ---- io_uring ---- */

static void check_io_uring(void)
{
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  long r = EXPECT_CALL("io_uring_setup", ERR(ENOSYS), SUCCEEDS,
                       syscall(__NR_io_uring_setup, 1, &p));
  close_if_fd(r);
  EXPECT_CALL("io_uring_enter", ERR(ENOSYS), NOT(ENOSYS),
              syscall(__NR_io_uring_enter, -1, 0, 0, 0, NULL, 0));
  EXPECT_CALL("io_uring_register", ERR(ENOSYS), NOT(ENOSYS),
              syscall(__NR_io_uring_register, -1, 0, NULL, 0));
}

/* ---- processes ---- */

static void check_clone3_and_fork(void)
{
  struct clone_args_v0 ca;
  memset(&ca, 0, sizeof ca);
  ca.exit_signal = SIGCHLD;
  raw_clone_check("clone3", ERR(ENOSYS), SUCCEEDS, __NR_clone3, (unsigned long)&ca, sizeof ca);
  /* the flags live in memory: clone3 is refused whole, namespaces included */
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_NEWUSER | CLONE_NEWNS;
  ca.exit_signal = SIGCHLD;
  raw_clone_check("clone3-newuser", ERR(ENOSYS), NOT_RUN, __NR_clone3, (unsigned long)&ca,
                  sizeof ca);

  pid_t pid = attack_fork();
  if (pid == 0)
    _exit(7);
  int st = pid > 0 ? wait_status(pid) : -1;
  char sdesc[64];
  describe_status(sdesc, sizeof sdesc, st);
  check("fork-works", pid > 0 && st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7,
        "fork returned %d (%s), child %s, want exit 7", (int)pid,
        pid < 0 ? strerror(errno) : "ok", sdesc);
}

static long do_traceme(void *arg)
{
  return syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
}

/* Attach to our parent; if that worked, let it go again. */
static long do_attach_parent(void *arg)
{
  pid_t parent = getppid();
  long r = syscall(SYS_ptrace, PTRACE_ATTACH, parent, NULL, NULL);
  int e = errno;
  if (r == 0) {
    waitpid(parent, NULL, __WALL);
    syscall(SYS_ptrace, PTRACE_DETACH, parent, NULL, NULL);
  }
  errno = e;
  return r;
}

static void check_ptrace(void)
{
  in_child("ptrace-traceme", ERR(EPERM), SUCCEEDS, do_traceme, NULL);
  in_child("ptrace-attach-parent", ERR(EPERM), NOT_RUN, do_attach_parent, NULL);
  /* in the sandbox our parent is usbox itself */
  if (!attack_native) {
    errno = 0;
    long r = do_attach_parent(NULL);
    judge("ptrace-attach-usbox", ERR(EPERM), r, errno);
  }
}

static long do_unshare(void *arg)
{
  return syscall(SYS_unshare, (unsigned long)(uintptr_t)arg);
}

static void check_namespaces(void)
{
  static const struct {
    const char *name;
    unsigned long flags;
  } ns[] = {
      {"unshare-newuser", CLONE_NEWUSER},
      {"unshare-newns-newnet", CLONE_NEWNS | CLONE_NEWNET},
      {"unshare-newtime", CLONE_NEWTIME},
      {"unshare-newpid", CLONE_NEWPID},
      {"unshare-newipc", CLONE_NEWIPC},
      {"unshare-newuts", CLONE_NEWUTS},
      {"unshare-newcgroup", CLONE_NEWCGROUP},
      /* a flag word with a high bit: the kernel rejects it (EINVAL), the
       * sandbox's rule on the low word answers first */
      {"unshare-newuser-highbit", CLONE_NEWUSER | (1UL << 40)},
  };
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    in_child(ns[i].name, ERR(EPERM), (ns[i].flags >> 32) ? NOT(EPERM) : SUCCEEDS, do_unshare,
             (void *)(uintptr_t)ns[i].flags);

  /* raw clone: a child sharing nothing, on the same stack (fork-like) */
  raw_clone_check("clone-newuser", ERR(EPERM), SUCCEEDS, SYS_clone, CLONE_NEWUSER | SIGCHLD, 0);
  raw_clone_check("clone-newnet", ERR(EPERM), SUCCEEDS, SYS_clone, CLONE_NEWNET | SIGCHLD, 0);
  /* the kernel keeps only the low 32 bits of clone's flags: so must the rule */
  raw_clone_check("clone-newuser-highbits", ERR(EPERM), SUCCEEDS, SYS_clone,
                  (1UL << 32) | CLONE_NEWUSER | SIGCHLD, 0);

  /* (a bad fd is EBADF inside as natively: the sentry checks the fd and the
   * flags as the kernel does before its EPERM; test_compat's setns.* rows) */
  /* joining our own network namespace (a no-op for the kernel as root) */
  int nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    fail("setns-own-netns", "open /proc/self/ns/net: %s", strerror(errno));
  } else {
    EXPECT_CALL("setns-own-netns", ERR_OR_ENOSYS(EPERM), SUCCEEDS,
                syscall(SYS_setns, nsfd, CLONE_NEWNET));
    close(nsfd);
  }
}

static long do_vm_read_parent(void *arg)
{
  uint64_t got = 0;
  struct iovec local = {(void *)&got, sizeof got};
  struct iovec remote = {(void *)&parent_marker, sizeof got};
  long r = syscall(SYS_process_vm_readv, getppid(), &local, 1UL, &remote, 1UL, 0UL);
  if (r == (long)sizeof got && got != parent_marker) {
    errno = EIO; /* read something, but not the marker */
    return -2;
  }
  return r;
}

static long do_vm_write_parent(void *arg)
{
  uint64_t same = parent_marker; /* writes back the value already there */
  struct iovec local = {(void *)&same, sizeof same};
  struct iovec remote = {(void *)&parent_marker, sizeof same};
  return syscall(SYS_process_vm_writev, getppid(), &local, 1UL, &remote, 1UL, 0UL);
}

static long do_pidfd_getfd_parent(void *arg)
{
  int pidfd = (int)syscall(__NR_pidfd_open, getppid(), 0);
  if (pidfd < 0)
    return -3; /* pidfd_open itself must work: errno says why it did not */
  long r = syscall(__NR_pidfd_getfd, pidfd, 1, 0);
  int e = errno;
  close_if_fd(r);
  close(pidfd);
  errno = e;
  return r;
}

static void check_cross_process(void)
{
  in_child("process_vm_readv-parent", ERR(EPERM), SUCCEEDS, do_vm_read_parent, NULL);
  in_child("process_vm_writev-parent", ERR(EPERM), SUCCEEDS, do_vm_write_parent, NULL);
  in_child("pidfd_getfd-parent", ERR(EPERM), SUCCEEDS, do_pidfd_getfd_parent, NULL);
  EXPECT_CALL("kcmp", ERR(EPERM), NOT(EPERM),
              syscall(SYS_kcmp, getpid(), getppid(), KCMP_FILE, 1, 1));
  EXPECT_CALL("process_madvise", ERR(EPERM), NOT(EPERM),
              syscall(__NR_process_madvise, -1, NULL, 0, 0, 0));
  EXPECT_CALL("process_mrelease", ERR(EPERM), NOT(EPERM), syscall(__NR_process_mrelease, -1, 0));
  if (attack_native)
    return;
  /* in the sandbox our parent is usbox: its memory and its fds (the
   * seccomp listener among them) */
  uint64_t buf = 0;
  struct iovec local = {&buf, sizeof buf};
  struct iovec remote = {(void *)&parent_marker, sizeof buf};
  EXPECT_CALL("process_vm_readv-usbox", ERR(EPERM), NOT_RUN,
              syscall(SYS_process_vm_readv, getppid(), &local, 1UL, &remote, 1UL, 0UL));
  EXPECT_CALL("process_vm_writev-usbox", ERR(EPERM), NOT_RUN,
              syscall(SYS_process_vm_writev, getppid(), &local, 1UL, &remote, 1UL, 0UL));
  int pidfd = (int)syscall(__NR_pidfd_open, getppid(), 0);
  if (pidfd < 0) {
    fail("pidfd_getfd-usbox", "pidfd_open(usbox): %s", strerror(errno));
    return;
  }
  for (int fd = 0; fd < 8; fd++) {
    char name[64];
    snprintf(name, sizeof name, "pidfd_getfd-usbox-fd%d", fd);
    close_if_fd(EXPECT_CALL(name, ERR(EPERM), NOT_RUN, syscall(__NR_pidfd_getfd, pidfd, fd, 0)));
  }
  close(pidfd);
}

/* ---- mounts, roots, file handles ---- */

static void check_mounts(void)
{
  EXPECT_CALL("mount", ERR(EPERM), NOT(EPERM),
              syscall(SYS_mount, "none", "/nonexistent/usbox-attack", "tmpfs", 0UL, NULL));
  EXPECT_CALL("umount2", ERR(EPERM), NOT(EPERM),
              syscall(SYS_umount2, "/nonexistent/usbox-attack", 0));
  EXPECT_CALL("pivot_root", ERR(EPERM), NOT(EPERM),
              syscall(SYS_pivot_root, "/nonexistent/usbox-a", "/nonexistent/usbox-b"));
  EXPECT_CALL("chroot", ERR(EPERM), NOT(EPERM), syscall(SYS_chroot, "/nonexistent/usbox-attack"));
  close_if_fd(EXPECT_CALL("fsopen", ERR(EPERM), NOT(EPERM),
                          syscall(__NR_fsopen, "usbox_no_such_fs", 0)));
  close_if_fd(EXPECT_CALL("open_tree", ERR(EPERM), SUCCEEDS,
                          syscall(__NR_open_tree, AT_FDCWD, "/", OPEN_TREE_CLOEXEC)));
  EXPECT_CALL("move_mount", ERR(EPERM), NOT(EPERM),
              syscall(__NR_move_mount, -1, "", -1, "", 0));
  close_if_fd(EXPECT_CALL("fsmount", ERR(EPERM), NOT(EPERM), syscall(__NR_fsmount, -1, 0, 0)));
  EXPECT_CALL("fsconfig", ERR(EPERM), NOT(EPERM), syscall(__NR_fsconfig, -1, 0, NULL, NULL, 0));
  close_if_fd(EXPECT_CALL("fspick", ERR(EPERM), NOT(EPERM),
                          syscall(__NR_fspick, AT_FDCWD, "/nonexistent/usbox-attack", 0)));
  EXPECT_CALL("mount_setattr", ERR(EPERM), NOT(EPERM),
              syscall(__NR_mount_setattr, -1, "", 0, NULL, 0));

  struct {
    unsigned int handle_bytes;
    int handle_type;
    unsigned char f_handle[128];
  } fh;
  int mount_id;
  memset(&fh, 0, sizeof fh);
  fh.handle_bytes = sizeof fh.f_handle;
  EXPECT_CALL("name_to_handle_at", ERR(EOPNOTSUPP), NOT(EOPNOTSUPP),
              syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mount_id, 0));
  /* "shocker": an ext4-style handle for inode 2 (a root directory) */
  memset(&fh, 0, sizeof fh);
  fh.handle_bytes = 8;
  fh.handle_type = 1; /* FILEID_INO32_GEN */
  uint32_t ino_gen[2] = {2, 0};
  memcpy(fh.f_handle, ino_gen, sizeof ino_gen);
  close_if_fd(EXPECT_CALL("open_by_handle_at", ERR(EPERM), NOT(EPERM),
                          syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY)));
}

/* ---- kernel, keys, bpf, perf ---- */

static void check_kernel_interfaces(void)
{
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  close_if_fd(EXPECT_CALL("bpf", ERR(EPERM), NOT(EPERM),
                          syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr)));

  EXPECT_CALL("keyctl", ERR(EPERM), NOT(EPERM),
              syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  /* (emulated to check arguments first: a profile's own errno may come
   * before the sentry's) */
  EXPECT_CALL("add_key", ERR_OR_ENOSYS(EPERM), SUCCEEDS,
              syscall(SYS_add_key, "user", "usbox-attack", "x", 1UL, KEY_SPEC_PROCESS_KEYRING));
  EXPECT_CALL("request_key", ERR_OR_ENOSYS(EPERM), NOT(EPERM),
              syscall(SYS_request_key, "user", "usbox-attack-absent", NULL, 0));

  close_if_fd(EXPECT_CALL("userfaultfd", ERR(EPERM), SUCCEEDS,
                          syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));

  struct perf_event_attr pa;
  memset(&pa, 0, sizeof pa);
  pa.type = PERF_TYPE_SOFTWARE;
  pa.size = sizeof pa;
  pa.config = PERF_COUNT_SW_TASK_CLOCK;
  pa.disabled = 1;
  close_if_fd(EXPECT_CALL("perf_event_open", ERR(EPERM), NOT(EPERM),
                          syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0UL)));

  /* Invalid flags or images: nothing would happen even if they got through,
   * but the kernel's answer then depends on its configuration and lockdown
   * state, so these run in the sandbox only. */
  EXPECT_CALL("kexec_load", ERR(EPERM), NOT_RUN,
              syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL));
  EXPECT_CALL("kexec_file_load", ERR(EPERM), NOT_RUN,
              syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0xdead0000UL));
  EXPECT_CALL("init_module", ERR(EPERM), NOT_RUN, syscall(SYS_init_module, NULL, 0UL, ""));
  EXPECT_CALL("finit_module", ERR(EPERM), NOT_RUN, syscall(SYS_finit_module, -1, "", 0));
  EXPECT_CALL("delete_module", ERR(EPERM), NOT_RUN,
              syscall(SYS_delete_module, "usbox_no_such_module", O_NONBLOCK));

  /* a few more host-administration calls, with arguments that change nothing */
  EXPECT_CALL("syslog", ERR(EPERM), NOT(EPERM), syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0));
  EXPECT_CALL("acct", ERR(EPERM), NOT(EPERM), syscall(SYS_acct, "/nonexistent/usbox-attack"));
  EXPECT_CALL("swapon", ERR(EPERM), NOT(EPERM), syscall(SYS_swapon, "/nonexistent/usbox-attack", 0));
  EXPECT_CALL("reboot", ERR(EPERM), NOT(EPERM), syscall(SYS_reboot, 0, 0, 0, NULL)); /* bad magic */
  EXPECT_CALL("sethostname", ERR(EPERM), NOT(EPERM), syscall(SYS_sethostname, "x", (size_t)-1));
  /* setting the host clock: with valid arguments (so never natively), the
   * sentry's EPERM; invalid ones get the kernel's EINVAL first */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  EXPECT_CALL("clock_settime", ERR_OR_ENOSYS(EPERM), NOT_RUN,
              syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
  struct timeval tv = {ts.tv_sec, 0};
  EXPECT_CALL("settimeofday", ERR_OR_ENOSYS(EPERM), NOT_RUN, syscall(SYS_settimeofday, &tv, NULL));
  /* (the argument checks before it: test_compat's settime.* rows) */
}

/* ---- terminal ioctls ---- */

static void check_ioctls(void)
{
  char c = 'x';
  EXPECT_CALL("ioctl-TIOCSTI", ERR(EPERM), NOT(EPERM), syscall(SYS_ioctl, 0, TIOCSTI, &c));
  /* the kernel truncates cmd to 32 bits, so this is TIOCSTI too */
  EXPECT_CALL("ioctl-TIOCSTI-highbits", ERR(EPERM), NOT(EPERM),
              syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | (1UL << 32), &c));
  EXPECT_CALL("ioctl-TIOCLINUX", ERR(EPERM), NOT(EPERM), syscall(SYS_ioctl, 0, TIOCLINUX, &c));
  EXPECT_CALL("ioctl-TIOCLINUX-highbits", ERR(EPERM), NOT(EPERM),
              syscall(SYS_ioctl, 0, (unsigned long)TIOCLINUX | (0xffUL << 40), &c));
  /* on a real terminal (our own pty), where TIOCSTI would work for root */
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
    fail("ioctl-TIOCSTI-pty", "opening a pty: %s", strerror(errno));
  } else {
    const char *name = ptsname(master);
    int slave = name != NULL ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (slave < 0) {
      fail("ioctl-TIOCSTI-pty", "opening %s: %s", name ? name : "(no ptsname)", strerror(errno));
    } else {
      EXPECT_CALL("ioctl-TIOCSTI-pty", ERR(EPERM), NOT(EPERM),
                  syscall(SYS_ioctl, slave, TIOCSTI, &c));
      close(slave);
    }
  }
  if (master >= 0)
    close(master);
}

/* ---- seccomp: no new listener ---- */

static struct sock_filter allow_all[] = {
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog allow_prog = {1, allow_all};

static long do_seccomp(void *arg)
{
  unsigned long flags = (unsigned long)(uintptr_t)arg;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return -3;
  return close_if_fd(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &allow_prog));
}

/* Filters are installed in children: the process itself stays as it was. */
static void check_seccomp(void)
{
  in_child("seccomp-new-listener", ERR(EPERM), SUCCEEDS, do_seccomp,
           (void *)(uintptr_t)SECCOMP_FILTER_FLAG_NEW_LISTENER);
  in_child("seccomp-new-listener-killable", ERR(EPERM), SUCCEEDS, do_seccomp,
           (void *)(uintptr_t)(SECCOMP_FILTER_FLAG_NEW_LISTENER |
                               SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV));
  in_child("seccomp-new-listener-tsync", ERR(EPERM), SUCCEEDS, do_seccomp,
           (void *)(uintptr_t)(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC |
                               SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
  /* flags is an unsigned int for the kernel: the high word is dropped */
  in_child("seccomp-new-listener-highbits", ERR(EPERM), SUCCEEDS, do_seccomp,
           (void *)(uintptr_t)((1UL << 32) | SECCOMP_FILTER_FLAG_NEW_LISTENER));
  in_child("seccomp-harmless-filter", SUCCEEDS, SUCCEEDS, do_seccomp, (void *)(uintptr_t)0);
  in_child("seccomp-harmless-filter-log", SUCCEEDS, SUCCEEDS, do_seccomp,
           (void *)(uintptr_t)SECCOMP_FILTER_FLAG_LOG);
}

/* ---- numbers the table does not know ---- */

static void check_unknown(void)
{
  /* 480 may be a real call on a future kernel: natively, only 1000 and -1 */
  EXPECT_CALL("syscall-480", ERR(ENOSYS), NOT_RUN, syscall(480));
  EXPECT_CALL("syscall-1000", ERR(ENOSYS), ERR(ENOSYS), syscall(1000));
  EXPECT_CALL("syscall-400", ERR(ENOSYS), ERR(ENOSYS), syscall(400)); /* the 335..423 hole */
  EXPECT_CALL("syscall-minus1", ERR(ENOSYS), ERR(ENOSYS), syscall(-1));
}

/* ---- what must keep working ---- */

static void *thread_main(void *arg)
{
  *(int *)arg = 42;
  return arg;
}

static void check_allowed(void)
{
  EXPECT_CALL("unshare-files", SUCCEEDS, SUCCEEDS, syscall(SYS_unshare, CLONE_FILES));
  EXPECT_CALL("unshare-fs", SUCCEEDS, SUCCEEDS, syscall(SYS_unshare, CLONE_FS));
  EXPECT_CALL("unshare-sysvsem", SUCCEEDS, SUCCEEDS, syscall(SYS_unshare, CLONE_SYSVSEM));

  pthread_t t;
  int value = 0;
  void *ret = NULL;
  int r = pthread_create(&t, NULL, thread_main, &value);
  if (r == 0)
    r = pthread_join(t, &ret);
  check("thread-create", r == 0 && value == 42 && ret == &value,
        "pthread_create/join: %s, value %d", strerror(r), value);

  /* posix_spawn: glibc tries clone3, gets ENOSYS and falls back to
   * clone(CLONE_VM|CLONE_VFORK); the exec is served by the sentry */
  pid_t pid;
  char *argv[] = {"true", NULL};
  char *envp[] = {NULL};
  r = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, envp);
  int st = r == 0 ? wait_status(pid) : -1;
  char sdesc[64];
  describe_status(sdesc, sizeof sdesc, st);
  check("posix_spawn-true", r == 0 && st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "posix_spawn: %s, child %s", strerror(r), sdesc);
}

int main(int argc, char **argv)
{
  attack_init(argc, argv);
  /* TIOCSTI must not reach a real terminal if the denial leaked */
  if (isatty(0)) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0 && devnull != 0) {
      dup2(devnull, 0);
      close(devnull);
    }
    note("stdin was a terminal: replaced by /dev/null");
  }
  check_io_uring();
  check_clone3_and_fork();
  check_ptrace();
  check_namespaces();
  check_cross_process();
  check_mounts();
  check_kernel_interfaces();
  check_ioctls();
  check_seccomp();
  check_unknown();
  check_allowed();
  return attack_finish("denied");
}
