#include "common/log.h"
#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "policy/caps.h"

/* Secrets an agent has no business reading, hidden unless the policy binds
 * them explicitly (docs/policy.md lists them, and why). Whole home
 * directories stay visible: tools live there (pyenv, nvm, cargo); what is
 * hidden is where tools keep credentials, keys, sessions and histories. */
const char *const policy_default_hidden_home[] = {
    /* keys, keyrings, password managers, their agents' sockets */
    ".ssh", ".gnupg", ".password-store", ".local/share/keyrings", ".local/share/kwalletd",
    ".1password", ".config/op", ".op",
    /* clouds and infrastructure */
    ".aws", ".azure", ".config/gcloud", ".oci", ".bluemix", ".config/doctl", ".config/hcloud",
    ".s3cfg", ".boto", ".config/rclone", ".databrickscfg", ".kaggle", ".fly",
    ".pulumi/credentials.json", ".terraform.d/credentials.tfrc.json", ".terraformrc",
    ".vault-token", ".kube", ".config/helm/registry", ".docker", ".config/containers/auth.json",
    /* forges and package registries */
    ".git-credentials", ".config/git/credentials", ".config/gh", ".config/hub",
    ".config/glab-cli", ".netrc", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc",
    ".gem/credentials", ".cargo/credentials", ".cargo/credentials.toml", ".composer/auth.json",
    ".config/composer/auth.json", ".m2/settings-security.xml",
    /* databases */
    ".pgpass", ".my.cnf", ".mylogin.cnf",
    /* shell and REPL histories: pasted tokens, passwords on command lines */
    ".bash_history", ".zsh_history", ".zhistory", ".sh_history", ".histfile", ".python_history",
    ".node_repl_history", ".psql_history", ".mysql_history", ".sqlite_history",
    ".rediscli_history", ".lesshst", ".local/share/fish/fish_history",
    /* AI tools' own logins */
    ".cache/huggingface/token", ".config/github-copilot",
    ".claude/.credentials.json", ".codex/auth.json",
    /* browsers: cookies and saved passwords */
    ".mozilla", ".config/google-chrome", ".config/chromium", NULL,
};
const char *const policy_default_hidden_abs[] = {
    /* the host's own passwords and keys */
    "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers",
    "/etc/sudoers.d", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_dsa_key", "/etc/ssl/private",
    "/etc/krb5.keytab", "/etc/kubernetes/admin.conf", "/etc/rancher/k3s/k3s.yaml",
    /* secrets mounted by container runtimes (Kubernetes' service account token) */
    "/run/secrets", "/var/run/secrets",
    /* daemons that act as root for whoever reaches their socket */
    "/run/docker.sock", "/var/run/docker.sock", "/run/containerd", "/run/podman", "/run/crio",
    "/run/buildkit", "/run/k3s", "/run/libvirt", "/var/run/libvirt",
    "/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket", "/run/systemd/private",
    "/run/snapd.socket", "/run/snapd-snap.socket", "/var/lib/lxd/unix.socket",
    "/var/snap/lxd/common/lxd/unix.socket", "/var/lib/incus/unix.socket",
    /* the kernel's memory and firmware */
    "/proc/kcore", "/sys/firmware", NULL,
};
/* Directories each entry of which is hidden, as they are at start: every
 * user's runtime directory (/run/user/<uid>) holds their session bus,
 * gpg-agent, keyring and rootless docker or podman sockets. The directory
 * itself stays. */
const char *const policy_default_hidden_each[] = {"/run/user", NULL};

void policy_init(struct policy *p)
{
  memset(p, 0, sizeof *p);
  p->default_hidden = true;
  p->private_tmp = true;
  snprintf(p->hostname, sizeof p->hostname, "usbox");
  limits_config_init(&p->limits);
  net_policy_init(&p->net);
  env_policy_init(&p->env);
  exec_rules_init(&p->exec);
  p->process.umask = -1;
}

