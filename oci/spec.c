#include "oci/spec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "oci/hooks.h"

#define BAD(err, path, ...) usbox_err_set(err, EINVAL, "config.json: " path ": " __VA_ARGS__)

struct loader {
  const struct oci_load_options *o;
  struct oci_spec *s;
  struct policy *p;
  usbox_err_t *err;
};

static void note(const struct loader *l, const char *what)
{
  if (l->o->note != NULL)
    l->o->note(l->o->note_ctx, "config.json: %s", what);
}

bool oci_valid_id(const char *id)
{
  size_t n = strlen(id);
  return n > 0 && n <= 1024 && strcmp(id, ".") != 0 && strcmp(id, "..") != 0 &&
         strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-") == n;
}

/* A JSON array of strings into a NULL-terminated vector. */
static char **string_vector(const cJSON *a, bool nonempty)
{
  if (!cJSON_IsArray(a) || (nonempty && cJSON_GetArraySize(a) == 0))
    return NULL;
  size_t n = (size_t)cJSON_GetArraySize(a);
  char **v = calloc(n + 1, sizeof *v);
  if (v == NULL)
    return NULL;
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, a)
  {
    if (!cJSON_IsString(e) || (v[i] = strdup(e->valuestring)) == NULL) {
      for (size_t j = 0; j < i; j++)
        free(v[j]);
      free(v);
      return NULL;
    }
    i++;
  }
  return v;
}

static void free_vector(char **v)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

static bool has_option(const cJSON *options, const char *name)
{
  const cJSON *e;
  cJSON_ArrayForEach(e, options)
  {
    if (cJSON_IsString(e) && strcmp(e->valuestring, name) == 0)
      return true;
  }
  return false;
}

/* The fields of obj named in names that usbox accepts without applying:
 * one warning each. */
static void note_present(const struct loader *l, const cJSON *obj, const char *where,
                         const char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (cJSON_GetObjectItemCaseSensitive(obj, names[i]) != NULL) {
      char line[128];
      snprintf(line, sizeof line, "%s.%s: accepted, not applied", where, names[i]);
      note(l, line);
    }
}

/* ---- root, process ---- */

static int load_root(struct loader *l, const cJSON *root)
{
  const cJSON *path = cJSON_GetObjectItemCaseSensitive(root, "path");
  if (!cJSON_IsObject(root) || !cJSON_IsString(path) || path->valuestring[0] == '\0')
    return BAD(l->err, ".root.path", "missing (the container's root filesystem)");
  char joined[PATH_MAX];
  if (snprintf(joined, sizeof joined, "%s/%s", path->valuestring[0] == '/' ? "" : l->s->bundle,
               path->valuestring) >= (int)sizeof joined)
    return BAD(l->err, ".root.path", "too long");
  struct stat st;
  if (realpath(joined, l->s->rootfs) == NULL || stat(l->s->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
    return usbox_err_set(l->err, errno ? errno : ENOTDIR, "config.json: .root.path: %s is not a directory",
                         joined);
  l->s->readonly = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "readonly"));
  return policy_add_mount(l->p, l->s->rootfs, "/", !l->s->readonly, l->err);
}

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static int load_rlimits(struct loader *l, const cJSON *rlimits)
{
  struct policy_process *proc = &l->p->process;
  const cJSON *r;
  cJSON_ArrayForEach(r, rlimits)
  {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "type");
    const cJSON *soft = cJSON_GetObjectItemCaseSensitive(r, "soft");
    const cJSON *hard = cJSON_GetObjectItemCaseSensitive(r, "hard");
    if (!cJSON_IsString(type) || !cJSON_IsNumber(soft) || !cJSON_IsNumber(hard) ||
        soft->valuedouble < 0 || hard->valuedouble < 0)
      return BAD(l->err, ".process.rlimits", "each needs a type and numbers soft and hard");
    size_t i = 0;
    while (i < sizeof rlimit_names / sizeof rlimit_names[0] && strcmp(rlimit_names[i].name, type->valuestring) != 0)
      i++;
    if (i == sizeof rlimit_names / sizeof rlimit_names[0])
      return BAD(l->err, ".process.rlimits", "unknown type \"%s\"", type->valuestring);
    if (proc->nrlimits == POLICY_MAX_RLIMITS)
      return BAD(l->err, ".process.rlimits", "too many");
    /* 2^64-1 (RLIM_INFINITY) arrives as a double just above the range */
    proc->rlimits[proc->nrlimits++] = (struct policy_rlimit){
        .resource = rlimit_names[i].resource,
        .soft = soft->valuedouble >= 1.8e19 ? RLIM_INFINITY : (unsigned long long)soft->valuedouble,
        .hard = hard->valuedouble >= 1.8e19 ? RLIM_INFINITY : (unsigned long long)hard->valuedouble};
  }
  return 0;
}

