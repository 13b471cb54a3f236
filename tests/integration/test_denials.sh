#!/usr/bin/env bash
# Denials a person can see (issue 13): the audit log tells a hidden path
# from a missing one (the agent sees ENOENT for both, as before) and names
# the rule of every decision; clone3's ENOSYS is a "fallback", not a
# "deny"; refused connects and DNS names are "deny" lines with their rule;
# -v lists all of it at exit. Then `usbox policy check` and `show`, and
# docs/policy.md's table of keys against what the parser accepts.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # the system's, inside and outside the sandbox
[ -x "$PY" ] || { echo "$PY is needed" >&2; exit 1; }

# jcheck NAME FILE EXPR...: FILE holds JSON lines (an audit log); each
# Python expression over `recs` (the parsed lines) must be true.
cat >"$TMPROOT/jcheck.py" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = 0
for e in sys.argv[2:]:
    if not eval(e):
        bad += 1
        print("false: " + e)
if bad:
    for r in recs:
        if r.get("decision") != "emulate" or r.get("errno") != 0:
            print(json.dumps(r))
sys.exit(1 if bad else 0)
EOF
jcheck() {
  local name=$1 file=$2
  shift 2
  if "$PY" "$TMPROOT/jcheck.py" "$file" "$@" >"$TMPROOT/jcheck.out" 2>&1; then
    pass "$name"
  else
    fail "$name"
    show "check" "$TMPROOT/jcheck.out"
  fi
}

MISSING=$TMPROOT/no-such-file
ln -s /etc/hostname "$TMPROOT/link-to-hidden"

# ---------------------------------------------------------------- hidden vs absent

# The agent's side first: a hidden path and a missing one look the same to
# it, with the audit log or without.
READ3="cat /etc/hostname; cat $MISSING; cat $TMPROOT/link-to-hidden; ls /etc | grep -c '^hostname\$'"
expect_exit 1 "without --audit: the hidden file is not there" -- \
  "$USBOX" exec --hide /etc/hostname -- sh -c "$READ3"
cp "$OUT" "$TMPROOT/plain.out"
cp "$ERR" "$TMPROOT/plain.err"
expect_eq "cat of a hidden file says what it says of a missing one" \
  "cat: /etc/hostname: No such file or directory" "$(sed -n 1p "$TMPROOT/plain.err")"
expect_eq "and of a symlink to it" \
  "cat: $TMPROOT/link-to-hidden: No such file or directory" "$(sed -n 3p "$TMPROOT/plain.err")"
expect_eq "not in its directory's listing" 0 "$(cat "$TMPROOT/plain.out")"

A=$TMPROOT/hidden.jsonl
expect_exit 1 "with --audit" -- "$USBOX" exec --audit "$A" --hide /etc/hostname -- sh -c "$READ3"
expect_eq "the agent's stdout is the same with --audit" "$(cat "$TMPROOT/plain.out")" "$(cat "$OUT")"
expect_eq "the agent's stderr is the same with --audit" "$(cat "$TMPROOT/plain.err")" "$(cat "$ERR")"
jcheck "hidden: decision \"hidden\", ENOENT, the --hide rule named" "$A" \
  'any(r["syscall"] == "openat" and r["arg"] == "/etc/hostname" and r["decision"] == "hidden" and r["errno"] == "ENOENT" and r["rule"] == "hide /etc/hostname" for r in recs)'
jcheck "hidden through a symlink: the same rule" "$A" \
  'any(r["arg"] == "'"$TMPROOT"'/link-to-hidden" and r["decision"] == "hidden" and r["rule"] == "hide /etc/hostname" for r in recs)'
jcheck "missing: decision \"emulate\", ENOENT, the table row named, not hidden" "$A" \
  'any(r["syscall"] == "openat" and r["arg"] == "'"$MISSING"'" and r["decision"] == "emulate" and r["errno"] == "ENOENT" and r["rule"] == "table: openat emulated" for r in recs)' \
  'not any(r["arg"] == "'"$MISSING"'" and r["decision"] == "hidden" for r in recs)'
