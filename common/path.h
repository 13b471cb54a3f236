/* Paths as text. */
#ifndef USBOX_COMMON_PATH_H
#define USBOX_COMMON_PATH_H

#include <stdbool.h>
#include <string.h>

/* Whether the absolute path is dir or below it, component-wise ("/a/bc" is
 * not below "/a/b"). */
static inline bool path_at_or_below(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0)
    return path[0] == '/';
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* snprintf(dst, size, "%s", src) without the format engine, which the
 * walk's hot path paid on every copy: what fits, NUL-terminated (size >
 * 0); returns strlen(src), so that a result >= size says it was cut. */
static inline size_t path_copy(char *dst, size_t size, const char *src)
{
  size_t len = strlen(src), n = len < size ? len : size - 1;
  memmove(dst, src, n);
  dst[n] = '\0';
  return len;
}

/* A path put together piece by piece, as snprintf(s, size, "%s%.*s...")
 * would, without the format engine (a create and an unlink built ~8 such
 * strings each): what fits stays NUL-terminated (size > 0); len counts
 * every byte put, so len >= size says the result was cut. */
struct path_buf {
  char *s;
  size_t size, len;
};

static inline struct path_buf path_buf_at(char *s, size_t size)
{
  s[0] = '\0';
  return (struct path_buf){.s = s, .size = size, .len = 0};
}

static inline void path_buf_put(struct path_buf *b, const char *src, size_t n)
{
  if (b->len < b->size - 1) {
    size_t room = b->size - 1 - b->len, k = n < room ? n : room;
    memmove(b->s + b->len, src, k);
    b->s[b->len + k] = '\0';
  }
  b->len += n;
}

static inline void path_buf_puts(struct path_buf *b, const char *src)
{
  path_buf_put(b, src, strlen(src));
}

#endif