static int load_user(struct loader *l, const cJSON *user)
{
  struct policy_process *proc = &l->p->process;
  const cJSON *uid = cJSON_GetObjectItemCaseSensitive(user, "uid");
  const cJSON *gid = cJSON_GetObjectItemCaseSensitive(user, "gid");
  if (!cJSON_IsNumber(uid) || !cJSON_IsNumber(gid) || uid->valuedouble < 0 ||
      gid->valuedouble < 0 || uid->valuedouble > 4294967294.0 || gid->valuedouble > 4294967294.0)
    return BAD(l->err, ".process.user", "needs numeric uid and gid");
  proc->set_user = true;
  proc->uid = (uid_t)uid->valuedouble;
  proc->gid = (gid_t)gid->valuedouble;
  const cJSON *g;
  cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(user, "additionalGids"))
  {
    if (!cJSON_IsNumber(g) || g->valuedouble < 0 || g->valuedouble > 4294967294.0)
      return BAD(l->err, ".process.user.additionalGids", "must be numbers");
    if (proc->ngroups == POLICY_MAX_GROUPS)
      return BAD(l->err, ".process.user.additionalGids", "more than %d", POLICY_MAX_GROUPS);
    proc->groups[proc->ngroups++] = (gid_t)g->valuedouble;
  }
  const cJSON *umask = cJSON_GetObjectItemCaseSensitive(user, "umask");
  if (umask != NULL) {
    if (!cJSON_IsNumber(umask) || umask->valuedouble < 0 || umask->valuedouble > 0777)
      return BAD(l->err, ".process.user.umask", "must be a number from 0 to 0777");
    proc->umask = (int)umask->valuedouble;
  }
  return 0;
}

/* The agent keeps what every set of process.capabilities names (the
 * kernel's effective set is the bounding set's subset anyway); usbox's
 * own rules still apply (netstack-shim drops NET_ADMIN and NET_RAW). */
static int load_caps(struct loader *l, const cJSON *caps)
{
  static const char *const sets[] = {"bounding", "effective", "permitted"};
  uint64_t keep = ~0ull;
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
    struct policy scratch = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(caps, sets[i]))
    {
      if (!cJSON_IsString(c) || policy_add_cap(&scratch, c->valuestring, l->err) < 0)
        return usbox_err_wrap(l->err, "config.json: .process.capabilities.%s", sets[i]);
    }
    keep &= scratch.keep_caps;
  }
  l->p->keep_caps = keep;
  return 0;
}

static int load_process(struct loader *l, const cJSON *proc)
{
  if (!cJSON_IsObject(proc))
    return BAD(l->err, ".process", "missing");
  if ((l->s->args = string_vector(cJSON_GetObjectItemCaseSensitive(proc, "args"), true)) == NULL)
    return BAD(l->err, ".process.args", "must be a non-empty array of strings");
  const cJSON *env = cJSON_GetObjectItemCaseSensitive(proc, "env");
  l->s->env = env == NULL ? calloc(1, sizeof(char *)) : string_vector(env, false);
  if (l->s->env == NULL)
    return BAD(l->err, ".process.env", "must be an array of strings");
  const cJSON *cwd = cJSON_GetObjectItemCaseSensitive(proc, "cwd");
  if (!cJSON_IsString(cwd) || cwd->valuestring[0] != '/')
    return BAD(l->err, ".process.cwd", "must be an absolute path");
  if ((l->p->process.cwd = strdup(cwd->valuestring)) == NULL)
    return usbox_err_set(l->err, ENOMEM, "reading config.json");
  l->s->terminal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(proc, "terminal"));
  const cJSON *user = cJSON_GetObjectItemCaseSensitive(proc, "user");
  if (user != NULL && load_user(l, user) < 0)
    return -1;
  const cJSON *caps = cJSON_GetObjectItemCaseSensitive(proc, "capabilities");
  if (caps != NULL && load_caps(l, caps) < 0)
    return -1;
  if (load_rlimits(l, cJSON_GetObjectItemCaseSensitive(proc, "rlimits")) < 0)
    return -1;
  const cJSON *oom = cJSON_GetObjectItemCaseSensitive(proc, "oomScoreAdj");
  if (oom != NULL) {
    if (!cJSON_IsNumber(oom) || oom->valuedouble < -1000 || oom->valuedouble > 1000)
      return BAD(l->err, ".process.oomScoreAdj", "must be a number from -1000 to 1000");
    l->p->process.set_oom_score_adj = true;
    l->p->process.oom_score_adj = (int)oom->valuedouble;
  }
  static const char *const noted[] = {"apparmorProfile", "selinuxLabel",
                                      "consoleSize", "ioPriority", "scheduler", "execCPUAffinity"};
  note_present(l, proc, ".process", noted, sizeof noted / sizeof noted[0]);
  const cJSON *nnp = cJSON_GetObjectItemCaseSensitive(proc, "noNewPrivileges");
  if (cJSON_IsFalse(nnp))
    note(l, ".process.noNewPrivileges false: usbox always sets no_new_privs");
  return 0;
}

/* ---- mounts ---- */

/* What usbox builds itself at these places: /proc of the sandbox's pid
 * namespace, /dev with its harmless nodes, a devpts, a /dev/shm and the
 * mqueue filesystem of the sandbox's own IPC namespace at /dev/mqueue. A
 * bind at /dev/shm is taken (load_bind): it is how an engine shares one
 * shm directory between a pod's containers. */
static bool provided_by_usbox(const char *type, const char *dest)
{
  static const char *const places[][2] = {
      {"proc", "/proc"},     {"tmpfs", "/dev"},        {"devpts", "/dev/pts"},
      {"tmpfs", "/dev/shm"}, {"mqueue", "/dev/mqueue"},
      {"cgroup", "/sys/fs/cgroup"}, {"cgroup2", "/sys/fs/cgroup"}, {"sysfs", "/sys"},
  };
  for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
    if (strcmp(places[i][0], type) == 0 && strcmp(places[i][1], dest) == 0)
      return true;
  return false;
}

