/* The deputy's rights: usbox performs path, xattr and socket calls for the
 * agent, as root. Whatever it does must give the agent exactly what the
 * kernel would give the agent itself: a root agent without capabilities
 * (usbox's default) or an agent that dropped to another uid.
 *
 *   attack_deputy --dir D --other F --sticky T --sock S --dgram S [--seconds N]
 *                 [--drop-uid U]
 *   attack_deputy --root-only F --thread-uid U [--seconds N]
 *   attack_deputy --listen DIR --owner UID      (the host's fixture, run natively)
 *
 * D is a writable directory (the program makes D/mine there), F a file of
 * another uid (mode 0644), T a sticky directory (1777) of another uid
 * holding that uid's file victim and directory victim-dir (with
 * fs.protected_hardlinks, F cannot be linked either), S and S' a stream
 * and a datagram unix socket of
 * another uid, mode 0600, with a listener behind them (--listen, started by
 * the script, logs every connection and datagram it gets to DIR/listener.log).
 * --drop-uid U: drop to uid/gid U first (the agent needs CAP_SETUID and
 * CAP_SETGID for that; afterwards it has no capability left).
 * --root-only F --thread-uid U: only the race of thread_creds_race (F is
 * root's, mode 0600; the agent needs CAP_SETUID and CAP_SETGID).
 *
 * Every expectation is what the kernel gives a process without
 * capabilities, so the same program run natively under setpriv with every
 * capability dropped must pass, and run natively as full root must fail
 * (the script checks both: the expectations are the kernel's, and the
 * checks can fail). The host state is checked by the script afterwards. */
#include "attack.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>

#define FCAP "security.capability"
#define TRUSTED "trusted.usbox-attack"

/* security.capability v2, cap_net_raw+ep: a valid blob, so the kernel's
 * refusal is about the right to set it, not about its format */
static const struct vfs_cap_data fcap_blob = {.magic_etc =
                                                  VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
                                              .data = {{.permitted = 1u << CAP_NET_RAW}}};

/* the same expectation in every mode: the kernel's for a process without
 * capabilities */
#define EXPECT(name, x, expr) EXPECT_CALL((name), (x), (x), (expr))

/* An attack must fail. The errno should be the kernel's for a process
 * without capabilities (test_creds.sh holds usbox to that, row by row);
 * here another errno is noted, not failed: the attack did not work. */
static void expect_refused(const char *name, int kernel_errno, long r)
{
  int e = errno;
  if (!check(name, r == -1, "got %ld, want a failure", r))
    return;
  if (e != kernel_errno)
    note("%s: refused with %s, the kernel says %s", name, errname(e), errname(kernel_errno));
}
#define REFUSED(name, kernel_errno, expr)                                                          \
  do {                                                                                             \
    errno = 0;                                                                                     \
    long r_ = (long)(expr);                                                                        \
    expect_refused((name), (kernel_errno), r_);                                                    \
  } while (0)

static char mine[PATH_MAX];
static const char *other;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *procfd(int fd)
{
  static char buf[64];
  snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
  return buf;
}

/* ---- xattrs the kernel reserves to capabilities ---- */

/* name on mine by path, without following, by fd and by its /proc name */
static void xattr_four_ways(const char *label, const char *name, const void *v, size_t len)
{
  char n[128];
  int fd = open(mine, O_RDONLY | O_CLOEXEC);
  snprintf(n, sizeof n, "%s: setxattr", label);
  REFUSED(n, EPERM, setxattr(mine, name, v, len, 0));
  snprintf(n, sizeof n, "%s: lsetxattr", label);
  REFUSED(n, EPERM, lsetxattr(mine, name, v, len, 0));
  snprintf(n, sizeof n, "%s: fsetxattr", label);
  REFUSED(n, EPERM, fsetxattr(fd, name, v, len, 0));
  snprintf(n, sizeof n, "%s: setxattr /proc/self/fd/N", label);
  REFUSED(n, EPERM, setxattr(procfd(fd), name, v, len, 0));
  /* on the magic link itself, not what it points to (usbox: EROFS, /proc
   * is read-only in the view; root natively: EOPNOTSUPP) */
  snprintf(n, sizeof n, "%s: lsetxattr /proc/self/fd/N", label);
  REFUSED(n, EPERM, lsetxattr(procfd(fd), name, v, len, 0));
  close(fd);
}

