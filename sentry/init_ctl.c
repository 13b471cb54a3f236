/* The monitor <-> init channel (sentry/init_ctl.h): the monitor's side, and
 * the pure decoding of a request the init's side (init_serve.c) uses. */
#include "sentry/init_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"

/* ---- the monitor's side ---- */

static size_t put_string(char *buf, size_t at, const char *s)
{
  size_t n = strlen(s) + 1;
  if (at + n > INIT_EXEC_MAX_STRINGS)
    return INIT_EXEC_MAX_STRINGS + 1;
  memcpy(buf + at, s, n);
  return at + n;
}

static void fill_header(struct init_exec_req *h, const struct init_exec_spec *spec)
{
  const struct policy_process *p = spec->proc;
  *h = (struct init_exec_req){.op = INIT_OP_EXEC, .id = spec->id, .umask = p->umask,
                              .keep_caps = spec->keep_caps};
  h->flags = (spec->tty ? INIT_EXEC_TTY : 0) | (p->set_user ? INIT_EXEC_SET_USER : 0) |
             (spec->set_caps ? INIT_EXEC_SET_CAPS : 0) | (spec->path != NULL ? INIT_EXEC_PATH : 0);
  h->uid = p->uid, h->gid = p->gid;
  h->ngroups = (uint32_t)p->ngroups;
  for (size_t i = 0; i < p->ngroups && i < POLICY_MAX_GROUPS; i++)
    h->groups[i] = p->groups[i];
  h->nrlimits = (uint32_t)p->nrlimits;
  for (size_t i = 0; i < p->nrlimits && i < POLICY_MAX_RLIMITS; i++)
    h->rlimits[i] = (struct init_rlimit){p->rlimits[i].resource, p->rlimits[i].soft,
                                         p->rlimits[i].hard};
}

int init_ctl_send_exec(int ctl, const struct init_exec_spec *spec, const int stdio[3],
                       usbox_err_t *err)
{
  size_t size = sizeof(struct init_exec_req) + INIT_EXEC_MAX_STRINGS;
  char *msg = malloc(size);
  if (msg == NULL)
    return usbox_err_set(err, ENOMEM, "the exec request");
  struct init_exec_req *h = (struct init_exec_req *)msg;
  fill_header(h, spec);
  char *strings = msg + sizeof *h;
  size_t at = put_string(strings, 0, spec->cwd);
  if (spec->path != NULL)
    at = put_string(strings, at, spec->path);
  for (char **a = spec->argv; *a != NULL && at <= INIT_EXEC_MAX_STRINGS; a++, h->argc++)
    at = put_string(strings, at, *a);
  for (char **e = spec->envp; *e != NULL && at <= INIT_EXEC_MAX_STRINGS; e++, h->envc++)
    at = put_string(strings, at, *e);
  if (at > INIT_EXEC_MAX_STRINGS) {
    free(msg);
    return usbox_err_set(err, E2BIG, "the process's cwd, args and env exceed %d KiB",
                         INIT_EXEC_MAX_STRINGS / 1024);
  }
  h->strings_len = (uint32_t)at;
  if (spec->npreserve > INIT_EXEC_MAX_PRESERVE) {
    free(msg);
    return usbox_err_set(err, E2BIG, "at most %d fds pass with --preserve-fds",
                         INIT_EXEC_MAX_PRESERVE);
  }
  h->npreserve = (uint32_t)spec->npreserve;
  int fds[FDPASS_MAX];
  size_t nfds = 0;
  for (size_t i = 0; !spec->tty && i < 3; i++)
    fds[nfds++] = stdio[i];
  for (size_t i = 0; i < spec->npreserve; i++)
    fds[nfds++] = spec->preserved[i];
  struct iovec iov = {.iov_base = msg, .iov_len = sizeof *h + at};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg_many cm;
  fdpass_attach_many(&hdr, &cm, fds, nfds);
  ssize_t n = fdpass_sendmsg(ctl, &hdr);
  free(msg);
  if (n < 0)
    return usbox_err_set(err, (int)-n, "asking the sandbox's init to start the process");
  return 0;
}