static int remember_missing(struct loader *l, const char *dest, bool dir)
{
  struct oci_missing *grown = realloc(l->s->missing, (l->s->nmissing + 1) * sizeof *grown);
  if (grown == NULL)
    return usbox_err_set(l->err, ENOMEM, "reading config.json");
  l->s->missing = grown;
  if ((grown[l->s->nmissing].dest = strdup(dest)) == NULL)
    return usbox_err_set(l->err, ENOMEM, "reading config.json");
  grown[l->s->nmissing++].dir = dir;
  return 0;
}

/* dest inside the rootfs, taken literally as vfs/mountns.c takes mount
 * destinations (no symlink followed, nothing outside the rootfs): an O_PATH
 * fd, or -1 with errno (ELOOP: a symlink on the way). */
static int open_in_rootfs(const struct loader *l, const char *dest)
{
  cleanup_close int root = open(l->s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  const char *rel = dest[strspn(dest, "/")] == '\0' ? "." : dest + strspn(dest, "/");
  return root < 0 ? -1 : (int)syscall(SYS_openat2, root, rel, &how, sizeof how);
}

/* A mount point the rootfs lacks is made at create (runc does the same). */
static int check_mount_point(struct loader *l, const char *dest, bool dir)
{
  cleanup_close int fd = open_in_rootfs(l, dest);
  if (fd >= 0)
    return 0;
  if (errno == ELOOP)
    return BAD(l->err, ".mounts", "destination %s passes a symlink in the rootfs", dest);
  return remember_missing(l, dest, dir);
}

static int load_bind(struct loader *l, const char *source, const char *dest, const cJSON *options)
{
  char joined[PATH_MAX];
  if (snprintf(joined, sizeof joined, "%s/%s", source[0] == '/' ? "" : l->s->bundle, source) >=
      (int)sizeof joined)
    return BAD(l->err, ".mounts", "source %s is too long", source);
  struct stat st;
  if (stat(joined, &st) < 0)
    return usbox_err_set(l->err, errno, "config.json: .mounts: bind source %s", joined);
  /* /dev/shm is always there, in usbox's own /dev (vfs/mountns.c) */
  bool in_dev = strcmp(dest, "/dev/shm") == 0;
  if (in_dev && !S_ISDIR(st.st_mode))
    return BAD(l->err, ".mounts", "the bind at /dev/shm needs a directory: %s", joined);
  if (!in_dev && check_mount_point(l, dest, S_ISDIR(st.st_mode)) < 0)
    return -1;
  return policy_add_mount(l->p, joined, dest, !has_option(options, "ro"), l->err);
}

/* sysfs at /sys, cgroup at /sys/fs/cgroup: the host's, read-only (what
 * runc's read-only sysfs shows too, but for the network devices of the
 * container's namespace), with /sys/firmware hidden as in `usbox exec`'s
 * view. The cgroup tree is the host's: the container's own limits are
 * not at its root. */
static int load_sys(struct loader *l, const char *kind, const char *dest)
{
  bool sysfs = strcmp(kind, "sysfs") == 0;
  if (strcmp(dest, sysfs ? "/sys" : "/sys/fs/cgroup") != 0)
    return BAD(l->err, ".mounts", "%s at %s: usbox shows it at %s only", kind, dest,
               sysfs ? "/sys" : "/sys/fs/cgroup");
  for (size_t i = 0; i < l->p->nmounts; i++)
    if (strcmp(l->p->mounts[i].dest, "/sys") == 0)
      return 0; /* the cgroup tree is in it */
  if (check_mount_point(l, dest, true) < 0 || policy_add_mount(l->p, dest, dest, false, l->err) < 0)
    return -1;
  if (!sysfs)
    return 0;
  return policy_add_hidden_by(l->p, "/sys/firmware", "OCI sysfs mount without", l->err);
}

static int load_mount(struct loader *l, const cJSON *m)
{
  const cJSON *dest = cJSON_GetObjectItemCaseSensitive(m, "destination");
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
  const cJSON *source = cJSON_GetObjectItemCaseSensitive(m, "source");
  const cJSON *options = cJSON_GetObjectItemCaseSensitive(m, "options");
  if (!cJSON_IsString(dest) || dest->valuestring[0] != '/')
    return BAD(l->err, ".mounts", "each needs an absolute destination");
  char norm[PATH_MAX];
  if (policy_normalize(dest->valuestring, norm, sizeof norm) < 0)
    return BAD(l->err, ".mounts", "bad destination %s", dest->valuestring);
  bool bind = has_option(options, "bind") || has_option(options, "rbind") ||
              (cJSON_IsString(type) && strcmp(type->valuestring, "bind") == 0);
  const char *kind = bind ? "bind" : cJSON_IsString(type) ? type->valuestring : "";
  if (strcmp(kind, "sysfs") == 0 || strncmp(kind, "cgroup", 6) == 0)
    return load_sys(l, kind, norm);
  if (provided_by_usbox(kind, norm))
    return 0;
  if (strcmp(kind, "mqueue") == 0)
    return BAD(l->err, ".mounts", "mqueue at %s: usbox shows it at /dev/mqueue only", norm);
  if (bind) {
    if (!cJSON_IsString(source))
      return BAD(l->err, ".mounts", "the bind at %s needs a source", norm);
    return load_bind(l, source->valuestring, norm, options);
  }
  if (strcmp(kind, "tmpfs") == 0) {
    if (check_mount_point(l, norm, true) < 0)
      return -1;
    return policy_add_tmpfs(l->p, norm, l->err);
  }
  return BAD(l->err, ".mounts", "type \"%s\" at %s is not supported (bind and tmpfs are)", kind, norm);
}

/* ---- linux ---- */

/* pid, mount and cgroup namespaces are always the sandbox's own; a pod's
 * network, IPC and UTS namespaces are joined (the monitor enters them,
 * oci/container.c). */
static int load_namespaces(struct loader *l, const cJSON *namespaces)
{
  static const char *const known[] = {"network", "ipc", "uts", "pid", "mount", "cgroup", "user"};
  const cJSON *ns;
  cJSON_ArrayForEach(ns, namespaces)
  {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ns, "type");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(ns, "path");
    if (!cJSON_IsString(type))
      return BAD(l->err, ".linux.namespaces", "each needs a type");
    size_t i = 0;
    while (i < sizeof known / sizeof known[0] && strcmp(known[i], type->valuestring) != 0)
      i++;
    if (i == sizeof known / sizeof known[0])
      return BAD(l->err, ".linux.namespaces", "a %s namespace is not supported", type->valuestring);
    bool no_path = path == NULL || cJSON_IsNull(path);
    if (strcmp(type->valuestring, "user") == 0) {
      if (l->s->userns)
        return BAD(l->err, ".linux.namespaces", "two user namespaces");
      l->s->userns = true;
      if (no_path)
        continue;
      if (!cJSON_IsString(path) || path->valuestring[0] != '/')
        return BAD(l->err, ".linux.namespaces", "the user namespace's path must be absolute");
      if ((l->s->userns_path = strdup(path->valuestring)) == NULL)
        return usbox_err_set(l->err, ENOMEM, "config.json");
      continue;
    }
    if (i == OCI_NS_NET)
      l->s->netns_new = no_path;
    if (no_path)
      continue;
    if (i >= OCI_NS_KINDS)
      return BAD(l->err, ".linux.namespaces",
                 "joining an existing %s namespace is not supported (usbox makes its own)",
                 type->valuestring);
    if (!cJSON_IsString(path) || path->valuestring[0] != '/')
      return BAD(l->err, ".linux.namespaces", "the %s namespace's path must be absolute",
                 type->valuestring);
    if (l->s->ns_path[i] != NULL)
      return BAD(l->err, ".linux.namespaces", "two %s namespaces", type->valuestring);
    if ((l->s->ns_path[i] = strdup(path->valuestring)) == NULL)
      return usbox_err_set(l->err, ENOMEM, "config.json");
  }
  return 0;
}

