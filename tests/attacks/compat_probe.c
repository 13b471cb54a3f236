/* compat_probe: one table of calls whose results programs can tell apart
 * (the names unix sockets keep, the errno order of socket() and
 * socketpair(), ...), printed the same way natively and inside usbox, so that
 * tests/integration/test_compat.sh can compare them line by line (the
 * model is creds_probe.c).
 *
 *   compat_probe list        the rows' names, one a line
 *   compat_probe run DIR     every row in order, each in DIR/<row>: prints
 *                            "where seccomp=N", "creds ...", then
 *                            "NAME RET ERRNO [observables]" a row, "end N"
 *
 * DIR must be writable by the caller; it is the same path natively and
 * inside (a --rw bind), so names that contain it compare as they are (they
 * are printed with DIR replaced by "D"). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdbool.h>
#include <stddef.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *g_dir;

struct res {
  char text[512];
  size_t len;
};

static void obs(struct res *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (r->len < sizeof r->text - 1) {
    r->text[r->len++] = ' ';
    int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
    if (n > 0)
      r->len += (size_t)n < sizeof r->text - r->len ? (size_t)n : sizeof r->text - r->len - 1;
  }
  va_end(ap);
}

/* RET ERRNO of a call; a descriptor prints as "fd" (numbers may differ) */
static void done(struct res *r, long ret, bool is_fd)
{
  int e = errno;
  if (ret >= 0 && is_fd)
    r->len = (size_t)snprintf(r->text, sizeof r->text, "fd -");
  else
    r->len = (size_t)snprintf(r->text, sizeof r->text, "%ld %s", ret,
                              ret < 0 ? strerrorname_np(e) : "-");
}

/* ---- unix socket names: what getsockname, getpeername, accept and
 * recvfrom give back is the name the socket was bound with */

static void obs_name(struct res *r, const char *what, const struct sockaddr_un *un,
                     socklen_t len)
{
  size_t off = offsetof(struct sockaddr_un, sun_path);
  if (len <= off) {
    obs(r, "%s=(unnamed)", what);
    return;
  }
  const char *p = un->sun_path;
  size_t dl = strlen(g_dir);
  if (strncmp(p, g_dir, dl) == 0)
    obs(r, "%s=D%s", what, p + dl);
  else
    obs(r, "%s=%s", what, p);
}

static socklen_t unix_at(struct sockaddr_un *un, const char *path)
{
  *un = (struct sockaddr_un){.sun_family = AF_UNIX};
  snprintf(un->sun_path, sizeof un->sun_path, "%s", path);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un->sun_path) + 1);
}

static int bound(int type, const char *path, struct res *r)
{
  struct sockaddr_un un;
  int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  done(r, bind(s, (struct sockaddr *)&un, unix_at(&un, path)), false);
  struct sockaddr_un got;
  socklen_t gl = sizeof got;
  if (getsockname(s, (struct sockaddr *)&got, &gl) == 0)
    obs_name(r, "name", &got, gl);
  return s;
}

static void op_name_abs(struct res *r, const char *d)
{
  char p[256];
  snprintf(p, sizeof p, "%s/s", d);
  close(bound(SOCK_STREAM, p, r));
}

static void op_name_rel(struct res *r, const char *d)
{
  int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (chdir(d) == 0)
    close(bound(SOCK_STREAM, "s", r));
  if (fchdir(here) < 0)
    exit(2);
  close(here);
}

