/* The agent's environment (policy/env.c): which names look secret, what
 * --env, --unsetenv, --clearenv and the policy's "env" object do to
 * usbox's environment, and bad input as one line that never shows a value. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/env.h"
#include "policy/policy.h"

static void test_secret_names(void **state)
{
  (void)state;
  static const char *const secret[] = {
      /* cloud credentials */
      "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECURITY_TOKEN",
      "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_STORAGE_ACCOUNT_KEY",
      "AZURE_STORAGE_CONNECTION_STRING", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_API_KEY",
      "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", "ARM_CLIENT_SECRET", "DIGITALOCEAN_ACCESS_TOKEN",
      "HCLOUD_TOKEN", "ALIBABA_CLOUD_ACCESS_KEY_ID",
      /* forges, registries, CI */
      "GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_PAT", "GITLAB_TOKEN",
      "CI_JOB_TOKEN", "CI_JOB_JWT_V2", "NPM_TOKEN", "NODE_AUTH_TOKEN", "npm_config__auth",
      "NPM_CONFIG__AUTHTOKEN", "npm_config_//registry.npmjs.org/:_authToken", "TWINE_PASSWORD",
      "CARGO_REGISTRY_TOKEN", "DOCKER_PASSWORD", "DOCKER_AUTH_CONFIG", "CI_REGISTRY_PASSWORD",
      "TF_TOKEN_app_terraform_io", "ACTIONS_RUNTIME_TOKEN", "SLACK_WEBHOOK_URL",
      /* model providers */
      "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
      "GEMINI_API_KEY", "MISTRAL_APIKEY",
      /* vaults, agents, buses */
      "VAULT_TOKEN", "OP_SERVICE_ACCOUNT_TOKEN", "BW_SESSION", "SSH_AUTH_SOCK", "SSH_AGENT_PID",
      "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS", "KUBECONFIG", "NGROK_AUTHTOKEN",
      "TS_AUTHKEY",
      /* databases and passwords */
      "DATABASE_URL", "PGPASSWORD", "MYSQL_PWD", "MYSQL_ROOT_PASSWORD", "REDISCLI_AUTH",
      "SSHPASS", "BORG_PASSPHRASE", "RESTIC_PASSWORD", "SMTP_PASS", "DB_PASSWD",
      "SECRET_KEY_BASE", "JWT_SECRET", "APP_KEY", "DD_APP_KEY", "STRIPE_SECRET_KEY",
      "SIGNING_KEY", "GPG_PRIVATE_KEY", "SUPABASE_SERVICE_ROLE_KEY", "TOKEN", "SECRET",
      "PASSWORD", "MY_CREDS", "SERVICE_CREDENTIALS_JSON",
      /* any case, any separator, a whole entry */
      "github_token", "Openai_Api_Key", "my-secret-thing", "app.password",
      "GITHUB_TOKEN=ghp_x", "AWS_SECRET_ACCESS_KEY=a=b",
  };
  for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
    if (!env_name_looks_secret(secret[i]))
      fail_msg("%s should look secret", secret[i]);
  }
}

static void test_harmless_names(void **state)
{
  (void)state;
  static const char *const harmless[] = {
      "PATH", "HOME", "PWD", "OLDPWD", "USER", "SHELL", "TERM", "LANG", "LC_ALL", "TZ",
      "TOKENIZERS_PARALLELISM", "OPENAI_MAX_TOKENS", "MAX_TOKENS", "TOKENS", "SSL_CERT_FILE",
      "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "AWS_CA_BUNDLE",
      "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "GPG_KEY",
      "KEYMAP", "LESSKEY", "TOX_TESTENV_PASSENV", "PASSENGER_APP_ENV", "GIT_AUTHOR_NAME",
      "XDG_SESSION_TYPE", "XDG_RUNTIME_DIR", "DESKTOP_SESSION", "SSH_CONNECTION", "SSH_TTY",
      "AUTH_TYPE", "SECRETARY", "CUDA_VISIBLE_DEVICES", "PYTHONDONTWRITEBYTECODE",
      "PIP_CERT", "GIT_SSL_CAINFO", "PATHEXT", "PATTERN", "KEY", "API", "ACCESS_LOG",
      "PRIVATE_DIR", "KEY_API", "HISTFILE", "DBUS_STARTER_BUS_TYPE", "",
      "TOKENIZERS_PARALLELISM=token", "X=GITHUB_TOKEN",
  };
  for (size_t i = 0; i < sizeof harmless / sizeof harmless[0]; i++) {
    if (env_name_looks_secret(harmless[i]))
      fail_msg("%s should not look secret", harmless[i]);
  }
}

