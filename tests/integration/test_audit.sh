#!/usr/bin/env bash
# --audit FILE and -v: one valid JSON line per decision, the right decision
# and errno for emulated, kernel-performed, failing and denied calls; the -v
# summary; an unwritable audit path.
. "$(dirname "$0")/lib.sh"

A=$TMPROOT/audit.jsonl

# audit_check FILE PYTHON-EXPR...: every line of FILE must be a JSON object
# with the documented keys; each expression (over `recs`, the parsed list)
# must be true. Prints what failed.
cat >"$TMPROOT/check.py" <<'EOF'
import json, sys
path, exprs = sys.argv[1], sys.argv[2:]
recs, bad = [], 0
for n, line in enumerate(open(path, "rb").read().split(b"\n")[:-1], 1):
    try:
        r = json.loads(line)
        assert isinstance(r, dict), "not an object"
        missing = {"time", "pid", "syscall", "arg", "decision", "errno", "result"} - r.keys()
        assert not missing, "missing keys %s" % sorted(missing)
        assert r["decision"] in ("emulate", "kernel", "deny", "hidden", "fallback"), \
            "decision %r" % r["decision"]
        assert r.get("rule"), "no rule named"
        assert r["errno"] == 0 or (isinstance(r["errno"], str) and r["errno"].startswith("E")), \
            "errno %r" % r["errno"]
        recs.append(r)
    except Exception as e:
        bad += 1
        print("line %d is not a valid record (%s): %r" % (n, e, line[:200]))
if not recs:
    print("no records")
    bad += 1
for e in exprs:
    if not eval(e):
        bad += 1
        print("false: " + e)
sys.exit(1 if bad else 0)
EOF
audit_check() {
  local name=$1 file=$2
  shift 2
  if python3 "$TMPROOT/check.py" "$file" "$@" >"$TMPROOT/check.out" 2>&1; then
    pass "$name"
  else
    fail "$name"
    show "audit check" "$TMPROOT/check.out"
  fi
}

# ---------------------------------------------------------------- a successful run

expect_exit 0 "cat /etc/hostname with --audit" -- "$USBOX" exec --audit "$A" -- cat /etc/hostname
expect_eq "program output unchanged by --audit" "$(cat /etc/hostname)" "$(cat "$OUT")"
expect_eq "audit file created with mode 600" 600 "$(stat -c %a "$A")"
audit_check "cat: every line valid JSON; openat /etc/hostname emulated, errno 0; execve kernel" "$A" \
  'any(r["syscall"] == "openat" and r["arg"] == "/etc/hostname" and r["decision"] == "emulate" and r["errno"] == 0 and r["result"] >= 0 for r in recs)' \
  'any(r["syscall"] == "execve" and r["decision"] == "kernel" and r["errno"] == 0 and r["arg"].endswith("/cat") for r in recs)' \
  'all(r["pid"] > 0 and r["time"].endswith("Z") for r in recs)' \
  'not any(r["decision"] == "deny" for r in recs)'

# ---------------------------------------------------------------- appending, failing open

lines_before=$(wc -l <"$A")
expect_exit 1 "cat /nonexistent with --audit" -- "$USBOX" exec --audit "$A" -- cat /nonexistent
expect_grep "cat's own error message" "No such file or directory" "$ERR"
if [ "$(wc -l <"$A")" -gt "$lines_before" ] && [ "$(head -n "$lines_before" "$A" | grep -c /etc/hostname)" -ge 1 ]; then
  pass "a second run appends to the audit file"
else
  fail "audit file was not appended to"
fi
audit_check "failing open logged with errno ENOENT" "$A" \
  'any(r["syscall"] == "openat" and r["arg"] == "/nonexistent" and r["decision"] == "emulate" and r["errno"] == "ENOENT" and r["result"] == -1 for r in recs)'

# ---------------------------------------------------------------- denied call

PTRACE_PY='import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(101, 0, 0, 0, 0)
print(r, os.strerror(ctypes.get_errno()))'
D=$TMPROOT/deny.jsonl
expect_exit 0 "ptrace with --audit" -- "$USBOX" exec --audit "$D" -- python3 -c "$PTRACE_PY"
expect_eq "ptrace returns EPERM to the program (--audit)" "-1 Operation not permitted" "$(cat "$OUT")"
audit_check "ptrace logged as deny / EPERM with its rule" "$D" \
  'sum(1 for r in recs if r["syscall"] == "ptrace" and r["decision"] == "deny" and r["errno"] == "EPERM" and r["result"] == -1 and r.get("rule")) == 1'