/* a listener at d/s; a client connects to the name getsockname gave */
static void op_peer(struct res *r, const char *d)
{
  char p[256];
  snprintf(p, sizeof p, "%s/s", d);
  int l = bound(SOCK_STREAM, p, r);
  struct sockaddr_un name, got;
  socklen_t nl = sizeof name, gl = sizeof got;
  if (listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&name, &nl) < 0)
    exit(2);
  int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(c, (struct sockaddr *)&name, nl) < 0) {
    obs(r, "connect=%s", strerrorname_np(errno));
  } else {
    obs(r, "connect=ok");
    if (getpeername(c, (struct sockaddr *)&got, &gl) == 0)
      obs_name(r, "peer", &got, gl);
    gl = sizeof got;
    int a = accept4(l, (struct sockaddr *)&got, &gl, SOCK_CLOEXEC);
    if (a >= 0) {
      obs_name(r, "accepted_from", &got, gl);
      gl = sizeof got;
      if (getsockname(a, (struct sockaddr *)&got, &gl) == 0)
        obs_name(r, "accepted_name", &got, gl);
      close(a);
    }
  }
  close(c);
  close(l);
}

/* a datagram from a bound sender: recvfrom names it */
static void op_dgram_from(struct res *r, const char *d)
{
  char p[256], q[256];
  snprintf(p, sizeof p, "%s/rx", d);
  snprintf(q, sizeof q, "%s/tx", d);
  int rx = bound(SOCK_DGRAM, p, r);
  struct res ignored;
  int tx = bound(SOCK_DGRAM, q, &ignored);
  struct sockaddr_un to, from;
  socklen_t tl = unix_at(&to, p), fl = sizeof from;
  char buf[8];
  if (sendto(tx, "x", 1, 0, (struct sockaddr *)&to, tl) != 1) {
    obs(r, "send=%s", strerrorname_np(errno));
  } else if (recvfrom(rx, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl) == 1) {
    obs_name(r, "from", &from, fl);
  }
  close(tx);
  close(rx);
}

/* ---- socket() and socketpair(): the kernel's order of checks */

#define SOCKET_ROW(fn, dom, type, proto)                                                           \
  static void fn(struct res *r, const char *d)                                                     \
  {                                                                                                \
    (void)d;                                                                                       \
    int s = socket(dom, type, proto);                                                              \
    done(r, s, true);                                                                              \
    if (s >= 0)                                                                                    \
      close(s);                                                                                    \
  }
#define PAIR_ROW(fn, dom, type, proto)                                                             \
  static void fn(struct res *r, const char *d)                                                     \
  {                                                                                                \
    (void)d;                                                                                       \
    int sv[2];                                                                                     \
    int ret = socketpair(dom, type, proto, sv);                                                    \
    done(r, ret, false);                                                                           \
    if (ret == 0)                                                                                  \
      close(sv[0]), close(sv[1]);                                                                  \
  }