/* usbox's environment in these tests */
static char *const host[] = {
    "PATH=/usr/bin:/bin",
    "HOME=/root",
    "GITHUB_TOKEN=ghp_secret",
    "TOKENIZERS_PARALLELISM=false",
    "AWS_SECRET_ACCESS_KEY=aws-secret",
    "LANG=C.UTF-8",
    "OPENAI_API_KEY=sk-secret",
    NULL,
};

/* out's entries, joined with spaces */
static const char *joined(const struct env_result *out)
{
  static char buf[1024];
  buf[0] = '\0';
  for (size_t i = 0; i < out->n; i++)
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", out->envp[i]);
  assert_null(out->envp[out->n]);
  return buf;
}

static void build(const struct env_policy *e, struct env_result *out)
{
  usbox_err_t err = {0};
  assert_int_equal(env_build(e, host, out, &err), 0);
}

static void test_default(void **state)
{
  (void)state;
  struct env_policy e;
  env_policy_init(&e);
  struct env_result out;
  build(&e, &out);
  assert_string_equal(joined(&out), "PATH=/usr/bin:/bin HOME=/root TOKENIZERS_PARALLELISM=false "
                                    "LANG=C.UTF-8");
  assert_int_equal(out.nwithheld, 3);
  assert_string_equal(out.withheld[0], "GITHUB_TOKEN=ghp_secret");
  assert_string_equal(out.withheld[2], "OPENAI_API_KEY=sk-secret");
  assert_string_equal(env_lookup(out.envp, "PATH"), "/usr/bin:/bin");
  assert_null(env_lookup(out.envp, "GITHUB_TOKEN"));
  assert_null(env_lookup(out.envp, "PAT"));
  env_result_free(&out);
  env_policy_free(&e);
}

static void test_flags(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  struct env_policy e;
  env_policy_init(&e);
  /* keep one secret, set a new one and an existing one (in place), unset one */
  assert_int_equal(env_policy_add(&e, "GITHUB_TOKEN", &err), 0);
  assert_int_equal(env_policy_add(&e, "X=y=z", &err), 0);
  assert_int_equal(env_policy_add(&e, "HOME=/home/agent", &err), 0);
  assert_int_equal(env_policy_add(&e, "EMPTY=", &err), 0);
  assert_int_equal(env_policy_unset(&e, "LANG", &err), 0);
  assert_int_equal(env_policy_add(&e, "NOT_IN_USBOX_ENV", &err), 0); /* kept: nothing to keep */
  struct env_result out;
  build(&e, &out);
  assert_string_equal(joined(&out), "PATH=/usr/bin:/bin HOME=/home/agent GITHUB_TOKEN=ghp_secret "
                                    "TOKENIZERS_PARALLELISM=false X=y=z EMPTY=");
  assert_int_equal(out.nwithheld, 2);
  env_result_free(&out);

  /* --clearenv: only what the rules give */
  e.clear = true;
  build(&e, &out);
  assert_string_equal(joined(&out), "HOME=/home/agent GITHUB_TOKEN=ghp_secret X=y=z EMPTY=");
  assert_int_equal(out.nwithheld, 0);
  assert_null(env_lookup(out.envp, "PATH")); /* the search falls back to execvp's default */
  env_result_free(&out);
  env_policy_free(&e);

  /* a later rule for a name replaces the earlier one */
  env_policy_init(&e);
  assert_int_equal(env_policy_add(&e, "A=1", &err), 0);
  assert_int_equal(env_policy_unset(&e, "A", &err), 0);
  assert_int_equal(env_policy_unset(&e, "PATH", &err), 0);
  assert_int_equal(env_policy_add(&e, "PATH=/opt/bin", &err), 0);
  assert_int_equal(env_policy_add(&e, "OPENAI_API_KEY", &err), 0);
  assert_int_equal(env_policy_unset(&e, "OPENAI_API_KEY", &err), 0);
  assert_int_equal(env_policy_add(&e, "AWS_SECRET_ACCESS_KEY=other", &err), 0);
  assert_int_equal(e.nrules, 4);
  build(&e, &out);
  assert_string_equal(joined(&out), "PATH=/opt/bin HOME=/root TOKENIZERS_PARALLELISM=false "
                                    "AWS_SECRET_ACCESS_KEY=other LANG=C.UTF-8");
  assert_int_equal(out.nwithheld, 1); /* GITHUB_TOKEN; OPENAI_API_KEY was unset by name */
  env_result_free(&out);
  env_policy_free(&e);
}