static int load_resources(struct loader *l, const cJSON *res)
{
  struct limits_config *c = &l->p->limits;
  /* int64 in the spec (-1 or 0: no limit); a number past it is refused
   * before any conversion (a double beyond the target type is undefined) */
  const cJSON *limit = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "memory"), "limit");
  if (cJSON_IsNumber(limit) && limit->valuedouble >= 9.2e18)
    return BAD(l->err, ".linux.resources.memory.limit", "must be below 2^63");
  if (cJSON_IsNumber(limit) && limit->valuedouble > 0)
    c->memory = (uint64_t)limit->valuedouble;
  limit = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "pids"), "limit");
  if (cJSON_IsNumber(limit) && limit->valuedouble >= 9.2e18)
    return BAD(l->err, ".linux.resources.pids.limit", "must be below 2^63");
  if (cJSON_IsNumber(limit) && limit->valuedouble > 0)
    c->pids = (long)limit->valuedouble;
  const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(res, "cpu");
  const cJSON *quota = cJSON_GetObjectItemCaseSensitive(cpu, "quota");
  const cJSON *period = cJSON_GetObjectItemCaseSensitive(cpu, "period");
  if (cJSON_IsNumber(quota) && quota->valuedouble > 0)
    c->cpus = quota->valuedouble / (cJSON_IsNumber(period) && period->valuedouble > 0 ? period->valuedouble : 100000.0);
  if (c->cpus > 1e9) /* as --cpus: the cgroup's quota is computed from it */
    return BAD(l->err, ".linux.resources.cpu", "quota/period: more than 1e9 CPUs");
  static const char *const noted[] = {"blockIO", "hugepageLimits", "network", "rdma", "unified"};
  note_present(l, res, ".linux.resources", noted, sizeof noted / sizeof noted[0]);
  return 0;
}

