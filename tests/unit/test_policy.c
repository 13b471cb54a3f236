/* The policy: normalisation, flags, JSON, and the defaults policy_finish
 * adds. Bad input is one clear error, never a partial policy in use. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "policy/policy.h"

static void test_normalize(void **state)
{
  (void)state;
  static const char *const cases[][2] = {
      {"/", "/"},           {"//", "/"},        {"/a/b/", "/a/b"},   {"/a//b", "/a/b"},
      {"/a/./b", "/a/b"},   {"/a/../b", "/b"},  {"/../..", "/"},     {"/a/b/../../..", "/"},
      {"/a/b/..", "/a"},    {"/.", "/"},
  };
  char out[PATH_MAX];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(policy_normalize(cases[i][0], out, sizeof out), 0);
    assert_string_equal(out, cases[i][1]);
  }
  assert_int_equal(policy_normalize("relative", out, sizeof out), -1);
}

static struct policy fresh(void)
{
  struct policy p;
  policy_init(&p);
  return p;
}

static bool has_hidden(const struct policy *p, const char *path)
{
  for (size_t i = 0; i < p->nhidden; i++)
    if (strcmp(p->hidden[i], path) == 0)
      return true;
  return false;
}

/* The rule named for hidden path path, or NULL when it is not hidden. */
static const char *hidden_rule(const struct policy *p, const char *path)
{
  for (size_t i = 0; i < p->nhidden; i++)
    if (strcmp(p->hidden[i], path) == 0)
      return policy_hidden_rule(p, i);
  return NULL;
}

static const struct policy_mount *mount_at(const struct policy *p, const char *dest)
{
  for (size_t i = 0; i < p->nmounts; i++)
    if (strcmp(p->mounts[i].dest, dest) == 0)
      return &p->mounts[i];
  return NULL;
}

static void test_defaults(void **state)
{
  (void)state;
  struct policy p = fresh();
  usbox_err_t err = {0};
  assert_int_equal(policy_finish(&p, &err), 0);
  const struct policy_mount *root = mount_at(&p, "/");
  assert_non_null(root);
  assert_false(root->writable);
  const struct policy_mount *tmp = mount_at(&p, "/tmp");
  assert_non_null(tmp);
  assert_int_equal(tmp->kind, MOUNT_TMPFS);
  assert_true(tmp->writable);
  assert_true(has_hidden(&p, "/etc/shadow"));
  assert_true(has_hidden(&p, "/root/.ssh"));
  assert_true(has_hidden(&p, "/run/docker.sock"));
  assert_false(has_hidden(&p, "/root")); /* homes stay visible */
  /* parents first */
  for (size_t i = 1; i < p.nmounts; i++)
    assert_true(strlen(p.mounts[i - 1].dest) <= strlen(p.mounts[i].dest) ||
                strcmp(p.mounts[i - 1].dest, "/") == 0);
  policy_free(&p);
}

static void test_default_lists(void **state)
{
  (void)state;
  unsetenv("SSH_AUTH_SOCK");
  struct policy p = fresh();
  usbox_err_t err = {0};
  assert_int_equal(policy_finish(&p, &err), 0);
  static const char *const hidden[] = {
      "/root/.npmrc", "/root/.pypirc", "/root/.config/gh", "/root/.config/git/credentials",
      "/root/.cargo/credentials.toml", "/root/.bash_history", "/root/.python_history",
      "/root/.local/share/fish/fish_history", "/root/.vault-token", "/root/.kube",
      "/root/.docker", "/run/dbus/system_bus_socket", "/run/systemd/private",
      "/run/snapd.socket", "/run/libvirt", "/var/run/secrets", "/etc/ssh/ssh_host_ed25519_key",
  };
  for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
    if (!has_hidden(&p, hidden[i]))
      fail_msg("%s is not hidden by default", hidden[i]);
  /* what tools need stays: the directories the secrets are in */
  static const char *const visible[] = {"/root/.config", "/root/.cargo", "/root/.local/share",
                                        "/run/user", "/run/dbus", "/etc/ssh"};
  for (size_t i = 0; i < sizeof visible / sizeof visible[0]; i++)
    if (has_hidden(&p, visible[i]))
      fail_msg("%s should stay visible", visible[i]);
  /* every home has the whole list */
  size_t n = 0;
  while (policy_default_hidden_home[n] != NULL)
    n++;
  for (size_t i = 0; i < n; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/root/%s", policy_default_hidden_home[i]);
    assert_true(has_hidden(&p, path));
  }
  policy_free(&p);
}

