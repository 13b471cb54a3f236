/* execve, execveat and chdir: the calls only the kernel can perform on the
 * agent. The sentry cannot inject "run this file" or "be in this directory"
 * the way it injects an fd, so it checks its own copy of the path (resolved
 * in the view, existing, of the right type, permitted) and then lets the
 * kernel perform the call, which reads the path from agent memory again.
 *
 * Why that second read is safe: whatever string a racing thread swaps in,
 * the kernel resolves it in the agent's own mount namespace, which mirrors
 * the view: hidden paths are masked at every view path where they show (at
 * start, and when one appears on the host later: sentry/hidden_watch.c),
 * binds are read-only where the view's are, the host root is gone. So any
 * file the kernel can reach there is one the sentry would also have
 * allowed: chdir decides nothing beyond "visible in the view". What the
 * mirror cannot mask (a hard link of a hidden program made on the host) is
 * in docs/security.md, "What remains". tests/attacks/view_exec_race.c and
 * attack_hidden_alias.c race a thread against the path buffer.
 *
 * Exec rules (policy/exec_rules.h) decide more: which file may run. The
 * sentry decides them on the object its walk resolved, and on each #!
 * interpreter read from that very object; the mirror makes the programs
 * that deny rules name literally non-executable (vfs/mountns.c), so that a
 * swapped path or script cannot reach them either. What that leaves is in
 * docs/security.md, "Exec rules".
 * See docs/architecture.md, "Calls the kernel must perform". */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpath.h"
#include "common/log.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"

/* ---- exec rules ---- */

/* The rule's literal part resolved in the view, its wildcards after it (a
 * resolved name's own wildcard characters escaped), or NULL. */
static char *resolve_rule(struct vfs_ctx *own, const char *glob)
{
  size_t lit = exec_glob_literal_len(glob);
  char prefix[PATH_MAX];
  if (lit == 0 || lit >= sizeof prefix)
    return NULL;
  memcpy(prefix, glob, lit);
  prefix[lit] = '\0';
  cleanup_node struct vfs_node n = VFS_NODE_INIT;
  if (vfs_lookup(own, AT_FDCWD, prefix, 0, &n) < 0 || n.view[0] != '/')
    return NULL; /* not there, or hidden: the rule matches as written */
  char out[PATH_MAX * 2];
  size_t o = 0;
  for (const char *c = strcmp(n.view, "/") == 0 ? "" : n.view; *c != '\0'; c++) {
    if (strchr("*?[\\", *c) != NULL)
      out[o++] = '\\';
    out[o++] = *c;
  }
  if (snprintf(out + o, sizeof out - o, "%s", glob + lit) >= (int)(sizeof out - o) ||
      strcmp(out, glob) == 0)
    return NULL;
  return strdup(out);
}

int sentry_exec_rules(struct sentry *s, const struct exec_rules *rules, usbox_err_t *err)
{
  if (exec_rules_copy(&s->exec, rules, err) < 0)
    return -1;
  struct vfs_ctx own = vfs_ctx_own(&s->vfs);
  struct exec_rule *lists[2] = {s->exec.allow, s->exec.deny};
  size_t counts[2] = {s->exec.nallow, s->exec.ndeny};
  for (int l = 0; l < 2; l++)
    for (size_t i = 0; i < counts[l]; i++) {
      lists[l][i].resolved = resolve_rule(&own, lists[l][i].glob);
      if (lists[l][i].resolved != NULL)
        usbox_debug("exec rule %s is %s in the view", lists[l][i].glob, lists[l][i].resolved);
    }
  return 0;
}

/* Why the rules refuse the file at a view path ("" when it has none: a
 * memfd, a deleted file), as the audit line says it; or false. of: the
 * program whose #! line named it, for an interpreter. */
static bool refused(const struct exec_rules *rules, const char *path, const char *of, char *why,
                    size_t size)
{
  bool not_allowed;
  const struct exec_rule *deny = exec_rules_decide(rules, path, &not_allowed);
  if (deny == NULL && !not_allowed)
    return false;
  snprintf(why, size, "%s%s: %s%s%s", deny ? "exec.deny " : EXEC_NOT_ALLOWED,
           deny ? deny->glob : "", path[0] ? path : "(a file without a path)",
           of ? ", interpreter of " : "", of ? of : "");
  return true;
}

