#!/usr/bin/env bash
# Exec rules (--exec-allow, --exec-deny, the policy's "exec"): decided on the
# real path of every program and #! interpreter, by any name; the program
# usbox runs included; an audit line naming the rule; the kernel's own
# refusal of programs a deny rule names literally (a swapped path, a
# rewritten script, ld.so); what path rules cannot stop (a copy, a hard
# link made on the host); bad input.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # not `python3`: that may be a pyenv shim (a #! script)
[ -x "$PY" ] || { echo "needs $PY" >&2; exit 1; }
SH_REAL=$(readlink -f /bin/sh)
BASH_REAL=$(readlink -f /bin/bash)
D=$TMPROOT/d # bound writable by lib.sh's shim (under $TMPROOT)
mkdir -p "$D"

# run CMD... through python's subprocess and print what happened: "ran N"
# (its exit status) or the exception's class and errno
cat >"$D/try.py" <<'EOF'
import subprocess, sys
try:
    r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("ran", r.returncode)
except OSError as e:
    print(type(e).__name__, e.errno)
EOF
TRY=("$PY" "$D/try.py")

# ---------------------------------------------------------------- without rules

expect_exit 0 "no rules: sh runs from python" -- "$USBOX" exec -- "${TRY[@]}" sh -c true
expect_eq "no rules: sh ran" "ran 0" "$(cat "$OUT")"

# ---------------------------------------------------------------- the guide's example

DENY_SHELLS=(--exec-deny /bin/bash --exec-deny /bin/sh)
expect_exit 0 "deny bash and sh: python3 itself runs" -- \
  "$USBOX" exec "${DENY_SHELLS[@]}" -- "$PY" -c 'import subprocess
try:
    subprocess.run(["sh", "-c", "true"])
    print("sh ran")
except PermissionError as e:
    print("PermissionError", e.errno)'
expect_eq "subprocess.run([sh, -c, true]) gets PermissionError (EACCES)" "PermissionError 13" "$(cat "$OUT")"

# by any name: the path as given, through /bin (a symlink on merged-/usr
# systems), the real file, another symlink to it (rbash is bash), a
# symlink the agent makes itself in /tmp
names=(sh /bin/sh /usr/bin/sh "$SH_REAL" bash /bin/bash "$BASH_REAL")
[ -L /usr/bin/rbash ] && [ "$(readlink -f /usr/bin/rbash)" = "$BASH_REAL" ] && names+=(rbash)
for name in "${names[@]}"; do
  expect_exit 0 "deny bash and sh: exec of $name" -- \
    "$USBOX" exec "${DENY_SHELLS[@]}" -- "${TRY[@]}" "$name" -c true
  expect_eq "deny bash and sh: $name refused" "PermissionError 13" "$(cat "$OUT")"
done
expect_exit 0 "deny sh: a symlink made in /tmp" -- "$USBOX" exec --exec-deny /bin/sh -- "$PY" -c '
import os, subprocess
os.symlink("/bin/sh", "/tmp/mysh")
try:
    subprocess.run(["/tmp/mysh", "-c", "true"]); print("ran")
except PermissionError:
    print("refused")'
expect_eq "deny sh: /tmp/mysh -> /bin/sh refused" refused "$(cat "$OUT")"
expect_exit 0 "deny sh: other programs run" -- "$USBOX" exec --exec-deny /bin/sh -- "${TRY[@]}" ls /
expect_eq "deny sh: ls ran" "ran 0" "$(cat "$OUT")"
expect_exit 0 "deny sh: fexecve of an fd of the shell" -- "$USBOX" exec --exec-deny /bin/sh -- "$PY" -c '
import os
fd = os.open("/bin/sh", os.O_RDONLY)
try:
    os.execve(fd, ["sh", "-c", "echo ran"], {})
except PermissionError:
    print("refused")'
expect_eq "deny sh: execveat(fd, \"\", AT_EMPTY_PATH) refused" refused "$(cat "$OUT")"

# ---------------------------------------------------------------- #! interpreters