void policy_free(struct policy *p)
{
  if (!usbox_frees_memory())
    return;
  for (size_t i = 0; i < p->nmounts; i++) {
    free(p->mounts[i].dest);
    free(p->mounts[i].source);
  }
  free(p->mounts);
  for (size_t i = 0; i < p->nhidden; i++)
    free(p->hidden[i]);
  free(p->hidden);
  free(p->hidden_rule);
  for (size_t i = 0; i < p->nhidden_given; i++)
    free(p->hidden_given[i]);
  free(p->hidden_given);
  free(p->hidden_given_rule);
  for (size_t i = 0; i < p->nhide_rules; i++)
    free(p->hide_rules[i]);
  free(p->hide_rules);
  for (size_t i = 0; i < p->nhidden_ids; i++)
    free(p->hidden_ids[i].one_link_path);
  free(p->hidden_ids);
  net_policy_free(&p->net);
  env_policy_free(&p->env);
  exec_rules_free(&p->exec);
  free(p->process.cwd);
  for (size_t i = 0; i < p->process.nsysctls; i++) {
    free(p->process.sysctls[i].name);
    free(p->process.sysctls[i].value);
  }
  free(p->process.sysctls);
  free(p->seccomp_profile);
  free(p->overlay.dir);
  memset(p, 0, sizeof *p);
}

int policy_normalize(const char *path, char *out, size_t size)
{
  if (path[0] != '/' || size < 2)
    return -1;
  size_t n = 0;
  out[n++] = '/';
  const char *p = path;
  while (*p != '\0') {
    while (*p == '/')
      p++;
    size_t len = strcspn(p, "/");
    if (len == 0)
      break;
    if (len == 1 && p[0] == '.') {
      /* nothing */
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (n > 1 && out[n - 1] != '/')
        n--;
      if (n > 1)
        n--; /* the slash before the dropped component */
    } else {
      if (n > 1) {
        if (n + 1 >= size)
          return -1;
        out[n++] = '/';
      }
      if (n + len >= size)
        return -1;
      memcpy(out + n, p, len);
      n += len;
    }
    p += len;
  }
  out[n] = '\0';
  return 0;
}

int policy_absolute(const char *path, char *out, size_t size, usbox_err_t *err)
{
  char joined[PATH_MAX * 2];
  if (path[0] == '/') {
    snprintf(joined, sizeof joined, "%s", path);
  } else {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
      return usbox_err_set(err, errno, "getcwd");
    snprintf(joined, sizeof joined, "%s/%s", cwd, path);
  }
  if (policy_normalize(joined, out, size) < 0)
    return usbox_err_set(err, ENAMETOOLONG, "path too long: %s", path);
  return 0;
}

static int push_mount(struct policy *p, struct policy_mount m, usbox_err_t *err)
{
  struct policy_mount *grown = realloc(p->mounts, (p->nmounts + 1) * sizeof *grown);
  if (grown == NULL) {
    free(m.dest);
    free(m.source);
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  }
  p->mounts = grown;
  p->mounts[p->nmounts++] = m;
  return 0;
}

int policy_add_mount(struct policy *p, const char *source, const char *dest, bool writable,
                     usbox_err_t *err)
{
  char resolved[PATH_MAX];
  if (realpath(source, resolved) == NULL)
    return usbox_err_set(err, errno, "bind source %s", source);
  char norm[PATH_MAX];
  if (policy_normalize(dest, norm, sizeof norm) < 0)
    return usbox_err_set(err, EINVAL, "bind destination must be an absolute path: %s", dest);
  struct policy_mount m = {.kind = MOUNT_BIND, .dest = strdup(norm), .source = strdup(resolved),
                           .writable = writable};
  if (m.dest == NULL || m.source == NULL) {
    free(m.dest);
    free(m.source);
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  }
  return push_mount(p, m, err);
}

const char *policy_root_source(const struct policy *p)
{
  for (size_t i = 0; i < p->nmounts; i++)
    if (p->mounts[i].kind == MOUNT_BIND && strcmp(p->mounts[i].dest, "/") == 0)
      return p->mounts[i].source;
  return "/";
}

