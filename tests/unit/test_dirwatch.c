/* vfs/dirwatch.h on real directories (a disk filesystem and a tmpfs): the
 * key name_to_handle_at gives is the one the events carry, a CTIME mark
 * hears every change that sets the directory's ctime and nothing about its
 * children's own attributes, a NAMES mark only entries; and the parser on
 * made-up buffers (cut, lying lengths, an overflow). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vfs/dirwatch.h"

struct seen {
  const struct dirwatch_key *want;
  int matched, other, all;
};

static void count(void *ctx, const struct dirwatch_event *ev)
{
  struct seen *s = ctx;
  if (ev->all)
    s->all++;
  else if (dirwatch_key_eq(&ev->key, s->want))
    s->matched++;
  else
    s->other++;
}

/* The events queued now, counted against key. */
static struct seen drain(int group, const struct dirwatch_key *key)
{
  struct seen s = {.want = key};
  char buf[8192] __attribute__((aligned(8)));
  ssize_t n;
  while ((n = read(group, buf, sizeof buf)) > 0)
    dirwatch_parse(buf, (size_t)n, count, &s);
  return s;
}

static char *path_in(const char *dir, const char *name)
{
  static char buf[4][512];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

#define EXPECT(group, key, what, n_matched)                                                        \
  do {                                                                                             \
    struct seen s_ = drain(group, key);                                                            \
    if (s_.matched != (n_matched) || s_.other != 0 || s_.all != 0)                                 \
      fail_msg("%s: %d events for the directory (want %d), %d for others, %d for all", what,     \
               s_.matched, n_matched, s_.other, s_.all);                                           \
  } while (0)

/* One directory under base, marked for what, changed every way. */
static void check_dir(const char *base, enum dirwatch_what what)
{
  char dir[256];
  snprintf(dir, sizeof dir, "%s/dirwatch.XXXXXX", base);
  assert_non_null(mkdtemp(dir));
  assert_int_equal(mkdir(path_in(dir, "sub"), 0755), 0);
  int group = dirwatch_open();
  assert_true(group >= 0);
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true(fd >= 0);
  struct dirwatch_key key, again;
  assert_int_equal(dirwatch_key_of(fd, &key), 0);
  int fd2 = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* another fd, same inode */
  assert_int_equal(dirwatch_key_of(fd2, &again), 0);
  assert_true(dirwatch_key_eq(&key, &again));
  assert_int_equal(dirwatch_key_hash(&key), dirwatch_key_hash(&again));
  int sub = open(path_in(dir, "sub"), O_PATH | O_CLOEXEC);
  assert_int_equal(dirwatch_key_of(sub, &again), 0);
  assert_false(dirwatch_key_eq(&key, &again));
  close(sub);
  assert_int_equal(dirwatch_mark(group, fd, what, true), 0);
  bool ctime = what == DIRWATCH_CTIME;

  int f = open(path_in(dir, "f"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(f >= 0);
  EXPECT(group, &key, "a file made", 1);
  assert_int_equal(write(f, "x", 1), 1);
  close(f);
  assert_int_equal(chmod(path_in(dir, "f"), 0600), 0);
  assert_int_equal(chmod(path_in(dir, "sub"), 0700), 0);
  EXPECT(group, &key, "a child written, a child's mode", 0);
  assert_int_equal(mkdir(path_in(dir, "d"), 0755), 0);
  EXPECT(group, &key, "a directory made", 1);
  assert_int_equal(rename(path_in(dir, "f"), path_in(dir, "g")), 0);
  EXPECT(group, &key, "a rename inside (from and to, one event)", 1);
  /* (each read at once: the queue merges like events of one directory) */
  assert_int_equal(link(path_in(dir, "g"), path_in(dir, "h")), 0);
  EXPECT(group, &key, "a hard link", 1);
  assert_int_equal(symlink("g", path_in(dir, "s")), 0);
  EXPECT(group, &key, "a symlink", 1);
  assert_int_equal(unlink(path_in(dir, "h")), 0);
  EXPECT(group, &key, "an unlink", 1);
  assert_int_equal(rmdir(path_in(dir, "d")), 0);
  EXPECT(group, &key, "an rmdir", 1);
  assert_int_equal(chmod(dir, 0700), 0);
  EXPECT(group, &key, "its own mode", ctime ? 1 : 0);
  assert_int_equal(chown(dir, 1, 1), 0);
  EXPECT(group, &key, "its owner", ctime ? 1 : 0);
  if (setxattr(dir, "user.dirwatch", "1", 1, 0) == 0)
    EXPECT(group, &key, "an xattr of its own", ctime ? 1 : 0);
  else
    assert_int_equal(errno, ENOTSUP);

  assert_int_equal(dirwatch_mark(group, fd, what, false), 0);
  assert_int_equal(unlink(path_in(dir, "s")), 0);
  EXPECT(group, &key, "after the mark is gone", 0);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  close(fd), close(fd2), close(group);
}

static void test_ctime_disk(void **state)
{
  (void)state;
  check_dir("/var/tmp", DIRWATCH_CTIME);
}

static void test_ctime_tmpfs(void **state)
{
  (void)state;
  check_dir("/dev/shm", DIRWATCH_CTIME);
}

static void test_names(void **state)
{
  (void)state;
  check_dir("/var/tmp", DIRWATCH_NAMES);
}

/* ---- the parser on made-up buffers ---- */

/* An event with one FID record of handle_bytes (claimed) and room bytes. */
static size_t make_event(unsigned char *buf, uint32_t handle_bytes, size_t room, uint64_t mask)
{
  struct fanotify_event_metadata m = {.vers = FANOTIFY_METADATA_VERSION,
                                      .metadata_len = sizeof m, .mask = mask, .fd = FAN_NOFD};
  struct fanotify_event_info_header h = {.info_type = FAN_EVENT_INFO_TYPE_FID};
  h.len = (uint16_t)(sizeof h + 16 + room);
  m.event_len = (uint32_t)(sizeof m + h.len);
  memcpy(buf, &m, sizeof m);
  memcpy(buf + sizeof m, &h, sizeof h);
  unsigned char *rec = buf + sizeof m + sizeof h;
  memset(rec, 0xab, 8);              /* fsid */
  memcpy(rec + 8, &handle_bytes, 4); /* file_handle */
  memset(rec + 12, 1, 4);
  memset(rec + 16, 0xcd, room);
  return m.event_len;
}

static void test_parse_lengths(void **state)
{
  (void)state;
  unsigned char buf[1024] __attribute__((aligned(8)));
  struct dirwatch_key key = {.len = 16 + 8};
  size_t n = make_event(buf, 8, 8, FAN_CREATE);
  memcpy(key.bytes, buf + sizeof(struct fanotify_event_metadata) + 4, key.len);
  struct seen s = {.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, count, &s), 1);
  assert_int_equal(s.matched, 1);
  /* every cut of it: no event, nothing read past the cut (ASan) */
  for (size_t cut = 0; cut < n; cut++) {
    unsigned char *copy = malloc(cut ? cut : 1);
    memcpy(copy, buf, cut);
    s = (struct seen){.want = &key};
    assert_int_equal(dirwatch_parse(copy, cut, count, &s), 0);
    free(copy);
  }
  /* a handle longer than its record, or than any key: counted as "all" */
  n = make_event(buf, 64, 8, FAN_CREATE);
  s = (struct seen){.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, count, &s), 1);
  assert_int_equal(s.all, 1);
  n = make_event(buf, 4000, 200, FAN_CREATE);
  s = (struct seen){.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, count, &s), 1);
  assert_int_equal(s.all, 1);
}