/* A unix socket at path, bound and left (the test removes it). */
static void make_socket(const char *path)
{
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  close(fd);
}

/* A scratch directory with a socket and a file, removed even when a check
 * fails (teardown). */
struct agent_dir {
  char dir[64], sock[PATH_MAX], file[PATH_MAX];
};

static int agent_dir_setup(void **state)
{
  static struct agent_dir d;
  snprintf(d.dir, sizeof d.dir, "/tmp/usbox-test-agent.XXXXXX");
  if (mkdtemp(d.dir) == NULL)
    return -1;
  snprintf(d.sock, sizeof d.sock, "%s/agent.sock", d.dir);
  snprintf(d.file, sizeof d.file, "%s/not-a-socket", d.dir);
  make_socket(d.sock);
  FILE *f = fopen(d.file, "w");
  if (f == NULL)
    return -1;
  fclose(f);
  *state = &d;
  return 0;
}

static int agent_dir_teardown(void **state)
{
  struct agent_dir *d = *state;
  unlink(d->sock);
  unlink(d->file);
  rmdir(d->dir);
  unsetenv("SSH_AUTH_SOCK");
  return 0;
}

static void test_ssh_agent_socket(void **state)
{
  const struct agent_dir *d = *state;
  const char *dir = d->dir, *sock = d->sock, *file = d->file;
  usbox_err_t err = {0};

  /* the caller's agent socket is hidden, spelled any way */
  char spelled[PATH_MAX];
  snprintf(spelled, sizeof spelled, "%s/./agent.sock", dir);
  setenv("SSH_AUTH_SOCK", spelled, 1);
  struct policy p = fresh();
  assert_int_equal(policy_finish(&p, &err), 0);
  assert_true(has_hidden(&p, sock));
  policy_free(&p);
  /* binding it shows it again */
  p = fresh();
  assert_int_equal(policy_add_bind(&p, sock, false, &err), 0);
  assert_int_equal(policy_finish(&p, &err), 0);
  assert_false(has_hidden(&p, sock));
  policy_free(&p);
  /* and so does dropping the defaults */
  p = fresh();
  assert_int_equal(policy_load_json(&p, "{\"default_hide\":false}", &err), 0);
  assert_int_equal(policy_finish(&p, &err), 0);
  assert_false(has_hidden(&p, sock));
  policy_free(&p);

  /* not a socket, not there, not absolute: nothing added */
  const char *const others[] = {file, "/nonexistent/agent.sock", "agent.sock", ""};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    setenv("SSH_AUTH_SOCK", others[i], 1);
    p = fresh();
    assert_int_equal(policy_finish(&p, &err), 0);
    struct policy q = fresh();
    unsetenv("SSH_AUTH_SOCK");
    assert_int_equal(policy_finish(&q, &err), 0);
    assert_int_equal(p.nhidden, q.nhidden);
    policy_free(&p);
    policy_free(&q);
  }
}

/* Every hidden path keeps the rule that hides it through the expansion
 * (aliases, view paths under binds, identities): the audit log and -v name
 * it. */