expect_exit 0 "ptrace without --audit" -- "$USBOX" exec -- python3 -c "$PTRACE_PY"
expect_eq "ptrace returns EPERM to the program (BPF answer)" "-1 Operation not permitted" "$(cat "$OUT")"
expect_eq "no summary without -v" "" "$(cat "$ERR")"

# ---------------------------------------------------------------- -v summary

expect_exit 0 "-v with two ptrace calls" -- "$USBOX" exec -v -- python3 -c "$PTRACE_PY
r = libc.syscall(101, 0, 0, 0, 0)"
expect_eq "ptrace returns EPERM to the program (-v)" "-1 Operation not permitted" "$(cat "$OUT")"
expect_grep "-v: calls emulated line" "^usbox: calls emulated: [1-9][0-9]* \(.*openat [1-9]" "$ERR"
expect_grep "-v: calls denied line with the ptrace count" "^usbox: calls denied: 2 \(ptrace 2 EPERM\)" "$ERR"
expect_grep "-v: kernel-performed line counts execve" "^usbox: calls checked, then performed by the kernel: .*execve [1-9]" "$ERR"
expect_exit 0 "-v on a run without denials" -- "$USBOX" exec -v -- true
expect_grep "-v: zero denials reported" "^usbox: calls denied: 0" "$ERR"
expect_exit 3 "-v keeps the program's exit status" -- "$USBOX" exec -v -- sh -c 'exit 3'

# ---------------------------------------------------------------- escaping

weird=$TMPROOT/$'q"uo\\te\x01ctl\xc3\xa9'
printf x >"$weird"
W=$TMPROOT/weird.jsonl
expect_exit 0 "cat of a file with quotes, backslash, control and non-ASCII bytes" -- \
  "$USBOX" exec --audit "$W" -- cat "$weird"
expect_eq "its content" x "$(cat "$OUT")"
expect_grep "control byte escaped as \\u0001" '\\u0001' "$W"
printf '%s' "$weird" >"$TMPROOT/weird.name"
audit_check "escaped arg decodes to the path's bytes" "$W" \
  "any(r['syscall'] == 'openat' and r['arg'].encode('latin-1', 'replace') == open('$TMPROOT/weird.name', 'rb').read() for r in recs)"

# ---------------------------------------------------------------- children are audited too

C=$TMPROOT/children.jsonl
expect_exit 0 "audit of a shell with children" -- \
  "$USBOX" exec --audit "$C" -- sh -c 'cat /etc/hostname >/dev/null; ls / >/dev/null'
audit_check "records from several pids, execve of sh, cat and ls" "$C" \
  'len({r["pid"] for r in recs}) >= 3' \
  '{"sh", "cat", "ls"} <= {r["arg"].rsplit("/", 1)[-1] for r in recs if r["syscall"] == "execve" and r["decision"] == "kernel"}'

# ---------------------------------------------------------------- a flood is bounded

# A program denied the same call in a tight loop for 2 s, with a 4 KB path
# (on fb0db48: ~8 KB a line, 18-27 MB/s): a handful of lines a second plus
# counts, each argument cut to 256 bytes with its length.
cat >"$TMPROOT/flood.py" <<'EOF'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
long = b"/nonexistent/" + b"/".join([b"d" * 200] * 19)  # 3,831 bytes
distinct = len(sys.argv) > 1
n, end = 0, time.monotonic() + 2
while time.monotonic() < end:
    if distinct:
        libc.access(long + b"/%d" % n, 0)              # ENOENT, each path new
    else:
        libc.syscall(165, b"/x", b"/y", b"tmpfs", 0, None)  # mount: denied
        libc.access(long, 0)                          # ENOENT
    n += 1
print(n)
EOF
F=$TMPROOT/flood.jsonl
expect_exit 0 "2 s of denied mounts and failing accesses with a 3.8 KB path, --audit" -- \
  "$USBOX" exec --audit "$F" -- python3 "$TMPROOT/flood.py"