static int load_paths(struct loader *l, const cJSON *list, bool masked)
{
  const cJSON *e;
  cJSON_ArrayForEach(e, list)
  {
    if (!cJSON_IsString(e) || e->valuestring[0] != '/')
      return masked ? BAD(l->err, ".linux.maskedPaths", "must be absolute paths")
                    : BAD(l->err, ".linux.readonlyPaths", "must be absolute paths");
    if (masked) {
      if (policy_add_hidden_by(l->p, e->valuestring, "OCI maskedPaths", l->err) < 0)
        return usbox_err_wrap(l->err, "config.json: .linux.maskedPaths");
      continue;
    }
    /* /proc and /sys: read-only for the agent already; elsewhere a
     * read-only bind of the path over itself */
    if (strncmp(e->valuestring, "/proc/", 6) == 0 || strncmp(e->valuestring, "/sys/", 5) == 0)
      continue;
    /* the object as the rootfs names it, never a host path a symlink in
     * the image leads to; a path the image lacks has nothing to protect,
     * one behind a symlink cannot be bound over (mount destinations are
     * literal) and is refused rather than left writable */
    cleanup_close int fd = open_in_rootfs(l, e->valuestring);
    if (fd < 0 && errno == ENOENT)
      continue;
    char link[64], host[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    struct stat st;
    ssize_t n = fd < 0 || fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)
                    ? -1
                    : readlink(link, host, sizeof host - 1);
    if (n < 0)
      return BAD(l->err, ".linux.readonlyPaths", "%s is or passes a symlink in the rootfs",
                 e->valuestring);
    host[n] = '\0';
    if (policy_add_mount(l->p, host, e->valuestring, false, l->err) < 0)
      return usbox_err_wrap(l->err, "config.json: .linux.readonlyPaths");
  }
  return 0;
}

/* Only sysctls of the sandbox's own namespaces (runc's list): its network
 * namespace (always a new one), its IPC namespace and message queues. */
static bool namespaced_sysctl(const char *name)
{
  static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                    "kernel.sem", "kernel.shmall", "kernel.shmmax",
                                    "kernel.shmmni", "kernel.shm_rmid_forced"};
  size_t n = strlen(name);
  if (n == 0 || n > 200 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n ||
      strstr(name, "..") != NULL || name[0] == '.')
    return false;
  for (size_t i = 0; i < sizeof ipc / sizeof ipc[0]; i++)
    if (strcmp(name, ipc[i]) == 0)
      return true;
  return strncmp(name, "net.", 4) == 0 || strncmp(name, "fs.mqueue.", 10) == 0;
}

static int load_sysctls(struct loader *l, const cJSON *sysctls)
{
  struct policy_process *proc = &l->p->process;
  const cJSON *e;
  cJSON_ArrayForEach(e, sysctls)
  {
    if (!cJSON_IsString(e) || strchr(e->valuestring, '\n') != NULL)
      return BAD(l->err, ".linux.sysctl", "%s: the value must be a one-line string", e->string);
    if (!namespaced_sysctl(e->string))
      return BAD(l->err, ".linux.sysctl",
                 "%s is not a sysctl of the container's own namespaces (net.*, IPC, fs.mqueue.*)",
                 e->string);
    struct policy_sysctl *grown = realloc(proc->sysctls, (proc->nsysctls + 1) * sizeof *grown);
    if (grown == NULL)
      return usbox_err_set(l->err, ENOMEM, "reading config.json");
    proc->sysctls = grown;
    grown[proc->nsysctls] = (struct policy_sysctl){strdup(e->string), strdup(e->valuestring)};
    if (grown[proc->nsysctls].name == NULL || grown[proc->nsysctls].value == NULL) {
      free(grown[proc->nsysctls].name);
      free(grown[proc->nsysctls].value);
      return usbox_err_set(l->err, ENOMEM, "reading config.json");
    }
    proc->nsysctls++;
  }
  return 0;
}

/* One of linux.uidMappings, gidMappings: [{containerID, hostID, size}] */
static int load_id_map(struct loader *l, const cJSON *list, const char *name,
                       struct userns_map *maps, size_t *n)
{
  char what[64];
  snprintf(what, sizeof what, "config.json: .linux.%s", name);
  if (list != NULL && !cJSON_IsArray(list))
    return usbox_err_set(l->err, EINVAL, "%s: must be an array", what);
  if (cJSON_GetArraySize(list) > USERNS_MAX_MAPS)
    return usbox_err_set(l->err, EINVAL, "%s: more than %d ranges", what, USERNS_MAX_MAPS);
  const cJSON *m;
  *n = 0;
  cJSON_ArrayForEach(m, list)
  {
    static const char *const keys[] = {"containerID", "hostID", "size"};
    double v[3];
    for (int k = 0; k < 3; k++) {
      const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, keys[k]);
      if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble > UINT32_MAX ||
          f->valuedouble != (double)(uint32_t)f->valuedouble)
        return usbox_err_set(l->err, EINVAL, "%s[%zu].%s: must be a number from 0 to 2^32-1",
                             what, *n, keys[k]);
      v[k] = f->valuedouble;
    }
    maps[(*n)++] = (struct userns_map){(uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2]};
  }
  return userns_check_maps(maps, *n, what, l->err);
}

/* The user namespace's maps. The monitor runs as the namespace's root
 * (oci/container.c), so uid 0 and gid 0 must be mapped, and so must the
 * process's user. */
static int load_id_mappings(struct loader *l, const cJSON *lx)
{
  struct userns_config *u = &l->s->idmap;
  if (load_id_map(l, cJSON_GetObjectItemCaseSensitive(lx, "uidMappings"), "uidMappings", u->uid,
                  &u->nuid) < 0 ||
      load_id_map(l, cJSON_GetObjectItemCaseSensitive(lx, "gidMappings"), "gidMappings", u->gid,
                  &u->ngid) < 0)
    return -1;
  if (!l->s->userns)
    return u->nuid + u->ngid == 0
               ? 0
               : BAD(l->err, ".linux.uidMappings", "mappings need a \"user\" namespace in .linux.namespaces");
  if (l->s->userns_path != NULL) /* its own maps are read at create */
    return 0;
  if (u->nuid == 0 || u->ngid == 0)
    return BAD(l->err, ".linux.namespaces", "a user namespace needs linux.uidMappings and gidMappings");
  return oci_spec_check_idmap(l->s, l->p, l->err);
}