static void test_hidden_rules_named(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  struct policy p = fresh();
  assert_int_equal(policy_add_bind(&p, "/etc:/e2", false, &err), 0);
  assert_int_equal(policy_add_hidden(&p, "/etc/hostname", &err), 0);
  assert_int_equal(policy_add_hidden_by(&p, "/etc/passwd", "test reason", &err), 0);
  assert_int_equal(policy_finish(&p, &err), 0);
  assert_string_equal(hidden_rule(&p, "/etc/hostname"), "hide /etc/hostname");
  /* the same object under the bind of its parent: the same rule */
  assert_string_equal(hidden_rule(&p, "/e2/hostname"), "hide /etc/hostname");
  assert_string_equal(hidden_rule(&p, "/etc/passwd"), "test reason /etc/passwd");
  assert_string_equal(hidden_rule(&p, "/etc/shadow"), "built-in secret /etc/shadow");
  assert_string_equal(hidden_rule(&p, "/root/.ssh"), "built-in secret ~/.ssh");
  assert_string_equal(hidden_rule(&p, "/proc/sysvipc"),
                      "built-in: /proc/sysvipc (the host's IPC objects)");
  /* identities: the one of /etc/hostname names its rule */
  struct stat st;
  assert_int_equal(stat("/etc/hostname", &st), 0);
  bool found = false;
  for (size_t i = 0; i < p.nhidden_ids; i++)
    if (p.hidden_ids[i].dev == st.st_dev && p.hidden_ids[i].ino == st.st_ino) {
      assert_string_equal(p.hide_rules[p.hidden_ids[i].rule], "hide /etc/hostname");
      found = true;
    }
  assert_true(found);
  policy_free(&p);
}

static void test_binds_and_errors(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  struct policy p = fresh();
  assert_int_equal(policy_add_bind(&p, "/usr:/work/usr", true, &err), 0);
  assert_int_equal(policy_add_bind(&p, "/etc", false, &err), 0);
  assert_int_equal(policy_add_hidden(&p, "/etc/hostname", &err), 0);
  assert_int_equal(policy_finish(&p, &err), 0);
  const struct policy_mount *m = mount_at(&p, "/work/usr");
  assert_non_null(m);
  assert_string_equal(m->source, "/usr");
  assert_true(m->writable);
  assert_true(has_hidden(&p, "/etc/hostname"));
  policy_free(&p);

  p = fresh();
  assert_int_equal(policy_add_bind(&p, "/no/such/dir", true, &err), -1);
  assert_int_equal(err.code, ENOENT);
  assert_int_equal(policy_add_hidden(&p, "/", &err), -1);
  assert_int_equal(policy_add_bind(&p, "", false, &err), -1);
  policy_free(&p);

  /* the same destination twice; bound and hidden at once */
  p = fresh();
  assert_int_equal(policy_add_bind(&p, "/usr:/x", false, &err), 0);
  assert_int_equal(policy_add_bind(&p, "/etc:/x", false, &err), 0);
  assert_int_equal(policy_finish(&p, &err), -1);
  policy_free(&p);
  p = fresh();
  assert_int_equal(policy_add_bind(&p, "/usr:/x", false, &err), 0);
  assert_int_equal(policy_add_hidden(&p, "/x", &err), 0);
  assert_int_equal(policy_finish(&p, &err), -1);
  policy_free(&p);
}

