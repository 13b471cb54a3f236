/* timeit: run a command and print how long it took, from just before fork
 * to the return of wait4, with the rusage the kernel reports for it.
 *
 *   timeit [--reps N] [--out FILE] [--ttfi [--sample APP]] -- CMD [ARGS...]
 *
 * bench/run uses it from outside the sandbox (end to end: sandbox start-up,
 * the command, tear-down) and inside it (the command alone, as the sandboxed
 * program sees it). One line per repetition on stdout:
 *
 *   rep=0 wall_ns=612345 status=0 cpu_ns=401000 maxrss_kb=1234
 *
 * status is the wait status decoded as a shell would (128+N for signal N);
 * maxrss_kb is ru_maxrss of wait4: the largest resident set of the command
 * or anything it waited for. The command's stdout and stderr go to FILE
 * (appended) or else to timeit's stderr, so stdout holds only results.
 *
 * --ttfi: the command's stdout is read; its first line must be a
 * CLOCK_REALTIME timestamp in ns (bench/firstinsn). Adds ttfi_ns, the time
 * from the fork to that timestamp (time to the program's first instruction).
 * --sample APP: once the timestamp is in, walk the command's process tree in
 * /proc, then close the command's stdin (firstinsn --hold waits for that).
 * Processes named APP (comm) and processes without a command line (gVisor's
 * stub processes, which hold the application's address space) are the
 * application; the rest is the sandbox. Adds sb_rss_kb, sb_pss_kb,
 * sb_hwm_kb (sums of VmRSS, Pss, VmHWM), sb_procs, app_rss_kb, app_procs.
 *
 * Exit status: 0 if every repetition's command exited 0, else 1 (after the
 * repetition that failed); 2 for a usage error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long status_field(int pid, const char *key)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return 0;
  long v = 0;
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      v = strtol(line + kl + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

static long pss_kb(int pid)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return 0;
  long v = 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Pss:", 4) == 0) {
      v = strtol(line + 4, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

static int read_ppid(int pid, char *comm, size_t commsz)
{
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
  if (!lp || !rp || rp < lp)
    return -1;
  size_t cl = (size_t)(rp - lp - 1);
  if (cl >= commsz)
    cl = commsz - 1;
  memcpy(comm, lp + 1, cl);
  comm[cl] = '\0';
  char state;
  int ppid;
  if (sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || state == 'Z')
    return -1;
  return ppid;
}

static bool has_cmdline(int pid)
{
  char path[64], c;
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, &c, 1);
  close(fd);
  return n == 1;
}

struct proc_ent {
  int pid, ppid;
  char comm[32];
};

static void sample_tree(int root, const char *app, char *out, size_t outsz)
{
  size_t cap = 1024, n = 0;
  struct proc_ent *ps = malloc(cap * sizeof *ps);
  DIR *d = opendir("/proc");
  struct dirent *de;
  while (ps && d && (de = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)de->d_name[0]))
      continue;
    if (n == cap) {
      struct proc_ent *np = realloc(ps, (cap *= 2) * sizeof *ps);
      if (!np)
        break;
      ps = np;
    }
    ps[n].pid = atoi(de->d_name);
    ps[n].ppid = read_ppid(ps[n].pid, ps[n].comm, sizeof ps[n].comm);
    if (ps[n].ppid >= 0)
      n++;
  }
  if (d)
    closedir(d);
  /* descendants of root, root included: repeat until nothing is added */
  bool *in = calloc(n ? n : 1, sizeof *in);
  for (size_t i = 0; i < n; i++)
    in[i] = ps[i].pid == root;
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < n; i++)
      if (!in[i])
        for (size_t j = 0; j < n; j++)
          if (in[j] && ps[i].ppid == ps[j].pid) {
            in[i] = grew = true;
            break;
          }
  }
  long sb_rss = 0, sb_pss = 0, sb_hwm = 0, app_rss = 0;
  int sb_procs = 0, app_procs = 0;
  for (size_t i = 0; i < n; i++) {
    if (!in[i])
      continue;
    int pid = ps[i].pid;
    if (strcmp(ps[i].comm, app) == 0 || !has_cmdline(pid)) {
      app_rss += status_field(pid, "VmRSS");
      app_procs++;
    } else {
      sb_rss += status_field(pid, "VmRSS");
      sb_hwm += status_field(pid, "VmHWM");
      sb_pss += pss_kb(pid);
      sb_procs++;
    }
  }
  snprintf(out, outsz,
           " sb_rss_kb=%ld sb_pss_kb=%ld sb_hwm_kb=%ld sb_procs=%d app_rss_kb=%ld app_procs=%d",
           sb_rss, sb_pss, sb_hwm, sb_procs, app_rss, app_procs);
  free(in);
  free(ps);
}