SOCKET_ROW(op_sock_badflags, AF_INET, SOCK_STREAM | 0x100000, 0)
SOCKET_ROW(op_sock_badflags_dgram, AF_INET6, SOCK_DGRAM | 0x40000000, 0)
SOCKET_ROW(op_sock_type_max, AF_INET, 11, 0)
SOCKET_ROW(op_sock_type_99, AF_INET, 99, 0)
SOCKET_ROW(op_sock_type_7, AF_INET, 7, 0)
SOCKET_ROW(op_sock_raw0, AF_INET, SOCK_RAW, 0)
SOCKET_ROW(op_sock_raw6_0, AF_INET6, SOCK_RAW, 0)
SOCKET_ROW(op_sock_raw_icmp, AF_INET, SOCK_RAW, IPPROTO_ICMP)
SOCKET_ROW(op_sock_raw_tcp, AF_INET, SOCK_RAW, IPPROTO_TCP)
SOCKET_ROW(op_sock_stream_udp, AF_INET, SOCK_STREAM, IPPROTO_UDP)
SOCKET_ROW(op_sock_dgram_tcp, AF_INET, SOCK_DGRAM, IPPROTO_TCP)
SOCKET_ROW(op_sock_stream_bad, AF_INET, SOCK_STREAM, 253)
SOCKET_ROW(op_sock_seqpacket, AF_INET, SOCK_SEQPACKET, 0)
SOCKET_ROW(op_sock_icmp_dgram, AF_INET, SOCK_DGRAM, IPPROTO_ICMP)
SOCKET_ROW(op_sock_packet, AF_PACKET, SOCK_RAW, 0)
SOCKET_ROW(op_sock_family_max, 46, SOCK_STREAM, 0)
SOCKET_ROW(op_sock_family_neg, -1, SOCK_STREAM, 0)
SOCKET_ROW(op_sock_netlink_route, AF_NETLINK, SOCK_RAW, 0)
SOCKET_ROW(op_sock_netlink_bad, AF_NETLINK, SOCK_RAW, 99)
PAIR_ROW(op_pair_inet_stream, AF_INET, SOCK_STREAM, 0)
PAIR_ROW(op_pair_inet_dgram, AF_INET, SOCK_DGRAM, 0)
PAIR_ROW(op_pair_inet_raw0, AF_INET, SOCK_RAW, 0)
PAIR_ROW(op_pair_inet_raw_icmp, AF_INET, SOCK_RAW, IPPROTO_ICMP)
PAIR_ROW(op_pair_inet_type99, AF_INET, 99, 0)
PAIR_ROW(op_pair_inet_badflags, AF_INET, SOCK_STREAM | 0x100000, 0)
PAIR_ROW(op_pair_inet_stream_udp, AF_INET, SOCK_STREAM, IPPROTO_UDP)
PAIR_ROW(op_pair_inet6_stream, AF_INET6, SOCK_STREAM, 0)
PAIR_ROW(op_pair_inet6_raw0, AF_INET6, SOCK_RAW, 0)
PAIR_ROW(op_pair_netlink, AF_NETLINK, SOCK_RAW, 0)
PAIR_ROW(op_pair_packet, AF_PACKET, SOCK_RAW, 0)
PAIR_ROW(op_pair_family_max, 46, SOCK_STREAM, 0)
PAIR_ROW(op_pair_unix_bad, AF_UNIX, SOCK_RAW, 0)

/* ---- set*id: an id the caller does not hold (without usbox as root, the
 * sandbox's user namespace maps one id: the kernel would say EINVAL) */

/* fn in a child (the ids change for good), its result back through a pipe */
#define ID_ROW(name, call)                                                                         \
  static void name(struct res *r, const char *d)                                                  \
  {                                                                                                \
    (void)d;                                                                                       \
    int p[2];                                                                                      \
    long out[2] = {-1, EIO};                                                                       \
    if (pipe(p) < 0)                                                                               \
      return done(r, -1, false);                                                                   \
    pid_t c = fork();                                                                              \
    if (c == 0) {                                                                                  \
      long res[2] = {(long)(call), errno};                                                         \
      ssize_t w = write(p[1], res, sizeof res);                                                    \
      _exit(w == (ssize_t)sizeof res ? 0 : 1);                                                     \
    }                                                                                              \
    close(p[1]);                                                                                   \
    ssize_t n = c > 0 ? read(p[0], out, sizeof out) : -1;                                          \
    close(p[0]);                                                                                   \
    if (c > 0)                                                                                     \
      waitpid(c, NULL, 0);                                                                         \
    errno = n == (ssize_t)sizeof out ? (int)out[1] : EIO;                                          \
    done(r, n == (ssize_t)sizeof out ? out[0] : -1, false);                                        \
  }
ID_ROW(op_setuid_own, setuid(getuid()))
ID_ROW(op_setuid_other, setuid(12345))
ID_ROW(op_setreuid_other, setreuid((uid_t)-1, 12345))
ID_ROW(op_setresuid_other, setresuid((uid_t)-1, (uid_t)-1, 12345))
ID_ROW(op_setresuid_keep, setresuid((uid_t)-1, (uid_t)-1, (uid_t)-1))
ID_ROW(op_setgid_own, setgid(getgid()))
ID_ROW(op_setgid_other, setgid(12345))
ID_ROW(op_setregid_other, setregid(12345, (gid_t)-1))
ID_ROW(op_setresgid_other, setresgid(12345, 12345, 12345))

