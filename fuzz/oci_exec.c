/* `exec` into a running container, its two parsers on arbitrary bytes:
 * the process object (oci/spec.c's oci_spec_parse_process: the client's
 * --process file and, again, the monitor's copy of it) and the request
 * the sandbox's init decodes (sentry/init_ctl.c's init_request_decode:
 * sent by the monitor, but read inside the sandbox, so it must hold
 * whatever arrives).
 *
 * Input: one byte (bit 0: which parser; bits 1-2: how many fds came with
 * a request), then the JSON text or the request. Checked: a parsed
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

static void fuzz_process(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1);
  if (text == NULL)
    return;
  memcpy(text, data, size);
  text[size] = '\0';
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
  free(text);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1)
    fuzz_request(data + 1, size - 1, (data[0] >> 1) & 63);
  else
    fuzz_process(data + 1, size - 1);
  return 0;
}