printf '#!/bin/sh\necho script ran\n' >"$D/s.sh"
printf '#!%s\necho chained script ran\n' "$D/s.sh" >"$D/chain1"
printf '#!%s\n' "$D/chain1" >"$D/chain2"
printf '#! /usr/bin/env sh\necho env script ran\n' >"$D/env.sh"
printf '#!%s\nprint("python script ran")\n' "$PY" >"$D/p.py"
chmod 755 "$D/s.sh" "$D/chain1" "$D/chain2" "$D/env.sh" "$D/p.py"
expect_exit 0 "no rules: a chain of two #! scripts down to sh runs" -- "$USBOX" exec -- "$D/chain2"
expect_eq "no rules: the chain ran (sh runs s.sh, which runs chain1 as its \$1)" "script ran" "$(cat "$OUT")"
for s in s.sh chain1 chain2; do
  expect_exit 0 "deny sh: the #! script $s" -- "$USBOX" exec --exec-deny /bin/sh -- "${TRY[@]}" "$D/$s"
  expect_eq "deny sh: $s (sh its interpreter at some depth) refused" "PermissionError 13" "$(cat "$OUT")"
done
expect_exit 126 "deny sh: #!/usr/bin/env sh" -- "$USBOX" exec --exec-deny /bin/sh -- "$D/env.sh"
expect_grep "deny sh: env runs, its exec of sh is refused" "env: .*sh.*Permission denied" "$ERR"
expect_exit 0 "deny sh: a script of an allowed interpreter" -- "$USBOX" exec --exec-deny /bin/sh -- "$D/p.py"
expect_eq "deny sh: python script ran" "python script ran" "$(cat "$OUT")"
# an execute-only script cannot be read to find its interpreter: refused
# under rules (root without capabilities cannot read a 0111 file)
cp "$D/s.sh" "$D/xonly.sh" && chmod 111 "$D/xonly.sh"
expect_exit 0 "deny sh: an execute-only script" -- \
  "$USBOX" exec --cap-drop ALL --exec-deny /bin/sh -- "${TRY[@]}" "$D/xonly.sh"
expect_eq "deny sh: the unreadable script is refused" "PermissionError 13" "$(cat "$OUT")"

# ---------------------------------------------------------------- the program usbox runs

expect_exit 126 "deny sh: usbox exec -- sh -> 126" -- "$USBOX" exec --exec-deny /bin/sh -- sh -c 'echo ran'
expect_eq "one line on stderr" 1 "$(wc -l <"$ERR")"
expect_grep "it says which rule" "^usbox: cannot execute .*sh: refused by the exec rules \(exec.deny /bin/sh: $SH_REAL\)$" "$ERR"
expect_eq "the program did not run" "" "$(cat "$OUT")"
expect_exit 126 "deny sh: usbox exec -- a script of sh -> 126" -- "$USBOX" exec --exec-deny /bin/sh -- "$D/s.sh"
expect_grep "it names the interpreter" "refused by the exec rules \(exec.deny /bin/sh: $SH_REAL, interpreter of $D/s.sh\)" "$ERR"

# ---------------------------------------------------------------- allow lists

ALLOW_PY=(--exec-allow '/usr/bin/python3*')
expect_exit 0 "allow python3*: python3 runs" -- "$USBOX" exec "${ALLOW_PY[@]}" -- "${TRY[@]}" ls /
expect_eq "allow python3*: ls refused" "PermissionError 13" "$(cat "$OUT")"
expect_exit 126 "allow python3*: usbox exec -- ls -> 126" -- "$USBOX" exec "${ALLOW_PY[@]}" -- ls /
expect_grep "not in exec.allow" "^usbox: cannot execute .*/ls: refused by the exec rules \(not in exec.allow: .*/ls\)$" "$ERR"
# a script is a program too: the list must name it as well as its interpreter
expect_exit 126 "allow python3*: a python script" -- "$USBOX" exec "${ALLOW_PY[@]}" -- "$D/p.py"
expect_grep "allow python3*: the script itself is not in the list" "\(not in exec.allow: $D/p.py\)$" "$ERR"
expect_exit 0 "allow python3* and the script's directory: it runs" -- \
  "$USBOX" exec "${ALLOW_PY[@]}" --exec-allow "$D/*" -- "$D/p.py"
expect_eq "allow python3* and $D/*: python script ran" "python script ran" "$(cat "$OUT")"
expect_exit 0 "allow $D/* only: a script of python3" -- "$USBOX" exec --exec-allow "$PY" --exec-allow "$D/*" -- \
  "${TRY[@]}" "$D/s.sh"