/* ---- adjtimex, clock_adjtime: a query is anyone's, a change needs
 * CAP_SYS_TIME (the kernel's order: ADJ_ADJTIME without single-shot is
 * EINVAL first) */
#define ADJ_ROW(name, call_, modes_)                                                               \
  static void name(struct res *r, const char *d)                                                  \
  {                                                                                                \
    (void)d;                                                                                       \
    struct timex tx = {.modes = (modes_)};                                                         \
    done(r, (call_), false);                                                                       \
  }
ADJ_ROW(op_adj_query, adjtimex(&tx), 0)
ADJ_ROW(op_adj_ss_read, adjtimex(&tx), ADJ_OFFSET_SS_READ)
ADJ_ROW(op_adj_freq, adjtimex(&tx), ADJ_FREQUENCY)
ADJ_ROW(op_adj_noss, adjtimex(&tx), 0x8000)
ADJ_ROW(op_clockadj_query, clock_adjtime(CLOCK_REALTIME, &tx), 0)
ADJ_ROW(op_clockadj_freq, clock_adjtime(CLOCK_REALTIME, &tx), ADJ_FREQUENCY)
ADJ_ROW(op_clockadj_badclock, clock_adjtime(99, &tx), 0)

/* ---- a memfd re-opened through /proc/self/fd: O_TRUNC meets its seals */
static void memfd_trunc(struct res *r, unsigned seals, int flags)
{
  int fd = memfd_create("probe", MFD_ALLOW_SEALING);
  if (fd < 0 || write(fd, "abcd", 4) != 4 || (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)) {
    done(r, -1, false);
    return;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int g = open(path, flags);
  done(r, g, true);
  struct stat st;
  obs(r, "size=%lld", fstat(fd, &st) == 0 ? (long long)st.st_size : -1LL);
  if (g >= 0)
    close(g);
  close(fd);
}
/* A row that calls fn(r, args...) (the row's directory unused). */
#define ROW_OF(name, fn, ...)                                                                      \
  static void name(struct res *r, const char *d)                                                  \
  {                                                                                                \
    (void)d;                                                                                       \
    fn(r, __VA_ARGS__);                                                                            \
  }
ROW_OF(op_memfd_trunc, memfd_trunc, 0, O_RDWR | O_TRUNC)
ROW_OF(op_memfd_trunc_shrink, memfd_trunc, F_SEAL_SHRINK, O_RDWR | O_TRUNC)
ROW_OF(op_memfd_trunc_grow, memfd_trunc, F_SEAL_GROW, O_WRONLY | O_TRUNC)
ROW_OF(op_memfd_trunc_rdonly, memfd_trunc, F_SEAL_SHRINK, O_RDONLY | O_TRUNC)

/* ---- setting the clock: never allowed, but the arguments are checked
 * first, in the kernel's order (raw calls: libc's wrappers read the
 * structs themselves) */
#define CALL_ROW(name, call_)                                                                   \
  static void name(struct res *r, const char *d)                                                  \
  {                                                                                                \
    (void)d;                                                                                       \
    done(r, (call_), false);                                                                       \
  }
CALL_ROW(op_tod_neg_sec, syscall(SYS_settimeofday, &(struct timeval){-1, 0}, NULL))
CALL_ROW(op_tod_neg_usec, syscall(SYS_settimeofday, &(struct timeval){0, -1}, NULL))
CALL_ROW(op_tod_usec_max, syscall(SYS_settimeofday, &(struct timeval){0, 1000000}, NULL))
CALL_ROW(op_tod_usec_max_badtz, syscall(SYS_settimeofday, &(struct timeval){0, 1000000}, (void *)8))
CALL_ROW(op_tod_valid, syscall(SYS_settimeofday, &(struct timeval){100, 100}, NULL))
CALL_ROW(op_tod_null, syscall(SYS_settimeofday, NULL, NULL))
CALL_ROW(op_tod_badptr, syscall(SYS_settimeofday, (void *)8, NULL))
CALL_ROW(op_tod_huge, syscall(SYS_settimeofday, &(struct timeval){(time_t)1 << 40, 0}, NULL))
CALL_ROW(op_cs_realtime, syscall(SYS_clock_settime, CLOCK_REALTIME, &(struct timespec){100, 0}))
CALL_ROW(op_cs_realtime_nsec, syscall(SYS_clock_settime, CLOCK_REALTIME, &(struct timespec){100, 1000000000}))
CALL_ROW(op_cs_realtime_badptr, syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)8))
CALL_ROW(op_cs_monotonic, syscall(SYS_clock_settime, CLOCK_MONOTONIC, &(struct timespec){100, 0}))
CALL_ROW(op_cs_monotonic_badptr, syscall(SYS_clock_settime, CLOCK_MONOTONIC, (void *)8))
CALL_ROW(op_cs_process, syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &(struct timespec){1, 0}))
CALL_ROW(op_cs_self_cpu, syscall(SYS_clock_settime, -6 /* MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED) */,
                                          &(struct timespec){1, 0}))
