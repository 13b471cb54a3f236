#include "vfs/dirwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>

#include "common/strset.h"

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200 /* Linux 6.5: a handle to compare, as fanotify reports it */
#endif

/* Only the directory's own events: no FAN_EVENT_ON_CHILD (dirwatch.h). */
#define NAMES_EVENTS (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ONDIR)
#define CTIME_EVENTS (NAMES_EVENTS | FAN_ATTRIB | FAN_DELETE_SELF | FAN_MOVE_SELF)

int dirwatch_open(void)
{
  /* FAN_REPORT_FID: what unprivileged groups must use, and what names the
   * directory in every event above (dirent events name the directory) */
  return fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
}

int dirwatch_open_named(bool *named, bool *files)
{
  /* FAN_REPORT_DFID_NAME: a dirent event names the directory and the
   * entry; an event on the directory itself names the directory and ".".
   * With FAN_REPORT_FID as well, an event with no directory to name (a
   * marked file's link count changed: link(2), unlink(2), which the kernel
   * reports without a parent) still comes, naming the file; without it
   * such an event is dropped. Directories' events are the same either way. */
  unsigned int base = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK;
  int fd = fanotify_init(base | FAN_REPORT_DFID_NAME | FAN_REPORT_FID, O_RDONLY);
  *named = *files = fd >= 0;
  if (fd < 0) {
    fd = fanotify_init(base | FAN_REPORT_DFID_NAME, O_RDONLY);
    *named = fd >= 0;
  }
  if (fd < 0) {
    fd = dirwatch_open();
    *files = fd >= 0; /* (a plain group's events name the file itself) */
  }
  return fd;
}

int dirwatch_fsid_of(int fd, unsigned char fsid[DIRWATCH_FSID_LEN])
{
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0)
    return -errno;
  _Static_assert(sizeof sfs.f_fsid == DIRWATCH_FSID_LEN, "fsid as fanotify reports it");
  memcpy(fsid, &sfs.f_fsid, DIRWATCH_FSID_LEN);
  return 0;
}

int dirwatch_key_with_fsid(int fd, const unsigned char fsid[DIRWATCH_FSID_LEN],
                           struct dirwatch_key *key)
{
  struct {
    struct file_handle fh;
    unsigned char room[DIRWATCH_KEY_MAX - 16];
  } h;
  h.fh.handle_bytes = sizeof h.room;
  int mount_id;
  /* (before Linux 6.5, no AT_HANDLE_FID: a directory's handle on the
   * filesystems that export theirs is the same bytes) */
  if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH | AT_HANDLE_FID) < 0 &&
      (errno != EINVAL ||
       (h.fh.handle_bytes = sizeof h.room,
        name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) < 0)))
    return -errno;
  if (h.fh.handle_bytes > sizeof h.room)
    return -EOVERFLOW;
  memcpy(key->bytes, fsid, DIRWATCH_FSID_LEN);
  memcpy(key->bytes + 8, &h.fh, 8 + h.fh.handle_bytes);
  key->len = 16 + h.fh.handle_bytes;
  return 0;
}

int dirwatch_key_of(int fd, struct dirwatch_key *key)
{
  unsigned char fsid[DIRWATCH_FSID_LEN];
  int r = dirwatch_fsid_of(fd, fsid);
  return r < 0 ? r : dirwatch_key_with_fsid(fd, fsid, key);
}

/* fanotify_mark on fd's inode, by the fd's /proc/self/fd link
 * (fanotify_mark refuses an O_PATH fd as its dirfd with no name): our own
 * fd, its inode, no name walked. 0, or -errno. */
static int mark_fd(int group, int fd, unsigned int flags, uint64_t mask)
{
  char path[32];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return fanotify_mark(group, flags, mask, AT_FDCWD, path) < 0 ? -errno : 0;
}

