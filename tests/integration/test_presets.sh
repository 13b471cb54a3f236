#!/usr/bin/env bash
# --preset low|medium|high|critical (docs/policy.md "Presets") with real
# programs: a shell refused under low while the program runs, writes in the
# workspace under medium (and nowhere else), the host unchanged under high
# until commit, critical only with a complete policy; options after a
# preset override it.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d /var/tmp/usbox-preset.XXXXXX)
trap 'rc=$?; rm -rf "$W"; (exit $rc); _on_exit' EXIT
export USBOX_STATE_DIR=$TMPROOT/state
U=$USBOX_REAL
PY=/usr/bin/python3

# ---- low: the program itself, nothing else; nothing written on the host ----
cat >"$W/agent.py" <<'EOF'
import os, subprocess, sys
def t(name, f):
    try:
        f(); print(name, "ok")
    except OSError as e:
        print(name, e.errno)
t("shell", lambda: subprocess.run(["sh", "-c", "true"]))
t("other interpreter", lambda: subprocess.run(["perl", "-e", "1"]))
t("python again", lambda: subprocess.run([sys.executable, "-c", "pass"]))
t("home write", lambda: open(os.path.expanduser("~/usbox-preset-x"), "w"))
t("cwd write", lambda: open("usbox-preset-x", "w"))
t("tmp write", lambda: open("/tmp/x", "w"))
EOF
expect_exit 0 "low: the agent runs" -- sh -c "cd $W && $U exec --preset low -- $PY $W/agent.py"
expect_eq "low: no shell, no other program, no host write" \
  "$(printf 'shell 13\nother interpreter 13\npython again ok\nhome write 30\ncwd write 30\ntmp write ok')" \
  "$(cat "$OUT")"
printf '#!/bin/sh\necho script ran\nls / >/dev/null && echo ls ran\n' >"$W/agent.sh"
chmod +x "$W/agent.sh"
expect_exit 126 "low: a script's interpreter is the program's (what it starts: 126)" -- \
  $U exec --preset low -- "$W/agent.sh"
expect_eq "low: the script runs, what it starts does not" "script ran" "$(cat "$OUT")"
expect_grep "low: ls was refused" "ls.*(Permission denied|not found)" "$ERR"
expect_exit 0 "low, then --home overlay: a later option wins" -- \
  $U exec --preset low --home overlay -- sh -c 'echo x >"$HOME/usbox-preset-y" && read l <"$HOME/usbox-preset-y" && echo "$l"'
[ ! -e "$HOME/usbox-preset-y" ] && pass "and the home stayed the host's" || fail "home written"

# ---- medium: the workspace is writable, the rest is not ----
mkdir -p "$W/ws" "$W/other"
expect_exit 0 "medium: write in the workspace" -- sh -c \
  "cd $W/ws && $U exec --preset medium -- sh -c 'echo built >out.txt && cat out.txt; echo x >$W/other/f 2>/dev/null || echo other refused'"
expect_eq "medium: workspace yes, elsewhere no" "$(printf 'built\nother refused')" "$(cat "$OUT")"
[ "$(cat "$W/ws/out.txt")" = built ] && [ ! -e "$W/other/f" ] && pass "medium: the workspace file is on the host, nothing else" ||
  fail "medium: host state wrong"

# ---- high: everything copy-on-write until commit; every decision audited ----
mkdir -p "$W/repo" && echo one >"$W/repo/f"
expect_exit 0 "high: a shell edits the tree" -- sh -c \
  "cd $W/repo && $U exec --preset high --session p1 -- sh -c 'echo two >>f && echo new >g && rm -f f.bak; cat f'"
expect_eq "high: the agent sees its edit" "$(printf 'one\ntwo')" "$(cat "$OUT")"
[ "$(cat "$W/repo/f")" = one ] && [ ! -e "$W/repo/g" ] && pass "high: the host is unchanged" ||
  fail "high: the host changed before commit"
audit=$(sed -n 's/^usbox: --preset high: the audit log is //p' "$ERR")
[ -n "$audit" ] && [ -s "$audit" ] && pass "high: an audit log was written ($audit)" ||
  fail "high: no audit log (stderr: $(cat "$ERR"))"
expect_exit 0 "high: commit" -- $U commit p1
[ "$(cat "$W/repo/f")" = "$(printf 'one\ntwo')" ] && [ "$(cat "$W/repo/g")" = new ] &&
  pass "high: after commit the host has the edits" || fail "high: commit did not apply"

# ---- critical: only a complete explicit policy ----
expect_exit 125 "critical without --policy" -- $U exec --preset critical -- true
expect_grep "says what it needs" "critical.*--policy FILE" "$ERR"
echo '{"limits": {"memory": "256M", "pids": 32}, "exec": {"allow": ["/usr/bin/true"]}}' >"$W/partial.json"
expect_exit 125 "critical without a timeout" -- $U exec --preset critical --policy "$W/partial.json" -- true
cat >"$W/full.json" <<EOF
{"limits": {"memory": "256M", "pids": 32, "timeout": 30},
 "exec": {"allow": ["$PY", "$(readlink -f $PY)"]}, "home": "ro"}
EOF
expect_exit 0 "critical with a complete policy" -- $U exec --preset critical --policy "$W/full.json" -- \
  $PY -c 'import subprocess
try:
    subprocess.run(["true"]); print("true ran")
except PermissionError:
    print("true refused")'
expect_eq "critical: what the policy does not list is refused" "true refused" "$(cat "$OUT")"
expect_exit 125 "an unknown preset" -- $U exec --preset extreme -- true

# ---- usbox policy show --preset: what a level sets, read back the same ----
for level in low medium high critical; do
  expect_exit 0 "policy show --preset $level" -- sh -c "cd $W/ws && $U policy show --preset $level"
  cp "$OUT" "$W/show.$level.json"
  expect_exit 0 "policy check of it ($level)" -- sh -c "cd $W/ws && $U policy check $W/show.$level.json"
  cmp -s "$OUT" "$W/show.$level.json" && pass "$level: check prints what show printed" ||
    fail "$level: show and check differ"
done
$PY - "$W" <<'EOF' && pass "the levels set what docs/policy.md says" || fail "preset JSON content"
import json, sys
w = sys.argv[1]
v = {l: json.load(open(f"{w}/show.{l}.json")) for l in ("low", "medium", "high", "critical")}
assert v["low"]["home"] == "ro" and v["low"]["limits"]["pids"] == 128, v["low"]
assert any(m.get("source") == f"{w}/ws" and m.get("writable") for m in v["medium"]["mounts"]), v["medium"]
assert v["high"]["overlay"] == "disk" and v["high"]["limits"]["pids"] == 256, v["high"]
assert v["critical"]["home"] == "ro" and v["critical"]["preset"] == "critical", v["critical"]
EOF
finish