CALL_ROW(op_cs_fd, syscall(SYS_clock_settime, -3 /* FD_TO_CLOCKID(0) */, &(struct timespec){1, 0}))
CALL_ROW(op_cs_99, syscall(SYS_clock_settime, 99, &(struct timespec){1, 0}))

/* ---- setns: never allowed in the sandbox, but the fd and the flags are
 * checked first */
static void setns_row(struct res *r, const char *path, int flags)
{
  int fd = path == NULL ? 999 : strcmp(path, "pidfd") == 0
                                    ? (int)syscall(SYS_pidfd_open, getpid(), 0)
                                    : open(path, O_RDONLY);
  if (fd < 0) {
    done(r, fd, false);
    obs(r, "(no fd)");
    return;
  }
  done(r, syscall(SYS_setns, fd, flags), false);
  if (fd != 999)
    close(fd);
}
ROW_OF(op_setns_badfd, setns_row, NULL, 0)
ROW_OF(op_setns_file, setns_row, "/", 0)
ROW_OF(op_setns_uts_any, setns_row, "/proc/self/ns/uts", 0)
ROW_OF(op_setns_uts_uts, setns_row, "/proc/self/ns/uts", CLONE_NEWUTS)
ROW_OF(op_setns_uts_net, setns_row, "/proc/self/ns/uts", CLONE_NEWNET)
ROW_OF(op_setns_pidfd_none, setns_row, "pidfd", 0)
ROW_OF(op_setns_pidfd_uts, setns_row, "pidfd", CLONE_NEWUTS)
ROW_OF(op_setns_pidfd_bad, setns_row, "pidfd", CLONE_NEWUTS | 1)

/* ---- kernel keys: denied, but the arguments are read first (raw calls) */
CALL_ROW(op_rk_bad_type, syscall(SYS_request_key, (void *)8, "d", NULL, 0))
CALL_ROW(op_rk_empty_type, syscall(SYS_request_key, "", "d", NULL, 0))
CALL_ROW(op_rk_bad_desc, syscall(SYS_request_key, "user", (void *)8, NULL, 0))
CALL_ROW(op_rk_bad_callout, syscall(SYS_request_key, "user", "d", (void *)8, 0))
CALL_ROW(op_rk_long_type, syscall(SYS_request_key, "a-type-name-longer-than-31-characters", "d",
                                 NULL, 0))
CALL_ROW(op_ak_huge, syscall(SYS_add_key, "user", "d", "p", (size_t)(1 << 20), 0))
CALL_ROW(op_ak_bad_type, syscall(SYS_add_key, (void *)8, "d", "p", 1, 0))
CALL_ROW(op_ak_bad_desc, syscall(SYS_add_key, "user", (void *)8, "p", 1, 0))
CALL_ROW(op_ak_bad_payload, syscall(SYS_add_key, "user", "d", (void *)8, 1, 0))
CALL_ROW(op_ak_dot_keyring, syscall(SYS_add_key, "keyring", ".x", NULL, 0, 0))