static void test_json(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  struct policy p = fresh();
  assert_int_equal(policy_load_json(&p,
                                    "{\"mounts\":[{\"source\":\"/usr\",\"destination\":\"/u\","
                                    "\"writable\":true},{\"type\":\"tmpfs\",\"destination\":\"/scratch\"}],"
                                    "\"hide\":[\"/etc/hostname\"],\"default_hide\":false}",
                                    &err),
                   0);
  assert_int_equal(policy_finish(&p, &err), 0);
  assert_non_null(mount_at(&p, "/u"));
  assert_int_equal(mount_at(&p, "/scratch")->kind, MOUNT_TMPFS);
  assert_true(has_hidden(&p, "/etc/hostname"));
  assert_false(has_hidden(&p, "/etc/shadow")); /* default_hide: false */
  policy_free(&p);

  /* each error is one line naming the JSON path of the problem */
  static const char *const bad[][2] = {
      {"not json", "policy: invalid JSON at line 1, column 1"},
      {"{\n  \"hide\": [\"/x\",]\n}", "policy: invalid JSON at line 2, column 17"},
      {"[]", "policy: the top level must be an object"},
      {"{\"mountz\":[]}", "policy: .mountz: unknown field (mounts, "},
      {"{\"hide\":[],\"hide\":[]}", "policy: the top level: \"hide\" is given twice"},
      {"{\"mounts\":{}}", "policy: .mounts: must be an array of objects"},
      {"{\"mounts\":[{\"source\":\"/usr\",\"color\":\"red\"}]}",
       "policy: .mounts[0].color: unknown field (type, source, destination, writable)"},
      {"{\"mounts\":[{\"source\":\"/usr\"},{\"source\":\"/usr\",\"destination\":\"relative\"}]}",
       "policy: .mounts[1].destination: must be an absolute path"},
      {"{\"mounts\":[{\"source\":\"/no/such/dir\"}]}",
       "policy: .mounts[0]: bind source /no/such/dir"},
      {"{\"mounts\":[{\"source\":\"/usr\",\"writable\":1}]}",
       "policy: .mounts[0].writable: must be true or false"},
      {"{\"mounts\":[{\"type\":\"overlay\",\"destination\":\"/x\"}]}",
       "policy: .mounts[0].type: unknown type \"overlay\" (bind, tmpfs)"},
      {"{\"mounts\":[{\"type\":\"tmpfs\"}]}", "policy: .mounts[0]: a tmpfs mount needs a"},
      {"{\"mounts\":[{\"type\":\"tmpfs\",\"destination\":\"/x\",\"source\":\"/usr\"}]}",
       "policy: .mounts[0].source: a tmpfs mount has none"},
      {"{\"hide\":\"/etc\"}", "policy: .hide: must be an array of strings"},
      {"{\"hide\":[\"/etc/x\",1]}", "policy: .hide[1]: must be a string"},
      {"{\"hide\":[\"/\"]}", "policy: .hide[0]: --hide /: the root cannot be hidden"},
      {"{\"default_hide\":\"no\"}", "policy: .default_hide: must be true or false"},
      {"{\"network\":{\"allow\":[\"a.com:443\",\"b.com:0\"]}}", "policy: .network.allow[1]: "},
      {"{\"network\":{\"colour\":1}}", "policy: .network.colour: unknown field"},
      {"{\"env\":{\"keep\":[\"A\",1]}}", "policy: .env.keep[1]: must be a string"},
      {"{\"limits\":{\"memory\":\"huge\"}}", "policy: .limits.memory: --memory huge"},
      {"{\"limits\":{\"swap\":1}}", "policy: .limits.swap: unknown field"},
      {"{\"process\":{\"cwd\":1}}", "policy: .process.cwd: must be a string"},
      {"{\"process\":{\"user\":\"x\"}}", "policy: .process.user: unknown field (cwd)"},
      {"{\"capabilities\":[\"CAP_NOPE\"]}", "policy: .capabilities[0]: unknown capability"},
      {"{\"cap_drop\":\"ALL\"}", "policy: .cap_drop: must be an array of strings"},
      {"{\"hostname\":\"a b\"}", "policy: .hostname: bad host name"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    p = fresh();
    usbox_err_clear(&err);
    assert_int_equal(policy_load_json(&p, bad[i][0], &err), -1);
    if (strncmp(err.msg, bad[i][1], strlen(bad[i][1])) != 0)
      fail_msg("%s: got \"%s\", expected it to start with \"%s\"", bad[i][0], err.msg, bad[i][1]);
    assert_null(strchr(err.msg, '\n')); /* one line */
    assert_int_equal(err.code == EINVAL || err.code == ENOENT, 1);
    policy_free(&p);
  }
}

/* "seccomp_profile" and --seccomp-profile: the last one wins; the file is
 * read later (policy/seccomp_profile.c, test_seccomp_profile.c). */
/* What policy_to_json writes reads back as the same policy: every key the
 * reader accepts, written in its format (`usbox policy check` and `show`). */
static char *as_json(const struct policy *p)
{
  cJSON *j = policy_to_json(p);
  assert_non_null(j);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  assert_non_null(text);
  return text;
}

static void test_json_round_trip(void **state)
{
  (void)state;
  static const char *const policies[] = {
      "{}",
      "{\"mounts\":[{\"source\":\"/usr\",\"destination\":\"/work\",\"writable\":true},"
      "{\"source\":\"/etc/hostname\"},{\"type\":\"tmpfs\",\"destination\":\"/scratch\"}],"
      "\"hide\":[\"/work/share\"],\"default_hide\":false,"
      "\"network\":{\"allow\":[\"api.openai.com:443\",\"10.0.0.0/8:5432\"],\"mode\":\"none\","
      "\"dns_upstream\":\"[2001:db8::1]:5353\"},"
      "\"env\":{\"set\":{\"CI\":\"1\"},\"keep\":[\"HF_TOKEN\"],\"unset\":[\"DISPLAY\"],\"clear\":true},"
      "\"limits\":{\"memory\":\"5G\",\"pids\":256,\"cpus\":1.5,\"timeout\":0.25,"
      "\"timeout_grace\":0,\"nofile\":4096,\"mode\":\"best-effort\"},"
      "\"capabilities\":[\"NET_BIND_SERVICE\",\"chown\"],\"cap_drop\":[\"ALL\"],"
      "\"process\":{\"cwd\":\"/work\"},\"hostname\":\"build-7\",\"seccomp_profile\":\"p.json\"}",
  };
  for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
    usbox_err_t err = {0};
    struct policy p = fresh(), q = fresh();
    assert_int_equal(policy_load_json(&p, policies[i], &err), 0);
    assert_int_equal(policy_complete_view(&p, &err), 0);
    char *first = as_json(&p);
    assert_int_equal(policy_load_json(&q, first, &err), 0);
    assert_int_equal(policy_complete_view(&q, &err), 0);
    char *second = as_json(&q);
    assert_string_equal(first, second);
    /* every top-level key the reader knows is written */
    static const char *const keys[] = {"mounts", "hide", "default_hide", "network", "env",
                                       "limits", "capabilities", "cap_drop", "hostname"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      char quoted[32];
      snprintf(quoted, sizeof quoted, "\"%s\":", keys[k]);
      assert_non_null(strstr(first, quoted));
    }
    if (i == 1) {
      assert_non_null(strstr(first, "\"memory\":5368709120"));
      assert_non_null(strstr(first, "\"dns_upstream\":\"[2001:db8::1]:5353\""));
      assert_non_null(strstr(first, "\"capabilities\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\"]"));
      assert_non_null(strstr(first, "\"process\":{\"cwd\":\"/work\"}"));
    }
    free(first);
    free(second);
    policy_free(&p);
    policy_free(&q);
  }
}

static void test_seccomp_profile_key(void **state)
{
  (void)state;
  struct policy p = fresh();
  usbox_err_t err = {0};
  assert_null(p.seccomp_profile);
  assert_int_equal(policy_load_json(&p, "{\"seccomp_profile\": \"a.json\"}", &err), 0);
  assert_string_equal(p.seccomp_profile, "a.json");
  assert_int_equal(policy_set_seccomp_profile(&p, "/b.json", &err), 0);
  assert_string_equal(p.seccomp_profile, "/b.json");
  assert_int_equal(policy_load_json(&p, "{\"seccomp_profile\": 1}", &err), -1);
  assert_string_equal(err.msg, "policy: .seccomp_profile: must be a string");
  assert_int_equal(policy_set_seccomp_profile(&p, "", &err), -1);
  assert_string_equal(p.seccomp_profile, "/b.json");
  policy_free(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalize),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_default_lists),
      cmocka_unit_test_setup_teardown(test_ssh_agent_socket, agent_dir_setup, agent_dir_teardown),
      cmocka_unit_test(test_binds_and_errors),
      cmocka_unit_test(test_hidden_rules_named),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_json_round_trip),
      cmocka_unit_test(test_seccomp_profile_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
