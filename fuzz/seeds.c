/* seeds DIR: write the seed corpus of each fuzz target into DIR/<target>/:
 * a few well-formed inputs, built from the real structs (so they follow
 * the wire format when it changes), each checked to decode. The fuzzer
 * starts from these instead of having to find the magic, the lengths and
 * the layout by itself. fuzz/corpus/ holds a committed copy. */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "gofer/ops.h"
#include "gofer/protocol.h"
#include "netstack-shim/msg.h"
#include "netstack-shim/sockaddr.h"
#include "sentry/init_ctl.h"

static const char *outdir;

static void write_seed(const char *target, const char *name, const void *buf, size_t len)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", outdir, target);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void must(bool ok, const char *what)
{
  if (!ok) {
    fprintf(stderr, "seeds: %s does not decode\n", what);
    exit(1);
  }
}

/* ---- gofer requests: header, path, path2, data ---- */

static _Alignas(16) uint8_t msg[GOFER_MAX_MSG];

static void gofer(const char *name, uint16_t op, uint16_t mount, uint32_t flags, const char *path,
                  const char *path2, const void *data, uint32_t data_len)
{
  struct gofer_req q = {.magic = GOFER_MAGIC, .id = 1, .op = op, .mount = mount, .flags = flags,
                        .cpu = -1, .arg0 = 0644, .data_len = data_len};
  q.ident.ngroups = 1;
  q.ident.groups[0] = 100;
  q.path_len = path ? (uint32_t)strlen(path) + 1 : 0;
  q.path2_len = path2 ? (uint32_t)strlen(path2) + 1 : 0;
  size_t n = sizeof q;
  memcpy(msg, &q, sizeof q);
  memcpy(msg + n, path, q.path_len), n += q.path_len;
  memcpy(msg + n, path2, q.path2_len), n += q.path2_len;
  memcpy(msg + n, data, data_len), n += data_len;
  /* the fuzz target's mounts: 0 served, 1 procfs */
  struct gofer_state g = {.mounts = {{.fd = 100}, {.fd = 101, .procfs = true}}, .nmounts = 2};
  struct gofer_call c;
  must(gofer_decode(&g, msg, n, 7, &c) == 0, name);
  write_seed("gofer_decode", name, msg, n);
}

static void gofer_seeds(void)
{
  struct timespec ts[2] = {{1, 2}, {3, 4}};
  gofer("walk", GOFER_WALK, 0, 0, "usr/lib/x86_64-linux-gnu", NULL, NULL, 0);
  gofer("walk-root", GOFER_WALK, 0, 0, "", NULL, NULL, 0);
  gofer("open-create", GOFER_OPEN, 0, O_CREAT | O_WRONLY, "tmp/new/", NULL, NULL, 0);
  gofer("mkdir", GOFER_MKDIR, 0, 0, "home/agent/dir", NULL, NULL, 0);
  gofer("rename", GOFER_RENAME, 0, 0, "a/b", "c/d", NULL, 0);
  gofer("link", GOFER_LINK, 0, 0, "file", "dir/..", NULL, 0);
  gofer("symlink", GOFER_SYMLINK, 0, 0, "lnk", NULL, "../target", 10);
  gofer("setxattr", GOFER_SETXATTR, 0, 0, "f", "user.key", "value", 5);
  gofer("utimens", GOFER_UTIMENS, 0, 0, "f", NULL, ts, sizeof ts);
  gofer("inotify", GOFER_INOTIFY, 0, 0, "watched", NULL, NULL, 0);
  gofer("proc-follow", GOFER_PROC_FOLLOW, 1, 0, "self/fd/3", NULL, NULL, 0);
  gofer("cancel", GOFER_CANCEL, 0, 0, NULL, NULL, NULL, 0);
  /* at the limits, so that one mutation crosses them: a path of PATH_MAX
   * bytes (16 names of NAME_MAX), an xattr name of 255, a symlink target of
   * PATH_MAX */
  static char longest[PATH_MAX], name[256];
  for (size_t i = 0; i < PATH_MAX - 1; i++)
    longest[i] = i % (NAME_MAX + 1) == NAME_MAX ? '/' : 'a';
  memset(name, 'n', 255);
  gofer("walk-path-max", GOFER_WALK, 0, 0, longest, NULL, NULL, 0);
  gofer("getxattr-name-max", GOFER_GETXATTR, 0, 0, "f", name, NULL, 0);
  gofer("symlink-target-max", GOFER_SYMLINK, 0, 0, "lnk", NULL, longest, PATH_MAX);
}