/* ---- a zombie child in /proc: a parent watches its state turn Z */
static void op_proc_zombie(struct res *r, const char *d)
{
  (void)d;
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  char path[64], text[256] = "";
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  char state = '?';
  int fd = -1;
  for (int i = 0; i < 500 && state != 'Z'; i++) { /* up to 5 s */
    fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0)
      close(fd);
    const char *p = n > 0 ? (text[n] = '\0', strrchr(text, ')')) : NULL;
    if (p == NULL || sscanf(p + 1, " %c", &state) != 1)
      break;
    if (state != 'Z')
      usleep(10000);
  }
  done(r, fd, true);
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d", (int)pid);
  obs(r, "state=%c dir=%d", state, stat(path, &st) == 0);
  waitpid(pid, NULL, 0);
}

/* ---- POSIX message queues: the sandbox's IPC namespace has its own */
static void op_mq_roundtrip(struct res *r, const char *d)
{
  (void)d;
  char name[64];
  snprintf(name, sizeof name, "/usbox-probe-%d", (int)getpid());
  struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 16};
  mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  done(r, q, true);
  if (q < 0)
    return;
  char got[16] = {0};
  int sent = mq_send(q, "ping", 4, 1);
  ssize_t n = mq_receive(q, got, sizeof got, NULL);
  obs(r, "send=%d recv=%zd %.4s", sent, n, got);
  obs(r, "again=%d", mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr) < 0 ? errno : 0);
  mq_close(q);
  obs(r, "unlink=%d", mq_unlink(name));
}

/* ---- getsockname and getpeername (performed by the sentry): lengths and
 * errors as the kernel's move_addr_to_user gives them */
static void sockname(struct res *r, int fd, bool peer, int len)
{
  struct sockaddr_storage ss;
  memset(&ss, 0xaa, sizeof ss);
  socklen_t l = (socklen_t)len;
  long ret = peer ? getpeername(fd, (struct sockaddr *)&ss, &l)
                  : getsockname(fd, (struct sockaddr *)&ss, &l);
  done(r, ret, false);
  obs(r, "len=%d family=%d", (int)l, len >= 2 ? ss.ss_family : -1);
}
static void op_sockname_unbound(struct res *r, const char *d)
{
  (void)d;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockname(r, s, false, sizeof(struct sockaddr_storage));
  close(s);
}
static void op_peername_unconnected(struct res *r, const char *d)
{
  (void)d;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockname(r, s, true, sizeof(struct sockaddr_storage));
  close(s);
}
static void op_sockname_short(struct res *r, const char *d)
{
  (void)d;
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  sockname(r, s, false, 4);
  close(s);
}
static void op_sockname_negative(struct res *r, const char *d)
{
  (void)d;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockname(r, s, false, -1);
  close(s);
}
static void op_sockname_notsock(struct res *r, const char *d)
{
  (void)d;
  int fd = open("/", O_RDONLY);
  sockname(r, fd, false, 16);
  close(fd);
}
static void op_peername_badfd(struct res *r, const char *d)
{
  (void)d;
  sockname(r, 999, true, 16);
}
static void op_peername_unix_pair(struct res *r, const char *d)
{
  (void)d;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
    done(r, -1, false);
    return;
  }
  sockname(r, sv[0], true, sizeof(struct sockaddr_storage));
  close(sv[0]);
  close(sv[1]);
}

/* ------------------------------------------------------------------ the table */

struct op {
  const char *name;
  void (*run)(struct res *r, const char *dir);
};