/* The interpreter a resolved file's #! line names, read as the agent from
 * the very object the walk found: 1 (in interp), 0 when it names none the
 * kernel would run, or -errno. */
static int interpreter_of(struct sentry_call *call, const struct vfs_node *n, char *interp)
{
  if (!S_ISREG(n->st.st_mode))
    return 0; /* the kernel refuses it */
  cleanup_close int obj = vfs_open_resolved(&call->fs, n, 0);
  if (obj < 0)
    return obj;
  cleanup_close int fd = -1;
  int r = (int)AS_AGENT(call, VFS_PLACE(n->mount), 0,
                        (fd = open(fdpath_of(obj).s, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0
                            ? -errno
                            : 0);
  if (r < 0)
    return r;
  char head[EXEC_HEAD_SIZE];
  ssize_t len = pread(fd, head, sizeof head, 0);
  if (len < 0)
    return -errno;
  r = exec_parse_shebang(head, (size_t)len, interp, PATH_MAX);
  return r == 1 ? 1 : 0; /* a line the kernel refuses runs nothing */
}

/* The exec rules on what execve would run: the program, then each #!
 * interpreter the kernel would run for it (relative ones from the agent's
 * cwd, as the kernel opens them), up to the kernel's depth. 0: it may
 * run; -EACCES with why; another -errno (the call is gone, the tree
 * changed under a walk). */
static int check_rules(struct sentry_call *call, const struct vfs_node *prog, char *why,
                       size_t size)
{
  const struct exec_rules *rules = &call->sentry->exec;
  if (refused(rules, prog->view, NULL, why, size))
    return -EACCES;
  struct vfs_node nodes[2] = {VFS_NODE_INIT, VFS_NODE_INIT};
  const struct vfs_node *cur = prog;
  int r = 0;
  char interp[PATH_MAX];
  for (int depth = 1; depth <= EXEC_MAX_INTERPRETERS && r == 0; depth++) {
    r = interpreter_of(call, cur, interp);
    if (r == -EACCES || r == -EPERM) {
      snprintf(why, size, "cannot read %s to check its #! line against the exec rules",
               cur->view[0] ? cur->view : "(a file without a path)");
      r = -EACCES;
      break;
    }
    if (r <= 0)
      break;
    struct vfs_node *next = &nodes[depth % 2];
    vfs_node_release(next);
    *next = (struct vfs_node)VFS_NODE_INIT;
    r = vfs_lookup(&call->fs, AT_FDCWD, interp, 0, next);
    if (r < 0 && r != -ESRCH && r != -VFS_ESTALE_VIEW)
      r = 1; /* the kernel cannot run it either: its own errno */
    else if (r == 0 && refused(rules, next->view, prog->view, why, size))
      r = -EACCES;
    cur = next;
  }
  vfs_node_release(&nodes[0]);
  vfs_node_release(&nodes[1]);
  return r > 0 ? 0 : r;
}

/* The sandbox's first execve is the program usbox runs: whether the rules
 * refused it (why: NULL if not), for usbox's error line. */
static void note_first_exec(struct sentry *s, const char *why)
{
  int unseen = EXEC_FIRST_UNSEEN;
  if (atomic_load(&s->first_exec) != EXEC_FIRST_UNSEEN)
    return;
  if (why != NULL)
    snprintf(s->first_exec_why, sizeof s->first_exec_why, "%s", why);
  atomic_compare_exchange_strong(&s->first_exec, &unseen,
                                 why != NULL ? EXEC_FIRST_REFUSED : EXEC_FIRST_ALLOWED);
}

/* The answer for a call the rules refused: EACCES, audited as a denial
 * naming the rule. */
static struct sc_result refuse(struct sentry_call *call, const char *why)
{
  note_first_exec(call->sentry, why);
  static __thread char audit_why[sizeof call->sentry->first_exec_why];
  snprintf(audit_why, sizeof audit_why, "%s", why);
  call->audit_rule = audit_why;
  return sc_errno(EACCES);
}

/* A relative name the kernel resolves again from the agent's working
 * directory (execve, chdir): only from a directory of the view. The VFS
 * reads the working directory's name as a view path, which it is not
 * after an fchdir to a directory the agent was handed from outside the
 * view (task_cwd_in_view); the kernel would then resolve the name on the
 * host. A relative name costs this check (an open and a statx or two). */
static int relative_from_view(struct sentry_call *call, int dirfd)
{
  if (dirfd != AT_FDCWD || call->path[0][0] == '/' || call->path[0][0] == '\0')
    return 0;
  return task_cwd_in_view(call);
}

static struct sc_result check_exec(struct sentry_call *call, int dirfd, int vflags)
{
  int r = relative_from_view(call, dirfd);
  if (r < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node obj = VFS_NODE_INIT;
  /* the X_OK check rides on the walk's gofer request when it can */
  r = vfs_lookup_access(&call->fs, dirfd, call->path[0], vflags, X_OK, false, &obj);
  if (r < 0)
    return sc_fail(r);
  if (S_ISLNK(obj.st.st_mode))
    return sc_errno(ELOOP); /* execveat AT_SYMLINK_NOFOLLOW on a symlink */
  if (!S_ISREG(obj.st.st_mode))
    return sc_errno(EACCES);
  /* the rules first: a program a deny rule names is not executable in the
   * mirror either (vfs/mountns.c), so the X_OK check would refuse it too,
   * without the rule in the audit line */
  char why[sizeof call->sentry->first_exec_why];
  if (exec_rules_any(&call->sentry->exec) && (r = check_rules(call, &obj, why, sizeof why)) < 0)
    return r == -EACCES ? refuse(call, why) : sc_fail(r);
  if ((r = obj.access_done ? obj.access_err : vfs_op_access(&call->fs, &obj, X_OK, false)) < 0)
    return sc_fail(r);
  note_first_exec(call->sentry, NULL);
  /* execve recomputes the capabilities (a non-root uid kept them only
   * until here): what the sentry cached of the task is stale after it */
  task_cache_invalidate(&call->sentry->tasks);
  /* a file the agent just wrote and closed may still be open in the sentry
   * for a few microseconds (sys_file.c): ETXTBSY if the kernel ran it now */
  sentry_wait_writers(call->sentry);
  return sc_kernel_must_perform();
}

struct sc_result sys_execve(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  return check_exec(call, AT_FDCWD, 0);
}

struct sc_result sys_execveat(struct sentry_call *call)
{
  int flags = ARG_INT(call, 4);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    return sc_errno(EINVAL);
  int r = read_path(call, 0, 1, (flags & AT_EMPTY_PATH) != 0);
  if (r < 0)
    return sc_fail(r);
  return check_exec(call, ARG_INT(call, 0),
                    ((flags & AT_SYMLINK_NOFOLLOW) ? VFS_NOFOLLOW : 0) |
                        ((flags & AT_EMPTY_PATH) ? VFS_EMPTY_PATH : 0));
}

struct sc_result sys_chdir(struct sentry_call *call)
{
  int r = read_path(call, 0, 0, false);
  if (r < 0)
    return sc_fail(r);
  if ((r = relative_from_view(call, AT_FDCWD)) < 0)
    return sc_fail(r);
  cleanup_node struct vfs_node dir = VFS_NODE_INIT;
  r = vfs_lookup(&call->fs, AT_FDCWD, call->path[0], VFS_DIRECTORY, &dir);
  if (r < 0)
    return sc_fail(r);
  if ((r = vfs_op_access(&call->fs, &dir, X_OK, false)) < 0)
    return sc_fail(r);
  task_cwd_changing(call); /* the kernel moves it after this answer */
  return sc_kernel_must_perform();
}

/* No path and nothing checked: the sentry only hears of it, so that the
 * names of working directories the VFS keeps (vfs/walk.c cwd_view_name)
 * are not used across it. The kernel performs it on the agent's fd. */
struct sc_result sys_fchdir(struct sentry_call *call)
{
  task_cwd_changing(call);
  return sc_kernel_must_perform();
}