static void test_parse_overflow_and_junk(void **state)
{
  (void)state;
  unsigned char buf[1024] __attribute__((aligned(8)));
  struct fanotify_event_metadata m = {.event_len = sizeof m, .vers = FANOTIFY_METADATA_VERSION,
                                      .metadata_len = sizeof m, .mask = FAN_Q_OVERFLOW,
                                      .fd = FAN_NOFD};
  memcpy(buf, &m, sizeof m);
  size_t n = sizeof m;
  n += make_event(buf + n, 8, 8, FAN_DELETE);
  struct dirwatch_key key = {.len = 0};
  struct seen s = {.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, count, &s), 2);
  assert_int_equal(s.all, 1); /* the overflow */
  assert_int_equal(s.other, 1);
  /* an event_len that would step back or past the end stops the parse */
  m.mask = FAN_CREATE, m.event_len = 3;
  memcpy(buf, &m, sizeof m);
  s = (struct seen){.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, count, &s), 0);
  m.event_len = 4096;
  memcpy(buf, &m, sizeof m);
  assert_int_equal(dirwatch_parse(buf, n, count, &s), 0);
}

/* ---- a named group (dirwatch_open_named) ---- */

struct names {
  const struct dirwatch_key *want;
  char got[8][NAME_MAX + 1]; /* "" for an event naming no entry */
  int n, other, all;
};