static void reserved_xattrs(void)
{
  xattr_four_ways("security.capability on my file", FCAP, &fcap_blob, XATTR_CAPS_SZ_2);
  xattr_four_ways("trusted.* on my file", TRUSTED, "evil", 4);
}

/* ---- another uid's file ---- */

static void others_file(void)
{
  int fd = open(other, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail("another uid's file", "open %s: %s", other, errname(errno));
    return;
  }
  uid_t me = geteuid();
  gid_t mygid = getegid();
  struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
  REFUSED("chown another uid's file: fchownat(fd, \"\", AT_EMPTY_PATH)", EPERM,
          fchownat(fd, "", me, mygid, AT_EMPTY_PATH));
  REFUSED("chown another uid's file: fchown(fd)", EPERM, fchown(fd, me, mygid));
  REFUSED("chown another uid's file: chown(/proc/self/fd/N)", EPERM, chown(procfd(fd), me, mygid));
  REFUSED("chown another uid's file: lchown(path)", EPERM, lchown(other, me, mygid));
  REFUSED("chmod another uid's file: fchmodat(/proc/self/fd/N)", EPERM,
          fchmodat(AT_FDCWD, procfd(fd), 0666, 0));
  REFUSED("chmod another uid's file: chmod(path)", EPERM, chmod(other, 0666));
  REFUSED("chmod another uid's file: fchmod(fd)", EPERM, fchmod(fd, 0666));
  /* the kernel's own reading of utimensat(fd, NULL, ...): the fd itself,
   * and no flag allowed there */
  REFUSED("utimens another uid's file: utimensat(fd, NULL, times, 0)", EPERM,
          syscall(SYS_utimensat, fd, NULL, ts, 0));
  REFUSED("utimens another uid's file: utimensat(fd, NULL, times, AT_EMPTY_PATH)", EINVAL,
          syscall(SYS_utimensat, fd, NULL, ts, AT_EMPTY_PATH));
  REFUSED("utimens another uid's file: utimensat(fd, \"\", times, AT_EMPTY_PATH)", EPERM,
          utimensat(fd, "", ts, AT_EMPTY_PATH));
  REFUSED("utimens another uid's file: utimensat(/proc/self/fd/N, times)", EPERM,
          utimensat(AT_FDCWD, procfd(fd), ts, 0));
  /* "now" needs only write access, which a 0644 file of another uid denies */
  REFUSED("utimens another uid's file: utimensat(fd, NULL, NULL, 0) (now)", EACCES,
          syscall(SYS_utimensat, fd, NULL, NULL, 0));
  REFUSED("user.* xattr on another uid's file: fsetxattr", EACCES,
          fsetxattr(fd, "user.usbox-attack", "x", 1, 0));
  REFUSED("user.* xattr on another uid's file: setxattr(/proc/self/fd/N)", EACCES,
          setxattr(procfd(fd), "user.usbox-attack", "x", 1, 0));
  REFUSED("open another uid's 0644 file O_RDWR via /proc/self/fd/N", EACCES,
          open(procfd(fd), O_RDWR | O_CLOEXEC));
  REFUSED("truncate another uid's file via /proc/self/fd/N", EACCES, truncate(procfd(fd), 0));
  close(fd);
}

/* By path: no write access, no hard link (fs.protected_hardlinks). */
static void others_file_by_path(const char *dir)
{
  char link_path[PATH_MAX];
  snprintf(link_path, sizeof link_path, "%s/other-link", dir);
  REFUSED("open another uid's 0644 file O_WRONLY", EACCES, open(other, O_WRONLY | O_CLOEXEC));
  REFUSED("truncate another uid's 0644 file", EACCES, truncate(other, 0));
  REFUSED("hard link to another uid's file (protected_hardlinks)", EPERM, link(other, link_path));
}

/* A sticky directory of another uid: its entries are its owner's. */
static void sticky_dir(const char *t)
{
  char victim[PATH_MAX], moved[PATH_MAX], vdir[PATH_MAX];
  snprintf(victim, sizeof victim, "%s/victim", t);
  snprintf(moved, sizeof moved, "%s/moved", t);
  snprintf(vdir, sizeof vdir, "%s/victim-dir", t);
  REFUSED("sticky: unlink another uid's file", EPERM, unlink(victim));
  REFUSED("sticky: rename another uid's file", EPERM, rename(victim, moved));
  REFUSED("sticky: rename my file over another uid's", EPERM, rename(mine, victim));
  REFUSED("sticky: exchange my file with another uid's", EPERM,
          renameat2(AT_FDCWD, mine, AT_FDCWD, victim, RENAME_EXCHANGE));
  REFUSED("sticky: rmdir another uid's directory", EPERM, rmdir(vdir));
  /* a rename that worked took mine away: the rest needs it */
  int fd = open(mine, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0)
    close(fd);
}