expect_eq "allow $D/* and python3: the script of sh is refused (its interpreter is not allowed)" \
  "PermissionError 13" "$(cat "$OUT")"
expect_exit 0 "allow /usr/bin/*: ls runs" -- "$USBOX" exec --exec-allow '/usr/bin/*' -- "${TRY[@]}" ls /
expect_eq "allow /usr/bin/*: ls ran" "ran 0" "$(cat "$OUT")"
expect_exit 0 "allow /usr/bin/* and deny sh: deny wins" -- \
  "$USBOX" exec --exec-allow '/usr/bin/*' --exec-deny /bin/sh -- "${TRY[@]}" sh -c true
expect_eq "deny wins over allow" "PermissionError 13" "$(cat "$OUT")"

# ---------------------------------------------------------------- what path rules cannot stop

# A copy is another file: deny rules do not know it; an allow list does.
COPY_PY='import shutil, subprocess
shutil.copy("/bin/sh", "/tmp/x")
try:
    print("ran", subprocess.run(["/tmp/x", "-c", "exit 7"]).returncode)
except PermissionError:
    print("refused")'
expect_exit 0 "deny sh: a copy of sh" -- "$USBOX" exec --exec-deny /bin/sh -- "$PY" -c "$COPY_PY"
expect_eq "deny sh: the copy runs (rules are on paths: docs/policy.md)" "ran 7" "$(cat "$OUT")"
expect_exit 0 "allow python3*: a copy of sh" -- "$USBOX" exec "${ALLOW_PY[@]}" -- "$PY" -c "$COPY_PY"
expect_eq "allow python3*: the copy is refused" refused "$(cat "$OUT")"
# A hard link is another path too. One made on the host before the run
# runs; inside, the agent cannot make one (another mount: EXDEV).
if ln "$SH_REAL" "$D/hardsh" 2>/dev/null; then
  expect_exit 0 "deny sh: a hard link made on the host" -- \
    "$USBOX" exec --exec-deny /bin/sh -- "${TRY[@]}" "$D/hardsh" -c 'exit 7'
  expect_eq "deny sh: the hard link runs (a path rule, another path)" "ran 7" "$(cat "$OUT")"
  expect_exit 0 "allow python3*: the hard link" -- "$USBOX" exec "${ALLOW_PY[@]}" -- "${TRY[@]}" "$D/hardsh" -c 'exit 7'
  expect_eq "allow python3*: the hard link is refused" "PermissionError 13" "$(cat "$OUT")"
else
  echo "# no hard link of $SH_REAL possible in $D (another filesystem): skipped"
fi
expect_exit 0 "deny sh: ln of the shell inside the sandbox" -- "$USBOX" exec --exec-deny /bin/sh -- "$PY" -c "
import os
try:
    os.link('$SH_REAL', '$D/inner'); print('linked')
except OSError as e:
    print(e.strerror)"
expect_eq "deny sh: no hard link of it can be made inside" "Invalid cross-device link" "$(cat "$OUT")"

# ---------------------------------------------------------------- the kernel's view

# The programs deny rules name literally are not executable in the agent's
# mount namespace either: with the sentry's execve check switched off
# (--TESTONLY-pass: what a thread that swaps the path after the check
# gets), the kernel still refuses; ld.so cannot map it to run it.
expect_exit 0 "deny sh, sentry check off: the kernel refuses sh" -- \
  "$USBOX" exec -q --TESTONLY-pass execve,execveat --exec-deny /bin/sh -- "${TRY[@]}" sh -c true
expect_eq "deny sh, sentry check off: PermissionError" "PermissionError 13" "$(cat "$OUT")"
expect_exit 0 "no rules, sentry check off: sh runs (the check above can fail)" -- \
  "$USBOX" exec -q --TESTONLY-pass execve,execveat -- "${TRY[@]}" sh -c true
expect_eq "no rules, sentry check off: sh ran" "ran 0" "$(cat "$OUT")"
# wildcard rules too: the files they match when the sandbox starts
expect_exit 0 "deny a wildcard, sentry check off: the kernel refuses sh" -- \
  "$USBOX" exec -q --TESTONLY-pass execve,execveat --exec-deny "${SH_REAL%?}[${SH_REAL: -1}]" -- \
  "${TRY[@]}" sh -c true
