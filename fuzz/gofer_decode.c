/* The gofer's request decoder (gofer/ops.c: gofer_decode) on arbitrary
 * bytes, as a compromised sentry could send them. The gofer holds the host
 * file system: whatever decode accepts is what gofer_perform acts on, so
 * every accepted request is checked here against the protocol's rules
 * (gofer/PROTOCOL.md), independently of ops.c. Never performed: that would
 * act on the host.
 *
 * Input: one message, exactly as recvmsg would hand it to the gofer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gofer/ops.h"
#include "gofer/protocol.h"

/* A broken invariant: a crash libFuzzer reports, with the input saved. */
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "gofer_decode: invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);  \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* mounts 0 and 3 served, 1 a procfs mount, 2 one this side does not serve;
 * the fds are never used (nothing is performed) */
static const struct gofer_state state = {
    .mounts = {{.fd = 100}, {.fd = 101, .procfs = true}, {.fd = -1}, {.fd = 102}},
    .nmounts = 4,
};

#define INOTIFY_FD 7

/* ---- the protocol's rules, written again (not ops.c's code) ---- */

/* One component: 1..NAME_MAX bytes, no '/', not "." or "..". */
static bool component_ok(const char *c, size_t n, bool dots_allowed)
{
  if (n == 0 || n > NAME_MAX || memchr(c, '/', n) != NULL)
    return false;
  bool dots = (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.');
  return dots_allowed || !dots;
}

/* A canonical mount-relative path of len bytes: "" or components joined by
 * single slashes. */
static bool canonical(const char *p, size_t len)
{
  if (len == 0)
    return true;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && p[i] != '/')
      continue;
    if (!component_ok(p + start, i - start, false))
      return false;
    start = i + 1;
  }
  return true;
}

/* "parent/name" or "name", the name maybe with one trailing '/', "." and
 * ".." allowed as the name (the kernel refuses those itself). */
static bool entry_ok(const char *p, size_t len)
{
  size_t end = len > 0 && p[len - 1] == '/' ? len - 1 : len;
  size_t start = end;
  while (start > 0 && p[start - 1] != '/')
    start--;
  if (!component_ok(p + start, end - start, true))
    return false;
  if (start == 0)
    return true;
  return start > 1 && canonical(p, start - 1); /* "/name" is not mount-relative */
}

/* A NUL-terminated string of exactly len_with_nul bytes at s. */
static bool nul_string(const char *s, uint32_t len_with_nul)
{
  return len_with_nul > 0 && s[len_with_nul - 1] == '\0' && strlen(s) + 1 == len_with_nul;
}

static bool takes_entry(const struct gofer_req *q)
{
  switch (q->op) {
  case GOFER_MKDIR:
  case GOFER_MKNOD:
  case GOFER_UNLINK:
  case GOFER_RENAME:
  case GOFER_LINK:
  case GOFER_SYMLINK:
    return true;
  case GOFER_OPEN:
    return (q->flags & O_CREAT) != 0;
  }
  return false;
}

/* Every byte decode points at lies in the message: read them all (ASan
 * sees a pointer past it) and check the layout adds up. */
static void check_layout(const uint8_t *msg, size_t len, const struct gofer_call *c)
{
  const struct gofer_req *q = c->req;
  CHECK((const uint8_t *)q == msg);
  CHECK(len >= sizeof *q);
  CHECK((size_t)q->path_len + q->path2_len + q->data_len == len - sizeof *q);
  CHECK((const uint8_t *)c->path == msg + sizeof *q);
  CHECK(c->path2 == c->path + q->path_len);
  CHECK((const char *)c->data == c->path2 + q->path2_len);
  CHECK((const uint8_t *)c->data + q->data_len == msg + len);
  volatile uint8_t sum = 0;
  for (const uint8_t *b = (const uint8_t *)c->path; b < msg + len; b++)
    sum += *b;
  (void)sum;
}