/* ---- a privileged port ---- */

static long bind_port(int type, int port)
{
  int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = bind(s, (struct sockaddr *)&sin, sizeof sin);
  int e = errno;
  close(s);
  errno = e;
  return r;
}

static void low_ports(void)
{
  REFUSED("bind TCP 127.0.0.1:80", EACCES, bind_port(SOCK_STREAM, 80));
  REFUSED("bind UDP 127.0.0.1:80", EACCES, bind_port(SOCK_DGRAM, 80));
  REFUSED("bind TCP 127.0.0.1:1", EACCES, bind_port(SOCK_STREAM, 1));
}

/* ---- RLIMIT_FSIZE ---- */

#define FSIZE_LIMIT 4096
static volatile sig_atomic_t xfsz;
static void on_xfsz(int sig)
{
  (void)sig;
  xfsz++;
}

/* One way to grow a file past the limit: EFBIG, and SIGXFSZ delivered. */
static void grow_past_limit(const char *label, const char *path)
{
  char n[128];
  xfsz = 0;
  snprintf(n, sizeof n, "RLIMIT_FSIZE: %s refused", label);
  errno = 0;
  long r = truncate(path, 64 * FSIZE_LIMIT);
  int e = errno;
  expect_refused(n, EFBIG, r);
  /* with EFBIG the kernel always raises SIGXFSZ too */
  snprintf(n, sizeof n, "RLIMIT_FSIZE: %s raises SIGXFSZ with EFBIG", label);
  if (r == -1 && e == EFBIG)
    check(n, xfsz == 1, "SIGXFSZ delivered %d times", (int)xfsz);
}

static void file_size_limit(const char *dir)
{
  char big[PATH_MAX];
  snprintf(big, sizeof big, "%s/big", dir);
  int fd = open(big, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fail("RLIMIT_FSIZE", "creating %s: %s", big, errname(errno));
    return;
  }
  struct sigaction sa = {.sa_handler = on_xfsz}, old;
  sigaction(SIGXFSZ, &sa, &old);
  struct rlimit saved, lim;
  getrlimit(RLIMIT_FSIZE, &saved);
  lim = saved;
  lim.rlim_cur = FSIZE_LIMIT;
  setrlimit(RLIMIT_FSIZE, &lim);
  grow_past_limit("truncate(path)", big);
  grow_past_limit("truncate(/proc/self/fd/N)", procfd(fd));
  xfsz = 0;
  EXPECT("RLIMIT_FSIZE: truncate(path) within the limit", SUCCEEDS, truncate(big, FSIZE_LIMIT));
  check("RLIMIT_FSIZE: no SIGXFSZ within the limit", xfsz == 0, "%d signals", (int)xfsz);
  setrlimit(RLIMIT_FSIZE, &saved);
  sigaction(SIGXFSZ, &old, NULL);
  struct stat st;
  check("RLIMIT_FSIZE: the file never grew past the limit",
        fstat(fd, &st) == 0 && st.st_size <= FSIZE_LIMIT, "size %lld", (long long)st.st_size);
  close(fd);
}

/* ---- unix sockets of another uid ---- */

static long unix_call(int type, const char *path, bool send)
{
  int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  long r = send ? sendto(s, "hello", 5, 0, (struct sockaddr *)&un, sizeof un)
                : connect(s, (struct sockaddr *)&un, sizeof un);
  int e = errno;
  close(s);
  errno = e;
  return r;
}

static void others_sockets(const char *stream, const char *dgram)
{
  REFUSED("connect to another uid's 0600 stream socket", EACCES,
          unix_call(SOCK_STREAM, stream, false));
  REFUSED("sendto another uid's 0600 datagram socket", EACCES, unix_call(SOCK_DGRAM, dgram, true));
  REFUSED("connect to another uid's 0600 datagram socket", EACCES,
          unix_call(SOCK_DGRAM, dgram, false));
}

/* ---- the race: what setxattr is about changes under the sentry ---- */

