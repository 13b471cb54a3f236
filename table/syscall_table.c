#include "table/syscall_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Expand the X-macro: one initializer per disposition (an EMUL entry's
 * handler is the sentry's business: sentry/dispatch.c). */
#define SC_ARGS_PASS(a) .deny_errno = 0
#define SC_ARGS_EMUL(a) .deny_errno = 0
#define SC_ARGS_DENY(a) .deny_errno = a
#define SC(nr_, name_, disp_, arg_, family_, note_)                                              \
  {.nr = nr_, .name = #name_, .disposition = SC_##disp_, SC_ARGS_##disp_(arg_),                  \
   .family = #family_, .note = note_},

const struct syscall_entry usbox_syscall_table[] = {
#include "table/syscalls.def"
};
#undef SC

const size_t usbox_syscall_count = sizeof usbox_syscall_table / sizeof usbox_syscall_table[0];

/* Index by number, built from the table on first use. Entries are sorted by
 * number in the .def, so a direct index is enough. */
static const struct syscall_entry *by_nr[SC_NR_LIMIT];
static void build_index(void)
{
  static int built;
  if (__atomic_load_n(&built, __ATOMIC_ACQUIRE))
    return;
  for (size_t i = 0; i < usbox_syscall_count; i++)
    if (usbox_syscall_table[i].nr >= 0 && usbox_syscall_table[i].nr < SC_NR_LIMIT)
      by_nr[usbox_syscall_table[i].nr] = &usbox_syscall_table[i];
  __atomic_store_n(&built, 1, __ATOMIC_RELEASE);
}

const struct syscall_entry *syscall_by_nr(long nr)
{
  build_index();
  if (nr < 0 || nr >= SC_NR_LIMIT)
    return NULL;
  return by_nr[nr];
}

const struct syscall_entry *syscall_by_name(const char *name)
{
  for (size_t i = 0; i < usbox_syscall_count; i++)
    if (strcmp(usbox_syscall_table[i].name, name) == 0)
      return &usbox_syscall_table[i];
  return NULL;
}

const char *syscall_disposition_name(enum sc_disposition d)
{
  switch (d) {
  case SC_PASS:
    return "kernel";
  case SC_EMUL:
    return "emulate";
  case SC_DENY:
    return "deny";
  }
  return "?";
}

const char *errno_name(int err, char buf[16])
{
  const char *name = err > 0 ? strerrorname_np(err) : NULL;
  if (name != NULL)
    return name;
  snprintf(buf, 16, "%d", err);
  return buf;
}