expect_eq "deny a wildcard, sentry check off: PermissionError" "PermissionError 13" "$(cat "$OUT")"
# (a read-only place of the view: /var/tmp, outside the writable scratch root)
RO=$(mktemp -d /var/tmp/usbox-er.XXXXXX)
mkdir -p "$RO/tree/a/b" && cp "$(readlink -f /bin/true)" "$RO/tree/a/b/prog" && cp "$RO/tree/a/b/prog" "$RO/tree/other"
chmod -R a+rX "$RO"
expect_exit 0 "deny a ** rule, sentry check off: the kernel refuses its file" -- \
  "$USBOX" exec -q --TESTONLY-pass execve,execveat --exec-deny "$RO/tree/**/prog" -- "${TRY[@]}" "$RO/tree/a/b/prog"
expect_eq "deny a ** rule, sentry check off: PermissionError" "PermissionError 13" "$(cat "$OUT")"
expect_exit 0 "deny a ** rule, sentry check off: another file runs" -- \
  "$USBOX" exec -q --TESTONLY-pass execve,execveat --exec-deny "$RO/tree/**/prog" -- "${TRY[@]}" "$RO/tree/other"
expect_eq "deny a ** rule: the file it does not match ran" "ran 0" "$(cat "$OUT")"
rm -rf "$RO"
# in the agent's own writable places a wildcard rule's files stay its to
# change (the sentry still refuses to run them)
mkdir -p "$D/tree/a" && cp "$(readlink -f /bin/true)" "$D/tree/a/prog"
expect_exit 0 "deny a ** rule in a writable place: the file can be replaced" -- \
  "$USBOX" exec -q --exec-deny "$D/tree/**/prog" -- sh -c "cp '$D/tree/a/prog' '$D/tree/a/p2' && mv '$D/tree/a/p2' '$D/tree/a/prog'"
expect_exit 126 "and the sentry still refuses to run it" -- \
  "$USBOX" exec -q --exec-deny "$D/tree/**/prog" -- "$D/tree/a/prog"
LDSO=
for f in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux*.so*; do [ -x "$f" ] && { LDSO=$f; break; }; done
if [ -n "$LDSO" ]; then
  expect_exit 0 "deny sh: ld.so /bin/sh" -- "$USBOX" exec --exec-deny /bin/sh -- "${TRY[@]}" "$LDSO" /bin/sh -c true
  expect_eq "deny sh: ld.so cannot load sh (exit 127)" "ran 127" "$(cat "$OUT")"
  expect_exit 0 "no rules: ld.so /bin/sh" -- "$USBOX" exec -- "${TRY[@]}" "$LDSO" /bin/sh -c true
  expect_eq "no rules: ld.so runs sh" "ran 0" "$(cat "$OUT")"
fi
expect_exit 0 "deny sh: the shell is still readable" -- \
  "$USBOX" exec --exec-deny /bin/sh -- cmp /bin/sh "$SH_REAL"

# A thread swapping execve's path between an allowed program and a script
# of sh. Deny rules hold, literal or wildcard (the kernel refuses too: the
# files they match are bound noexec); an allow list is the sentry's alone,
# and the race gets past it (docs/security.md says so).
ATTACKS=${ATTACKS:-$(dirname "$USBOX_REAL")/tests/attacks}
if [ -x "$ATTACKS/view_exec_race" ]; then
  printf '#!/bin/echo ALLOWED-RAN\n' >"$D/allowed"
  printf '#!/bin/sh\necho DENIED-SHELL-RAN\n' >"$D/forbidden.sh"
  chmod 755 "$D/allowed" "$D/forbidden.sh"
  RACE=("$ATTACKS/view_exec_race" --forbidden-visible --allowed "$D/allowed"
        --forbidden "$D/forbidden.sh" --marker DENIED-SHELL-RAN --seconds "${RACE_SECONDS:-2}")
  expect_exit 0 "exec race against --exec-deny /bin/sh" -- "$USBOX" exec --exec-deny /bin/sh -- "${RACE[@]}"
  expect_grep "the script of sh never ran" "^ok exec race: .*forbidden.sh never ran" "$OUT"
  expect_exit 0 "exec race against a wildcard rule" -- \
    "$USBOX" exec --exec-deny "${SH_REAL%?}[${SH_REAL: -1}]" -- "${RACE[@]}"
  expect_grep "a wildcard rule holds too" "^ok exec race: .*forbidden.sh never ran" "$OUT"
  expect_exit 1 "exec race against an allow list" -- "$USBOX" exec --exec-allow "$ATTACKS/view_exec_race" \
    --exec-allow "$D/allowed" --exec-allow "$(readlink -f /bin/echo)" -- "${RACE[@]}"
  expect_grep "an allow list is the sentry's alone: the race gets past it" \
    "^FAIL exec race: .*forbidden.sh never ran: its marker appeared" "$OUT"
