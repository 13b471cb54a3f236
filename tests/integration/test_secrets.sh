#!/usr/bin/env bash
# Secrets that are not in the view's obvious places: usbox's environment
# (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, ... are withheld; --env, --unsetenv,
# --clearenv and the policy's "env" change that), a real ssh-agent holding
# a key, credential files in a home (~/.npmrc, ~/.config/gh, histories),
# every /run/user/<uid> and the system bus. Each check is run natively too,
# where the secret must be there, so that it can fail.
. "$(dirname "$0")/lib.sh"

# Throwaway host state outside $TMPROOT, removed at exit (before lib.sh's own
# exit handler, whose status is kept).
CREATED=()
HUSER=usbox-secrets-user-$$-$RANDOM
H=/home/$HUSER
[ -d /home ] || CREATED+=(/home)
[ -d /run/user ] || CREATED+=(/run/user)
RUNUID=$((2000000000 + RANDOM))
while [ -e "/run/user/$RUNUID" ]; do RUNUID=$((RUNUID + 1)); done
cleanup_secrets() {
  local p
  rm -rf -- "$H" "/run/user/$RUNUID"
  for p in "${CREATED[@]}"; do rm -rf -- "$p"; done
}
# shellcheck disable=SC2154 # _rc is set by the trap itself
trap '_rc=$?; cleanup_secrets; (exit $_rc); _on_exit' EXIT
trap 'exit 143' TERM INT HUP

# no_value NAME VALUE FILE...: VALUE appears in none of the FILEs
no_value() {
  local name=$1 value=$2 f
  shift 2
  for f in "$@"; do
    if grep -qF -- "$value" "$f"; then
      fail "$name: the value shows in $(basename "$f")"
      return
    fi
  done
  pass "$name"
}

# ---------------------------------------------------------------- the environment

AWS_VALUE=aws-secret-$RANDOM$RANDOM
GH_VALUE=ghp_secret$RANDOM$RANDOM
OPENAI_VALUE=sk-secret-$RANDOM$RANDOM
export AWS_SECRET_ACCESS_KEY=$AWS_VALUE GITHUB_TOKEN=$GH_VALUE OPENAI_API_KEY=$OPENAI_VALUE
export TOKENIZERS_PARALLELISM=usbox-harmless-$RANDOM USBOX_PLAIN_MARK=plain-$RANDOM

expect_exit 0 "env natively" -- env
for v in "$AWS_VALUE" "$GH_VALUE" "$OPENAI_VALUE"; do
  expect_grep "natively, env shows $v" "=$v\$" "$OUT"
done

expect_exit 0 "env in the sandbox" -- "$USBOX" exec -- env
no_value "AWS_SECRET_ACCESS_KEY is withheld" "$AWS_VALUE" "$OUT" "$ERR"
no_value "GITHUB_TOKEN is withheld" "$GH_VALUE" "$OUT" "$ERR"
no_value "OPENAI_API_KEY is withheld" "$OPENAI_VALUE" "$OUT" "$ERR"
expect_grep "TOKENIZERS_PARALLELISM (a harmless name) is passed" "^TOKENIZERS_PARALLELISM=$TOKENIZERS_PARALLELISM\$" "$OUT"
expect_grep "a plain variable is passed" "^USBOX_PLAIN_MARK=$USBOX_PLAIN_MARK\$" "$OUT"
expect_grep "HOME is passed" "^HOME=$HOME\$" "$OUT"
expect_grep "PATH is passed" "^PATH=$PATH\$" "$OUT"

expect_exit 0 "--env GITHUB_TOKEN keeps it" -- "$USBOX" exec --env GITHUB_TOKEN -- env
expect_grep "GITHUB_TOKEN passed with --env GITHUB_TOKEN" "^GITHUB_TOKEN=$GH_VALUE\$" "$OUT"
no_value "the others stay withheld" "$AWS_VALUE" "$OUT"

expect_exit 0 "--env X=y sets it" -- "$USBOX" exec --env X=y --env OPENAI_API_KEY=other -- env
expect_grep "X=y set" '^X=y$' "$OUT"
expect_grep "--env NAME=VALUE replaces a secret's value" '^OPENAI_API_KEY=other$' "$OUT"
no_value "the replaced value is not passed" "$OPENAI_VALUE" "$OUT"