int oci_spec_check_idmap(const struct oci_spec *s, const struct policy *p, usbox_err_t *err)
{
  const struct userns_config *u = &s->idmap;
  if (userns_to_host(u->uid, u->nuid, 0) < 0 || userns_to_host(u->gid, u->ngid, 0) < 0)
    return BAD(err, ".linux.uidMappings",
               "usbox needs the container's uid 0 and gid 0 mapped (its monitor runs as them)");
  const struct policy_process *proc = &p->process;
  if (proc->set_user && (userns_to_host(u->uid, u->nuid, proc->uid) < 0 ||
                         userns_to_host(u->gid, u->ngid, proc->gid) < 0))
    return BAD(err, ".process.user", "uid %u or gid %u is not in the user namespace's maps",
               (unsigned)proc->uid, (unsigned)proc->gid);
  for (size_t i = 0; proc->set_user && i < proc->ngroups; i++)
    if (userns_to_host(u->gid, u->ngid, proc->groups[i]) < 0)
      return BAD(err, ".process.user.additionalGids", "gid %u is not in the maps",
                 (unsigned)proc->groups[i]);
  return 0;
}

static int load_linux(struct loader *l, const cJSON *lx)
{
  if (lx == NULL)
    return 0;
  if (load_namespaces(l, cJSON_GetObjectItemCaseSensitive(lx, "namespaces")) < 0 ||
      load_resources(l, cJSON_GetObjectItemCaseSensitive(lx, "resources")) < 0 ||
      load_paths(l, cJSON_GetObjectItemCaseSensitive(lx, "maskedPaths"), true) < 0 ||
      load_paths(l, cJSON_GetObjectItemCaseSensitive(lx, "readonlyPaths"), false) < 0)
    return -1;
  if (load_id_mappings(l, lx) < 0 || load_sysctls(l, cJSON_GetObjectItemCaseSensitive(lx, "sysctl")) < 0)
    return -1;
  const cJSON *seccomp = cJSON_GetObjectItemCaseSensitive(lx, "seccomp");
  if (seccomp != NULL && !cJSON_IsNull(seccomp) &&
      (l->s->seccomp = cJSON_PrintUnformatted(seccomp)) == NULL)
    return usbox_err_set(l->err, ENOMEM, "reading config.json");
  static const char *const noted[] = {"cgroupsPath", "devices", "rootfsPropagation",
                                      "mountLabel", "intelRdt", "personality"};
  note_present(l, lx, ".linux", noted, sizeof noted / sizeof noted[0]);
  return 0;
}

/* ---- annotations: usbox's own policy per container ---- */

static int load_annotations(struct loader *l, const cJSON *ann)
{
  l->s->annotations = ann != NULL ? cJSON_PrintUnformatted(ann) : strdup("{}");
  if (l->s->annotations == NULL)
    return usbox_err_set(l->err, ENOMEM, "reading config.json");
  if (ann != NULL && !cJSON_IsObject(ann))
    return BAD(l->err, ".annotations", "must be an object");
  const cJSON *a;
  cJSON_ArrayForEach(a, ann)
  {
    if (strncmp(a->string, "dev.usbox.", 10) != 0)
      continue;
    if (!cJSON_IsString(a))
      return BAD(l->err, ".annotations", "%s must be a string", a->string);
    const char *v = a->valuestring;
    int rc;
    if (strcmp(a->string, "dev.usbox.policy") == 0) {
      /* inline JSON, or a file the runtime's caller can read */
      rc = v[0] == '{' ? policy_load_json(l->p, v, l->err) : policy_load_file(l->p, v, l->err);
    } else if (strcmp(a->string, "dev.usbox.net-allow") == 0) {
      cleanup_free char *list = strdup(v);
      rc = list == NULL ? usbox_err_set(l->err, ENOMEM, "reading config.json") : 0;
      for (char *save = NULL, *r = list ? strtok_r(list, ", ", &save) : NULL; r != NULL && rc == 0;
           r = strtok_r(NULL, ", ", &save))
        rc = net_policy_add_allow(&l->p->net, r, l->err);
    } else if (strcmp(a->string, "dev.usbox.hide") == 0) {
      cleanup_free char *list = strdup(v);
      rc = list == NULL ? usbox_err_set(l->err, ENOMEM, "reading config.json") : 0;
      for (char *save = NULL, *r = list ? strtok_r(list, ",", &save) : NULL; r != NULL && rc == 0;
           r = strtok_r(NULL, ",", &save))
        rc = policy_add_hidden_by(l->p, r, "dev.usbox.hide", l->err);
    } else {
      return BAD(l->err, ".annotations", "unknown usbox annotation %s (dev.usbox.policy, "
                 "dev.usbox.net-allow, dev.usbox.hide)", a->string);
    }
    if (rc < 0)
      return usbox_err_wrap(l->err, "config.json: .annotations.%s", a->string);
  }
  return 0;
}