jcheck "every line names a rule; only the hidden ones are \"hidden\"" "$A" \
  'all(r.get("rule") for r in recs)' \
  'all(r["arg"] in ("/etc/hostname", "'"$TMPROOT"'/link-to-hidden") for r in recs if r["decision"] == "hidden")'

B=$TMPROOT/builtin.jsonl
expect_exit 1 "a built-in secret" -- "$USBOX" exec --audit "$B" -- cat /etc/shadow
jcheck "a built-in secret: its entry of the list is the rule" "$B" \
  'any(r["arg"] == "/etc/shadow" and r["decision"] == "hidden" and r["rule"] == "built-in secret /etc/shadow" for r in recs)'

# ---------------------------------------------------------------- denials name their table row

PTRACE_PY='import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.syscall(101, 0, 0, 0, 0), ctypes.get_errno())'
D=$TMPROOT/deny.jsonl
expect_exit 0 "ptrace, audited" -- "$USBOX" exec --audit "$D" -- "$PY" -c "$PTRACE_PY"
expect_eq "the agent gets EPERM" "-1 1" "$(cat "$OUT")"
jcheck "a table denial names its row" "$D" \
  'any(r["syscall"] == "ptrace" and r["decision"] == "deny" and r["rule"].startswith("table: ptrace EPERM: ") for r in recs)'

# ---------------------------------------------------------------- clone3: a fallback, not a denial

F=$TMPROOT/fork.jsonl
expect_exit 0 "sh -c 'ls | cat', audited" -- "$USBOX" exec --audit "$F" -- sh -c 'ls / | cat >/dev/null'
jcheck "a pipeline of a shell logs no \"deny\"" "$F" \
  'recs' 'not any(r["decision"] == "deny" for r in recs)'
T=$TMPROOT/thread.jsonl
expect_exit 0 "a thread (glibc tries clone3 first), audited" -- "$USBOX" exec --audit "$T" -- \
  "$PY" -c 'import threading; t = threading.Thread(target=print, args=("in a thread",)); t.start(); t.join()'
expect_eq "the thread ran" "in a thread" "$(cat "$OUT")"
jcheck "clone3 is a \"fallback\" line naming its table row, never a \"deny\"" "$T" \
  'any(r["syscall"] == "clone3" and r["decision"] == "fallback" and r["errno"] == "ENOSYS" and r["rule"].startswith("table: clone3 ENOSYS") for r in recs)' \
  'not any(r["decision"] == "deny" for r in recs)'

# ---------------------------------------------------------------- refused connects and names

# a service on the host's loopback, which no rule gives the sandbox
cat >"$TMPROOT/listen.py" <<'EOF'
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept(); c.close()
EOF
"$PY" "$TMPROOT/listen.py" "$TMPROOT/port" &
track_bg $!
for _ in $(seq 100); do [ -s "$TMPROOT/port" ] && break; sleep 0.05; done
PORT=$(cat "$TMPROOT/port")
OTHER=$((PORT == 65535 ? PORT - 1 : PORT + 1))
cat >"$TMPROOT/net.py" <<'EOF'
import errno, socket, sys
def connect(host, port):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((host, port)); return "connected"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
print("host-loopback", connect("127.0.0.1", int(sys.argv[1])))
print("testnet", connect("192.0.2.1", 80))
try:
    socket.getaddrinfo("refused.example", 80); print("dns resolved")
except socket.gaierror as e:
    print("dns", e.errno == socket.EAI_NONAME)
EOF
N=$TMPROOT/net.jsonl
expect_exit 0 "connects and a name, with another rule only" -- \
  "$USBOX" exec --audit "$N" --net-allow "127.0.0.1:$OTHER" -- "$PY" "$TMPROOT/net.py" "$PORT"
expect_eq "what the agent sees (unchanged)" \
  "host-loopback ECONNREFUSED|testnet EACCES|dns True" "$(paste -sd'|' "$OUT")"
# (a socket with a timeout is non-blocking: its connect says EINPROGRESS,
# and the refusal comes with its SO_ERROR)
jcheck "the host's loopback service: a \"deny\" that says why" "$N" \
  'any(r["syscall"] == "connect" and r["arg"] == "tcp 127.0.0.1:'"$PORT"'" and r["decision"] == "deny" and r["errno"] in ("ECONNREFUSED", "EINPROGRESS") and "no --net-allow rule gives the host" in r["rule"] for r in recs)'