int policy_add_bind(struct policy *p, const char *spec, bool writable, usbox_err_t *err)
{
  const char *flag = writable ? "--rw" : "--ro";
  if (spec[0] == '\0')
    return usbox_err_set(err, EINVAL, "%s needs a path", flag);
  /* SRC:DEST splits at the last colon that is followed by an absolute path */
  const char *colon = strrchr(spec, ':');
  cleanup_free char *src_text = strndup(spec, colon != NULL && colon[1] == '/' ? (size_t)(colon - spec) : strlen(spec));
  if (src_text == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  char resolved[PATH_MAX];
  if (realpath(src_text, resolved) == NULL)
    return usbox_err_set(err, errno, "%s %s: source", flag, src_text);
  char dest[PATH_MAX];
  if (colon != NULL && colon[1] == '/') {
    if (policy_normalize(colon + 1, dest, sizeof dest) < 0)
      return usbox_err_set(err, EINVAL, "%s %s: destination must be an absolute path", flag, spec);
  } else if (policy_absolute(src_text, dest, sizeof dest, err) < 0) {
    return -1;
  }
  return policy_add_mount(p, resolved, dest, writable, err);
}

int policy_add_tmpfs(struct policy *p, const char *dest, usbox_err_t *err)
{
  char norm[PATH_MAX];
  if (policy_normalize(dest, norm, sizeof norm) < 0)
    return usbox_err_set(err, EINVAL, "tmpfs destination must be an absolute path: %s", dest);
  struct policy_mount m = {.kind = MOUNT_TMPFS, .dest = strdup(norm), .writable = true};
  if (m.dest == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  return push_mount(p, m, err);
}

/* The index of a rule's text in p->hide_rules, added if new; or -1. */
static long rule_index(struct policy *p, const char *rule)
{
  for (size_t i = 0; i < p->nhide_rules; i++)
    if (strcmp(p->hide_rules[i], rule) == 0)
      return (long)i;
  char **grown = realloc(p->hide_rules, (p->nhide_rules + 1) * sizeof *grown);
  if (grown == NULL)
    return -1;
  p->hide_rules = grown;
  if ((grown[p->nhide_rules] = strdup(rule)) == NULL)
    return -1;
  return (long)p->nhide_rules++;
}

/* norm hidden by rule (the first rule to name a path is the one named). */
static int push_hidden(struct policy *p, const char *norm, const char *rule, usbox_err_t *err)
{
  for (size_t i = 0; i < p->nhidden; i++)
    if (strcmp(p->hidden[i], norm) == 0)
      return 0;
  long r = rule_index(p, rule);
  char **grown = r < 0 ? NULL : realloc(p->hidden, (p->nhidden + 1) * sizeof *grown);
  if (grown == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  p->hidden = grown;
  size_t *rules = realloc(p->hidden_rule, (p->nhidden + 1) * sizeof *rules);
  if (rules == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  p->hidden_rule = rules;
  if ((p->hidden[p->nhidden] = strdup(norm)) == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  rules[p->nhidden++] = (size_t)r;
  return 0;
}

const char *policy_hidden_rule(const struct policy *p, size_t i)
{
  return i < p->nhidden && p->hidden_rule != NULL ? p->hide_rules[p->hidden_rule[i]] : "hide";
}

/* A hidden path as given: absolute and normalised, not the root. */
static int hidden_path(const char *path, char norm[PATH_MAX], usbox_err_t *err)
{
  if (path[0] == '\0')
    return usbox_err_set(err, EINVAL, "--hide needs a path");
  if (policy_absolute(path, norm, PATH_MAX, err) < 0)
    return -1;
  if (strcmp(norm, "/") == 0)
    return usbox_err_set(err, EINVAL, "--hide /: the root cannot be hidden");
  return 0;
}

int policy_add_hidden_by(struct policy *p, const char *path, const char *why, usbox_err_t *err)
{
  char norm[PATH_MAX], rule[PATH_MAX + 128];
  if (hidden_path(path, norm, err) < 0)
    return -1;
  snprintf(rule, sizeof rule, "%s %s", why, norm);
  return push_hidden(p, norm, rule, err);
}

int policy_add_hidden(struct policy *p, const char *path, usbox_err_t *err)
{
  return policy_add_hidden_by(p, path, "hide", err);
}

bool policy_has_mount_at(const struct policy *p, const char *dest)
{
  for (size_t i = 0; i < p->nmounts; i++)
    if (strcmp(p->mounts[i].dest, dest) == 0)
      return true;
  return false;
}

/* Whether a bind's source is the object at path itself (its parents'
 * symlinks followed, not a last one: a hidden symlink's target may be bound). */
static bool has_source(const struct policy *p, const char *path)
{
  char dir[PATH_MAX], canon[PATH_MAX * 2];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    return false;
  *slash = '\0';
  char resolved[PATH_MAX];
  if (realpath(dir[0] != '\0' ? dir : "/", resolved) == NULL)
    return false;
  snprintf(canon, sizeof canon, "%s/%s", strcmp(resolved, "/") == 0 ? "" : resolved, slash + 1);
  for (size_t i = 0; i < p->nmounts; i++)
    if (p->mounts[i].kind == MOUNT_BIND && strcmp(p->mounts[i].source, canon) == 0)
      return true;
  return false;
}

static int add_home_secrets(struct policy *p, const char *home, usbox_err_t *err)
{
  for (size_t i = 0; policy_default_hidden_home[i] != NULL; i++) {
    char path[PATH_MAX], rule[128];
    snprintf(path, sizeof path, "%s/%s", home, policy_default_hidden_home[i]);
    snprintf(rule, sizeof rule, "built-in secret ~/%s", policy_default_hidden_home[i]);
    if (push_hidden(p, path, rule, err) < 0)
      return -1;
  }
  return 0;
}

/* Every entry of dir as it is now, dot names too. */
static int add_each_entry(struct policy *p, const char *dir, usbox_err_t *err)
{
  cleanup_closedir DIR *d = opendir(dir);
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    char path[PATH_MAX], rule[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    snprintf(rule, sizeof rule, "built-in secret %s/*", dir);
    if (push_hidden(p, path, rule, err) < 0)
      return -1;
  }
  return 0;
}

/* The ssh-agent usbox's caller uses, wherever its socket is (often under
 * /tmp, which is private anyway, but not with --rw /tmp or an agent
 * elsewhere): it signs with every key it holds, for whoever connects. */
static int add_ssh_agent(struct policy *p, usbox_err_t *err)
{
  const char *sock = getenv("SSH_AUTH_SOCK");
  char norm[PATH_MAX];
  struct stat st;
  if (sock == NULL || policy_normalize(sock, norm, sizeof norm) < 0 || lstat(norm, &st) < 0 ||
      !S_ISSOCK(st.st_mode))
    return 0;
  return push_hidden(p, norm, "built-in secret $SSH_AUTH_SOCK", err);
}

/* The built-in list, for /root and every directory under /home as they are
 * now (a home created later is not covered: usbox checks at start). */
static int add_default_hidden(struct policy *p, usbox_err_t *err)
{
  for (size_t i = 0; policy_default_hidden_abs[i] != NULL; i++) {
    char rule[PATH_MAX + 32];
    snprintf(rule, sizeof rule, "built-in secret %s", policy_default_hidden_abs[i]);
    if (push_hidden(p, policy_default_hidden_abs[i], rule, err) < 0)
      return -1;
  }
  for (size_t i = 0; policy_default_hidden_each[i] != NULL; i++)
    if (add_each_entry(p, policy_default_hidden_each[i], err) < 0)
      return -1;
  if (add_ssh_agent(p, err) < 0)
    return -1;
  if (add_home_secrets(p, "/root", err) < 0)
    return -1;
  DIR *home = opendir("/home");
  struct dirent *de;
  while (home != NULL && (de = readdir(home)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "/home/%s", de->d_name);
    if (add_home_secrets(p, dir, err) < 0) {
      closedir(home);
      return -1;
    }
  }
  if (home != NULL)
    closedir(home);
  return 0;
}

/* An explicit bind of a default secret (e.g. --ro ~/.gitconfig is fine,
 * --ro ~/.ssh means the user wants it) wins over the default hiding. */
static void unhide_bound(struct policy *p)
{
  size_t kept = 0;
  for (size_t i = 0; i < p->nhidden; i++) {
    if (policy_has_mount_at(p, p->hidden[i])) {
      free(p->hidden[i]);
      continue;
    }
    p->hidden_rule[kept] = p->hidden_rule[i];
    p->hidden[kept++] = p->hidden[i];
  }
  p->nhidden = kept;
}

static int depth(const char *path)
{
  int d = 0;
  for (const char *c = path; *c != '\0'; c++)
    d += *c == '/';
  return strcmp(path, "/") == 0 ? 0 : d;
}

/* parents before children; siblings by name, so that the order is the
 * same whatever the order given */
static int by_depth(const void *a, const void *b)
{
  const struct policy_mount *x = a, *y = b;
  int d = depth(x->dest) - depth(y->dest);
  return d != 0 ? d : strcmp(x->dest, y->dest);
}

static bool is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir (from the environment), copy-on-write in memory (a session keeps it
 * with the rest). Not when it is no directory this user could write
 * natively, the root, or at or below a mount that says what it is (a
 * --rw, a --tmpfs such as the private /tmp, a bind of it). */
static int add_cow_dir(struct policy *p, const char *dir, usbox_err_t *err)
{
  char real[PATH_MAX], norm[PATH_MAX];
  if (dir == NULL || dir[0] != '/' || realpath(dir, real) == NULL || !is_dir(real) ||
      strcmp(real, "/") == 0 || policy_normalize(dir, norm, sizeof norm) < 0 ||
      access(real, W_OK | X_OK) < 0) /* not one this user could write natively either */
    return 0;
  for (size_t i = 0; i < p->nmounts; i++) {
    const struct policy_mount *m = &p->mounts[i];
    if (strcmp(m->dest, "/") != 0 && path_at_or_below(norm, m->dest) &&
        (m->writable || m->kind == MOUNT_TMPFS || strcmp(m->dest, norm) == 0))
      return 0; /* the policy says what it (or what holds it) is */
  }
  if (policy_add_mount(p, real, norm, true, err) < 0)
    return -1;
  p->mounts[p->nmounts - 1].overlay = true;
  return 0;
}

/* The agent's home, and the XDG base directories where they are set
 * outside it, copy-on-write: npm, pip --user, cargo and go write their
 * caches and configs where they expect, and nothing reaches the host's.
 * The home first: an XDG directory below it is then inside its overlay. */
static int add_cow_home(struct policy *p, usbox_err_t *err)
{
  static const char *const xdg[] = {"XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                    "XDG_STATE_HOME"};
  if (add_cow_dir(p, getenv("HOME"), err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof xdg / sizeof xdg[0]; i++)
    if (add_cow_dir(p, getenv(xdg[i]), err) < 0)
      return -1;
  return 0;
}

/* A mount whose destination the host lacks, under a read-only bind: that
 * bind becomes a read-only overlay in memory, in which the mount point is
 * made (the host is never written). */
static void mark_missing_mount_points(struct policy *p)
{
  for (size_t i = 0; i < p->nmounts; i++) {
    struct policy_mount *owner = NULL;
    for (size_t j = 0; j < p->nmounts; j++) {
      struct policy_mount *o = &p->mounts[j];
      if (j != i && o->kind == MOUNT_BIND && strcmp(o->dest, p->mounts[i].dest) != 0 &&
          path_at_or_below(p->mounts[i].dest, o->dest) &&
          (owner == NULL || strlen(o->dest) > strlen(owner->dest)))
        owner = o;
    }
    if (owner == NULL || owner->writable || !is_dir(owner->source))
      continue;
    char host[PATH_MAX * 2];
    const char *rest = strcmp(owner->dest, "/") == 0 ? p->mounts[i].dest
                                                     : p->mounts[i].dest + strlen(owner->dest);
    snprintf(host, sizeof host, "%s%s", strcmp(owner->source, "/") == 0 ? "" : owner->source, rest);
    struct stat st;
    if (lstat(host, &st) < 0 && errno == ENOENT)
      owner->overlay = owner->points_only = true;
  }
}

static bool same_mount(const struct policy_mount *a, const struct policy_mount *b)
{
  return a->kind == b->kind && a->writable == b->writable &&
         (a->source == NULL) == (b->source == NULL) &&
         (a->source == NULL || strcmp(a->source, b->source) == 0);
}

int policy_complete_view(struct policy *p, usbox_err_t *err)
{
  for (size_t i = 0; i < p->nmounts; i++)
    for (size_t j = i + 1; j < p->nmounts; j++) {
      if (strcmp(p->mounts[i].dest, p->mounts[j].dest) != 0)
        continue;
      if (!same_mount(&p->mounts[i], &p->mounts[j]) ||
          !(p->mounts[i].from_preset || p->mounts[j].from_preset))
        return usbox_err_set(err, EINVAL, "two mounts at %s", p->mounts[i].dest);
      /* a preset's mount said again (medium's workspace, then a policy
       * file that shows it, as `policy show` prints it): one */
      free(p->mounts[j].dest);
      free(p->mounts[j].source);
      p->mounts[j--] = p->mounts[--p->nmounts];
    }
  if (policy_has_mount_at(p, "/tmp"))
    p->private_tmp = false;
  if (p->private_tmp && policy_add_tmpfs(p, "/tmp", err) < 0)
    return -1;
  if (!policy_has_mount_at(p, "/")) {
    struct policy_mount root = {.kind = MOUNT_BIND, .dest = strdup("/"), .source = strdup("/"),
                                .writable = false};
    if (root.dest == NULL || root.source == NULL || push_mount(p, root, err) < 0)
      return usbox_err_set(err, ENOMEM, "allocating the policy");
  }
  /* a mount point may live inside another mount */
  qsort(p->mounts, p->nmounts, sizeof p->mounts[0], by_depth);
  return 0;
}

int policy_finish_rules(struct policy *p, usbox_err_t *err)
{
  if (policy_complete_view(p, err) < 0)
    return -1;
  size_t explicit_hidden = p->nhidden;
  if (p->default_hidden && add_default_hidden(p, err) < 0)
    return -1;
  /* Always, containers too: procfs shows System V IPC objects of its
   * opener's IPC namespace, and the sentry opens /proc in the host's. The
   * agent's ipcs then asks the kernel (shmctl, msgctl, semctl), which
   * answers in the sandbox's own namespace. */
  if (push_hidden(p, "/proc/sysvipc", "built-in: /proc/sysvipc (the host's IPC objects)", err) <
      0)
    return -1;
  /* only the defaults give way to binds; an explicit --hide of a bound path
   * is a contradiction */
  for (size_t i = 0; i < explicit_hidden; i++)
    if (policy_has_mount_at(p, p->hidden[i]) || has_source(p, p->hidden[i]))
      return usbox_err_set(err, EINVAL, "%s is both bound and hidden", p->hidden[i]);
  unhide_bound(p);
  /* --overlay: every host bind the agent could not change becomes a
   * copy-on-write one (the root included); --rw binds stay the host's */
  for (size_t i = 0; i < p->nmounts && p->overlay.mode != OVERLAY_NONE; i++)
    if (p->mounts[i].kind == MOUNT_BIND && !p->mounts[i].writable && is_dir(p->mounts[i].source))
      p->mounts[i].overlay = p->mounts[i].writable = true;
  if (p->overlay.mode == OVERLAY_NONE && p->overlay.cow_home && add_cow_home(p, err) < 0)
    return -1;
  mark_missing_mount_points(p);
  /* parents before children: a mount point may live inside another mount */
  qsort(p->mounts, p->nmounts, sizeof p->mounts[0], by_depth);
  return 0;
}

int policy_finish(struct policy *p, usbox_err_t *err)
{
  return policy_finish_rules(p, err) < 0 ? -1 : policy_expand_hidden(p, err);
}

int policy_set_overlay(struct policy *p, const char *mode, usbox_err_t *err)
{
  if (mode == NULL || strcmp(mode, "disk") == 0) {
    p->overlay.mode = OVERLAY_DISK;
    return 0;
  }
  if (strcmp(mode, "none") == 0) {
    p->overlay.mode = OVERLAY_NONE;
    return 0;
  }
  if (strncmp(mode, "memory", 6) == 0 && (mode[6] == '\0' || mode[6] == ':')) {
    p->overlay.mode = OVERLAY_MEMORY;
    p->overlay.size = 0;
    if (mode[6] == ':')
      return limits_parse_size("--overlay=memory:SIZE", mode + 7, &p->overlay.size, err);
    return 0;
  }
  return usbox_err_set(err, EINVAL, "--overlay=%s: expected disk, memory, memory:SIZE or none",
                       mode);
}

int policy_set_home(struct policy *p, const char *mode, usbox_err_t *err)
{
  if (strcmp(mode, "overlay") != 0 && strcmp(mode, "ro") != 0)
    return usbox_err_set(err, EINVAL, "--home %s: expected overlay or ro", mode);
  p->overlay.cow_home = strcmp(mode, "overlay") == 0;
  return 0;
}

/* ---- capabilities and host name ---- */

/* NAME (CAP_ optional, any case) or ALL into *set. */
static int cap_into(uint64_t *set, const char *name, usbox_err_t *err)
{
  const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
  if (strcasecmp(bare, "ALL") == 0) {
    *set = ~0ull;
    return 0;
  }
  int n = policy_cap_number(name);
  if (n < 0)
    return usbox_err_set(err, EINVAL, "unknown capability %s (e.g. CAP_NET_BIND_SERVICE)", name);
  *set |= 1ull << n;
  return 0;
}

int policy_add_cap(struct policy *p, const char *name, usbox_err_t *err)
{
  return cap_into(&p->keep_caps, name, err);
}

int policy_drop_cap(struct policy *p, const char *name, usbox_err_t *err)
{
  return cap_into(&p->drop_caps, name, err);
}

void policy_resolve_caps(struct policy *p, bool agent_is_root)
{
  uint64_t base = agent_is_root ? POLICY_ROOT_DEFAULT_CAPS : 0;
  p->keep_caps |= base & ~p->drop_caps;
}

/* A number of at most 2^32 - 2, or -1. */
static long long id_number(const char *s)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v >= 0xffffffffull)
    return -1;
  return (long long)v;
}

int policy_set_user(struct policy *p, const char *spec, usbox_err_t *err)
{
  char user[256], *group = NULL;
  if (snprintf(user, sizeof user, "%s", spec) >= (int)sizeof user || user[0] == '\0')
    return usbox_err_set(err, EINVAL, "--user %s: USER[:GROUP] expected", spec);
  if ((group = strchr(user, ':')) != NULL)
    *group++ = '\0';
  long long uid = id_number(user), gid = -1;
  struct passwd *pw = uid < 0 ? getpwnam(user) : getpwuid((uid_t)uid);
  if (uid < 0 && pw == NULL)
    return usbox_err_set(err, EINVAL, "--user %s: no user %s on this host", spec, user);
  if (uid < 0)
    uid = pw->pw_uid;
  if (group != NULL) {
    struct group *gr = id_number(group) < 0 ? getgrnam(group) : NULL;
    gid = gr != NULL ? (long long)gr->gr_gid : id_number(group);
    if (gid < 0)
      return usbox_err_set(err, EINVAL, "--user %s: no group %s on this host", spec, group);
  } else {
    gid = pw != NULL ? (long long)pw->pw_gid : uid;
  }
  p->process.set_user = true;
  p->process.uid = (uid_t)uid;
  p->process.gid = (gid_t)gid;
  p->process.ngroups = 0;
  return 0;
}

int policy_set_cwd(struct policy *p, const char *dir, usbox_err_t *err)
{
  char abs[PATH_MAX];
  if (dir[0] == '\0')
    return usbox_err_set(err, EINVAL, "--chdir: an empty directory");
  if (policy_absolute(dir, abs, sizeof abs, err) < 0)
    return usbox_err_wrap(err, "--chdir %s", dir);
  char *copy = strdup(abs);
  if (copy == NULL)
    return usbox_err_set(err, ENOMEM, "--chdir");
  free(p->process.cwd);
  p->process.cwd = copy;
  return 0;
}

int policy_set_hostname(struct policy *p, const char *name, usbox_err_t *err)
{
  size_t n = strlen(name);
  if (n == 0 || n >= sizeof p->hostname || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != n)
    return usbox_err_set(err, EINVAL, "bad host name '%s' (letters, digits, '-' and '.', at most 64)",
                         name);
  memcpy(p->hostname, name, n + 1);
  return 0;
}

int policy_set_seccomp_profile(struct policy *p, const char *file, usbox_err_t *err)
{
  if (file[0] == '\0')
    return usbox_err_set(err, EINVAL, "the seccomp profile's file name is empty");
  char *copy = strdup(file);
  if (copy == NULL)
    return usbox_err_set(err, ENOMEM, "seccomp profile %s", file);
  free(p->seccomp_profile);
  p->seccomp_profile = copy;
  return 0;
}