static void check_strings(const struct gofer_call *c)
{
  const struct gofer_req *q = c->req;
  CHECK(q->path_len <= PATH_MAX && nul_string(c->path, q->path_len));
  size_t plen = q->path_len - 1;
  if (takes_entry(q)) {
    CHECK(entry_ok(c->path, plen));
  } else {
    CHECK(canonical(c->path, plen));
    CHECK(gofer_path_valid(c->path, q->path_len));
  }
  if (q->op == GOFER_RENAME || q->op == GOFER_LINK) {
    CHECK(nul_string(c->path2, q->path2_len) && entry_ok(c->path2, q->path2_len - 1));
  } else if (q->op == GOFER_GETXATTR || q->op == GOFER_SETXATTR || q->op == GOFER_REMOVEXATTR) {
    CHECK(q->path2_len >= 2 && q->path2_len <= 256 && nul_string(c->path2, q->path2_len));
  } else {
    CHECK(q->path2_len == 0);
  }
  if (q->op == GOFER_SYMLINK)
    CHECK(q->data_len >= 2 && q->data_len <= PATH_MAX &&
          ((const char *)c->data)[q->data_len - 1] == '\0');
  if (q->op == GOFER_UTIMENS)
    CHECK(q->data_len == 0 || q->data_len == 2 * sizeof(struct timespec));
}

/* What an accepted request promises gofer_perform. */
static void check_accepted(const uint8_t *msg, size_t len, const struct gofer_call *c, int in_fd)
{
  check_layout(msg, len, c);
  const struct gofer_req *q = c->req;
  CHECK(q->magic == GOFER_MAGIC);
  CHECK(q->op >= 1 && q->op < GOFER_OP_MAX);
  CHECK(q->mount < state.nmounts && q->mount2 < state.nmounts);
  CHECK(q->data_len <= GOFER_MAX_DATA);
  CHECK(q->ident.ngroups >= 0 && q->ident.ngroups <= DEPUTY_MAX_GROUPS);
  CHECK(c->in_fd == in_fd);
  if (q->op == GOFER_CANCEL)
    return;
  CHECK(state.mounts[q->mount].fd >= 0);
  check_strings(c);
  if (q->op == GOFER_INOTIFY)
    CHECK(in_fd >= 0);
  if (q->op == GOFER_PROC_FOLLOW)
    CHECK(state.mounts[q->mount].procfs);
}

/* The validators on their own, on the input as text, against the rules. */
static void check_validators(const uint8_t *data, size_t size)
{
  if (size == 0 || size > PATH_MAX + 1)
    return;
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  /* gofer_path_valid reads len_with_nul bytes: give it exactly those */
  bool want = memchr(s, '\0', size - 1) == NULL && s[size - 1] == '\0' && size <= PATH_MAX &&
              canonical(s, size - 1);
  CHECK(gofer_path_valid(s, (uint32_t)size) == want);
  size_t n = strlen(s);
  bool name_want = n > 0 && (component_ok(s, n, true) ||
                             (n > 1 && s[n - 1] == '/' && component_ok(s, n - 1, true)));
  CHECK(gofer_name_valid(s) == name_want);
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* an exact-size copy (malloc aligns it for a struct gofer_req, as the
   * gofer's buffer is): ASan sees any read past the message */
  uint8_t *msg = malloc(size);
  memcpy(msg, data, size);
  struct gofer_call with_fd, without_fd;
  int r = gofer_decode(&state, msg, size, INOTIFY_FD, &with_fd);
  int r_none = gofer_decode(&state, msg, size, -1, &without_fd);
  CHECK(r <= 0 && r_none <= 0);
  if (r == 0)
    check_accepted(msg, size, &with_fd, INOTIFY_FD);
  if (r_none == 0)
    check_accepted(msg, size, &without_fd, -1);
  /* only INOTIFY cares whether an fd came along */
  bool inotify = size >= sizeof(struct gofer_req) && ((struct gofer_req *)msg)->op == GOFER_INOTIFY;
  CHECK(r_none == r || (inotify && r == 0 && r_none == -EBADF));
  free(msg);
  check_validators(data, size);
  return 0;
}