jcheck "an address no rule allows: \"deny\", EACCES, the rule" "$N" \
  'any(r["syscall"] == "connect" and r["arg"] == "tcp 192.0.2.1:80" and r["decision"] == "deny" and r["errno"] == "EACCES" and r["rule"] == "no --net-allow rule allows it" for r in recs)'
jcheck "a name no rule names: a dns \"deny\" line with its rule" "$N" \
  'any(r["syscall"] == "dns" and r["arg"] == "refused.example" and r["decision"] == "deny" and r["rule"] == "no --net-allow rule names it: NXDOMAIN" for r in recs)'

# ---------------------------------------------------------------- the -v report

cat >"$TMPROOT/all.py" <<'EOF'
import subprocess, sys, threading
# the missing file ten times: more than any file python looks for and lacks
for p in ["/etc/hostname", "/etc/hostname", "/etc/shadow"] + [sys.argv[1]] * 10:
    try: open(p)
    except OSError: pass
t = threading.Thread(target=lambda: None); t.start(); t.join()
subprocess.run([sys.executable, sys.argv[2], sys.argv[3]], stdout=subprocess.DEVNULL)
EOF
expect_exit 0 "-v: hidden, missing, refused connects and names, a thread" -- \
  "$USBOX" exec -v --hide /etc/hostname --net-allow "127.0.0.1:$OTHER" -- \
  "$PY" "$TMPROOT/all.py" "$MISSING" "$TMPROOT/net.py" "$PORT"
cp "$ERR" "$TMPROOT/v.err"
# the lines of one section of the report: its heading, then its entries
section() { awk -v h="$1" 'index($0, h) == 1 { on = 1; print; next } on && /^usbox:   / { print; next } { on = 0 }' "$TMPROOT/v.err"; }
expect_grep "counts by decision" \
  '^usbox: decisions: [0-9]+ \(emulate [1-9][0-9]*, kernel [1-9][0-9]*, deny [1-9][0-9]*, hidden 3, fallback [1-9][0-9]*\)$' "$TMPROOT/v.err"
expect_grep "fallbacks have their line, clone3 in it" \
  '^usbox: calls answered ENOSYS, as a kernel without them \(the program falls back\): [1-9][0-9]* \(.*clone3 [1-9]' "$TMPROOT/v.err"
section "usbox: hidden paths" >"$TMPROOT/v.hidden"
expect_grep "hidden paths: three, in their own section" '^usbox: hidden paths .*: 3$' "$TMPROOT/v.hidden"
expect_grep "hidden: the --hide path twice, with its rule" '^usbox:   2 /etc/hostname \(hide /etc/hostname\)$' "$TMPROOT/v.hidden"
expect_grep "hidden: the built-in secret, with its entry" '^usbox:   1 /etc/shadow \(built-in secret /etc/shadow\)$' "$TMPROOT/v.hidden"
section "usbox: absent paths" >"$TMPROOT/v.absent"
expect_grep "absent paths: the missing file first, with no rule" "^usbox:   10 $MISSING\$" "$TMPROOT/v.absent"
if grep -q "/etc/hostname\|/etc/shadow" "$TMPROOT/v.absent"; then
  fail "a hidden path is listed as absent"
  show "absent" "$TMPROOT/v.absent"
else
  pass "no hidden path among the absent ones"
fi
section "usbox: refused network calls" >"$TMPROOT/v.net"
expect_grep "refused network calls: two" '^usbox: refused network calls: 2$' "$TMPROOT/v.net"
expect_grep "refused: the testnet address, with its rule" \
  '^usbox:   1 tcp 192\.0\.2\.1:80 \(no --net-allow rule allows it\)$' "$TMPROOT/v.net"
expect_grep "refused: the host's loopback service, with why" \
  "^usbox:   1 tcp 127\\.0\\.0\\.1:$PORT \\(the sandbox's own loopback: nothing listens there, and no --net-allow rule gives the host's\\)\$" "$TMPROOT/v.net"
