/* The policy file's parser (policy/json.c, with the exec rules' and the
 * presets' keys) and the #! line parser of the exec rules
 * (policy/exec_rules.c), on arbitrary bytes.
 *
 * Input: one byte (bit 0: which parser), then the text. Checked: a policy
 * either loads, and then prints as JSON that loads again, or is refused
 * with one line naming the file; a #! line gives a NUL-terminated absolute
 * name that fits (possibly "", as the kernel reads "#! \0"), or says it is
 * none, or the kernel's ENOEXEC / ENAMETOOLONG. The policy's loading
 * reads the host (realpath of a bind's source, getcwd) and writes nothing. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/exec_rules.h"
#include "policy/policy.h"

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "policy_json: invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static void fuzz_policy(const char *text)
{
  struct policy p;
  policy_init(&p);
  usbox_err_t err = {0};
  if (policy_load_named(&p, text, "fuzz.json", &err) < 0) {
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK(strstr(err.msg, "fuzz.json") != NULL);
    policy_free(&p);
    return;
  }
  cJSON *json = policy_to_json(&p);
  char *again = json != NULL ? cJSON_PrintUnformatted(json) : NULL;
  cJSON_Delete(json);
  policy_free(&p);
  if (again == NULL)
    return;
  struct policy q;
  policy_init(&q);
  usbox_err_t err2 = {0};
  /* what it printed reads back (a bind's source may be gone meanwhile: no) */
  int rc = policy_load_named(&q, again, "again.json", &err2);
  CHECK(rc == 0 || strstr(err2.msg, "source") != NULL || strstr(err2.msg, "directory") != NULL);
  policy_free(&q);
  free(again);
}

static void fuzz_shebang(const char *data, size_t size)
{
  char interp[64];
  int r = exec_parse_shebang(data, size < EXEC_HEAD_SIZE ? size : EXEC_HEAD_SIZE, interp, sizeof interp);
  /* "#! \0..." names "" as the kernel reads it (it then fails to open it) */
  if (r == 1)
    CHECK(memchr(interp, '\0', sizeof interp) != NULL);
  else
    CHECK(r == 0 || r == -ENOEXEC || r == -ENAMETOOLONG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  char *text = malloc(size);
  if (text == NULL)
    return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  if (data[0] & 1)
    fuzz_shebang(text, size - 1);
  else
    fuzz_policy(text);
  free(text);
  return 0;
}