static void note_name(void *ctx, const struct dirwatch_event *ev)
{
  struct names *s = ctx;
  if (ev->all)
    s->all++;
  else if (!dirwatch_key_eq(&ev->key, s->want))
    s->other++;
  else if (s->n < 8)
    snprintf(s->got[s->n++], sizeof s->got[0], "%s", ev->name != NULL ? ev->name : "");
}

/* The names the events queued now gave, sorted and joined by ',' (an
 * event naming no entry as "."): the queue's order is not what is tested. */
static const char *names_now(int group, const struct dirwatch_key *key)
{
  static char out[256];
  struct names s = {.want = key};
  char buf[8192] __attribute__((aligned(8)));
  ssize_t n;
  while ((n = read(group, buf, sizeof buf)) > 0)
    dirwatch_parse(buf, (size_t)n, note_name, &s);
  assert_int_equal(s.other, 0);
  assert_int_equal(s.all, 0);
  qsort(s.got, (size_t)s.n, sizeof s.got[0], (int (*)(const void *, const void *))strcmp);
  out[0] = '\0';
  for (int i = 0; i < s.n; i++)
    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "",
             s.got[i][0] ? s.got[i] : ".");
  return out;
}

/* Each change to an entry names it (a rename inside names both ends); the
 * directory's own changes name none; a child's own attributes send
 * nothing. */
static void test_named_group(void **state)
{
  (void)state;
  char dir[] = "/var/tmp/dirwatch-named.XXXXXX";
  assert_non_null(mkdtemp(dir));
  bool named = false, files = false;
  int group = dirwatch_open_named(&named, &files);
  assert_true(group >= 0);
  if (!named)
    fail_msg("no FAN_REPORT_DFID_NAME here (Linux 5.9): nothing to test");
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct dirwatch_key key;
  assert_int_equal(dirwatch_key_of(fd, &key), 0);
  assert_int_equal(dirwatch_mark(group, fd, DIRWATCH_CTIME, true), 0);
  int f = open(path_in(dir, "f"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(f >= 0);
  assert_string_equal(names_now(group, &key), "f");
  assert_int_equal(write(f, "x", 1), 1);
  close(f);
  assert_int_equal(chmod(path_in(dir, "f"), 0600), 0);
  assert_string_equal(names_now(group, &key), "");
  assert_int_equal(rename(path_in(dir, "f"), path_in(dir, "g")), 0);
  assert_string_equal(names_now(group, &key), "f,g");
  assert_int_equal(mkdir(path_in(dir, "d"), 0755), 0);
  assert_int_equal(link(path_in(dir, "g"), path_in(dir, "h")), 0);
  assert_string_equal(names_now(group, &key), "d,h");
  assert_int_equal(unlink(path_in(dir, "h")), 0);
  assert_int_equal(rmdir(path_in(dir, "d")), 0);
  assert_string_equal(names_now(group, &key), "d,h");
  assert_int_equal(chmod(dir, 0700), 0);
  assert_string_equal(names_now(group, &key), ".");
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  close(fd), close(group);
}

/* A DFID_NAME record: the key, then the name; one without a NUL inside
 * its record, or with no name at all, counts as "all"; "." names no
 * entry. */
static size_t make_named(unsigned char *buf, const char *name, size_t name_room)
{
  struct fanotify_event_metadata m = {.vers = FANOTIFY_METADATA_VERSION,
                                      .metadata_len = sizeof m, .mask = FAN_CREATE, .fd = FAN_NOFD};
  struct fanotify_event_info_header h = {.info_type = FAN_EVENT_INFO_TYPE_DFID_NAME};
  h.len = (uint16_t)(sizeof h + 16 + 8 + name_room);
  m.event_len = (uint32_t)(sizeof m + h.len);
  memcpy(buf, &m, sizeof m);
  memcpy(buf + sizeof m, &h, sizeof h);
  unsigned char *rec = buf + sizeof m + sizeof h;
  uint32_t handle_bytes = 8;
  memset(rec, 0xab, 8);
  memcpy(rec + 8, &handle_bytes, 4);
  memset(rec + 12, 1, 4);
  memset(rec + 16, 0xcd, 8);
  memset(rec + 24, 'x', name_room);
  memcpy(rec + 24, name, strnlen(name, name_room));
  return m.event_len;
}

static void test_parse_names(void **state)
{
  (void)state;
  unsigned char buf[1024] __attribute__((aligned(8)));
  struct dirwatch_key key = {.len = 16 + 8};
  size_t n = make_named(buf, "entry", 8); /* "entry\0xx" */
  buf[sizeof(struct fanotify_event_metadata) + 4 + 24 + 5] = '\0';
  memcpy(key.bytes, buf + sizeof(struct fanotify_event_metadata) + 4, key.len);
  struct names s = {.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, note_name, &s), 1);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.got[0], "entry");
  n = make_named(buf, ".", 4);
  buf[sizeof(struct fanotify_event_metadata) + 4 + 24 + 1] = '\0';
  s = (struct names){.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, note_name, &s), 1);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.got[0], ""); /* the directory itself */
  n = make_named(buf, "unended", 7); /* no NUL in the record */
  s = (struct names){.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, note_name, &s), 1);
  assert_int_equal(s.all, 1);
  n = make_named(buf, "", 0); /* no name at all */
  s = (struct names){.want = &key};
  assert_int_equal(dirwatch_parse(buf, n, note_name, &s), 1);
  assert_int_equal(s.all, 1);
}