/* One side of the race: a file and an xattr name, copied over the live
 * buffer as a whole. Side 0 is allowed (my file, a user.* name), side 1
 * forbidden (another uid's file, a trusted.* name); a torn copy mixes them
 * or names nothing. */
struct target {
  char path[PATH_MAX];
  char name[64];
};
static struct target live, sides[2];
static atomic_bool stop;
static atomic_long flips;

static void *flipper(void *arg)
{
  (void)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    memcpy(&live, &sides[0], sizeof live);
    __asm__ volatile("" ::: "memory");
    memcpy(&live, &sides[1], sizeof live);
    __asm__ volatile("" ::: "memory");
    atomic_fetch_add_explicit(&flips, 1, memory_order_relaxed);
  }
  return NULL;
}

/* What a forbidden success would have left: another uid's file with any
 * of the two names, my file with the trusted one (only visible to a
 * process with CAP_SYS_ADMIN; the script looks on the host as well). */
static const char *forbidden_trace(void)
{
  char v[16];
  if (getxattr(other, "user.race", v, sizeof v) >= 0)
    return "another uid's file got user.race";
  if (getxattr(other, "trusted.race", v, sizeof v) >= 0)
    return "another uid's file got trusted.race";
  if (getxattr(mine, "trusted.race", v, sizeof v) >= 0)
    return "my file got trusted.race";
  return NULL;
}

static void xattr_race(double seconds)
{
  snprintf(sides[0].path, sizeof sides[0].path, "%s", mine);
  snprintf(sides[0].name, sizeof sides[0].name, "user.race");
  snprintf(sides[1].path, sizeof sides[1].path, "%s", other);
  snprintf(sides[1].name, sizeof sides[1].name, "trusted.race");
  live = sides[0];
  pthread_t th;
  if (pthread_create(&th, NULL, flipper, NULL) != 0) {
    fail("xattr race", "pthread_create failed");
    return;
  }
  long rounds = 0, allowed = 0, refused = 0, violations = 0;
  const char *first = "";
  double end = now() + seconds;
  while (now() < end && violations == 0) {
    rounds++;
    long r = rounds % 2 ? setxattr(live.path, live.name, "v", 1, 0)
                        : lsetxattr(live.path, live.name, "v", 1, 0);
    if (r < 0) {
      refused++;
      continue;
    }
    const char *t = forbidden_trace();
    if (t != NULL && violations++ == 0)
      first = t;
    else if (t == NULL)
      allowed++;
    removexattr(mine, "user.race");
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  note("xattr race: %ld rounds, %ld flips, %ld allowed sets, %ld refused", rounds,
       atomic_load(&flips), allowed, refused);
  check("xattr race: never set on another uid's file or trusted.* on mine", violations == 0,
        "%ld times; first: %s", violations, first);
  check("xattr race: the allowed side was hit", allowed > 0, "no user.race set on my file");
  check("xattr race: the forbidden side was hit", refused > 0, "no call was refused");
}

/* ---- credentials are per thread ---- */

/* The kernel keeps credentials per thread (glibc's setresuid changes them
 * all; the raw system call only the caller's). usbox acts as the calling
 * thread: while one thread stays root and keeps opening a file only root
 * may read, the main thread, dropped to another uid by the raw call, must
 * never open it, however the sentry caches credentials. */
static const char *root_only;
static atomic_long root_opens;

static void *root_thread(void *arg)
{
  (void)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    int fd = open(root_only, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      atomic_fetch_add(&root_opens, 1);
      close(fd);
    }
  }
  return NULL;
}

static void thread_creds_race(uid_t uid, double seconds)
{
  pthread_t th;
  if (pthread_create(&th, NULL, root_thread, NULL) != 0) {
    fail("thread credentials race", "pthread_create failed");
    return;
  }
  if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, uid, uid, uid) < 0 ||
      syscall(SYS_setresuid, uid, uid, uid) < 0) {
    fail("thread credentials race", "dropping this thread: %s", errname(errno));
    atomic_store(&stop, true);
    pthread_join(th, NULL);
    return;
  }
  long mine_opened = 0, refused = 0;
  double end = now() + seconds;
  while (now() < end && mine_opened == 0) {
    int fd = open(root_only, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      mine_opened++;
      close(fd);
    } else {
      refused++;
    }
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  note("thread credentials race: %ld opens by the root thread, %ld refused to uid %d",
       atomic_load(&root_opens), refused, (int)uid);
  check("thread credentials race: the dropped thread never opens root's file", mine_opened == 0,
        "it did (%ld refusals before)", refused);
  check("thread credentials race: the root thread opened it meanwhile",
        atomic_load(&root_opens) > 0, "never");
}