section "usbox: refused DNS names" >"$TMPROOT/v.dns"
expect_grep "refused DNS names: the name, with its rule" \
  '^usbox:   [1-9][0-9]* refused\.example \(no --net-allow rule names it: NXDOMAIN\)$' "$TMPROOT/v.dns"
expect_exit 0 "without -v" -- "$USBOX" exec --hide /etc/hostname -- "$PY" "$TMPROOT/all.py" "$MISSING" "$TMPROOT/net.py" "$PORT"
expect_eq "no report without -v" "" "$(cat "$ERR")"

# ---------------------------------------------------------------- usbox policy show / check

U=$USBOX_REAL
expect_exit 0 "policy show" -- "$U" policy show
cp "$OUT" "$TMPROOT/default.json"
if "$PY" -c 'import json, sys; json.load(sys.stdin)' <"$TMPROOT/default.json" 2>"$TMPROOT/py.err"; then
  pass "policy show prints JSON"
else
  fail "policy show's output is not JSON"
  show "python" "$TMPROOT/py.err"
fi
expect_eq "the default policy: the read-only root, the private /tmp, the defaults of each part" \
  "[{'source': '/', 'destination': '/', 'writable': False}, {'type': 'tmpfs', 'destination': '/tmp'}] True filtered False strict usbox" \
  "$("$PY" -c 'import json, sys; p = json.load(sys.stdin); print(p["mounts"], p["default_hide"], p["network"]["mode"], p["env"]["clear"], p["limits"]["mode"], p["hostname"])' <"$TMPROOT/default.json")"
expect_exit 0 "policy show | policy check -" -- sh -c "'$U' policy show | '$U' policy check -"
expect_eq "the default policy reads back as itself" "$(cat "$TMPROOT/default.json")" "$(cat "$OUT")"

cat >"$TMPROOT/good.json" <<EOF
{
  "mounts": [{"source": "$TMPROOT", "destination": "/tmp/work", "writable": true},
             {"type": "tmpfs", "destination": "/tmp/scratch"}],
  "hide": ["/etc/hostname"],
  "network": {"allow": ["api.openai.com:443"]},
  "env": {"set": {"CI": "1"}},
  "limits": {"memory": "512M"},
  "hostname": "build-7"
}
EOF
expect_exit 0 "policy check of a good file" -- "$U" policy check "$TMPROOT/good.json"
cp "$OUT" "$TMPROOT/good.out"
expect_eq "it prints the effective policy: the file's values and the defaults merged" \
  "['/', '/tmp', '/tmp/scratch', '/tmp/work'] ['/etc/hostname'] ['api.openai.com:443'] filtered {'CI': '1'} 536870912 5 build-7" \
  "$("$PY" -c 'import json, sys; p = json.load(sys.stdin); print([m["destination"] for m in p["mounts"]], p["hide"], p["network"]["allow"], p["network"]["mode"], p["env"]["set"], p["limits"]["memory"], p["limits"]["timeout_grace"], p["hostname"])' <"$TMPROOT/good.out")"
expect_exit 0 "its output checked again" -- "$U" policy check "$TMPROOT/good.out"
expect_eq "reads back as itself" "$(cat "$TMPROOT/good.out")" "$(cat "$OUT")"

# bad_policy NAME JSON MESSAGE-REGEX: exit 125, one line, the JSON path named
bad_policy() {
  local name=$1 json=$2 re=$3
  printf '%s\n' "$json" >"$TMPROOT/bad.json"
  expect_exit 125 "policy check: $name -> 125" -- "$U" policy check "$TMPROOT/bad.json"
  expect_eq "policy check: $name: one line" 1 "$(wc -l <"$ERR")"
  expect_grep "policy check: $name: the message" "^usbox: policy $TMPROOT/bad.json: $re" "$ERR"
  expect_eq "policy check: $name: nothing on stdout" "" "$(cat "$OUT")"
}
bad_policy "an unknown key" '{"mountz": []}' '\.mountz: unknown field'
bad_policy "a wrong type, deep" '{"mounts": [{"source": "/usr"}, {"source": "/usr", "writable": "yes"}]}' \
  '\.mounts\[1\]\.writable: must be true or false'