static const struct op ops[] = {
    {"unix_name.bind_abs", op_name_abs},
    {"unix_name.bind_rel", op_name_rel},
    {"unix_name.peer", op_peer},
    {"unix_name.dgram_from", op_dgram_from},
    {"socket.inet_badflags", op_sock_badflags},
    {"socket.inet6_dgram_badflags", op_sock_badflags_dgram},
    {"socket.inet_type_max", op_sock_type_max},
    {"socket.inet_type_99", op_sock_type_99},
    {"socket.inet_type_7", op_sock_type_7},
    {"socket.inet_raw0", op_sock_raw0},
    {"socket.inet6_raw0", op_sock_raw6_0},
    {"socket.inet_raw_icmp", op_sock_raw_icmp},
    {"socket.inet_raw_tcp", op_sock_raw_tcp},
    {"socket.inet_stream_udp", op_sock_stream_udp},
    {"socket.inet_dgram_tcp", op_sock_dgram_tcp},
    {"socket.inet_stream_253", op_sock_stream_bad},
    {"socket.inet_seqpacket", op_sock_seqpacket},
    {"socket.inet_icmp_dgram", op_sock_icmp_dgram},
    {"socket.packet_raw", op_sock_packet},
    {"socket.family_46", op_sock_family_max},
    {"socket.family_neg", op_sock_family_neg},
    {"socket.netlink_route", op_sock_netlink_route},
    {"socket.netlink_99", op_sock_netlink_bad},
    {"socketpair.inet_stream", op_pair_inet_stream},
    {"socketpair.inet_dgram", op_pair_inet_dgram},
    {"socketpair.inet_raw0", op_pair_inet_raw0},
    {"socketpair.inet_raw_icmp", op_pair_inet_raw_icmp},
    {"socketpair.inet_type_99", op_pair_inet_type99},
    {"socketpair.inet_badflags", op_pair_inet_badflags},
    {"socketpair.inet_stream_udp", op_pair_inet_stream_udp},
    {"socketpair.inet6_stream", op_pair_inet6_stream},
    {"socketpair.inet6_raw0", op_pair_inet6_raw0},
    {"socketpair.netlink", op_pair_netlink},
    {"socketpair.packet", op_pair_packet},
    {"socketpair.family_46", op_pair_family_max},
    {"socketpair.unix_raw", op_pair_unix_bad},
    {"setid.setuid_own", op_setuid_own},
    {"setid.setuid_other", op_setuid_other},
    {"setid.setreuid_other", op_setreuid_other},
    {"setid.setresuid_other", op_setresuid_other},
    {"setid.setresuid_keep", op_setresuid_keep},
    {"setid.setgid_own", op_setgid_own},
    {"setid.setgid_other", op_setgid_other},
    {"setid.setregid_other", op_setregid_other},
    {"setid.setresgid_other", op_setresgid_other},
    {"memfd.reopen_trunc", op_memfd_trunc},
    {"memfd.reopen_trunc_seal_shrink", op_memfd_trunc_shrink},
    {"memfd.reopen_trunc_seal_grow", op_memfd_trunc_grow},
    {"memfd.reopen_rdonly_trunc_seal_shrink", op_memfd_trunc_rdonly},
    {"settime.tod_negative_sec", op_tod_neg_sec},
    {"settime.tod_negative_usec", op_tod_neg_usec},
    {"settime.tod_usec_1000000", op_tod_usec_max},
    {"settime.tod_usec_1000000_bad_tz", op_tod_usec_max_badtz},
    {"settime.tod_valid", op_tod_valid},
    {"settime.tod_null", op_tod_null},
    {"settime.tod_bad_pointer", op_tod_badptr},
    {"settime.tod_huge", op_tod_huge},
    {"settime.clock_realtime", op_cs_realtime},
    {"settime.clock_realtime_nsec", op_cs_realtime_nsec},
    {"settime.clock_realtime_bad_pointer", op_cs_realtime_badptr},
    {"settime.clock_monotonic", op_cs_monotonic},
    {"settime.clock_monotonic_bad_pointer", op_cs_monotonic_badptr},
    {"settime.clock_process_cputime", op_cs_process},
    {"settime.clock_own_cpu", op_cs_self_cpu},
    {"settime.clock_fd", op_cs_fd},
    {"settime.clock_99", op_cs_99},
    {"setns.bad_fd", op_setns_badfd},
    {"setns.not_a_namespace", op_setns_file},
    {"setns.uts_any", op_setns_uts_any},
    {"setns.uts_as_uts", op_setns_uts_uts},
    {"setns.uts_as_net", op_setns_uts_net},
    {"setns.pidfd_no_flags", op_setns_pidfd_none},
    {"setns.pidfd_uts", op_setns_pidfd_uts},
    {"setns.pidfd_bad_flags", op_setns_pidfd_bad},
    {"keys.request_bad_type", op_rk_bad_type},
    {"keys.request_empty_type", op_rk_empty_type},
    {"keys.request_bad_description", op_rk_bad_desc},
    {"keys.request_bad_callout", op_rk_bad_callout},
    {"keys.request_long_type", op_rk_long_type},
    {"keys.add_payload_too_large", op_ak_huge},
    {"keys.add_bad_type", op_ak_bad_type},
    {"keys.add_bad_description", op_ak_bad_desc},
    {"keys.add_bad_payload", op_ak_bad_payload},
    {"keys.add_dot_keyring", op_ak_dot_keyring},
    {"mq.roundtrip", op_mq_roundtrip},
    {"proc.zombie_child_stat", op_proc_zombie},
    {"sockname.unbound", op_sockname_unbound},
    {"sockname.short_buffer", op_sockname_short},
    {"sockname.negative_len", op_sockname_negative},
    {"sockname.not_a_socket", op_sockname_notsock},
    {"peername.unconnected", op_peername_unconnected},
    {"peername.bad_fd", op_peername_badfd},
    {"peername.unix_pair", op_peername_unix_pair},
    {"adjtimex.query", op_adj_query},
    {"adjtimex.ss_read", op_adj_ss_read},
    {"adjtimex.frequency", op_adj_freq},
    {"adjtimex.adjtime_no_singleshot", op_adj_noss},
    {"clock_adjtime.query", op_clockadj_query},
    {"clock_adjtime.frequency", op_clockadj_freq},
    {"clock_adjtime.bad_clock", op_clockadj_badclock},
};
#define NOPS (sizeof ops / sizeof ops[0])