/* ---- the host's fixture: a listener that counts what reaches it ---- */

static int listen_at(const char *dir, const char *name, int type, uid_t owner)
{
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s/%s", dir, name);
  unlink(un.sun_path);
  int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&un, sizeof un) < 0 ||
      (type == SOCK_STREAM && listen(s, 64) < 0) || chown(un.sun_path, owner, owner) < 0 ||
      chmod(un.sun_path, 0600) < 0) {
    perror(un.sun_path);
    exit(2);
  }
  return s;
}

static int listener(const char *dir, uid_t owner)
{
  char logpath[PATH_MAX];
  snprintf(logpath, sizeof logpath, "%s/listener.log", dir);
  FILE *log = fopen(logpath, "ae");
  if (log == NULL) {
    perror(logpath);
    return 2;
  }
  setvbuf(log, NULL, _IOLBF, 0);
  alarm(0);
  struct pollfd p[2] = {{.fd = listen_at(dir, "stream.sock", SOCK_STREAM, owner), .events = POLLIN},
                        {.fd = listen_at(dir, "dgram.sock", SOCK_DGRAM, owner), .events = POLLIN}};
  fprintf(log, "listening\n");
  for (;;) {
    if (poll(p, 2, -1) < 0)
      continue;
    if (p[0].revents & POLLIN) {
      int c = accept4(p[0].fd, NULL, NULL, SOCK_CLOEXEC);
      if (c >= 0) {
        fprintf(log, "accepted a connection\n");
        close(c);
      }
    }
    char buf[64];
    if ((p[1].revents & POLLIN) && recv(p[1].fd, buf, sizeof buf, 0) >= 0)
      fprintf(log, "received a datagram\n");
  }
}

/* ---- main ---- */

static void drop_to(uid_t uid)
{
  if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0) {
    fail("dropping to the unprivileged uid", "%s", errname(errno));
    exit(attack_finish("attack_deputy"));
  }
  note("running as uid %d", (int)getuid());
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *dir = NULL, *stream = NULL, *dgram = NULL, *listen_dir = NULL, *sticky = NULL;
  long thread_uid = -1;
  double seconds = 2.0;
  long drop = -1, owner = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dir") == 0)
      dir = argv[i + 1];
    else if (strcmp(argv[i], "--other") == 0)
      other = argv[i + 1];
    else if (strcmp(argv[i], "--sticky") == 0)
      sticky = argv[i + 1];
    else if (strcmp(argv[i], "--root-only") == 0)
      root_only = argv[i + 1];
    else if (strcmp(argv[i], "--thread-uid") == 0)
      thread_uid = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--sock") == 0)
      stream = argv[i + 1];
    else if (strcmp(argv[i], "--dgram") == 0)
      dgram = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--drop-uid") == 0)
      drop = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--listen") == 0)
      listen_dir = argv[i + 1];
    else if (strcmp(argv[i], "--owner") == 0)
      owner = atol(argv[i + 1]);
  }
  if (listen_dir != NULL && owner >= 0)
    return listener(listen_dir, (uid_t)owner);
  if (root_only != NULL && thread_uid >= 0) {
    thread_creds_race((uid_t)thread_uid, seconds);
    return attack_finish("attack_deputy");
  }
  if (dir == NULL || other == NULL || sticky == NULL || stream == NULL || dgram == NULL) {
    fprintf(stderr, "usage: attack_deputy --dir D --other F --sticky T --sock S --dgram S "
                    "[--seconds N] [--drop-uid U] | --root-only F --thread-uid U "
                    "| --listen DIR --owner UID\n");
    return 2;
  }
  if (drop >= 0)
    drop_to((uid_t)drop);
  snprintf(mine, sizeof mine, "%s/mine", dir);
  int fd = open(mine, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (!check("my own file in the writable directory", fd >= 0, "creating %s: %s", mine,
             errname(errno)))
    return attack_finish("attack_deputy");
  close(fd);
  reserved_xattrs();
  others_file();
  others_file_by_path(dir);
  sticky_dir(sticky);
  low_ports();
  file_size_limit(dir);
  others_sockets(stream, dgram);
  xattr_race(seconds);
  return attack_finish("attack_deputy");
}