expect_exit 0 "--clearenv" -- "$USBOX" exec --clearenv --env X=y --env GITHUB_TOKEN -- env
expect_eq "--clearenv leaves only what --env gives" "GITHUB_TOKEN=$GH_VALUE
X=y" "$(sort "$OUT")"

expect_exit 0 "HOME natively" -- sh -c 'echo "${HOME-unset}"'
expect_eq "natively HOME is set" "$HOME" "$(cat "$OUT")"
expect_exit 0 "--unsetenv HOME" -- "$USBOX" exec --unsetenv HOME -- sh -c 'echo "${HOME-unset}"'
expect_eq "--unsetenv HOME removes HOME" "unset" "$(cat "$OUT")"

# the program is looked up on the agent's PATH
mkdir -p "$TMPROOT/bin2"
printf '#!/bin/sh\necho only-in-bin2\n' >"$TMPROOT/bin2/usbox-only-in-bin2"
chmod +x "$TMPROOT/bin2/usbox-only-in-bin2"
expect_exit 0 "--env PATH=DIR finds a program in DIR" -- \
  "$USBOX" exec --env PATH="$TMPROOT/bin2:/usr/bin:/bin" -- usbox-only-in-bin2
expect_eq "the program from the agent's PATH ran" "only-in-bin2" "$(cat "$OUT")"
expect_exit 127 "usbox's PATH is not the agent's" -- \
  env PATH="$TMPROOT/bin2:$PATH" "$USBOX" exec --env PATH=/usr/bin:/bin -- usbox-only-in-bin2
expect_exit 0 "--clearenv: execvp's default PATH" -- "$USBOX" exec --clearenv -- env
expect_eq "--clearenv: env prints nothing" "" "$(cat "$OUT")"

# -v counts, -vv names, neither shows a value
expect_exit 0 "-v" -- "$USBOX" exec -v -- true
expect_grep "-v says how many were withheld" '^usbox: the agent.s environment: [0-9]+ secret-looking variables? withheld' "$ERR"
expect_exit 0 "-vv" -- "$USBOX" exec -vv -- true
expect_grep "-vv names GITHUB_TOKEN" 'withheld from the agent.s environment: GITHUB_TOKEN$' "$ERR"
for v in "$AWS_VALUE" "$GH_VALUE" "$OPENAI_VALUE"; do
  no_value "-vv does not print $v" "$v" "$ERR"
done

# the policy file's "env"; flags after it win
cat >"$TMPROOT/env.json" <<'EOF'
{"env": {"set": {"FROM_POLICY": "p", "X": "from-file"}, "keep": ["GITHUB_TOKEN"], "unset": ["USBOX_PLAIN_MARK"]}}
EOF
expect_exit 0 "a policy's env" -- "$USBOX" exec --policy "$TMPROOT/env.json" --env X=from-flag -- env
expect_grep "\"set\" sets" '^FROM_POLICY=p$' "$OUT"
expect_grep "\"keep\" keeps" "^GITHUB_TOKEN=$GH_VALUE\$" "$OUT"
expect_grep "a flag after --policy wins" '^X=from-flag$' "$OUT"
if grep -q '^USBOX_PLAIN_MARK=' "$OUT"; then fail "\"unset\" did not unset"; else pass "\"unset\" unsets"; fi

# bad input: one line, 125, and never the value
bad_env() {
  local name=$1
  shift
  expect_exit 125 "$name -> 125" -- "$USBOX" exec "$@" -- true
  if [ "$(wc -l <"$ERR")" = 1 ] && grep -q '^usbox' "$ERR"; then
    pass "$name: one line from usbox"
  else
    fail "$name: stderr is not one usbox line"
    show stderr "$ERR"
  fi
  no_value "$name: the value is not echoed" "s3cr3t-value" "$ERR"
}
bad_env "--env =VALUE" --env =s3cr3t-value
bad_env "--unsetenv NAME=VALUE" --unsetenv TOKEN=s3cr3t-value
printf '{"env": {"set": {"K": "s3cr3t-value"}, "unset": ["K"]}}' >"$TMPROOT/bad1.json"
bad_env "a name both set and unset in one env object" --policy "$TMPROOT/bad1.json"
printf '{"env": {"sets": {"K": "s3cr3t-value"}}}' >"$TMPROOT/bad2.json"
bad_env "an unknown env field" --policy "$TMPROOT/bad2.json"
printf '{"env": {"keep": "K", "set": {"K": "s3cr3t-value"}}}' >"$TMPROOT/bad3.json"
bad_env "keep not an array" --policy "$TMPROOT/bad3.json"
printf '{"env": {"clear": "yes"}}' >"$TMPROOT/bad4.json"
bad_env "clear not a boolean" --policy "$TMPROOT/bad4.json"