static int load_top(struct loader *l, const cJSON *root)
{
  const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "ociVersion");
  if (!cJSON_IsString(version))
    return BAD(l->err, ".ociVersion", "missing");
  if (strncmp(version->valuestring, "1.", 2) != 0)
    return BAD(l->err, ".ociVersion", "version %s is not supported (1.x is)", version->valuestring);
  if ((l->s->hooks = oci_hooks_check(cJSON_GetObjectItemCaseSensitive(root, "hooks"), l->err)) == NULL)
    return -1;
  const cJSON *hostname = cJSON_GetObjectItemCaseSensitive(root, "hostname");
  l->s->hostname = cJSON_IsString(hostname) && hostname->valuestring[0] != '\0';
  if (l->s->hostname && policy_set_hostname(l->p, hostname->valuestring, l->err) < 0)
    return usbox_err_wrap(l->err, "config.json: .hostname");
  return 0;
}

int oci_spec_parse(const struct oci_load_options *o, const char *text, struct oci_spec *s,
                   struct policy *p, usbox_err_t *err)
{
  memset(s, 0, sizeof *s);
  if (realpath(o->bundle, s->bundle) == NULL)
    return usbox_err_set(err, errno, "bundle %s", o->bundle);
  /* a container's root is its own: the host's list of secrets does not
   * apply (maskedPaths and annotations say what is hidden) */
  p->default_hidden = false;
  p->env.clear = true;
  p->limits.updatable = true; /* `update` sets limits later */
  if (o->defaults != NULL && policy_load_file(p, o->defaults, err) < 0)
    return usbox_err_wrap(err, "the runtime's defaults %s", o->defaults);
  cJSON *root = cJSON_Parse(text);
  if (root == NULL) {
    usbox_err_set(err, EINVAL, "config.json: invalid JSON near \"%.20s\"",
                  cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    return usbox_err_printable(err);
  }
  struct loader l = {.o = o, .s = s, .p = p, .err = err};
  int rc = -1;
  if (!cJSON_IsObject(root))
    BAD(err, ".", "the top level must be an object");
  else if (load_top(&l, root) == 0 &&
           load_root(&l, cJSON_GetObjectItemCaseSensitive(root, "root")) == 0 &&
           load_process(&l, cJSON_GetObjectItemCaseSensitive(root, "process")) == 0 &&
           load_annotations(&l, cJSON_GetObjectItemCaseSensitive(root, "annotations")) == 0 &&
           load_linux(&l, cJSON_GetObjectItemCaseSensitive(root, "linux")) == 0) {
    /* usbox mounts its own /proc, /dev and private /tmp there */
    static const char *const own[] = {"/proc", "/dev", "/tmp"};
    rc = 0;
    for (size_t i = 0; i < sizeof own / sizeof own[0] && rc == 0; i++)
      rc = check_mount_point(&l, own[i], true);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "mounts"))
    {
      if (rc < 0 || (rc = load_mount(&l, m)) < 0)
        break;
    }
  }
  cJSON_Delete(root);
  return rc < 0 ? usbox_err_printable(err) : rc;
}

int oci_spec_parse_process(const char *text, struct oci_spec *s, struct policy *p,
                           usbox_err_t *err)
{
  memset(s, 0, sizeof *s);
  cJSON *proc = cJSON_Parse(text);
  if (proc == NULL) {
    usbox_err_set(err, EINVAL, "process.json: invalid JSON near \"%.20s\"",
                  cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    return usbox_err_printable(err);
  }
  struct oci_load_options o = {0};
  struct loader l = {.o = &o, .s = s, .p = p, .err = err};
  int rc = load_process(&l, proc);
  cJSON_Delete(proc);
  if (rc < 0)
    usbox_err_printable(err);
  /* the loader names config.json's paths: here the object is the whole file */
  static const char prefix[] = "config.json: .process";
  if (rc < 0 && strncmp(err->msg, prefix, sizeof prefix - 1) == 0) {
    char rest[sizeof err->msg];
    snprintf(rest, sizeof rest, "%s", err->msg + sizeof prefix - 1);
    const char *what = rest[0] == '.' ? rest + 1 : rest[0] == ':' && rest[1] == ' ' ? rest + 2 : rest;
    snprintf(err->msg, sizeof err->msg, "process.json: %s", what);
  }
  return rc;
}

int oci_spec_load(const struct oci_load_options *o, struct oci_spec *s, struct policy *p,
                  usbox_err_t *err)
{
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/config.json", o->bundle) >= (int)sizeof path)
    return usbox_err_set(err, ENAMETOOLONG, "bundle %s", o->bundle);
  cleanup_free char *text = oci_read_text(path, OCI_CONFIG_MAX, err);
  if (text == NULL)
    return -1;
  return oci_spec_parse(o, text, s, p, err);
}

char *oci_read_text(const char *path, size_t max, usbox_err_t *err)
{
  bool in = strcmp(path, "-") == 0;
  cleanup_fclose FILE *f = in ? NULL : fopen(path, "re");
  FILE *from = in ? stdin : f;
  if (from == NULL)
    return usbox_err_set(err, errno, "%s", path), NULL;
  char *text = NULL;
  size_t cap = 0, len = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      if (cap > max) {
        free(text);
        return usbox_err_set(err, EFBIG, "%s is larger than %zu KiB", path, max / 1024), NULL;
      }
      char *grown = realloc(text, cap = cap * 2 + 8192);
      if (grown == NULL) {
        free(text);
        return usbox_err_set(err, ENOMEM, "reading %s", path), NULL;
      }
      text = grown;
    }
    size_t n = fread(text + len, 1, cap - len - 1, from);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror(from)) {
    free(text);
    return usbox_err_set(err, EIO, "reading %s", path), NULL;
  }
  text[len] = '\0';
  return text;
}