/* the status lines that say where and as whom the probe ran */
static void print_where(void)
{
  FILE *f = fopen("/proc/self/status", "re");
  char line[256], creds[512] = "";
  int seccomp = -1;
  size_t len = 0;
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (sscanf(line, "Seccomp: %d", &seccomp) == 1)
      continue;
    if (strncmp(line, "CapEff:", 7) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0) {
      char *v = line + strcspn(line, "\t ");
      v += strspn(v, "\t ");
      line[strcspn(line, ":")] = '\0';
      len += (size_t)snprintf(creds + len, sizeof creds - len, " %s=%s", line, v);
    }
  }
  if (f != NULL)
    fclose(f);
  printf("where seccomp=%d\ncreds uid=%u gid=%u%s\n", seccomp, (unsigned)getuid(),
         (unsigned)getgid(), creds);
}

int main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[1], "list") == 0) {
    for (size_t i = 0; i < NOPS; i++)
      printf("%s\n", ops[i].name);
    return 0;
  }
  if (argc != 3 || strcmp(argv[1], "run") != 0) {
    fprintf(stderr, "usage: compat_probe list | run DIR\n");
    return 2;
  }
  g_dir = argv[2];
  setvbuf(stdout, NULL, _IOLBF, 0);
  print_where();
  for (size_t i = 0; i < NOPS; i++) {
    char d[512];
    snprintf(d, sizeof d, "%s/%s", g_dir, ops[i].name);
    if (mkdir(d, 0755) < 0) {
      fprintf(stderr, "compat_probe: mkdir %s: %s\n", d, strerror(errno));
      return 2;
    }
    struct res r = {.len = 0};
    errno = 0;
    ops[i].run(&r, d);
    printf("%s %s\n", ops[i].name, r.text);
  }
  printf("end %zu\n", NOPS);
  return 0;
}