else
  fail "no attack program view_exec_race in ATTACKS=$ATTACKS"
fi

# ---------------------------------------------------------------- audit and -v

A=$TMPROOT/audit.jsonl
expect_exit 0 "deny sh with --audit" -- "$USBOX" exec --audit "$A" --exec-deny /bin/sh -- "${TRY[@]}" /bin/sh -c true
cat >"$TMPROOT/check.py" <<EOF
import json, sys
recs = [json.loads(l) for l in open("$A")]
deny = [r for r in recs if r["decision"] == "deny"]
assert len(deny) == 1, deny
r = deny[0]
assert r["syscall"] == "execve" and r["arg"] == "/bin/sh", r
assert r["errno"] == "EACCES" and r["result"] == -1, r
assert r["rule"] == "exec.deny /bin/sh: $SH_REAL", r
assert any(x["syscall"] == "execve" and x["decision"] == "kernel" and x["arg"] == "$PY" for x in recs)
print("ok")
EOF
expect_exit 0 "the audit line: execve, deny, EACCES, the rule and the real path" -- python3 "$TMPROOT/check.py"
B=$TMPROOT/audit-allow.jsonl
expect_exit 0 "allow python3* with --audit" -- "$USBOX" exec --audit "$B" "${ALLOW_PY[@]}" -- "${TRY[@]}" ls
expect_grep "an allow list's refusal names it" '"syscall":"execve","arg":"/usr/bin/ls","decision":"deny","errno":"EACCES","result":-1,"rule":"not in exec.allow: /usr/bin/ls"' "$B"
expect_exit 0 "-v with two refused execs" -- "$USBOX" exec -v --exec-deny /bin/sh -- \
  "$PY" -c 'import os, subprocess
for i in range(2):
    try: subprocess.run(["/bin/sh", "-c", "true"])
    except PermissionError: pass'
expect_grep "-v: the refused execs counted as denied" "^usbox: calls denied: 2 \(execve 2\)" "$ERR"

# ---------------------------------------------------------------- policy file

P=$TMPROOT/exec.json
echo '{"exec": {"deny": ["/bin/sh"], "allow": ["/usr/bin/*"]}}' >"$P"
expect_exit 0 "policy exec.deny/exec.allow" -- "$USBOX" exec --policy "$P" -- "${TRY[@]}" sh -c true
expect_eq "policy: sh refused" "PermissionError 13" "$(cat "$OUT")"
expect_exit 0 "policy: ls allowed" -- "$USBOX" exec --policy "$P" -- "${TRY[@]}" ls /
expect_eq "policy: ls ran" "ran 0" "$(cat "$OUT")"

# ---------------------------------------------------------------- bad input

bad() { # NAME PATTERN ARGS...: exit 125, one line naming it, nothing run
  local name=$1 re=$2
  shift 2
  expect_exit 125 "$name -> 125" -- "$USBOX" exec "$@" -- echo ran
  expect_eq "$name: one line" 1 "$(wc -l <"$ERR")"
  expect_grep "$name: says why" "^usbox: .*$re" "$ERR"
  expect_eq "$name: nothing ran" "" "$(cat "$OUT")"
}
bad "--exec-deny sh (relative)" '--exec-deny "sh": a rule is an absolute path' --exec-deny sh
bad "--exec-allow with an open [" '--exec-allow "/usr/bin/\[ab": a \[ is not closed' --exec-allow '/usr/bin/[ab'
bad "--exec-deny with a**" '\*\* must be a whole component' --exec-deny '/opt/a**'
for j in '{"exec": ["/bin/sh"]}' '{"exec": {"deny": "/bin/sh"}}' '{"exec": {"allow": [true]}}' \
  '{"exec": {"run": []}}' '{"exec": {"deny": ["bin/sh"]}}'; do
  echo "$j" >"$P"
  bad "policy $j" "exec" --policy "$P"
done