/* One mount point, made inside the rootfs: each step opened with
 * RESOLVE_IN_ROOT, so a symlink in the image cannot lead the mkdir out. */
static int make_one(int root, const char *dest, bool dir)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", dest + 1);
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_DIRECTORY, .resolve = RESOLVE_IN_ROOT};
  cleanup_close int at = (int)syscall(SYS_openat2, root, ".", &how, sizeof how);
  for (char *save = NULL, *c = strtok_r(path, "/", &save); c != NULL && at >= 0;) {
    char *next = strtok_r(NULL, "/", &save);
    bool last = next == NULL;
    int made = (!last || dir) ? mkdirat(at, c, 0755) : mknodat(at, c, S_IFREG | 0644, 0);
    if (made < 0 && errno != EEXIST)
      return -1;
    if (last)
      return 0;
    int sub = (int)syscall(SYS_openat2, at, c, &how, sizeof how);
    close(at);
    at = sub;
    c = next;
  }
  return at < 0 ? -1 : 0;
}

int oci_spec_make_mount_points(const struct oci_spec *s, usbox_err_t *err)
{
  cleanup_close int root = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return usbox_err_set(err, errno, "the rootfs %s", s->rootfs);
  for (size_t i = 0; i < s->nmissing; i++)
    if (make_one(root, s->missing[i].dest, s->missing[i].dir) < 0)
      return usbox_err_set(err, errno, "making the mount point %s in the rootfs", s->missing[i].dest);
  return 0;
}

void oci_spec_free(struct oci_spec *s)
{
  free_vector(s->args);
  free_vector(s->env);
  free(s->annotations);
  free(s->seccomp);
  free(s->hooks);
  for (int k = 0; k < OCI_NS_KINDS; k++)
    free(s->ns_path[k]);
  free(s->userns_path);
  for (size_t i = 0; i < s->nmissing; i++)
    free(s->missing[i].dest);
  free(s->missing);
  memset(s, 0, sizeof *s);
}

/* ---- update --resources ---- */

/* A number at obj.key: 1 and *v, 0 if absent or null, -1 if not a number. */
static int number_at(const cJSON *obj, const char *key, double *v)
{
  const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (n == NULL || cJSON_IsNull(n))
    return 0;
  if (!cJSON_IsNumber(n))
    return -1;
  *v = n->valuedouble;
  return 1;
}

static int update_memory_pids(const cJSON *res, struct oci_update *u, usbox_err_t *err)
{
  double v;
  int r = number_at(cJSON_GetObjectItemCaseSensitive(res, "memory"), "limit", &v);
  if (r < 0)
    return usbox_err_set(err, EINVAL, "resources: .memory.limit must be a number");
  if (r > 0 && v != 0) {
    u->set[LIMITS_MEMORY] = true;
    u->limits.memory = v < 0 ? 0 : (uint64_t)v;
  }
  r = number_at(cJSON_GetObjectItemCaseSensitive(res, "pids"), "limit", &v);
  if (r < 0)
    return usbox_err_set(err, EINVAL, "resources: .pids.limit must be a number");
  if (r > 0 && v != 0) {
    u->set[LIMITS_PIDS] = true;
    u->limits.pids = v < 0 ? 0 : (long)v;
  }
  return 0;
}

int oci_update_parse(const char *json, struct oci_update *u, oci_note_fn noted_fn, void *note_ctx,
                     usbox_err_t *err)
{
  cJSON *res = cJSON_Parse(json);
  if (!cJSON_IsObject(res)) {
    cJSON_Delete(res);
    usbox_err_set(err, EINVAL, "resources: not a JSON object");
    return usbox_err_printable(err);
  }
  int rc = update_memory_pids(res, u, err);
  const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(res, "cpu");
  double quota = 0, period = 100000;
  int rq = number_at(cpu, "quota", &quota), rp = number_at(cpu, "period", &period);
  if (rc == 0 && (rq < 0 || rp < 0))
    rc = usbox_err_set(err, EINVAL, "resources: .cpu.quota and .cpu.period must be numbers");
  if (rc == 0 && rq > 0 && quota != 0) {
    u->set[LIMITS_CPU] = true;
    u->limits.cpus = quota < 0 ? 0 : quota / (period > 0 ? period : 100000);
  }
  /* what a default engine request carries, applied by nothing here */
  static const char *const cpu_noted[] = {"shares", "realtimeRuntime", "realtimePeriod", "cpus", "mems"};
  for (size_t i = 0; rc == 0 && noted_fn != NULL && i < sizeof cpu_noted / sizeof cpu_noted[0]; i++) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cpu, cpu_noted[i]);
    if ((cJSON_IsNumber(f) && f->valuedouble != 0) || (cJSON_IsString(f) && f->valuestring[0]))
      noted_fn(note_ctx, "update: .cpu.%s accepted, not applied", cpu_noted[i]);
  }
  static const char *const noted[] = {"blockIO", "hugepageLimits", "network", "rdma", "unified"};
  for (size_t i = 0; rc == 0 && noted_fn != NULL && i < sizeof noted / sizeof noted[0]; i++)
    if (cJSON_GetObjectItemCaseSensitive(res, noted[i]) != NULL)
      noted_fn(note_ctx, "update: .%s accepted, not applied", noted[i]);
  cJSON_Delete(res);
  return rc;
}