/* ---- marks on files (dirwatch_mark_file) ---- */

struct file_events {
  int changed, other;
};

static void note_file(void *ctx, const struct dirwatch_event *ev)
{
  struct file_events *s = ctx;
  if (ev->file_changed)
    s->changed++;
  else
    s->other++;
}

static struct file_events file_events_now(int group)
{
  struct file_events s = {0};
  char buf[8192] __attribute__((aligned(8)));
  ssize_t n;
  while ((n = read(group, buf, sizeof buf)) > 0)
    dirwatch_parse(buf, (size_t)n, note_file, &s);
  return s;
}

#define EXPECT_FILE(group, what, n_changed, n_other)                                               \
  do {                                                                                             \
    struct file_events got_ = file_events_now(group);                                              \
    if (got_.changed != (n_changed) || got_.other != (n_other))                                    \
      fail_msg("%s: %d file events, %d others (expected %d, %d)", what, got_.changed, got_.other,  \
               n_changed, n_other);                                                                \
  } while (0)

/* A file's link count changing anywhere (link(2) from another directory,
 * unlink of that name: the kernel reports both with no parent) is heard,
 * as file_changed, in the group the walk cache uses and in a plain one;
 * a watched directory's own events are never file_changed. */
static void file_marks_in(int group, const char *dir)
{
  char sub[PATH_MAX];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  assert_int_equal(mkdir(sub, 0755), 0);
  int f = open(path_in(dir, "secret"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  assert_true(f >= 0);
  close(f);
  int obj = open(path_in(dir, "secret"), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int d = open(sub, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal(dirwatch_mark_file(group, obj), 0);
  assert_int_equal(dirwatch_mark(group, d, DIRWATCH_CTIME, true), 0);
  EXPECT_FILE(group, "marked", 0, 0);
  assert_int_equal(link(path_in(dir, "secret"), path_in(sub, "alias")), 0);
  EXPECT_FILE(group, "a second name, in a watched directory", 1, 1);
  assert_int_equal(unlink(path_in(sub, "alias")), 0);
  EXPECT_FILE(group, "the second name removed", 1, 1);
  assert_int_equal(link(path_in(dir, "secret"), path_in(dir, "alias2")), 0);
  EXPECT_FILE(group, "a second name beside it", 1, 0);
  assert_int_equal(unlink(path_in(dir, "alias2")), 0);
  assert_int_equal(chmod(path_in(dir, "secret"), 0644), 0);
  assert_true(file_events_now(group).changed >= 1); /* (queued events of one inode merge) */
  int g = open(path_in(sub, "new"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  assert_true(g >= 0);
  close(g);
  assert_int_equal(chmod(sub, 0700), 0);
  assert_int_equal(mkdir(path_in(sub, "d"), 0755), 0);
  struct file_events own = file_events_now(group); /* (a plain group merges some) */
  assert_int_equal(own.changed, 0);
  assert_true(own.other >= 2);
  close(obj), close(d);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'/*", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_file_marks(void **state)
{
  (void)state;
  char dir[] = "/var/tmp/dirwatch-files.XXXXXX";
  assert_non_null(mkdtemp(dir));
  bool named = false, files = false;
  int group = dirwatch_open_named(&named, &files);
  assert_true(group >= 0);
  if (!files)
    fail_msg("no group here hears a file's links (FAN_REPORT_DFID_NAME | FAN_REPORT_FID)");
  file_marks_in(group, dir);
  close(group);
  group = dirwatch_open();
  assert_true(group >= 0);
  file_marks_in(group, dir);
  close(group);
  assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ctime_disk),
      cmocka_unit_test(test_ctime_tmpfs),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_parse_lengths),
      cmocka_unit_test(test_parse_overflow_and_junk),
      cmocka_unit_test(test_named_group),
      cmocka_unit_test(test_parse_names),
      cmocka_unit_test(test_file_marks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