unset AWS_SECRET_ACCESS_KEY GITHUB_TOKEN OPENAI_API_KEY

# ---------------------------------------------------------------- a real ssh-agent

# Its socket is in the scratch root, which the shim binds writable: only
# the hiding keeps the sandbox from it.
ssh-keygen -q -t ed25519 -N '' -C usbox-test-key -f "$TMPROOT/id" || fail "ssh-keygen"
AGENT_SOCK=$TMPROOT/agent/sock
mkdir -p "$TMPROOT/agent"
eval "$(ssh-agent -s -a "$AGENT_SOCK")" >/dev/null || fail "ssh-agent did not start"
track_bg "$SSH_AGENT_PID"
export SSH_AUTH_SOCK=$AGENT_SOCK
ssh-add -q "$TMPROOT/id" 2>/dev/null || fail "ssh-add of the test key"
FPR=$(ssh-keygen -l -f "$TMPROOT/id.pub" | awk '{print $2}')
FPR_RE=$(printf '%s' "$FPR" | sed 's/[][\.*^$+?(){}|]/\\&/g') # base64 has + in it

expect_exit 0 "natively ssh-add -l reaches the agent" -- ssh-add -l
expect_grep "natively the agent lists the key" "$FPR_RE" "$OUT"

expect_exit 2 "in the sandbox ssh-add -l cannot reach the agent" -- "$USBOX" exec -- ssh-add -l
no_value "the key is not listed in the sandbox" "$FPR" "$OUT"
expect_grep "SSH_AUTH_SOCK was withheld" "Could not open a connection to your authentication agent" "$ERR"

expect_exit 2 "with --env SSH_AUTH_SOCK, the socket itself is hidden" -- \
  "$USBOX" exec --env SSH_AUTH_SOCK -- ssh-add -l
no_value "the key is not listed with --env SSH_AUTH_SOCK" "$FPR" "$OUT"
expect_grep "the agent's socket does not exist in the sandbox" "No such file or directory" "$ERR"
expect_exit 1 "test -S on the agent's socket" -- "$USBOX" exec -- test -S "$AGENT_SOCK"
expect_exit 0 "test -S natively" -- test -S "$AGENT_SOCK"

# what docs/policy.md says to do to give an agent the ssh-agent
expect_exit 0 "--ro \$SSH_AUTH_SOCK --env SSH_AUTH_SOCK gives it the agent" -- \
  "$USBOX" exec --ro "$AGENT_SOCK" --env SSH_AUTH_SOCK -- ssh-add -l
expect_grep "the bound agent lists the key" "$FPR_RE" "$OUT"

kill "$SSH_AGENT_PID" 2>/dev/null
unset SSH_AUTH_SOCK SSH_AGENT_PID

# ---------------------------------------------------------------- credential files in a home

# A home created before usbox starts (the list is expanded from /home/* at
# start), with secrets where tools keep them and a file that stays visible.
mkdir -p "$H/.config/gh" "$H/.config/other" "$H/.cargo" "$H/.local/share/fish"
echo "//registry.npmjs.org/:_authToken=npm-secret-$RANDOM" >"$H/.npmrc"
echo "github.com: {oauth_token: gho-secret}" >"$H/.config/gh/hosts.yml"
echo "[registry] token = cargo-secret" >"$H/.cargo/credentials.toml"
echo "export API_KEY=typed-secret" >"$H/.bash_history"
echo "- cmd: export TOKEN=fish-secret" >"$H/.local/share/fish/fish_history"
echo "import os; os.environ['X']='py-secret'" >"$H/.python_history"
echo "host:5432:*:user:pgpass-secret" >"$H/.pgpass"
echo visible-config >"$H/.config/other/file"
echo "[bin]" >"$H/.cargo/config.toml"
SECRET_FILES=("$H/.npmrc" "$H/.config/gh/hosts.yml" "$H/.cargo/credentials.toml"
  "$H/.bash_history" "$H/.local/share/fish/fish_history" "$H/.python_history" "$H/.pgpass")