/* ---- network inputs: a selector byte (fuzz/net_decode.c), then bytes ---- */

static void net(const char *name, uint8_t selector, const void *buf, size_t len)
{
  uint8_t in[1 + 4096];
  in[0] = selector;
  memcpy(in + 1, buf, len);
  write_seed("net_decode", name, in, 1 + len);
}

static void unix_seed(const char *name, const char *path, size_t path_bytes, size_t len)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_un *un = (struct sockaddr_un *)&ss;
  un->sun_family = AF_UNIX;
  memcpy(un->sun_path, path, path_bytes);
  struct net_unix_addr ua;
  must(net_unix_addr_decode(&ss, len, &ua) == 0 || len > sizeof *un, name);
  net(name, 0, &ss, len);
}

static void inet_seeds(void)
{
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(443),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  net("inet", 1, &in, sizeof in);
  struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
  in6.sin6_addr.s6_addr[15] = 1;
  net("inet6", 1, &in6, sizeof in6);
  in6.sin6_addr.s6_addr[10] = in6.sin6_addr.s6_addr[11] = 0xff; /* ::ffff:0.0.0.1 */
  net("inet6-mapped", 1, &in6, sizeof in6);
}

static size_t put_cmsg(uint8_t *ctl, size_t off, int level, int type, const void *data, size_t n)
{
  struct cmsghdr h = {.cmsg_len = CMSG_LEN(n), .cmsg_level = level, .cmsg_type = type};
  memcpy(ctl + off, &h, sizeof h);
  memcpy(ctl + off + CMSG_LEN(0), data, n);
  return off + CMSG_SPACE(n);
}

static void cmsg_seeds(void)
{
  _Alignas(struct cmsghdr) uint8_t ctl[256] = {0};
  int fds[2] = {3, 4};
  struct ucred u = {.pid = 1, .uid = 1000, .gid = 1000};
  int tos = 0x10;
  size_t n = put_cmsg(ctl, 0, SOL_SOCKET, SCM_RIGHTS, fds, sizeof fds);
  n = put_cmsg(ctl, n, SOL_SOCKET, SCM_CREDENTIALS, &u, sizeof u);
  n = put_cmsg(ctl, n, SOL_IP, IP_TOS, &tos, sizeof tos);
  struct net_cmsg m = {.hdr = NULL};
  int r;
  while ((r = net_cmsg_step(ctl, n, &m)) > 0)
    ;
  must(r == 0, "cmsg");
  net("cmsg", 2, ctl, n);
}

static void msghdr_seeds(void)
{
  struct {
    struct msghdr m;
    struct iovec iov[2];
  } s = {.m = {.msg_name = (void *)0x1000, .msg_namelen = 16, .msg_iovlen = 2},
         .iov = {{(void *)0x2000, 10}, {(void *)0x3000, 20}}};
  net("msghdr", 3, &s, sizeof s);
}

static void netlink_seeds(void)
{
  struct {
    struct nlmsghdr h;
    struct rtgenmsg g;
  } __attribute__((packed)) req = {{.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK}, {AF_UNSPEC}};
  uint8_t buf[2 * NLMSG_ALIGN(sizeof req)];
  memset(buf, 0, sizeof buf);
  memcpy(buf, &req, sizeof req);
  req.h.nlmsg_type = RTM_NEWADDR;
  memcpy(buf + NLMSG_ALIGN(sizeof req), &req, sizeof req);
  net("netlink", 4, buf, sizeof buf);
}

/* oci_exec: a process object, and requests made by the monitor's own
 * encoder (sent over a socket pair and read back as the init reads them) */
