/* `exec` into a running container, its two parsers on arbitrary bytes:
 * the process object (oci/spec.c's oci_spec_parse_process: the client's
 * --process file and, again, the monitor's copy of it) and the request
 * the sandbox's init decodes (sentry/init_ctl.c's init_request_decode:
 * sent by the monitor, but read inside the sandbox, so it must hold
 * whatever arrives).
 *
 * Input: one byte (bit 0: a request, bits 1-6 then how many fds came
 * with it; else bit 1: a whole config.json, else a process object), then
 * the JSON text or the request. Checked: a parsed
 * process has a non-empty argv of strings and an absolute cwd, a refusal
 * is one line naming process.json; a decoded request has exactly argc
 * arguments and envc variables, each a string inside the message, an
 * absolute path to execute exactly when it says it has one, and only ever
 * with the fds its kind needs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/spec.h"
#include "sentry/init_ctl.h"

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "oci_exec: invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static void fuzz_process(const char *text)
{
  struct oci_spec s;
  struct policy p;
  policy_init(&p);
  usbox_err_t err = {0};
  if (oci_spec_parse_process(text, &s, &p, &err) == 0) {
    CHECK(s.args != NULL && s.args[0] != NULL && s.env != NULL);
    CHECK(p.process.cwd != NULL && p.process.cwd[0] == '/');
    CHECK(p.process.ngroups <= POLICY_MAX_GROUPS && p.process.nrlimits <= POLICY_MAX_RLIMITS);
  } else {
    CHECK(strncmp(err.msg, "process.json: ", 14) == 0 || strstr(err.msg, "process.json") != NULL);
    CHECK(strchr(err.msg, '\n') == NULL);
  }
  oci_spec_free(&s);
  policy_free(&p);
}

static bool inside(const char *str, const char *buf, size_t len)
{
  return str >= buf && str < buf + len && memchr(str, '\0', (size_t)(buf + len - str)) != NULL;
}

static void fuzz_request(const uint8_t *data, size_t size, size_t nfds)
{
  if (size < sizeof(struct init_exec_req))
    return;
  /* the init receives into an aligned buffer */
  struct init_exec_req *h = malloc(size);
  if (h == NULL)
    return;
  memcpy(h, data, size);
  char *strings = (char *)(h + 1);
  struct init_request r;
  if (init_request_decode(h, strings, size, nfds, &r) == 0) {
    CHECK(h->op == INIT_OP_EXEC && size == sizeof *h + h->strings_len);
    CHECK(h->npreserve <= INIT_EXEC_MAX_PRESERVE &&
          nfds == ((h->flags & INIT_EXEC_TTY) ? 0u : 3u) + h->npreserve);
    CHECK(inside(r.cwd, strings, h->strings_len));
    CHECK((h->flags & INIT_EXEC_PATH) ? r.path != NULL && r.path[0] == '/' &&
                                            inside(r.path, strings, h->strings_len)
                                      : r.path == NULL);
    size_t n = 0;
    for (; r.argv[n] != NULL; n++)
      CHECK(inside(r.argv[n], strings, h->strings_len));
    CHECK(n == h->argc && n >= 1);
    for (n = 0; r.envp[n] != NULL; n++)
      CHECK(inside(r.envp[n], strings, h->strings_len));
    CHECK(n == h->envc);
    init_request_free(&r);
  }
  free(h);
}

/* A whole config.json (oci/spec.c's oci_spec_parse, `create`'s): it
 * reads the host (realpath of the rootfs and of bind sources, against the
 * bundle "/") and writes nothing. A loaded user namespace has maps that
 * map ids 0 (or a path whose maps are read at create); a refusal is one
 * line naming config.json. */
static void fuzz_config(const char *text)
{
  struct oci_spec s;
  struct policy p;
  policy_init(&p);
  usbox_err_t err = {0};
  struct oci_load_options o = {.bundle = "/"};
  if (oci_spec_parse(&o, text, &s, &p, &err) == 0) {
    CHECK(s.args != NULL && s.args[0] != NULL);
    const struct userns_config *u = &s.idmap;
    if (s.userns && s.userns_path == NULL)
      CHECK(u->nuid > 0 && u->ngid > 0 && userns_to_host(u->uid, u->nuid, 0) >= 0 &&
            userns_to_host(u->gid, u->ngid, 0) >= 0);
    CHECK(s.userns || u->nuid + u->ngid == 0);
    for (size_t i = 0; i < u->nuid; i++)
      CHECK(u->uid[i].count > 0);
  } else {
    CHECK(strstr(err.msg, "config.json") != NULL || strstr(err.msg, "root.path") != NULL ||
          strstr(err.msg, "source") != NULL);
    CHECK(strchr(err.msg, '\n') == NULL);
  }
  oci_spec_free(&s);
  policy_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1) {
    fuzz_request(data + 1, size - 1, (data[0] >> 1) & 63);
    return 0;
  }
  /* the JSON parsers take NUL-terminated text, as read from a file */
  char *text = malloc(size);
  if (text == NULL)
    return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  if (data[0] & 2)
    fuzz_config(text);
  else
    fuzz_process(text);
  free(text);
  return 0;
}