int init_ctl_send_signal(int ctl, uint32_t id, int signo)
{
  struct init_exec_req h = {.op = INIT_OP_SIGNAL, .id = id, .signo = signo};
  return send(ctl, &h, sizeof h, MSG_NOSIGNAL) == (ssize_t)sizeof h ? 0 : -1;
}

int init_ctl_recv_event(int ctl, struct init_exec_event *ev, int *fd)
{
  return fdpass_recv_record(ctl, ev, sizeof *ev, fd);
}

const char *init_stage_name(uint32_t stage)
{
  switch (stage) {
  case INIT_STAGE_REQUEST: return "the request";
  case INIT_STAGE_TTY: return "making its terminal";
  case INIT_STAGE_RLIMITS: return "setting its rlimits";
  case INIT_STAGE_USER: return "setting its user";
  case INIT_STAGE_CAPS: return "setting its capabilities";
  case INIT_STAGE_CWD: return "entering its working directory";
  case INIT_STAGE_PROFILE: return "installing the seccomp profile";
  case INIT_STAGE_EXEC: return "exec";
  default: return "starting it";
  }
}

/* ---- decoding (the init's side, pure: fuzz/init_request.c) ---- */

/* The request's strings as cwd, the path (INIT_EXEC_PATH), argv and envp
 * (pointers into strings). */
static bool split_strings(const struct init_exec_req *h, char *strings, struct init_request *out)
{
  if (h->strings_len == 0 || strings[h->strings_len - 1] != '\0')
    return false;
  size_t lead = (h->flags & INIT_EXEC_PATH) ? 2 : 1; /* cwd, and the path */
  size_t want = lead + (size_t)h->argc + h->envc, got = 0;
  for (size_t at = 0; at < h->strings_len; at += strlen(strings + at) + 1, got++) {
    char *str = strings + at;
    if (got == 0)
      out->cwd = str;
    else if (got < lead)
      out->path = str;
    else if (got < lead + h->argc)
      out->argv[got - lead] = str;
    else if (got < want)
      out->envp[got - lead - h->argc] = str;
  }
  /* a relative path would be taken from the cwd: the monitor sends none */
  if (got != want || (out->path != NULL && out->path[0] != '/'))
    return false;
  out->argv[h->argc] = NULL;
  out->envp[h->envc] = NULL;
  return true;
}

static bool valid_header(const struct init_exec_req *h, size_t len, size_t nfds)
{
  return len >= sizeof *h && h->op == INIT_OP_EXEC && h->strings_len <= INIT_EXEC_MAX_STRINGS &&
         len == sizeof *h + h->strings_len && h->ngroups <= POLICY_MAX_GROUPS &&
         h->nrlimits <= POLICY_MAX_RLIMITS && h->argc >= 1 &&
         h->argc <= INIT_EXEC_MAX_STRINGS && h->envc <= INIT_EXEC_MAX_STRINGS &&
         h->npreserve <= INIT_EXEC_MAX_PRESERVE &&
         nfds == ((h->flags & INIT_EXEC_TTY) ? 0 : 3) + (size_t)h->npreserve;
}

int init_request_decode(const struct init_exec_req *h, char *strings, size_t len, size_t nfds,
                        struct init_request *out)
{
  *out = (struct init_request){0};
  if (!valid_header(h, len, nfds))
    return -EINVAL;
  out->argv = calloc((size_t)h->argc + 1, sizeof *out->argv);
  out->envp = calloc((size_t)h->envc + 1, sizeof *out->envp);
  if (out->argv == NULL || out->envp == NULL) {
    init_request_free(out);
    return -ENOMEM;
  }
  if (!split_strings(h, strings, out)) {
    init_request_free(out);
    return -EINVAL;
  }
  return 0;
}

void init_request_free(struct init_request *r)
{
  free(r->argv);
  free(r->envp);
  *r = (struct init_request){0};
}