expect_exit 0 "natively the credential files are there" -- cat "${SECRET_FILES[@]}"
for f in "${SECRET_FILES[@]}"; do
  expect_exit 1 "cat ${f#"$H"/} in the sandbox fails" -- "$USBOX" exec -- cat "$f"
  expect_grep "cat ${f#"$H"/}: No such file or directory" "No such file or directory" "$ERR"
done
expect_exit 0 "the rest of the home is visible" -- \
  "$USBOX" exec -- cat "$H/.config/other/file" "$H/.cargo/config.toml"
expect_eq "visible files read as on the host" "visible-config
[bin]" "$(cat "$OUT")"
expect_exit 0 "ls -a of the home" -- "$USBOX" exec -- ls -a "$H" "$H/.config" "$H/.cargo"
for n in .npmrc .bash_history .python_history .pgpass gh credentials.toml; do
  if grep -qx -- "$n" "$OUT"; then fail "$n is listed in the sandbox"; else pass "$n is not listed"; fi
done
expect_grep "other dotfiles are listed" '^other$' "$OUT"

# binding one shows that one again
expect_exit 0 "--ro ~/.npmrc shows it" -- "$USBOX" exec --ro "$H/.npmrc" -- cat "$H/.npmrc"
expect_grep "the bound .npmrc reads as on the host" "_authToken=npm-secret" "$OUT"
expect_exit 1 "... and only it" -- "$USBOX" exec --ro "$H/.npmrc" -- cat "$H/.pgpass"
printf '{"default_hide": false}' >"$TMPROOT/nohide.json"
expect_exit 0 "\"default_hide\": false shows them all" -- \
  "$USBOX" exec --policy "$TMPROOT/nohide.json" -- cat "${SECRET_FILES[@]}"

# ---------------------------------------------------------------- /run/user/<uid> and the system bus

# A runtime directory created before usbox starts, standing for a user's
# (their session bus, gpg-agent, keyring sockets live there).
mkdir -p "/run/user/$RUNUID/gnupg"
echo runtime-secret >"/run/user/$RUNUID/gnupg/S.gpg-agent"
expect_exit 0 "natively /run/user/$RUNUID is there" -- cat "/run/user/$RUNUID/gnupg/S.gpg-agent"
expect_exit 1 "/run/user/<uid> is hidden" -- "$USBOX" exec -- cat "/run/user/$RUNUID/gnupg/S.gpg-agent"
expect_grep "cat /run/user/<uid>/...: No such file or directory" "No such file or directory" "$ERR"
expect_exit 0 "/run/user itself stays" -- "$USBOX" exec -- ls -a /run/user
if grep -qx -- "$RUNUID" "$OUT"; then fail "/run/user/$RUNUID is listed"; else pass "/run/user/$RUNUID is not listed"; fi
expect_exit 0 "binding /run/user/<uid> shows it" -- \
  "$USBOX" exec --ro "/run/user/$RUNUID" -- cat "/run/user/$RUNUID/gnupg/S.gpg-agent"

# The system bus, even with the host's network (where the filtered mode's
# resolver hiding does not apply): a root agent there is root on the host.
BUS=/run/dbus/system_bus_socket
if [ ! -e "$BUS" ] && [ ! -L "$BUS" ]; then
  [ -d /run/dbus ] || CREATED+=(/run/dbus)
  mkdir -p /run/dbus
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$BUS"
  CREATED+=("$BUS")
fi
expect_exit 0 "natively the system bus socket is there" -- test -e "$BUS"
expect_exit 1 "the system bus socket is hidden (--net host)" -- "$USBOX" exec --net host -- test -e "$BUS"
expect_exit 1 "the system bus socket is hidden (filtered)" -- "$USBOX" exec -- test -e "$BUS"

finish