static void test_duplicate_host_entries(void **state)
{
  (void)state;
  char *const dup[] = {"A=1", "B=2", "A=3", NULL};
  usbox_err_t err = {0};
  struct env_policy e;
  env_policy_init(&e);
  struct env_result out;
  assert_int_equal(env_build(&e, dup, &out, &err), 0);
  assert_string_equal(joined(&out), "A=1 B=2 A=3"); /* passed as they are */
  env_result_free(&out);
  assert_int_equal(env_policy_add(&e, "A=new", &err), 0);
  assert_int_equal(env_build(&e, dup, &out, &err), 0);
  assert_string_equal(joined(&out), "A=new B=2"); /* one value, where the first was */
  env_result_free(&out);
  env_policy_free(&e);
}

/* An error is one line and names no value. */
static void expect_error(int rc, const usbox_err_t *err)
{
  assert_int_equal(rc, -1);
  assert_true(strlen(err->msg) > 0);
  assert_null(strchr(err->msg, '\n'));
  assert_null(strstr(err->msg, "s3cr3t"));
}

static void test_flag_errors(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  struct env_policy e;
  env_policy_init(&e);
  expect_error(env_policy_add(&e, "", &err), &err);
  expect_error(env_policy_add(&e, "=s3cr3t", &err), &err);
  expect_error(env_policy_unset(&e, "", &err), &err);
  expect_error(env_policy_unset(&e, "TOKEN=s3cr3t", &err), &err);
  assert_non_null(strstr(err.msg, "TOKEN"));
  assert_int_equal(e.nrules, 0);
  env_policy_free(&e);
}

static void test_json(void **state)
{
  (void)state;
  usbox_err_t err = {0};
  struct policy p;
  policy_init(&p);
  assert_int_equal(policy_load_json(&p,
                                    "{\"env\":{\"set\":{\"K\":\"V\",\"HOME\":\"/h\"},"
                                    "\"keep\":[\"GITHUB_TOKEN\"],\"unset\":[\"LANG\"],"
                                    "\"clear\":false}}",
                                    &err),
                   0);
  /* a flag after --policy wins over the file */
  assert_int_equal(env_policy_add(&p.env, "LANG=fr_FR.UTF-8", &err), 0);
  struct env_result out;
  build(&p.env, &out);
  assert_string_equal(joined(&out), "PATH=/usr/bin:/bin HOME=/h GITHUB_TOKEN=ghp_secret "
                                    "TOKENIZERS_PARALLELISM=false LANG=fr_FR.UTF-8 K=V");
  env_result_free(&out);
  assert_int_equal(policy_load_json(&p, "{\"env\":{\"clear\":true,\"keep\":[]}}", &err), 0);
  build(&p.env, &out);
  assert_string_equal(joined(&out), "HOME=/h GITHUB_TOKEN=ghp_secret LANG=fr_FR.UTF-8 K=V");
  env_result_free(&out);
  policy_free(&p);

  static const char *const bad[] = {
      "{\"env\":[]}",
      "{\"env\":\"CLEAR\"}",
      "{\"env\":{\"sett\":{}}}",
      "{\"env\":{\"set\":[\"K=V\"]}}",
      "{\"env\":{\"set\":{\"K\":1}}}",
      "{\"env\":{\"set\":{\"K\":null}}}",
      "{\"env\":{\"set\":{\"\":\"s3cr3t\"}}}",
      "{\"env\":{\"set\":{\"K=s3cr3t\":\"v\"}}}",
      "{\"env\":{\"keep\":\"GITHUB_TOKEN\"}}",
      "{\"env\":{\"keep\":[1]}}",
      "{\"env\":{\"unset\":[\"\"]}}",
      "{\"env\":{\"unset\":[\"A=s3cr3t\"]}}",
      "{\"env\":{\"clear\":\"yes\"}}",
      "{\"env\":{\"clear\":1}}",
      "{\"env\":{\"set\":{\"K\":\"s3cr3t\"},\"unset\":[\"K\"]}}",
      "{\"env\":{\"keep\":[\"K\"],\"set\":{\"K\":\"s3cr3t\"}}}",
      "{\"env\":{\"keep\":[\"K\",\"K\"]}}",
      "{\"env\":{\"set\":{\"K\":\"s3cr3t\",\"K\":\"v\"}}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    policy_init(&p);
    usbox_err_clear(&err);
    int rc = policy_load_json(&p, bad[i], &err);
    if (rc != -1)
      fail_msg("accepted: %s", bad[i]);
    expect_error(rc, &err);
    policy_free(&p);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_secret_names),
      cmocka_unit_test(test_harmless_names),
      cmocka_unit_test(test_default),
      cmocka_unit_test(test_flags),
      cmocka_unit_test(test_duplicate_host_entries),
      cmocka_unit_test(test_flag_errors),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