calls=$(cat "$OUT")
ours='(lambda r: r["syscall"] == "access" and (r["arg"] or "").startswith("/nonexistent/d"))'
audit_check "repeated decisions: a few lines a second, and counts that add up to every call ($calls)" "$F" \
  "sum(r.get('repeated', 1) for r in recs if r['syscall'] == 'mount') == $calls" \
  "(ours := $ours) and sum(r.get('repeated', 1) for r in recs if ours(r)) == $calls" \
  "len([r for r in recs if r['syscall'] == 'mount' or ours(r)]) <= 40" \
  "all(len(r['arg']) == 256 and r['arg_len'] == 3831 for r in recs if ours(r))" \
  "sum(len(json.dumps(r)) for r in recs if r['syscall'] == 'mount' or ours(r)) < 20000" \
  "$calls > 1000"

# distinct paths, each a new decision: the file stops at --audit-max, with
# a "full" line, and an "end" line counting what was not written
G=$TMPROOT/capped.jsonl
expect_exit 0 "2 s of failing accesses, each path new, --audit-max 256k" -- \
  "$USBOX" exec --audit "$G" --audit-max 256k -- python3 "$TMPROOT/flood.py" distinct
calls=$(cat "$OUT")
size=$(stat -c %s "$G")
expect_eq "the file is at most 256 KiB ($size bytes for $calls calls)" yes "$([ "$size" -le 262144 ] && [ "$size" -gt 200000 ] && echo yes)"
cat >"$TMPROOT/capcheck.py" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
full = [i for i, r in enumerate(lines) if r.get("audit") == "full"]
assert len(full) == 1 and lines[full[0]]["max_bytes"] == 262144, full
end = lines[-1]
assert end.get("audit") == "end", end
written = sum(1 for r in lines if (r.get("arg") or "").startswith("/nonexistent/d"))
assert end["dropped"] > 0 and written + end["dropped"] >= int(sys.argv[2]), (written, end)
print("written", written, "dropped", end["dropped"])
EOF
expect_exit 0 "capped: one \"full\" line, then an \"end\" line counting the dropped" -- \
  python3 "$TMPROOT/capcheck.py" "$G" "$calls"
expect_exit 125 "--audit-max 12 -> 125" -- "$USBOX" exec --audit "$G" --audit-max 12 -- true
expect_grep "names the flag" "^usbox.*--audit-max 12" "$ERR"

# ---------------------------------------------------------------- unwritable audit path

expect_exit 125 "--audit in a missing directory -> 125" -- \
  "$USBOX" exec --audit "$TMPROOT/no/such/dir/a.jsonl" -- true
expect_eq "one line on stderr" 1 "$(wc -l <"$ERR")"
expect_grep "the line is usbox's and names the path" "^usbox.*no/such/dir" "$ERR"
expect_eq "the program did not run" "" "$(cat "$OUT")"
expect_exit 125 "--audit on a directory -> 125" -- "$USBOX" exec --audit "$TMPROOT" -- echo ran
expect_eq "one line on stderr" 1 "$(wc -l <"$ERR")"
expect_eq "the program did not run" "" "$(cat "$OUT")"
printf x >"$TMPROOT/plainfile"
expect_exit 125 "--audit under a regular file (ENOTDIR) -> 125" -- \
  "$USBOX" exec --audit "$TMPROOT/plainfile/a.jsonl" -- echo ran
expect_eq "one line on stderr" 1 "$(wc -l <"$ERR")"
expect_eq "the program did not run" "" "$(cat "$OUT")"

# --audit - is usbox's standard error (no file named "-")
mkdir -p "$TMPROOT/dash" && cd "$TMPROOT/dash" || exit 1
expect_exit 0 "--audit -" -- "$USBOX" exec --audit - -- cat /etc/hostname
expect_grep "the audit lines on stderr" '"syscall":"openat","arg":"/etc/hostname","decision":"emulate"' "$ERR"
expect_eq "the program's own output on stdout only" "$(cat /etc/hostname)" "$(cat "$OUT")"
[ -e "$TMPROOT/dash/-" ] && fail "--audit - made a file named -" || pass "--audit - made no file"
cd "$TMPROOT" || exit 1

# usbox syscalls shows the value an argument rule compares with
expect_exit 0 "usbox syscalls" -- "$USBOX" syscalls
expect_grep "TIOCSTI's number is shown" "ioctl +arg1 masked 0xffffffff equals 0x5412 -> EPERM" "$OUT"

finish