static void usage(void)
{
  fprintf(stderr, "usage: timeit [--reps N] [--out FILE] [--ttfi [--sample APP]] -- CMD [ARGS...]\n");
  exit(2);
}

int main(int argc, char **argv)
{
  long reps = 1;
  const char *out = NULL, *sample = NULL;
  bool ttfi = false;
  int i;
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--")) {
      i++;
      break;
    } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = atol(argv[++i]);
      if (reps < 1)
        usage();
    } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
      out = argv[++i];
    } else if (!strcmp(argv[i], "--ttfi")) {
      ttfi = true;
    } else if (!strcmp(argv[i], "--sample") && i + 1 < argc) {
      sample = argv[++i];
    } else if (argv[i][0] == '-') {
      usage();
    } else {
      break;
    }
  }
  if (i >= argc || (sample && !ttfi))
    usage();
  char **cmd = argv + i;
  signal(SIGPIPE, SIG_IGN);

  int outfd = -1;
  if (out) {
    outfd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (outfd < 0) {
      fprintf(stderr, "timeit: %s: %s\n", out, strerror(errno));
      return 2;
    }
  }

  for (long r = 0; r < reps; r++) {
    int opipe[2] = {-1, -1}, ipipe[2] = {-1, -1};
    if (ttfi && pipe2(opipe, O_CLOEXEC) != 0)
      return perror("timeit: pipe"), 2;
    if (sample && pipe2(ipipe, O_CLOEXEC) != 0)
      return perror("timeit: pipe"), 2;
    fflush(stdout);
    uint64_t t0_real = clock_ns(CLOCK_REALTIME);
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    pid_t pid = fork();
    if (pid < 0)
      return perror("timeit: fork"), 2;
    if (pid == 0) {
      int errfd = outfd >= 0 ? outfd : 2;
      if (dup2(ttfi ? opipe[1] : errfd, 1) < 0 || dup2(errfd, 2) < 0)
        _exit(125);
      if (sample && dup2(ipipe[0], 0) < 0)
        _exit(125);
      execvp(cmd[0], cmd);
      fprintf(stderr, "timeit: %s: %s\n", cmd[0], strerror(errno));
      _exit(errno == ENOENT ? 127 : 126);
    }
    char extra[512] = "";
    if (ttfi) {
      close(opipe[1]);
      if (sample)
        close(ipipe[0]);
      char line[128];
      size_t len = 0;
      ssize_t k;
      while (len < sizeof line - 1 && (k = read(opipe[0], line + len, sizeof line - 1 - len)) > 0) {
        len += (size_t)k;
        if (memchr(line, '\n', len))
          break;
      }
      line[len] = '\0';
      char *end;
      unsigned long long ts = strtoull(line, &end, 10);
      if (end != line && *end == '\n') {
        long long d = (long long)(ts - t0_real);
        snprintf(extra, sizeof extra, " ttfi_ns=%lld", d);
      } else {
        fprintf(stderr, "timeit: no timestamp from %s (got \"%.40s\")\n", cmd[0], line);
      }
      if (sample) {
        size_t el = strlen(extra);
        sample_tree(pid, sample, extra + el, sizeof extra - el);
        close(ipipe[1]);
      }
      char sink[4096];
      while (read(opipe[0], sink, sizeof sink) > 0)
        ;
      close(opipe[0]);
    }
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0)
      if (errno != EINTR)
        return perror("timeit: wait4"), 2;
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    uint64_t cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
                   (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
    printf("rep=%ld wall_ns=%llu status=%d cpu_ns=%llu maxrss_kb=%ld%s\n", r,
           (unsigned long long)(t1 - t0), code, (unsigned long long)cpu, ru.ru_maxrss, extra);
    fflush(stdout);
    if (code != 0)
      return 1;
  }
  return 0;
}