static void exec_request_seed(const char *name, bool tty, const char *path, char **argv,
                              char **envp)
{
  int sv[2];
  must(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair");
  struct policy_process proc = {.set_user = true, .uid = 1000, .gid = 1000, .ngroups = 1,
                                .groups = {27}, .umask = 022, .nrlimits = 1,
                                .rlimits = {{.resource = 7, .soft = 1024, .hard = 4096}}};
  struct init_exec_spec spec = {.id = 1, .argv = argv, .envp = envp, .cwd = "/work", .path = path,
                                .tty = tty, .proc = &proc, .set_caps = true, .keep_caps = 1u << 5};
  const int stdio[3] = {0, 1, 2};
  usbox_err_t err = {0};
  must(init_ctl_send_exec(sv[0], &spec, stdio, &err) == 0, "init_ctl_send_exec");
  static uint8_t buf[1 + sizeof(struct init_exec_req) + INIT_EXEC_MAX_STRINGS];
  ssize_t n = recv(sv[1], buf + 1, sizeof buf - 1, 0); /* the fds are dropped: closed */
  must(n > 0, "recv");
  buf[0] = (uint8_t)(1 | (tty ? 0 : 3) << 1);
  struct init_exec_req *h = malloc((size_t)n);
  memcpy(h, buf + 1, (size_t)n);
  struct init_request r;
  must(init_request_decode(h, (char *)(h + 1), (size_t)n, tty ? 0 : 3, &r) == 0, "decode");
  init_request_free(&r);
  free(h);
  write_seed("oci_exec", name, buf, (size_t)n + 1);
  close(sv[0]);
  close(sv[1]);
}

static void exec_seeds(void)
{
  static const char process[] =
      "\0{\"args\": [\"sh\", \"-c\", \"echo hi\"], \"cwd\": \"/\", \"env\": [\"PATH=/bin\"], "
      "\"terminal\": true, \"user\": {\"uid\": 1000, \"gid\": 1000, \"additionalGids\": [27], "
      "\"umask\": 18}, \"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"effective\": "
      "[\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"]}, \"rlimits\": [{\"type\": "
      "\"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]}";
  write_seed("oci_exec", "process", process, sizeof process - 1);
  /* a whole config.json (byte 2), with a user namespace and its maps */
  static const char config[] =
      "\2{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"/\", \"readonly\": true}, "
      "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"env\": [\"PATH=/bin\"], "
      "\"user\": {\"uid\": 1000, \"gid\": 1000}}, \"hostname\": \"c\", "
      "\"mounts\": [{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}], "
      "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"user\"}, "
      "{\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}], "
      "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}], "
      "\"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}], "
      "\"resources\": {\"memory\": {\"limit\": 1000000}}, \"maskedPaths\": [\"/proc/kcore\"]}}";
  write_seed("oci_exec", "config-userns", config, sizeof config - 1);
  char *argv[] = {"sh", "-c", "echo hi", NULL}, *envp[] = {"PATH=/bin", "HOME=/root", NULL};
  char *none[] = {NULL};
  exec_request_seed("request", false, NULL, argv, envp);
  exec_request_seed("request-tty-noenv", true, NULL, argv, none);
  /* a hook's: the file to execute apart from argv[0] */
  exec_request_seed("request-path", false, "/bin/sh", argv, envp);
}

/* policy_json: a policy with every kind of key, and #! lines */
static void policy_seeds(void)
{
  static const char policy[] =
      "\0{\"preset\": \"high\", \"mounts\": [{\"source\": \"/usr\", \"destination\": \"/u\"}, "
      "{\"type\": \"tmpfs\", \"destination\": \"/scratch\"}], \"hide\": [\"/etc/hostname\"], "
      "\"default_hide\": true, \"network\": {\"mode\": \"filtered\", \"allow\": "
      "[\"example.com:443\", \"10.0.0.0/8\"]}, \"env\": {\"set\": {\"CI\": \"1\"}, \"unset\": "
      "[\"DISPLAY\"]}, \"limits\": {\"memory\": \"512M\", \"pids\": 64, \"timeout\": 30}, "
      "\"capabilities\": [\"CAP_KILL\"], \"cap_drop\": [\"ALL\"], \"process\": {\"cwd\": \"/\"}, "
      "\"hostname\": \"h\", \"exec\": {\"allow\": [\"/usr/bin/*\"], \"deny\": [\"/bin/sh\"]}, "
      "\"overlay\": \"memory:64M\", \"home\": \"ro\"}";
  write_seed("policy_json", "policy", policy, sizeof policy - 1);
  static const char shebang[] = "\1#! /usr/bin/env python3 -u\nprint(1)\n";
  write_seed("policy_json", "shebang", shebang, sizeof shebang - 1);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: seeds DIR\n");
    return 2;
  }
  outdir = argv[1];
  mkdir(outdir, 0755);
  gofer_seeds();
  policy_seeds();
  unix_seed("unix-path", "/run/app.sock", 14, sizeof(struct sockaddr_un));
  unix_seed("unix-unterminated", "/tmp/s", 6, offsetof(struct sockaddr_un, sun_path) + 6);
  unix_seed("unix-abstract", "\0name", 5, offsetof(struct sockaddr_un, sun_path) + 5);
  unix_seed("unix-storage", "/tmp/s", 6, sizeof(struct sockaddr_storage));
  inet_seeds();
  cmsg_seeds();
  msghdr_seeds();
  netlink_seeds();
  exec_seeds();
  return 0;
}