int dirwatch_mark(int group, int fd, enum dirwatch_what what, bool add)
{
  unsigned int flags = add ? FAN_MARK_ADD | FAN_MARK_ONLYDIR : FAN_MARK_REMOVE;
  return mark_fd(group, fd, flags, what == DIRWATCH_CTIME ? CTIME_EVENTS : NAMES_EVENTS);
}

int dirwatch_mark_file(int group, int fd)
{
  return mark_fd(group, fd, FAN_MARK_ADD, FAN_ATTRIB); /* (mode, owner, times, link count) */
}

uint64_t dirwatch_key_hash(const struct dirwatch_key *key)
{
  size_t len = key->len < DIRWATCH_KEY_MAX ? key->len : DIRWATCH_KEY_MAX;
  return strset_hash(STRSET_HASH_INIT, (const char *)key->bytes, len);
}

bool dirwatch_key_eq(const struct dirwatch_key *a, const struct dirwatch_key *b)
{
  return a->len == b->len && a->len <= DIRWATCH_KEY_MAX && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* The key in an event's records (between off and end), and with a named
 * group's record the entry's name (*name; NULL when the record has none,
 * or names the directory itself: "."), or false. */
static bool event_key(const unsigned char *buf, size_t off, size_t end, struct dirwatch_key *key,
                      const char **name)
{
  *name = NULL;
  while (off + sizeof(struct fanotify_event_info_header) <= end) {
    struct fanotify_event_info_header hdr;
    memcpy(&hdr, buf + off, sizeof hdr);
    if (hdr.len < sizeof hdr || hdr.len > end - off)
      return false;
    /* the record: header, fsid (8), file_handle header (8), handle bytes,
     * and for DFID_NAME the name with its NUL */
    bool fid = hdr.info_type == FAN_EVENT_INFO_TYPE_FID ||
               hdr.info_type == FAN_EVENT_INFO_TYPE_DFID ||
               hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME;
    if (fid && hdr.len >= sizeof hdr + 16) {
      const unsigned char *rec = buf + off + sizeof hdr;
      size_t rec_len = hdr.len - sizeof hdr;
      uint32_t handle_bytes;
      memcpy(&handle_bytes, rec + 8, sizeof handle_bytes);
      if (handle_bytes > DIRWATCH_KEY_MAX - 16 || 16 + handle_bytes > rec_len)
        return false;
      key->len = 16 + handle_bytes;
      memcpy(key->bytes, rec, key->len);
      if (hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
        const char *text = (const char *)rec + key->len;
        size_t room = rec_len - key->len;
        size_t n = strnlen(text, room);
        if (n == 0 || n == room) /* no name, or none that ends in the record */
          return false;
        if (strcmp(text, ".") != 0)
          *name = text;
      }
      return true;
    }
    off += hdr.len;
  }
  return false;
}

size_t dirwatch_parse(const void *data, size_t len,
                      void (*fn)(void *ctx, const struct dirwatch_event *ev), void *ctx)
{
  const unsigned char *buf = data;
  size_t count = 0;
  for (size_t off = 0; off + sizeof(struct fanotify_event_metadata) <= len;) {
    struct fanotify_event_metadata m;
    memcpy(&m, buf + off, sizeof m);
    if (m.event_len < sizeof m || m.event_len > len - off)
      break;
    /* directories' marks see no child's attributes (no FAN_EVENT_ON_CHILD)
     * and report their own with FAN_ONDIR: FAN_ATTRIB alone is a file's */
    struct dirwatch_event ev = {.all = true,
                                .file_changed = (m.mask & (FAN_ATTRIB | FAN_ONDIR)) == FAN_ATTRIB};
    if (m.vers == FANOTIFY_METADATA_VERSION && !(m.mask & FAN_Q_OVERFLOW) &&
        m.metadata_len >= sizeof m && m.metadata_len <= m.event_len)
      ev.all = !event_key(buf, off + m.metadata_len, off + m.event_len, &ev.key, &ev.name);
    if (ev.all)
      ev.name = NULL;
    fn(ctx, &ev);
    count++;
    off += m.event_len;
  }
  return count;
}
