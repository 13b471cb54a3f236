#include "common/proc_status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_ids(const char *line, unsigned *v, int n)
{
  for (int i = 0; i < n; i++) {
    char *end;
    errno = 0;
    unsigned long x = strtoul(line, &end, 10);
    if (end == line || errno != 0)
      return -EINVAL;
    v[i] = (unsigned)x;
    line = end;
  }
  return 0;
}

/* The last number on a line ("NSpid:\t42\t7" -> 7): the innermost pid namespace. */
static pid_t last_number(const char *line, const char *nl)
{
  pid_t v = 0;
  for (const char *p = line; *p != '\0' && (nl == NULL || p < nl);) {
    char *end;
    long x = strtol(p, &end, 10);
    if (end == p) {
      p++;
      continue;
    }
    v = (pid_t)x;
    p = end;
  }
  return v;
}

int proc_status_parse(const char *text, struct proc_status *out)
{
  int seen = 0;
  memset(out, 0, sizeof *out); /* a field missing stays 0: no capability */
  for (const char *line = text; line != NULL && *line != '\0';) {
    const char *nl = strchr(line, '\n');
    unsigned ids[4];
    if (strncmp(line, "Tgid:", 5) == 0) {
      out->tgid = (pid_t)strtol(line + 5, NULL, 10);
      seen |= 1;
    } else if (strncmp(line, "CapEff:", 7) == 0) {
      out->cap_eff = strtoull(line + 7, NULL, 16);
    } else if (strncmp(line, "NStgid:", 7) == 0) {
      out->ns_tgid = last_number(line + 7, nl);
    } else if (strncmp(line, "NSpid:", 6) == 0) {
      out->ns_tid = last_number(line + 6, nl);
    } else if (strncmp(line, "Umask:", 6) == 0) {
      out->umask = (mode_t)strtoul(line + 6, NULL, 8);
      seen |= 2;
    } else if (strncmp(line, "Uid:", 4) == 0 && parse_ids(line + 4, ids, 4) == 0) {
      out->creds.uid = ids[0], out->creds.euid = ids[1], out->creds.suid = ids[2],
      out->creds.fsuid = ids[3];
      seen |= 4;
    } else if (strncmp(line, "Gid:", 4) == 0 && parse_ids(line + 4, ids, 4) == 0) {
      out->creds.gid = ids[0], out->creds.egid = ids[1], out->creds.sgid = ids[2],
      out->creds.fsgid = ids[3];
      seen |= 8;
    } else if (strncmp(line, "Groups:", 7) == 0) {
      const char *p = line + 7;
      int n = 0;
      for (;;) {
        char *end;
        unsigned long g = strtoul(p, &end, 10);
        if (end == p || (nl != NULL && end > nl))
          break;
        if (n == PROC_MAX_GROUPS) {
          n = -1;
          break;
        }
        out->creds.groups[n++] = (gid_t)g;
        p = end;
      }
      out->creds.ngroups = n;
      seen |= 16;
    }
    line = nl != NULL ? nl + 1 : NULL;
  }
  if (seen != 31)
    return -EINVAL;
  if (out->ns_tgid == 0) /* kernels without NStgid: one pid namespace */
    out->ns_tgid = out->tgid;
  return 0;
}