bad_policy "a relative destination" '{"mounts": [{"source": "/usr", "destination": "work"}]}' \
  '\.mounts\[0\]\.destination: must be an absolute path'
bad_policy "a bad network rule" '{"network": {"allow": ["a.example:443", "b.example:0"]}}' \
  '\.network\.allow\[1\]: --net-allow b\.example:0'
bad_policy "a bad limit" '{"limits": {"memory": "lots"}}' '\.limits\.memory: '
bad_policy "invalid JSON" $'{\n  "hide": ["/x",]\n}' 'invalid JSON at line 2, column 17'
bad_policy "a key twice" '{"hide": [], "hide": ["/x"]}' 'the top level: "hide" is given twice'
bad_policy "a path both bound and hidden" '{"mounts": [{"source": "/usr"}], "hide": ["/usr"]}' \
  '/usr is both bound and hidden'
expect_exit 125 "policy check of a missing file" -- "$U" policy check "$TMPROOT/none.json"
expect_grep "names the file" "^usbox: policy file $TMPROOT/none.json: No such file" "$ERR"
expect_exit 125 "policy check without a file" -- "$U" policy check
expect_grep "says so, as usbox" "^usbox: policy check: no file given" "$ERR"
expect_exit 125 "policy with no command" -- "$U" policy
expect_exit 125 "policy frobnicate" -- "$U" policy frobnicate
expect_grep "names the unknown command" "^usbox: policy: unknown command 'frobnicate'" "$ERR"

# ---------------------------------------------------------------- docs/policy.md documents every key

# The table "The policy file, key by key": each example must be accepted
# and must print its key; the keys printed for all of them must all be in
# the table. (A seccomp profile to name, in the directory the checks run.)
mkdir -p "$TMPROOT/docs" && printf '{"defaultAction": "SCMP_ACT_ALLOW"}\n' >"$TMPROOT/docs/seccomp.json"
cat >"$TMPROOT/doc_keys.py" <<'EOF'
import json, re, subprocess, sys
doc, usbox = sys.argv[1], sys.argv[2]
rows, in_table = [], False
for line in open(doc):
    if line.startswith("### The policy file, key by key"):
        in_table = True
    elif line.startswith("#"):
        in_table = False
    m = re.match(r"^\| `([a-z_.\[\]]+)` \| `(\{.*?\})` \|", line) if in_table else None
    if m:
        rows.append((m.group(1), m.group(2)))
if len(rows) < 20:
    sys.exit("only %d rows found in the table" % len(rows))
def paths(v, prefix=""):
    """Every key path of a JSON value: a.b, a[].b."""
    if isinstance(v, dict):
        for k, x in v.items():
            if prefix in ("env.set",):  # names of variables, not keys
                continue
            p = prefix + "." + k if prefix else k
            yield p
            yield from paths(x, p)
    elif isinstance(v, list):
        for x in v:
            yield from paths(x, prefix + "[]")
documented, printed, bad = {k for k, _ in rows}, set(), 0
for key, example in rows:
    r = subprocess.run([usbox, "policy", "check", "-"], input=example, capture_output=True, text=True)
    if r.returncode != 0:
        print("%s: its example is refused: %s" % (key, r.stderr.strip())); bad += 1; continue
    out = set(paths(json.loads(r.stdout)))
    printed |= out
    if key not in out:
        print("%s: not in what `policy check` prints for its example" % key); bad += 1
for key in sorted(printed - documented):
    print("%s: printed by `policy check`, not in the table" % key); bad += 1
print("%d keys documented, %d printed" % (len(documented), len(printed)))
sys.exit(1 if bad else 0)
EOF
expect_exit 0 "docs/policy.md: every key's example is accepted and printed; every printed key is documented" -- \
  sh -c "cd '$TMPROOT/docs' && '$PY' '$TMPROOT/doc_keys.py' '$SRCDIR/docs/policy.md' '$U'"
show "doc keys" "$OUT"

finish
