#!/usr/bin/env bash
# usbox as an OCI runtime, driven directly as engines drive runc (issue 12):
# bundles made by `usbox spec` around a busybox-static rootfs, every verb,
# what config.json asks of the container seen from inside it, and the error
# paths (exit 1, the message, nothing left in the state directory).
. "$(dirname "$0")/lib.sh"

U=$USBOX_REAL
ROOT=$TMPROOT/state
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && file -L "$BUSYBOX" 2>/dev/null | grep -q static ||
  { fail "a static busybox is needed (scripts/install-deps: busybox-static)"; finish; }

make_bundle() { # DIR: a bundle with a busybox rootfs and usbox's default spec
  local dir=$1
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp"
  cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
  for a in sh ls cat echo id mkdir touch sleep hostname env pwd rm grep; do
    ln -sf busybox "$dir/rootfs/bin/$a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$dir/rootfs/etc/passwd"
  echo "the image's secret" >"$dir/rootfs/etc/secret"
  mkdir -p "$dir/rootfs/data"
  ln -s /etc "$dir/rootfs/lnk" # inside the image: its /etc; resolved on the host: the host's
  (cd "$dir" && "$U" spec) || fail "usbox spec in $dir"
}

# edit DIR PYTHON: change config.json with a python expression on c
edit() {
  /usr/bin/python3 - "$1/config.json" "$2" <<'EOF'
import json, sys
path, code = sys.argv[1], sys.argv[2]
c = json.load(open(path))
exec(code)
json.dump(c, open(path, "w"), indent=1)
EOF
}

# the runtime as an engine calls it (a script: expect_exit runs commands, not functions)
cat >"$TMPROOT/rt" <<EOF
#!/bin/sh
exec timeout 60 "$U" --root "$ROOT" --log "$TMPROOT/oci.log" --log-format json "\$@"
EOF
chmod +x "$TMPROOT/rt"
rt() { "$TMPROOT/rt" "$@"; }
RT=$TMPROOT/rt

B=$TMPROOT/b1
make_bundle "$B"
expect_grep "spec: a default config" '"ociVersion"' "$B/config.json"
expect_exit 1 "spec: refuses to overwrite" -- "$U" spec --bundle "$B"
expect_eq "spec: runc's mounts, /dev/mqueue among them" \
  "/proc /dev /dev/pts /dev/shm /dev/mqueue /tmp /sys /sys/fs/cgroup" \
  "$(/usr/bin/python3 -c 'import json, sys; print(*[m["destination"] for m in json.load(open(sys.argv[1]))["mounts"]])' "$B/config.json")"
expect_exit 0 "features" -- "$U" features
expect_eq "features: every hook, the two inside the container too" \
  "prestart createRuntime createContainer startContainer poststart poststop" \
  "$(/usr/bin/python3 -c 'import json, sys; print(*json.load(open(sys.argv[1]))["hooks"])' "$OUT")"

# ---- the life of one container ----
edit "$B" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "echo out:$(hostname):$(id -u):$(pwd):$GREETING; cat /etc/secret; exit 3"]
c["process"]["env"].append("GREETING=hi")
c["process"]["cwd"] = "/etc"
c["hostname"] = "boxy"'
expect_exit 0 "create" -- "$RT" create --bundle "$B" --pid-file "$TMPROOT/pid" life
rt state life >"$TMPROOT/state.json"
expect_grep "state after create: created" '"status":.*"created"' "$TMPROOT/state.json"
pid=$(cat "$TMPROOT/pid" 2>/dev/null)
expect_grep "pid file is the state's pid" "\"pid\":[[:space:]]*${pid:-none}," "$TMPROOT/state.json"
[ -p "$ROOT/life/start" ] || fail "created: the start FIFO exists"
rt list >"$TMPROOT/list"
expect_grep "list shows it" '^life +[0-9]+ +created' "$TMPROOT/list"
expect_exit 1 "delete refuses a created container" -- "$RT" delete life
expect_exit 0 "start" -- "$RT" start life
wait_gone "$pid" 10 || fail "the container ended"
rt state life >"$TMPROOT/state.json"
expect_grep "state after its end: stopped" '"status":.*"stopped"' "$TMPROOT/state.json"
expect_exit 1 "start again refused" -- "$RT" start life
expect_exit 0 "delete" -- "$RT" delete life
[ -e "$ROOT/life" ] && fail "delete: $ROOT/life is left"
expect_exit 1 "state of a deleted container" -- "$RT" state life
expect_grep "the error is in the JSON log" '"level":"error".*"msg":"container life does not exist' "$TMPROOT/oci.log"

# run: the container's stdout and exit status are run's
expect_exit 3 "run: exit status" -- "$RT" run --bundle "$B" runner
expect_grep "run: hostname, uid, cwd, env" '^out:boxy:0:/etc:hi$' "$OUT"
expect_grep "run: the image's own files" "^the image's secret$" "$OUT"
[ -e "$ROOT/runner" ] && fail "run: deleted after the end"

# ---- what config.json asks ----
B2=$TMPROOT/b2
make_bundle "$B2"
mkdir -p "$TMPROOT/share" && echo host-data >"$TMPROOT/share/in"
mkdir -p "$TMPROOT/roshare" && echo ro-data >"$TMPROOT/roshare/in"
edit "$B2" 'c["process"]["terminal"] = False
c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [2000]}
c["process"]["args"] = ["sh", "-c", """
id -u; id -G
cat /share/in; echo from-box >/share/out
cat /ro/in; echo x 2>/dev/null >/ro/out || echo ro-refused
touch /rootfile 2>/dev/null || echo rootfs-readonly
echo t >/scratch/t && cat /scratch/t
cat /etc/secret 2>/dev/null || echo secret-masked
ls /etc/hidden-by-annotation 2>/dev/null || echo annotation-hidden
"""]
c["mounts"].append({"destination": "/share", "type": "bind", "source": "'"$TMPROOT"'/share", "options": ["rbind", "rw"]})
c["mounts"].append({"destination": "/ro", "type": "bind", "source": "'"$TMPROOT"'/roshare", "options": ["rbind", "ro"]})
c["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs"})
c["linux"]["maskedPaths"].append("/etc/secret")
c["annotations"] = {"dev.usbox.hide": "/etc/hidden-by-annotation"}'
mkdir -p "$B2/rootfs/etc/hidden-by-annotation"
chmod 0777 "$TMPROOT/share"
expect_exit 0 "config: run" -- "$RT" run --bundle "$B2" cfg
for line in '^1000$' '^1000 2000$' '^host-data$' '^ro-data$' '^ro-refused$' '^rootfs-readonly$' \
  '^t$' '^secret-masked$' '^annotation-hidden$'; do
  expect_grep "config: $line" "$line" "$OUT"
done
expect_eq "config: the rw bind wrote the host" from-box "$(cat "$TMPROOT/share/out" 2>/dev/null)"
[ -e "$TMPROOT/roshare/out" ] && fail "config: the ro bind was written"
[ -e "$B2/rootfs/rootfile" ] && fail "config: the read-only rootfs was written"
[ -d "$B2/rootfs/scratch" ] || fail "config: the tmpfs mount point was made in the rootfs (as runc)"

# a bind at /dev/shm (an engine's pod-wide shm directory) takes the place
# of usbox's private tmpfs there: what one container writes, another sees
mkdir -p "$TMPROOT/shmdir" && chmod 1777 "$TMPROOT/shmdir" && echo from-host >"$TMPROOT/shmdir/in"
B11=$TMPROOT/b11
make_bundle "$B11"
edit "$B11" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "cat /dev/shm/in; echo from-box >/dev/shm/out; grep \" /dev/shm \" /proc/self/mountinfo"]
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev/shm"]
c["mounts"].append({"destination": "/dev/shm", "type": "bind", "source": "'"$TMPROOT"'/shmdir", "options": ["rbind", "nosuid", "noexec", "nodev", "rw"]})'
expect_exit 0 "shm bind: run" -- "$RT" run --bundle "$B11" shmb
expect_grep "shm bind: the host directory's file" '^from-host$' "$OUT"
expect_eq "shm bind: the container wrote the host directory" from-box "$(cat "$TMPROOT/shmdir/out" 2>/dev/null)"
expect_eq "shm bind: one mount at /dev/shm, the bind (no private tmpfs under it)" 1 \
  "$(grep -c ' /dev/shm ' "$OUT")"

# ---- linux.seccomp: on top of usbox's own filter ----
B5=$TMPROOT/b5
make_bundle "$B5"
edit "$B5" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "mkdir /tmp/d && echo made; rmdir /tmp/d 2>&1 | grep -o \"Operation not permitted\""]
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  {"names": ["rmdir", "unlinkat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
expect_exit 0 "seccomp: run" -- "$RT" run --bundle "$B5" sc1
expect_grep "seccomp: mkdir still works" '^made$' "$OUT"
expect_grep "seccomp: the profile denies rmdir" 'Operation not permitted' "$OUT"
edit "$B5" 'c["linux"]["seccomp"]["syscalls"][0]["action"] = "SCMP_ACT_FOO"'
expect_exit 1 "seccomp: a bad profile" -- "$RT" create --bundle "$B5" sc2
expect_grep "seccomp: the message names the JSON path" 'config.json: .linux.seccomp: .*syscalls\[0\].action' "$ERR"
[ -e "$ROOT/sc2" ] && fail "seccomp: bad profile: state left"
if [ -r /usr/share/containers/seccomp.json ]; then
  edit "$B5" 'import json
c["linux"]["seccomp"] = json.load(open("/usr/share/containers/seccomp.json"))
c["process"]["args"] = ["sh", "-c", "echo podman-profile; ls / >/dev/null && mkdir /tmp/x && echo ok"]'
  expect_exit 0 "seccomp: Podman's default profile" -- "$RT" run --bundle "$B5" sc3
  expect_grep "seccomp: Podman's default profile runs sh" '^ok$' "$OUT"
else
  fail "seccomp: /usr/share/containers/seccomp.json is missing (scripts/install-deps)"
fi

# ---- dev.usbox.policy: a pod's own rules ----
B6=$TMPROOT/b6
make_bundle "$B6"
edit "$B6" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "cat /etc/secret 2>/dev/null || echo policy-hid-it"]
c["annotations"] = {"dev.usbox.policy": "{\"hide\": [\"/etc/secret\"]}"}'
expect_exit 0 "annotation policy: run" -- "$RT" run --bundle "$B6" pol
expect_grep "annotation policy: hides a path" '^policy-hid-it$' "$OUT"
edit "$B6" 'c["annotations"] = {"dev.usbox.policy": "{\"bogus\": 1}"}'
expect_exit 1 "annotation policy: a bad one" -- "$RT" create --bundle "$B6" pol2
expect_grep "annotation policy: message" 'annotations.dev.usbox.policy: policy: \.bogus: unknown field' "$ERR"

# ---- oomScoreAdj; the engine's defaults file ----
edit "$B6" 'c["process"]["args"] = ["sh", "-c", "cat /proc/self/oom_score_adj; cat /etc/secret 2>/dev/null || echo default-hid-it"]
c["process"]["oomScoreAdj"] = 500
c["annotations"] = {}'
expect_exit 0 "oomScoreAdj: run" -- "$RT" run --bundle "$B6" oom
expect_grep "oomScoreAdj: the container's" '^500$' "$OUT"
expect_grep "without defaults the secret shows" "^the image's secret$" "$OUT"
# readonlyPaths on a writable rootfs: that path alone is read-only
edit "$B6" 'c["root"]["readonly"] = False
c["linux"]["readonlyPaths"].append("/data")
c["process"]["args"] = ["sh", "-c", "touch /data/x 2>/dev/null || echo data-readonly; touch /y && echo root-writable"]'
expect_exit 0 "readonlyPaths: run" -- "$RT" run --bundle "$B6" rop
expect_grep "readonlyPaths: the path is read-only" '^data-readonly$' "$OUT"
expect_grep "readonlyPaths: the rest is writable" '^root-writable$' "$OUT"
[ -e "$B6/rootfs/data/x" ] && fail "readonlyPaths: the host's copy was written"
edit "$B6" 'c["root"]["readonly"] = True
c["linux"]["readonlyPaths"].remove("/data")
c["process"]["args"] = ["sh", "-c", "cat /proc/self/oom_score_adj; cat /etc/secret 2>/dev/null || echo default-hid-it"]'
echo '{"hide": ["/etc/secret"]}' >"$TMPROOT/defaults.json"
expect_exit 0 "defaults file: run" -- env USBOX_OCI_CONFIG="$TMPROOT/defaults.json" "$RT" run --bundle "$B6" dflt
expect_grep "defaults file: hides a path in every container" '^default-hid-it$' "$OUT"
expect_exit 1 "defaults file: a missing one named" -- env USBOX_OCI_CONFIG="$TMPROOT/none.json" "$RT" create --bundle "$B6" dflt2
expect_grep "defaults file: missing: message" "the runtime's defaults $TMPROOT/none.json" "$ERR"
[ -e "$ROOT/dflt2" ] && fail "defaults file: missing: state left"

# ---- hooks: on the host, with the state on stdin ----
B7=$TMPROOT/b7
make_bundle "$B7"
cat >"$TMPROOT/hook" <<'EOF'
#!/bin/sh
# $1: where to write; the state arrives on stdin
cat >"$1"
pid=$(sed -n 's/.*"pid":[[:space:]]*\([0-9]*\).*/\1/p' "$1" | head -n 1)
[ "${pid:-0}" -gt 0 ] && readlink "/proc/$pid/ns/net" >"$1.netns"
exit 0
EOF
chmod +x "$TMPROOT/hook"
edit "$B7" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "echo hooked"]
h = "'"$TMPROOT"'"
c["hooks"] = {k: [{"path": h + "/hook", "args": ["hook", h + "/hook." + k], "timeout": 10}]
              for k in ["prestart", "createRuntime", "poststart", "poststop"]}'
expect_exit 0 "hooks: run" -- "$RT" run --bundle "$B7" hk
expect_grep "hooks: prestart got the state, creating" '"status":[[:space:]]*"creating"' "$TMPROOT/hook.prestart"
expect_grep "hooks: createRuntime got the id" '"id":[[:space:]]*"hk"' "$TMPROOT/hook.createRuntime"
expect_grep "hooks: poststart ran, running" '"status":[[:space:]]*"running"' "$TMPROOT/hook.poststart"
expect_grep "hooks: poststop ran, stopped" '"status":[[:space:]]*"stopped"' "$TMPROOT/hook.poststop"
[ "$(cat "$TMPROOT/hook.prestart.netns" 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ] &&
  fail "hooks: prestart's pid is in the container's network namespace, not the host's"
[ -s "$TMPROOT/hook.prestart.netns" ] || fail "hooks: prestart's pid names a live process"
edit "$B7" 'c["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}'
expect_exit 1 "hooks: a failing prestart" -- "$RT" create --bundle "$B7" hk2
expect_grep "hooks: failing prestart: message" 'hook prestart\[0\] /bin/sh failed \(exit status 3\)' "$ERR"
[ -e "$ROOT/hk2" ] && fail "hooks: failing prestart: state left"
edit "$B7" 'c["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
expect_exit 1 "hooks: a prestart out of time" -- "$RT" create --bundle "$B7" hk3
expect_grep "hooks: timeout: message" 'ran out of time' "$ERR"

# ---- hooks inside the container: createContainer and startContainer ----
# Each runs as `exec` runs a process in the container: its view (its /tmp,
# which the container's process then reads), its filter and sentry (a
# masked path stays hidden), its capabilities, fds 0-2 only; nothing of
# the host's beyond what the container sees.
B9=$TMPROOT/b9
make_bundle "$B9"
echo "the host's own file" >"$TMPROOT/host-only"
mkdir -p "$TMPROOT/hmark"
cat >"$B9/rootfs/bin/starthook" <<EOF
#!/bin/sh
cat >/tmp/hookstate
echo ran >/tmp/hook-ran
echo said-by-hook
cat $TMPROOT/host-only 2>/dev/null || echo hook-host-hidden >/tmp/hook-host
cat /etc/secret 2>/dev/null || echo hook-secret-hidden >/tmp/hook-secret
ls /proc/self/fd | tr '\n' ' ' >/tmp/hook-fds
grep CapEff /proc/self/status >/tmp/hook-caps
EOF
chmod +x "$B9/rootfs/bin/starthook"
edit "$B9" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", """
cat /tmp/hook-ran /tmp/cc-ran /tmp/hook-host /tmp/hook-secret
echo fds:$(cat /tmp/hook-fds)
[ "$(cat /tmp/hook-caps)" = "$(grep CapEff /proc/self/status)" ] && echo same-caps
cat /tmp/hookstate; echo; cat /tmp/ccstate
"""]
c["linux"]["maskedPaths"].append("/etc/secret")
c["hooks"] = {
  "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat >/tmp/ccstate; echo cc >/tmp/cc-ran"]}],
  "startContainer": [{"path": "/bin/starthook", "timeout": 10}]}'
expect_exit 0 "hooks inside: run" -- "$RT" run --bundle "$B9" hin
expect_grep "hooks inside: startContainer ran before the process, in its /tmp" '^ran$' "$OUT"
expect_grep "hooks inside: createContainer too" '^cc$' "$OUT"
expect_grep "hooks inside: startContainer got the state, created" '"status":[[:space:]]*"created"' "$OUT"
expect_grep "hooks inside: with the id" '"id":[[:space:]]*"hin"' "$OUT"
expect_grep "hooks inside: createContainer got the state, creating" '"status":[[:space:]]*"creating"' "$OUT"
expect_grep "hooks inside: a host path outside the container is not there" '^hook-host-hidden$' "$OUT"
expect_grep "hooks inside: a masked path is hidden from it (the sentry's)" '^hook-secret-hidden$' "$OUT"
expect_grep "hooks inside: fds 0-2 only" '^fds:0 1 2 3$' "$OUT"
expect_grep "hooks inside: the container's capabilities" '^same-caps$' "$OUT"
expect_grep "hooks inside: its output is in the log" 'hook startContainer\[0\]: said-by-hook' "$TMPROOT/oci.log"

# a failing startContainer: start fails, the process never runs, the
# container is stopped and can be deleted
edit "$B9" 'c["process"]["args"] = ["sh", "-c", "touch /mark/proc-ran"]
c["mounts"].append({"destination": "/mark", "type": "bind", "source": "'"$TMPROOT"'/hmark", "options": ["rbind", "rw"]})
c["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "touch /mark/hook-ran; echo not today; exit 3"]}]}'
rt create --bundle "$B9" --pid-file "$TMPROOT/pidhf" hf >/dev/null 2>&1 || fail "create hf"
expect_exit 1 "hooks inside: a failing startContainer fails start" -- "$RT" start hf
expect_grep "hooks inside: failing startContainer: message" \
  '^usbox: cannot start container hf: hook startContainer\[0\] /bin/sh failed \(exit status 3\): not today$' "$ERR"
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "hooks inside: failing startContainer: one line ($(cat "$ERR"))"
[ -e "$TMPROOT/hmark/hook-ran" ] || fail "hooks inside: failing startContainer: the hook ran"
[ -e "$TMPROOT/hmark/proc-ran" ] && fail "hooks inside: failing startContainer: the process ran"
rt state hf >"$TMPROOT/state.json"
expect_grep "hooks inside: failing startContainer: stopped" '"status":.*"stopped"' "$TMPROOT/state.json"
running "$(cat "$TMPROOT/pidhf")" && fail "hooks inside: failing startContainer: the monitor is gone"
expect_exit 0 "hooks inside: failing startContainer: delete" -- "$RT" delete hf
# one out of time
edit "$B9" 'c["hooks"] = {"startContainer": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
rt create --bundle "$B9" ht >/dev/null 2>&1 || fail "create ht"
t0=$(date +%s)
expect_exit 1 "hooks inside: a startContainer out of time" -- "$RT" start ht
expect_grep "hooks inside: timeout: message" 'hook startContainer\[0\] /bin/sleep ran out of time' "$ERR"
[ $(($(date +%s) - t0)) -lt 10 ] || fail "hooks inside: timeout: start took $(($(date +%s) - t0)) s"
[ -e "$TMPROOT/hmark/proc-ran" ] && fail "hooks inside: timeout: the process ran"
expect_exit 0 "hooks inside: timeout: delete" -- "$RT" delete ht

# a failing createContainer: create fails and leaves nothing: no state, no
# pid file, no monitor, no cgroup
edit "$B9" 'c["hooks"] = {"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 1; exit 4"]}]}'
"$RT" create --bundle "$B9" --pid-file "$TMPROOT/pidcf" cf >"$TMPROOT/cf.out" 2>"$TMPROOT/cf.err" &
cpid=$!
for _ in $(seq 100); do [ -s "$ROOT/cf/state.json" ] && break; sleep 0.05; done
mon=$(sed -n 's/.*"pid":[[:space:]]*\([0-9]*\).*/\1/p' "$ROOT/cf/state.json" 2>/dev/null | head -n 1)
wait "$cpid"
expect_eq "hooks inside: a failing createContainer fails create" 1 "$?"
expect_grep "hooks inside: failing createContainer: message" \
  '^usbox: hook createContainer\[0\] /bin/sh failed \(exit status 4\)$' "$TMPROOT/cf.err"
[ -e "$ROOT/cf" ] && fail "hooks inside: failing createContainer: state left"
[ -e "$TMPROOT/pidcf" ] && fail "hooks inside: failing createContainer: pid file left"
if [ -n "$mon" ]; then
  running "$mon" && fail "hooks inside: failing createContainer: the monitor $mon is left"
  left=$(find /sys/fs/cgroup -maxdepth 6 \( -name "usbox-oci-$mon" -o -name "usbox-$mon" \) 2>/dev/null)
  expect_eq "hooks inside: failing createContainer: no cgroup left" "" "$left"
else
  fail "hooks inside: failing createContainer: its state was written before the hook ran"
fi
# the path is the container's: a host program is not found there
edit "$B9" 'c["hooks"] = {"createContainer": [{"path": "'"$TMPROOT"'/hook", "args": ["hook", "/x"]}]}'
expect_exit 1 "hooks inside: a host path is not the container's" -- "$RT" create --bundle "$B9" cp
expect_grep "hooks inside: not found in the container" "hook createContainer\[0\] $TMPROOT/hook: exec: No such file" "$ERR"
[ -e "$ROOT/cp" ] && fail "hooks inside: host path: state left"

# LABEL ID: container ID (pid file $TMPROOT/pidID, output $TMPROOT/ID.out)
# runs `trap "echo got-term; exit 7" TERM; echo up; ...` beside what a hook
# left: kill TERM reaches that process, not the leftover; then deleted
term_reaches_process() {
  local label=$1 id=$2 out=$TMPROOT/$2.out
  for _ in $(seq 200); do grep -q up "$out" && break; sleep 0.05; done
  grep -q up "$out" || fail "$label: the process did not start after the hook"
  expect_exit 0 "$label: kill TERM with a hook's leftover" -- "$RT" kill "$id" TERM
  wait_gone "$(cat "$TMPROOT/pid$id")" 10 || fail "$label: kill reached the container's process"
  expect_grep "$label: the process's handler ran" '^got-term$' "$out"
  expect_exit 0 "$label: delete $id" -- "$RT" delete "$id"
}

# what a hook leaves running stays in the container, and is not taken for
# its process: `kill` still reaches the process; start does not wait for
# the leftover's end of its output pipe
edit "$B9" 'c["process"]["args"] = ["sh", "-c", "trap \"echo got-term; exit 7\" TERM; echo up; while :; do sleep 0.1; done"]
c["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 300 & echo left one"]}]}'
rt create --bundle "$B9" --pid-file "$TMPROOT/pidhl" hl >"$TMPROOT/hl.out" 2>&1 || fail "create hl"
t0=$(date +%s)
expect_exit 0 "hooks inside: a startContainer that leaves a process behind" -- "$RT" start hl
[ $(($(date +%s) - t0)) -lt 10 ] || fail "hooks inside: start waited for the leftover"
term_reaches_process "hooks inside" hl
# before the start the signal is the monitor's still, whatever a
# createContainer hook left running
edit "$B9" 'c["hooks"] = {"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 300 &"]}]}'
rt create --bundle "$B9" --pid-file "$TMPROOT/pidhc" hc >/dev/null 2>&1 || fail "create hc"
expect_exit 0 "hooks inside: kill TERM while created, with a leftover" -- "$RT" kill hc TERM
wait_gone "$(cat "$TMPROOT/pidhc")" 10 || fail "hooks inside: kill while created ended the container"
expect_exit 0 "hooks inside: delete hc" -- "$RT" delete hc

# ---- kill, ps, delete --force ----
B3=$TMPROOT/b3
make_bundle "$B3"
edit "$B3" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "trap \"echo got-term; exit 7\" TERM; echo up; while :; do sleep 0.1; done"]'
rt create --bundle "$B3" --pid-file "$TMPROOT/pid3" k1 >"$TMPROOT/k1.out" 2>&1 || fail "create k1"
rt start k1 || fail "start k1"
for _ in $(seq 100); do grep -q up "$TMPROOT/k1.out" && break; sleep 0.05; done
rt state k1 >"$TMPROOT/state.json"
expect_grep "running" '"status":.*"running"' "$TMPROOT/state.json"
rt ps --format json k1 >"$TMPROOT/ps"
expect_grep "ps lists the container's processes" '^\[[0-9]+(,[0-9]+)*\]$' "$TMPROOT/ps"
expect_exit 0 "kill TERM" -- "$RT" kill k1 TERM
wait_gone "$(cat "$TMPROOT/pid3")" 10 || fail "kill: the container ended"
expect_grep "kill: the process's handler ran" '^got-term$' "$TMPROOT/k1.out"
expect_exit 1 "kill of a stopped container" -- "$RT" kill k1 KILL
expect_exit 0 "delete k1" -- "$RT" delete k1

# pause and resume: the processes frozen in their cgroup
mkdir -p "$TMPROOT/tick" && chmod 0777 "$TMPROOT/tick"
B8=$TMPROOT/b8
make_bundle "$B8"
edit "$B8" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i >/tick/n; sleep 0.02; done"]
c["mounts"].append({"destination": "/tick", "type": "bind", "source": "'"$TMPROOT"'/tick", "options": ["rbind", "rw"]})'
rt create --bundle "$B8" --pid-file "$TMPROOT/pid8" pz >/dev/null 2>&1 || fail "create pz"
expect_exit 1 "pause refuses a created container" -- "$RT" pause pz
rt start pz || fail "start pz"
for _ in $(seq 100); do [ -s "$TMPROOT/tick/n" ] && break; sleep 0.05; done
expect_exit 0 "pause" -- "$RT" pause pz
rt state pz >"$TMPROOT/state.json"
expect_grep "paused" '"status":.*"paused"' "$TMPROOT/state.json"
# the counter (0 while its file is between the writer's truncation and its
# write: the freeze may catch the writer there); after a resume it is
# waited for a little, until written
tick() {
  local v=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    v=$(cat "$TMPROOT/tick/n")
    [ -n "$v" ] && break
    sleep 0.05
  done
  echo "${v:-0}"
}
a=$(tick); sleep 0.5; b=$(tick)
expect_eq "paused: the process does not run" "$a" "$b"
expect_exit 1 "pause again refused" -- "$RT" pause pz
expect_exit 0 "resume" -- "$RT" resume pz
sleep 0.5
[ "$(tick)" -gt "$b" ] || fail "resumed: the process runs again"
rt state pz >"$TMPROOT/state.json"
expect_grep "running after resume" '"status":.*"running"' "$TMPROOT/state.json"
rt pause pz || fail "pause pz again"
expect_exit 0 "delete --force of a paused container" -- "$RT" delete --force pz
wait_gone "$(cat "$TMPROOT/pid8")" 10 || fail "paused, deleted: the monitor is gone"
pgrep -f "echo .i >/tick/n" >/dev/null && fail "paused, deleted: its process is gone"
# its freezer and its limits' cgroups (named after the monitor), at once:
# `delete` does not wait for pid 1 to reap the monitor
left=$(find /sys/fs/cgroup -maxdepth 6 \( -name "usbox-oci-$(cat "$TMPROOT/pid8")" -o \
  -name "usbox-$(cat "$TMPROOT/pid8")" \) 2>/dev/null)
expect_eq "paused, deleted: its freezer and limits cgroups are gone" "" "$left"

# kill while created, and delete --force of a running one
rt create --bundle "$B3" --pid-file "$TMPROOT/pid4" k2 >/dev/null 2>&1 || fail "create k2"
expect_exit 0 "kill KILL while created" -- "$RT" kill k2 KILL
wait_gone "$(cat "$TMPROOT/pid4")" 10 || fail "kill while created: the monitor ended"
expect_exit 0 "delete after kill" -- "$RT" delete k2
rt create --bundle "$B3" --pid-file "$TMPROOT/pid5" k3 >/dev/null 2>&1 || fail "create k3"
rt start k3 || fail "start k3"
rt ps --format json k3 >"$TMPROOT/ps3"
expect_exit 1 "delete refuses a running container" -- "$RT" delete k3
expect_exit 0 "delete --force" -- "$RT" delete --force k3
for p in $(tr -d '[]' <"$TMPROOT/ps3" | tr , ' ') $(cat "$TMPROOT/pid5"); do
  running "$p" && fail "delete --force: process $p is left"
done
[ -e "$ROOT/k3" ] && fail "delete --force: state left"

# ---- the console socket ----
B4=$TMPROOT/b4
make_bundle "$B4"
edit "$B4" 'c["process"]["args"] = ["sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo tty-ok; read line; echo got:$line"]'
# an engine's console socket: takes the pty master, types a line, reads
cat >"$TMPROOT/console_recv.py" <<'EOF'
import os, socket, sys, time, select
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 64, 1)
master = fds[0]
print("name:" + msg.decode())
os.write(master, b"hello\n")
out = b""
end = time.time() + 20
# until the other side is gone (EIO): closing the master while the process
# still runs would hang it up (SIGHUP), as an engine never does
while time.time() < end:
    r, _, _ = select.select([master], [], [], 0.5)
    if r:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
print(out.decode(errors="replace"))
EOF
/usr/bin/python3 "$TMPROOT/console_recv.py" "$TMPROOT/console.sock" >"$TMPROOT/console.out" 2>&1 &
recv=$!
track_bg "$recv"
for _ in $(seq 100); do [ -S "$TMPROOT/console.sock" ] && break; sleep 0.05; done
expect_exit 0 "create with --console-socket" -- "$RT" create --bundle "$B4" --console-socket "$TMPROOT/console.sock" --pid-file "$TMPROOT/pid6" con
rt start con || fail "start con"
wait_bg "$recv" 30 >/dev/null
expect_grep "console: the pty master arrived" '^name:/dev/ptmx' "$TMPROOT/console.out"
expect_grep "console: stdio is a terminal" 'tty-ok' "$TMPROOT/console.out"
expect_grep "console: input reached the container" 'got:hello' "$TMPROOT/console.out"
wait_gone "$(cat "$TMPROOT/pid6")" 10
rt delete --force con >/dev/null 2>&1
expect_exit 1 "terminal without --console-socket" -- "$RT" create --bundle "$B4" con2
expect_grep "the message says why" 'console-socket is needed' "$ERR"

# a container's process may make a session of its own (setsid), as what a
# hook leaves behind runs in the hook's: `kill` still finds the process
B10=$TMPROOT/b10
make_bundle "$B10"
ln -sf busybox "$B10/rootfs/bin/setsid"
edit "$B10" 'c["process"]["terminal"] = False
c["process"]["args"] = ["setsid", "sh", "-c", "trap \"echo got-term; exit 7\" TERM; echo up; while :; do sleep 0.1; done"]
c["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 300 & echo left one"]}]}'
rt create --bundle "$B10" --pid-file "$TMPROOT/pidss" ss >"$TMPROOT/ss.out" 2>&1 || fail "create ss"
rt start ss || fail "start ss"
term_reaches_process setsid ss

# ---- exec into a running container ----
BX=$TMPROOT/bexec
make_bundle "$BX"
edit "$BX" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "300"]
c["process"]["env"].append("FROMCONFIG=yes")
c["process"]["cwd"] = "/etc"
c["linux"]["maskedPaths"] = ["/etc/secret"]'
rt create --bundle "$BX" --pid-file "$TMPROOT/pid7" ex || fail "create ex"
expect_exit 1 "exec into a created container is refused" -- "$RT" exec ex true
expect_grep "it says why" 'cannot exec in a created container' "$ERR"
rt start ex || fail "start ex"
expect_eq "exec: its socket is the owner's alone, in a directory of the owner's" "600 700" \
  "$(stat -c %a "$ROOT/ex/exec.sock") $(stat -c %a "$ROOT/ex")"
expect_exit 7 "exec: the process's exit code is exec's" -- "$RT" exec ex sh -c 'exit 7'
expect_exit 0 "exec: cwd and env are the container's (config.json)" -- "$RT" exec ex sh -c 'echo x:$(pwd):$FROMCONFIG'
expect_grep "exec: its output, cwd and env" '^x:/etc:yes$' "$OUT"
expect_exit 0 "exec: --cwd and --env change them" -- "$RT" exec --cwd / -e FROMCONFIG=changed ex sh -c 'echo y:$(pwd):$FROMCONFIG'
expect_grep "exec: --cwd, --env" '^y:/:changed$' "$OUT"
expect_exit 0 "exec: in the container's pid namespace and /tmp" -- "$RT" exec ex sh -c 'tr "\\0" " " </proc/2/cmdline; echo; echo shared >/tmp/mark'
expect_grep "exec: sees the container's process as pid 2" '^sleep 300 $' "$OUT"
expect_exit 0 "exec: a second process sees what the first wrote" -- "$RT" exec ex cat /tmp/mark
expect_grep "exec: the same /tmp" '^shared$' "$OUT"
[ "$(echo piped | "$RT" exec ex cat)" = piped ] || fail "exec: stdin reaches the process"
expect_exit 1 "exec: a masked path stays hidden" -- "$RT" exec ex cat /etc/secret
expect_exit 0 "exec: only fds 0-2 reach the process (no channel of usbox's)" -- "$RT" exec ex ls /proc/self/fd
[ "$(tr '\n' ' ' <"$OUT")" = "0 1 2 3 " ] || fail "exec: fds of the process: $(tr '\n' ' ' <"$OUT")"
echo exec-three >"$TMPROOT/exec-three"
expect_exit 0 "exec --preserve-fds 1: the caller's fd 3 too" -- "$RT" exec --preserve-fds 1 ex sh -c 'cat <&3; ls /proc/self/fd' \
  3<"$TMPROOT/exec-three" 4<"$TMPROOT/exec-three"
expect_grep "exec --preserve-fds: the process read fd 3" '^exec-three$' "$OUT"
expect_eq "exec --preserve-fds: fds 0-3 (and ls's own), not the caller's 4" "0 1 2 3 4" "$(grep -x '[0-9]*' "$OUT" | tr '\n' ' ' | sed 's/ $//')"
expect_exit 1 "exec --preserve-fds: a directory is refused" -- "$RT" exec --preserve-fds 1 ex true 3<"$TMPROOT"
expect_grep "exec --preserve-fds: a directory: message" 'fd 3 is a directory' "$ERR"
expect_exit 1 "exec: the sandbox's init is not reachable through /proc" -- "$RT" exec ex ls /proc/1/fd
# sysfs (usbox spec's, as runc's): the host's, read-only, /sys/firmware hidden
expect_exit 0 "sysfs: readable" -- "$RT" exec ex cat /sys/devices/system/cpu/online
expect_eq "sysfs: the host's values" "$(cat /sys/devices/system/cpu/online)" "$(cat "$OUT")"
expect_exit 1 "sysfs: read-only" -- "$RT" exec ex sh -c 'echo 1 >/sys/kernel/mm/ksm/run'
expect_grep "sysfs: read-only: the error" 'Read-only file system' "$ERR"
expect_exit 1 "sysfs: /sys/firmware hidden" -- "$RT" exec ex ls /sys/firmware
# capabilities: the container's, fewer if asked, never more
"$RT" exec ex cat /proc/self/status | sed -n 's/^CapEff:[[:space:]]*//p' >"$TMPROOT/capeff"
"$RT" exec --cap CAP_SYS_ADMIN ex cat /proc/self/status | sed -n 's/^CapEff:[[:space:]]*//p' >"$TMPROOT/capeff2"
[ "$(cat "$TMPROOT/capeff")" = 0000000020000420 ] || fail "exec: the container's capabilities (CapEff $(cat "$TMPROOT/capeff"))"
cmp -s "$TMPROOT/capeff" "$TMPROOT/capeff2" || fail "exec --cap CAP_SYS_ADMIN gained it ($(cat "$TMPROOT/capeff2"))"
cat >"$TMPROOT/proc.json" <<'EOF'
{"args": ["cat", "/proc/self/status"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0},
 "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}}
EOF
expect_exit 0 "exec --process (as engines call it), fewer capabilities" -- "$RT" exec --process "$TMPROOT/proc.json" ex
expect_grep "exec --process: only CAP_KILL left" '^CapEff:[[:space:]]*0000000000000020$' "$OUT"
expect_grep "exec --process: and in the permitted set" '^CapPrm:[[:space:]]*0000000000000020$' "$OUT"
# another user: only as the container's process could switch to it (it
# has no CAP_SETUID here: the kernel refuses, as it refuses that process)
expect_exit 1 "exec --user without CAP_SETUID in the container" -- "$RT" exec --user 1000:1000 ex id
expect_grep "exec --user: the kernel's answer" 'setting its user: Operation not permitted' "$ERR"
# runc's words, which podman turns into 127 and 126
expect_exit 1 "exec: a program not found" -- "$RT" exec ex nope
expect_grep "exec: runc's words for it" 'exec: "nope": executable file not found in \$PATH' "$ERR"
expect_exit 1 "exec: a directory" -- "$RT" exec ex /etc
expect_grep "exec: permission denied" 'exec: "/etc": Permission denied' "$ERR"
echo '{"args": []}' >"$TMPROOT/bad-proc.json"
expect_exit 1 "exec: a bad process.json" -- "$RT" exec --process "$TMPROOT/bad-proc.json" ex
expect_grep "exec: names what is wrong" 'process.json: args: must be a non-empty array' "$ERR"
printf '{"args": ["sh"],\n  "cwd": \001}' >"$TMPROOT/bad-proc2.json"
expect_exit 1 "exec: invalid JSON with a control character" -- "$RT" exec --process "$TMPROOT/bad-proc2.json" ex
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "exec: invalid JSON: one line ($(cat -A "$ERR"))"
expect_exit 1 "exec: --process and a command" -- "$RT" exec --process "$TMPROOT/proc.json" ex true
expect_exit 1 "exec: a container that does not exist" -- "$RT" exec nosuch true
expect_exit 1 "exec: --tty without --console-socket" -- "$RT" exec -t ex true
expect_grep "exec --tty: says why" 'needs --console-socket' "$ERR"
# --detach: the pid file names a waiter that stands for the process, as
# engines use it: they wait for it (as a subreaper) and signal it
cat >"$TMPROOT/subreaper.py" <<'EOF'
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER, as conmon and the shim
pidfile, sig, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
if subprocess.call(cmd) != 0:
    sys.exit(100)
pid = int(open(pidfile).read())
time.sleep(0.5)
if sig:
    os.kill(pid, sig)
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st) & 0xff)
EOF
expect_exit 9 "exec --detach: the waiter ends with the process's code" -- /usr/bin/python3 "$TMPROOT/subreaper.py" "$TMPROOT/epid" 0 "$RT" exec --detach --pid-file "$TMPROOT/epid" ex sh -c 'sleep 1; exit 9'
expect_exit 5 "exec --detach: a signal to the waiter reaches the process" -- /usr/bin/python3 "$TMPROOT/subreaper.py" "$TMPROOT/epid" 15 "$RT" exec -d --pid-file "$TMPROOT/epid" ex sh -c 'trap "exit 5" TERM; sleep 100 & wait'
n_before=$(rt ps ex | wc -l)
expect_exit 247 "exec --detach: the waiter killed" -- /usr/bin/python3 "$TMPROOT/subreaper.py" "$TMPROOT/epid" 9 "$RT" exec -d --pid-file "$TMPROOT/epid" ex sleep 100
sleep 0.5
[ "$(rt ps ex | wc -l)" = "$n_before" ] || fail "exec: killing the waiter kills its process ($(rt ps ex | tr '\n' ' '))"
# a terminal through the console socket
rm -f "$TMPROOT/console.sock"
/usr/bin/python3 "$TMPROOT/console_recv.py" "$TMPROOT/console.sock" >"$TMPROOT/console2.out" 2>&1 &
recv=$!
track_bg "$recv"
for _ in $(seq 100); do [ -S "$TMPROOT/console.sock" ] && break; sleep 0.05; done
expect_exit 0 "exec --tty --console-socket" -- "$RT" exec -t --console-socket "$TMPROOT/console.sock" ex sh -c '[ -t 0 ] && [ -t 1 ] && echo tty-ok; echo fds: $(ls /proc/self/fd); read line; echo got:$line'
wait_bg "$recv" 30 >/dev/null
expect_grep "exec --tty: stdio is a terminal" 'tty-ok' "$TMPROOT/console2.out"
expect_grep "exec --tty: input reached it" 'got:hello' "$TMPROOT/console2.out"
expect_grep "exec --tty: fds 0-2 only (and ls's own), no second copy of the pty" 'fds: 0 1 2 3.?$' "$TMPROOT/console2.out"
# paused: refused (runc's rule); the container's end ends what was started in it
if rt pause ex 2>/dev/null; then
  expect_exit 1 "exec into a paused container is refused" -- "$RT" exec ex true
  rt resume ex || fail "resume ex"
fi
"$RT" exec ex sleep 200 >/dev/null 2>&1 &
bgexec=$!
sleep 0.5
rt kill ex KILL
wait "$bgexec"
code=$?
[ "$code" = 137 ] || fail "exec: a process in a container that ends is killed with it (exec exited $code)"
wait_gone "$(cat "$TMPROOT/pid7")" 10 || fail "ex ended"
expect_exit 1 "exec into a stopped container is refused" -- "$RT" exec ex true
expect_exit 0 "delete after exec" -- "$RT" delete ex
[ -e "$ROOT/ex" ] && fail "delete: the exec socket or state of ex is left"

# ---- update: a running container's limits changed ----
BU=$TMPROOT/bupdate
make_bundle "$BU"
edit "$BU" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "300"]'
rt create --bundle "$BU" --pid-file "$TMPROOT/pid8" up && rt start up || fail "create/start up"
# a string of 64 MiB (busybox sh holds a few copies): fine without a
# limit, killed under 32 MiB; so the update is what makes the difference
grow='a=xxxxxxxxxxxxxxxx; i=0; while [ $i -lt 22 ]; do a="$a$a"; i=$((i+1)); done; echo ${#a}'
expect_exit 0 "update: without a limit, 64 MiB fit" -- "$RT" exec up sh -c "$grow"
expect_grep "update: the string was made" '^67108864$' "$OUT"
expect_exit 0 "update --memory 32m" -- "$RT" update --memory 32m up
expect_exit 137 "update: the memory limit now kills the same work" -- "$RT" exec up sh -c "$grow"
echo '{"memory": {"limit": -1, "swap": 0}, "cpu": {"shares": 1024}, "blockIO": {}}' >"$TMPROOT/res.json"
expect_exit 0 "update --resources (an engine's object): no memory limit again" -- "$RT" update --resources "$TMPROOT/res.json" up
expect_grep "update: what is not applied is in the log" 'update: .cpu.shares accepted, not applied' "$TMPROOT/oci.log"
expect_exit 0 "update: 64 MiB fit again" -- "$RT" exec up sh -c "$grow"
echo '{"pids": {"limit": 4}}' | "$RT" update --resources - up || fail "update --resources - (stdin)"
"$RT" exec up sh -c 'for i in 1 2 3 4 5 6; do sleep 3 & done 2>&1; wait' >"$TMPROOT/pids.out" 2>&1
expect_grep "update: a pids limit holds: forks past it fail" "can't fork" "$TMPROOT/pids.out"
expect_exit 1 "update: a resource usbox does not limit" -- "$RT" update --cpuset-cpus 0 up
expect_grep "update: says so" 'cpuset-cpus is not supported' "$ERR"
expect_exit 1 "update: a bad resources object" -- "$RT" update --resources "$TMPROOT/bad-proc2.json" up
rt delete --force up >/dev/null 2>&1
expect_exit 1 "update: a container that is gone" -- "$RT" update --memory 64m up

# ---- pods: network, IPC and UTS namespaces joined by path ----
# A pod's first container (the engine's "infra") is a usbox container; the
# others name its /proc/PID/ns/* (PID: the state's, as podman and
# containerd do). They share its host name and System V IPC; their
# allowed connections leave from the pod's network namespace, here one
# the test makes with a server on its own loopback that the host's lacks.
BP=$TMPROOT/bpod
make_bundle "$BP"
ln -sf busybox "$BP/rootfs/bin/readlink"
edit "$BP" 'c["process"]["terminal"] = False
c["hostname"] = "the-pod"
c["process"]["args"] = ["sleep", "300"]'
rt create --bundle "$BP" --pid-file "$TMPROOT/pidpod" infra >/dev/null 2>&1 && rt start infra ||
  fail "create/start the pod's infra container"
infra=$(cat "$TMPROOT/pidpod")
expect_exit 0 "pods: the infra's IPC namespace (exec)" -- "$RT" exec infra readlink /proc/self/ns/ipc
infra_ipc=$(cat "$OUT")
case $infra_ipc in "ipc:["*) ;; *) fail "pods: the infra's IPC namespace: [$infra_ipc]" ;; esac
[ "$infra_ipc" != "$(readlink /proc/self/ns/ipc)" ] || fail "pods: the infra has an IPC namespace of its own"
expect_eq "pods: /proc/PID/ns/ipc of the state's pid is the container's" "$infra_ipc" \
  "$(readlink "/proc/$infra/ns/ipc")"
BM=$TMPROOT/bmember
make_bundle "$BM"
ln -sf busybox "$BM/rootfs/bin/readlink"
edit "$BM" 'c["process"]["terminal"] = False
del c["hostname"]
c["process"]["args"] = ["sh", "-c", "hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts"]
kinds = {"network": "net", "ipc": "ipc", "uts": "uts"}
for n in c["linux"]["namespaces"]:
    if n["type"] in kinds:
        n["path"] = "/proc/'"$infra"'/ns/" + kinds[n["type"]]'
expect_exit 0 "pods: a member container" -- "$RT" run --bundle "$BM" member
{ read -r host; read -r ipc; read -r uts; } <"$OUT"
expect_eq "pods: the pod's host name" "the-pod" "$host"
expect_eq "pods: the pod's IPC namespace" "$infra_ipc" "$ipc"
expect_eq "pods: the pod's UTS namespace" "$(readlink "/proc/$infra/ns/uts")" "$uts"
rt delete --force infra >/dev/null 2>&1
# the pod's network namespace
NS=usbox-test-$$
if ip netns add "$NS" 2>"$TMPROOT/netns.err"; then
  ip netns exec "$NS" ip link set lo up
  mkdir -p "$TMPROOT/www" && echo "from-the-pod" >"$TMPROOT/www/m"
  port=$((20000 + $$ % 20000))
  ip netns exec "$NS" /usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 \
    --directory "$TMPROOT/www" >/dev/null 2>&1 &
  track_bg $!
  for _ in $(seq 50); do
    ip netns exec "$NS" /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" \
      2>/dev/null && break
    sleep 0.1
  done
  BN=$TMPROOT/bnet
  make_bundle "$BN"
  ln -sf busybox "$BN/rootfs/bin/wget"
  edit "$BN" 'c["process"]["terminal"] = False
c["process"]["args"] = ["wget", "-qO-", "http://127.0.0.1:'"$port"'/m"]
c["annotations"] = {"dev.usbox.net-allow": "127.0.0.1:'"$port"'"}'
  cp "$BN/config.json" "$TMPROOT/bnet.host.json"
  edit "$BN" 'for n in c["linux"]["namespaces"]:
    if n["type"] == "network": n["path"] = "/var/run/netns/'"$NS"'"'
  expect_exit 0 "pods: an allowed connection" -- "$RT" run --bundle "$BN" netpod
  expect_grep "pods: reaches the pod's network namespace" '^from-the-pod$' "$OUT"
  cp "$TMPROOT/bnet.host.json" "$BN/config.json"
  expect_exit 1 "pods: without the path, the host's network (nothing listens there)" -- \
    "$RT" run --bundle "$BN" nethost
  edit "$BN" 'for n in c["linux"]["namespaces"]:
    if n["type"] == "network": n["path"] = "/var/run/netns/'"$NS"'"
c["annotations"] = {}'
  expect_exit 1 "pods: the pod's network is still filtered" -- "$RT" run --bundle "$BN" netdeny
  expect_grep "pods: refused" 'Connection refused|can.t connect' "$ERR"
  ip netns delete "$NS"
else
  fail "pods: ip netns add: $(cat "$TMPROOT/netns.err")"
fi

# ---- without root: a container in a user namespace of its own ----
# (as `usbox exec` runs for an unprivileged user; a pod's namespaces need root)
chmod 711 "$TMPROOT"
NU=$(usbox_for_nobody)
BR=$TMPROOT/brootless
make_bundle "$BR"
edit "$BR" 'c["process"]["terminal"] = False
c["process"]["user"] = {"uid": 65534, "gid": 65534}
c["process"]["args"] = ["sh", "-c", "echo rootless:$(id -u):$(hostname)"]'
chown -R 65534:65534 "$BR" # a rootless user's own bundle
mkdir -p "$TMPROOT/nobody-root" && chown 65534:65534 "$TMPROOT/nobody-root"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
expect_exit 0 "without root: run" -- "${NOBODY[@]}" "$NU" --root "$TMPROOT/nobody-root" run --bundle "$BR" rl
expect_grep "without root: the process ran, its host name set" '^rootless:65534:usbox$' "$OUT"
edit "$BR" 'c["process"]["args"] = ["sleep", "30"]'
"${NOBODY[@]}" "$NU" --root "$TMPROOT/nobody-root" create --bundle "$BR" rl2 >/dev/null 2>&1 &&
  "${NOBODY[@]}" "$NU" --root "$TMPROOT/nobody-root" start rl2 || fail "without root: create, start"
expect_exit 0 "without root: exec into it" -- "${NOBODY[@]}" "$NU" --root "$TMPROOT/nobody-root" exec rl2 \
  sh -c 'echo exec:$(id -u)'
expect_grep "without root: exec ran" '^exec:65534$' "$OUT"
"${NOBODY[@]}" "$NU" --root "$TMPROOT/nobody-root" delete --force rl2 >/dev/null 2>&1
edit "$BR" 'c["process"]["args"] = ["true"]
for n in c["linux"]["namespaces"]:
    if n["type"] == "uts": n["path"] = "/proc/1/ns/uts"'
expect_exit 1 "without root: a namespace path" -- "${NOBODY[@]}" "$NU" --root "$TMPROOT/nobody-root" run --bundle "$BR" rl3
expect_grep "without root: says it needs root" 'joining the uts namespace /proc/1/ns/uts needs root' "$ERR"
left=$(ls "$TMPROOT/nobody-root" 2>/dev/null)
expect_eq "without root: nothing left in its state root" "" "$left"

# ---- /dev/mqueue: the mqueue filesystem of the container's IPC namespace ----
[ -x "$ATTACKS/oci_probe" ] || fail "the static probe $ATTACKS/oci_probe was not built"
cat >"$TMPROOT/mqhost.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_long) for n in ("flags", "maxmsg", "msgsize", "curmsgs", "p0", "p1", "p2", "p3")]
op, name = sys.argv[1:3]
if op == "make":
    fd = libc.mq_open(name.encode(), os.O_CREAT | os.O_RDWR, 0o600, None)
    libc.mq_send(fd, b"host-msg", 8, 0)
elif op == "unlink":
    libc.mq_unlink(name.encode())
else:  # state: its messages, without taking them
    fd = libc.mq_open(name.encode(), os.O_RDONLY, 0, None)
    a = Attr()
    print(os.strerror(ctypes.get_errno()) if fd < 0 or libc.mq_getattr(fd, ctypes.byref(a)) < 0
          else "%d message(s)" % a.curmsgs)
EOF
host_mq=/usbox-oci-host-$$
/usr/bin/python3 "$TMPROOT/mqhost.py" make "$host_mq"
BM=$TMPROOT/bmq
make_bundle "$BM"
cp "$ATTACKS/oci_probe" "$BM/rootfs/bin/oci_probe"
edit "$BM" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", """
oci_probe mq-send /q1 hello
echo listing: $(ls /dev/mqueue)
head -c 7 /dev/mqueue/q1; echo
rm /dev/mqueue/q1 && echo removed
oci_probe mq-open /q1
echo listing after: $(ls /dev/mqueue)
oci_probe mq-open '"$host_mq"'
ls /dev/mqueue/'"${host_mq#/}"' 2>/dev/null || echo host-queue-not-listed
oci_probe mq-send /q2 kept
grep " /dev/mqueue " /proc/self/mountinfo | { read -r _ _ _ _ at opts rest; echo "$at $opts ${rest#*- }"; }
"""]'
expect_exit 0 "mqueue: run" -- "$RT" run --bundle "$BM" mq
for line in '^mq-send: ok$' '^listing: q1$' '^QSIZE:5$' '^removed$' '^mq-open: ENOENT$' \
  '^listing after:$' '^host-queue-not-listed$' '^/dev/mqueue rw,nosuid,nodev,noexec[^ ]* mqueue '; do
  expect_grep "mqueue: $line" "$line" "$OUT"
done
[ "$(grep -c '^mq-open: ENOENT$' "$OUT")" = 2 ] || fail "mqueue: the host's queue is not reachable by mq_open"
expect_eq "mqueue: the host's queue is as it was" "1 message(s)" \
  "$(/usr/bin/python3 "$TMPROOT/mqhost.py" state "$host_mq")"
expect_eq "mqueue: the container's queues never reached the host" "No such file or directory" \
  "$(/usr/bin/python3 "$TMPROOT/mqhost.py" state /q2)"
/usr/bin/python3 "$TMPROOT/mqhost.py" unlink "$host_mq"
grep -q 'mqueue.*not mounted' "$TMPROOT/oci.log" && fail "mqueue: the log still says it is not mounted"
# without root: the IPC namespace is made in the sandbox's user namespace,
# where its first process may mount its mqueue filesystem
BMR=$TMPROOT/bmqrootless
make_bundle "$BMR"
cp "$ATTACKS/oci_probe" "$BMR/rootfs/bin/oci_probe"
edit "$BMR" 'c["process"]["terminal"] = False
c["process"]["user"] = {"uid": 65534, "gid": 65534}
c["process"]["args"] = ["sh", "-c", "oci_probe mq-send /q3 x && ls /dev/mqueue"]'
chown -R 65534:65534 "$BMR"
expect_exit 0 "mqueue without root: run" -- "${NOBODY[@]}" "$NU" --root "$TMPROOT/nobody-root" run --bundle "$BMR" mqrl
expect_grep "mqueue without root: its queue listed" '^q3$' "$OUT"

# ---- --preserve-fds: the caller's fds 3..N+2, and nothing else ----
BPF=$TMPROOT/bpfd
make_bundle "$BPF"
edit "$BPF" 'c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "cat <&3; echo to-four >&4; (cat <&5) 2>/dev/null || echo no-five; ls /proc/self/fd"]'
echo three-data >"$TMPROOT/three"
echo five-data >"$TMPROOT/five"
mkfifo "$TMPROOT/four"
cat "$TMPROOT/four" >"$TMPROOT/four.out" &
reader=$!
track_bg "$reader"
expect_exit 0 "preserve-fds: run with fds 3 (a file) and 4 (a pipe)" -- "$RT" run --preserve-fds 2 --bundle "$BPF" pfd \
  3<"$TMPROOT/three" 4>"$TMPROOT/four" 5<"$TMPROOT/five"
wait_bg "$reader" 10
expect_grep "preserve-fds: the container read fd 3" '^three-data$' "$OUT"
expect_eq "preserve-fds: the container wrote fd 4 (a pipe)" to-four "$(cat "$TMPROOT/four.out")"
expect_grep "preserve-fds: fd 5 of the caller is not passed" '^no-five$' "$OUT"
# ls's own directory is 5: nothing of usbox's, and nothing else of the caller's
expect_eq "preserve-fds: exactly fds 0-4 (and ls's own)" "0 1 2 3 4 5" "$(grep -x '[0-9]*' "$OUT" | tr '\n' ' ' | sed 's/ $//')"
# nothing of usbox's holds them: the pipe ends when the container closes it
edit "$BPF" 'c["process"]["args"] = ["sh", "-c", "echo early >&4; exec 4>&-; sleep 20"]'
cat "$TMPROOT/four" >"$TMPROOT/four.out" &
reader=$!
track_bg "$reader"
expect_exit 0 "preserve-fds: run --detach" -- "$RT" run --detach --preserve-fds 2 --bundle "$BPF" pfd2 \
  3<"$TMPROOT/three" 4>"$TMPROOT/four"
wait_gone "$reader" 10 && pass "preserve-fds: the pipe ended when the container closed it (no copy in usbox)" ||
  fail "preserve-fds: a copy of the pipe is held outside the container"
wait_bg "$reader" 1 >/dev/null
expect_eq "preserve-fds: what the container wrote" early "$(cat "$TMPROOT/four.out")"
rt delete --force pfd2 >/dev/null 2>&1
expect_exit 1 "preserve-fds: more than the caller has open" -- "$RT" run --preserve-fds 30 --bundle "$BPF" pfd3 3<"$TMPROOT/three"
expect_grep "preserve-fds: says which fd" '--preserve-fds 30: fd [0-9]+ is not open' "$ERR"
[ -e "$ROOT/pfd3" ] && fail "preserve-fds: too many: state left"
expect_exit 1 "preserve-fds: not a number" -- "$RT" create --preserve-fds -1 --bundle "$BPF" pfd4
expect_grep "preserve-fds: not a number: message" 'a number from 0 to' "$ERR"

# A directory is refused: fchdir is the kernel's, and the calls the kernel
# resolves from the working directory (execve, chdir, a unix bind) would
# start outside the view. One of the host's outside the bundle, and one the
# container's config hides (maskedPaths).
mkdir -p "$TMPROOT/outside/sub" && echo host-secret >"$TMPROOT/outside/secret"
mkdir -p "$BPF/rootfs/hid" && echo hidden-secret >"$BPF/rootfs/hid/secret"
echo "the image's shadow" >"$BPF/rootfs/etc/shadow"
cp "$ATTACKS/oci_probe" "$BPF/rootfs/bin/oci_probe"
edit "$BPF" 'c["linux"]["maskedPaths"].append("/hid")'
expect_exit 1 "preserve-fds: a host directory is refused" -- "$RT" run --preserve-fds 1 --bundle "$BPF" pfd5 3<"$TMPROOT/outside"
expect_grep "preserve-fds: a directory: message" '--preserve-fds 1: fd 3 is a directory' "$ERR"
expect_exit 1 "preserve-fds: a hidden directory is refused" -- "$RT" run --preserve-fds 1 --bundle "$BPF" pfd6 3<"$BPF/rootfs/hid"
[ -e "$ROOT/pfd5" ] || [ -e "$ROOT/pfd6" ] && fail "preserve-fds: a directory: state left"
# A directory can still reach the container through a socket passed in:
# a host process at its other end sends one (SCM_RIGHTS). What that fd
# reaches is what the view shows (walks relative to it: nothing), and its
# working directory there never lets the kernel resolve a name on the host.
cat >"$TMPROOT/peer.py" <<'EOF'
import os, socket, sys
dirpath, cmd = sys.argv[1], sys.argv[2:]
a, b = socket.socketpair()
d = os.open(dirpath, os.O_RDONLY | os.O_DIRECTORY)
socket.send_fds(a, [b"d"], [d])
os.close(d)
keep = os.dup(b.fileno())
pid = os.fork()
if pid == 0:
    os.dup2(keep, 3)  # the container's fd 3 (inheritable)
    os.execv(cmd[0], cmd)
a.close(); b.close(); os.close(keep)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
EOF
snapshot_dir() { (cd "$1" && find . -printf '%p %y %s %m\n' | sort && cat secret); }
snapshot_dir "$TMPROOT/outside" >"$TMPROOT/outside.before"
snapshot_dir "$BPF/rootfs/hid" >"$TMPROOT/hid.before"
edit "$BPF" 'c["process"]["args"] = ["oci_probe", "recv-dir", "3"]'
expect_exit 0 "preserve-fds: a host directory sent over a socket passed in" -- \
  /usr/bin/python3 "$TMPROOT/peer.py" "$TMPROOT/outside" "$RT" run --preserve-fds 1 --bundle "$BPF" pfd7
cat >"$TMPROOT/dir.want" <<EOF
recvmsg: ok
fstat: directory
dotdot shadow: ENOENT
secret: ENOENT
dot: ENOENT
listing: secret sub
fchdir: ok
getcwd: (unreachable)$TMPROOT/outside
cwd secret: ENOENT
bind relative: ENOENT
mkdir relative: ok
chdir ..: ENOENT
getcwd after: (unreachable)$TMPROOT/outside
EOF
# listing: the entries of the directory the engine's peer chose to send
# (a capability it granted); "mkdir relative" resolves the kernel's name
# for the working directory in the view, where the probe made that path
# in the container's own /tmp: the host's directory is not touched
sed -i 's/^listing: sub secret$/listing: secret sub/' "$OUT"
expect_eq "preserve-fds: the directory reaches nothing outside the view" "$(cat "$TMPROOT/dir.want")" "$(cat "$OUT")"
expect_exit 0 "preserve-fds: a hidden directory sent over a socket passed in" -- \
  /usr/bin/python3 "$TMPROOT/peer.py" "$BPF/rootfs/hid" "$RT" run --preserve-fds 1 --bundle "$BPF" pfd8
expect_grep "hidden directory: nothing below it" '^secret: ENOENT$' "$OUT"
expect_grep "hidden directory: not even its listing" '^listing: ENOENT$' "$OUT"
expect_grep "hidden directory: no bind from it" '^bind relative: ENOENT$' "$OUT"
grep -q 'host-secret\|hidden-secret' "$OUT" && fail "preserve-fds: a secret was read through a directory fd"
snapshot_dir "$TMPROOT/outside" >"$TMPROOT/outside.after"
snapshot_dir "$BPF/rootfs/hid" >"$TMPROOT/hid.after"
cmp -s "$TMPROOT/outside.before" "$TMPROOT/outside.after" &&
  cmp -s "$TMPROOT/hid.before" "$TMPROOT/hid.after" &&
  pass "preserve-fds: the host's directories are unchanged" ||
  fail "preserve-fds: a host directory changed: $(diff "$TMPROOT/outside.before" "$TMPROOT/outside.after"; diff "$TMPROOT/hid.before" "$TMPROOT/hid.after")"

# ---- a user namespace with mappings (container root = host 100000) ----
# The monitor (sentry and gofer) runs in the container's user namespace, so
# every host operation done for the container has exactly its rights: with
# CAP_DAC_OVERRIDE and CAP_FOWNER, root inside still cannot read, change or
# remove a host root's file in a bind mount. Compared with the kernel
# itself under the same maps and capabilities (userns_run.py).
BUS=$TMPROOT/busr
make_bundle "$BUS"
chown -R 100000:100000 "$BUS/rootfs"
chmod 711 "$TMPROOT" # the monitor, host uid 100000 now, reaches the bundle (as runc's init must)
cp "$(dirname "$0")/userns_probe.sh" "$BUS/rootfs/probe.sh"
ln -sf busybox "$BUS/rootfs/bin/stat"
ln -sf busybox "$BUS/rootfs/bin/chown"
ln -sf busybox "$BUS/rootfs/bin/chmod"
mk_udata() { # DIR: a host root's sticky directory with one file of root's, one of the container's
  rm -rf "$1" && mkdir -p "$1" && chmod 1777 "$1"
  echo top >"$1/rootonly" && chmod 600 "$1/rootonly"
  echo mine >"$1/mine" && chown 100000:100000 "$1/mine" && chmod 600 "$1/mine"
}
mk_udata "$TMPROOT/udata"
mk_udata "$TMPROOT/udata-native"
edit "$BUS" "c['process']['terminal'] = False
c['process']['args'] = ['sh', '/probe.sh', '/data']
caps = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID']
c['process']['capabilities'] = {k: caps for k in ('bounding', 'effective', 'permitted')}
c['mounts'].append({'destination': '/data', 'type': 'bind', 'source': '$TMPROOT/udata', 'options': ['rbind', 'rw']})
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]"
expect_exit 0 "userns: a container with mappings runs" -- "$RT" run --bundle "$BUS" userns1
cp "$OUT" "$TMPROOT/userns.usbox"
# (the probe copied where host uid 100000 may read it: a CI clone is in a 0700 directory)
install -m 0644 "$(dirname "$0")/userns_probe.sh" "$TMPROOT/userns_probe.sh"
/usr/bin/python3 "$(dirname "$0")/userns_run.py" 100000 65536 -- "$BUSYBOX" sh \
  "$TMPROOT/userns_probe.sh" "$TMPROOT/udata-native" >"$TMPROOT/userns.native" 2>&1
expect_eq "userns: what root inside may do to a bind mount is what the kernel allows it natively" \
  "$(cat "$TMPROOT/userns.native")" "$(cat "$TMPROOT/userns.usbox")"
expect_grep "userns: uid 0 inside" '^uid 0 gid 0$' "$TMPROOT/userns.usbox"
expect_grep "userns: the host root's file unread" '^rootonly-refused$' "$TMPROOT/userns.usbox"
expect_grep "userns: nor removed" '^rm-refused$' "$TMPROOT/userns.usbox"
expect_eq "userns: the host root's file unchanged" "0 0 600 top" \
  "$(stat -c '%u %g %a' "$TMPROOT/udata/rootonly") $(cat "$TMPROOT/udata/rootonly")"
expect_eq "userns: files made inside are the mapped ids' on the host" "101000:101000 100000:100000" \
  "$(stat -c %u:%g "$TMPROOT/udata/new") $(stat -c %u:%g "$TMPROOT/udata/sub")"
# what the sentry does with the namespace root's rights: a unix socket
# bound by path (from the agent thread's root and cwd) and connected to;
# a POSIX message queue in the container's own mqueue filesystem
cp "$ATTACKS/oci_probe" "$BUS/rootfs/bin/oci_probe"
edit "$BUS" "c['process']['args'] = ['sh', '-c', 'cd /data && oci_probe unix-echo sock; oci_probe mq-send /uq hi; ls /dev/mqueue']"
expect_exit 0 "userns: a unix socket and a message queue" -- "$RT" run --bundle "$BUS" userns-ux
for line in '^unix-bind: ok$' '^unix-connect: ok$' '^unix-echo: ok$' '^mq-send: ok$' '^uq$'; do
  expect_grep "userns: sockets and queues: $line" "$line" "$OUT"
done
expect_eq "userns: the socket is the mapped root's on the host" "100000 socket" \
  "$(stat -c '%u %F' "$TMPROOT/udata/sock" 2>&1)"
# attack: the files that let processes join the container's cgroups are
# container root's on the host now (delegated): from inside, none may be
# written (the host's cgroup tree is read-only in the view)
edit "$BUS" "c['process']['args'] = ['sh', '-c', 'n=0; for f in /sys/fs/cgroup/*/usbox-*/*/*/* /sys/fs/cgroup/*/*/*/usbox-*/*/*/*; do case \$f in *cgroup.procs|*tasks) [ \$(stat -c %u \$f) = 0 ] && n=\$((n+1)); echo 1 >\$f 2>/dev/null && echo WROTE \$f;; esac; done; echo delegated \$n']
c['linux']['resources'] = {'pids': {'limit': 200}}"
expect_exit 0 "userns attack: write the delegated cgroup files" -- "$RT" run --bundle "$BUS" userns-cg
expect_grep "userns attack: the delegated files were found (owned by root inside)" '^delegated [1-9]' "$OUT"
grep -q WROTE "$OUT" && fail "userns attack: a delegated cgroup file was written: $(grep WROTE "$OUT")"
# the process's user, exec into it, the maps seen inside, nothing left
edit "$BUS" "c['process']['args'] = ['sleep', '30']
c['process']['user'] = {'uid': 1000, 'gid': 1000}"
rt create --bundle "$BUS" userns2 >/dev/null 2>&1 || fail "userns: create"
rt start userns2 >/dev/null 2>&1 || fail "userns: start"
expect_exit 0 "userns: exec into it" -- "$RT" exec userns2 cat /proc/self/uid_map
expect_grep "userns: the maps inside" '^ *0 *100000 *65536$' "$OUT"
expect_exit 0 "userns: exec as the process's user" -- "$RT" exec userns2 sh -c 'id -u; touch /data/byuser'
expect_grep "userns: the process's user" '^1000$' "$OUT"
expect_eq "userns: its file is host uid 101000's" "101000" "$(stat -c %u "$TMPROOT/udata/byuser" 2>&1)"
upid=$(rt state userns2 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
expect_eq "userns: the monitor runs as the container's root" "100000" \
  "$(awk '/^Uid:/ {print $3}' "/proc/$upid/status")"
# a pod's member joins the pod's user namespace by path (its maps are read
# from it; the config's, when given, must be the same)
ln -sf busybox "$BUS/rootfs/bin/readlink"
edit "$BUS" "c['process']['args'] = ['sh', '-c', 'id -u; readlink /proc/self/ns/user; cat /proc/self/uid_map']
del c['process']['user']
c['linux']['namespaces'][-1]['path'] = '/proc/$upid/ns/user'"
expect_exit 0 "userns: a member joins the pod's user namespace" -- "$RT" run --bundle "$BUS" userns3
expect_grep "userns: joined: root inside" '^0$' "$OUT"
expect_eq "userns: joined: the pod's namespace" "$(readlink "/proc/$upid/ns/user")" "$(sed -n 2p "$OUT")"
expect_grep "userns: joined: its maps" '^ *0 *100000 *65536$' "$OUT"
edit "$BUS" "c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 200000, 'size': 65536}]"
expect_exit 1 "userns: a member whose maps are not the namespace's" -- "$RT" run --bundle "$BUS" userns4
expect_grep "userns: not its maps: message" 'not the maps of the user namespace' "$ERR"
[ -e "$ROOT/userns4" ] && fail "userns: not its maps: state left"
edit "$BUS" "del c['linux']['uidMappings'], c['linux']['gidMappings']"
expect_exit 0 "userns: a member that gives no maps" -- "$RT" run --bundle "$BUS" userns5
rt kill userns2 KILL >/dev/null 2>&1
for _ in $(seq 100); do rt state userns2 2>/dev/null | grep -q stopped && break; sleep 0.1; done
expect_exit 0 "userns: delete" -- "$RT" delete userns2
left=$(find /sys/fs/cgroup -maxdepth 4 -name "usbox-$upid" -o -maxdepth 4 -name "usbox-oci-$upid" 2>/dev/null)
expect_eq "userns: no cgroup left" "" "$left"
# what cannot be: refused at create, nothing left
badu() { # NAME REGEX PYTHON-EDIT
  local dir=$TMPROOT/badu-$1
  make_bundle "$dir"
  edit "$dir" "c['process']['terminal'] = False
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
$3"
  expect_exit 1 "userns refused: $1" -- "$RT" create --bundle "$dir" "badu-$1"
  expect_grep "userns refused: $1: message" "$2" "$ERR"
  [ -e "$ROOT/badu-$1" ] && fail "userns refused: $1: state left"
}
badu nomaps 'a user namespace needs linux.uidMappings and gidMappings' 'del c["linux"]["gidMappings"]'
badu noroot "needs the container's uid 0 and gid 0 mapped" 'c["linux"]["uidMappings"][0]["containerID"] = 1'
badu user 'process.user: uid 70000 or gid 0 is not in the user namespace' 'c["process"]["user"] = {"uid": 70000, "gid": 0}'
badu overlap 'uidMappings\[1\] overlaps' 'c["linux"]["uidMappings"].append({"containerID": 65536, "hostID": 100001, "size": 2})'
badu path 'the user namespace /proc/self/ns/user is not a child of usbox' 'c["linux"]["namespaces"][-1]["path"] = "/proc/self/ns/user"'
badu notuserns 'the user namespace /proc/self/ns/ipc: Invalid argument' 'c["linux"]["namespaces"][-1]["path"] = "/proc/self/ns/ipc"'
badu size 'gidMappings\[0\].size: must be a number' 'c["linux"]["gidMappings"][0]["size"] = -1'
badu nons 'mappings need a "user" namespace' 'c["linux"]["namespaces"].pop()'

# ---- bad bundles: exit 1, one line, nothing left ----
bad() { # NAME REGEX PYTHON-EDIT
  local name=$1 regex=$2 code=$3 dir=$TMPROOT/bad-$1
  make_bundle "$dir"
  edit "$dir" "c['process']['terminal'] = False
$code"
  expect_exit 1 "bad bundle: $name" -- "$RT" create --bundle "$dir" "bad-$name"
  expect_grep "bad bundle: $name: message" "$regex" "$ERR"
  [ "$(wc -l <"$ERR")" -eq 1 ] || fail "bad bundle: $name: one line ($(cat "$ERR"))"
  [ -e "$ROOT/bad-$name" ] && fail "bad bundle: $name: state left"
}
bad version 'ociVersion: version 2.0.0 is not supported' 'c["ociVersion"] = "2.0.0"'
bad rootfs 'root.path: .* is not a directory' 'c["root"]["path"] = "nowhere"'
bad args 'process.args: must be a non-empty array' 'c["process"]["args"] = []'
bad mount 'type "nfs" at /mnt is not supported' 'c["mounts"].append({"destination": "/mnt", "type": "nfs", "source": "x"})'
bad source 'bind source' 'c["mounts"].append({"destination": "/mnt", "type": "bind", "source": "/no/such", "options": ["bind"]})'
bad netns 'joining the network namespace /run/netns/x: No such file' 'c["linux"]["namespaces"] = [{"type": "network", "path": "/run/netns/x"}]'
bad notnetns 'joining the network namespace /proc/self/ns/ipc: Invalid argument' 'c["linux"]["namespaces"] = [{"type": "network", "path": "/proc/self/ns/ipc"}]'
bad pidns 'joining an existing pid namespace is not supported' 'c["linux"]["namespaces"] = [{"type": "pid", "path": "/proc/1/ns/pid"}]'
bad nspath 'the ipc namespace.s path must be absolute' 'c["linux"]["namespaces"] = [{"type": "ipc", "path": "x"}]'
bad annotation 'unknown usbox annotation dev.usbox.nope' 'c["annotations"] = {"dev.usbox.nope": "x"}'
bad sysctl 'kernel.panic is not a sysctl of the container' 'c["linux"]["sysctl"] = {"kernel.panic": "1"}'
bad rosymlink 'readonlyPaths: /lnk/hostname is or passes a symlink in the rootfs' 'c["linux"]["readonlyPaths"] = ["/lnk/hostname"]'
bad destsymlink 'destination /lnk/x passes a symlink in the rootfs' 'c["mounts"].append({"destination": "/lnk/x", "type": "tmpfs", "source": "tmpfs"})'
bad oom 'oomScoreAdj: must be a number from -1000 to 1000' 'c["process"]["oomScoreAdj"] = 5000'
bad sysctlpath 'net/../../x is not a sysctl' 'c["linux"]["sysctl"] = {"net/../../x": "1"}'
bad hook 'hooks.startContainer\[0\].timeout: must be from 1 to 2\^31-1 seconds' 'c["hooks"] = {"startContainer": [{"path": "/bin/true", "timeout": 0}]}'
bad memlimit 'resources.memory.limit: must be below 2\^63' 'c["linux"]["resources"] = {"memory": {"limit": 1e72}}'
bad cpus 'resources.cpu: quota/period: more than 1e9 CPUs' 'c["linux"]["resources"] = {"cpu": {"quota": 1e300, "period": 1}}'
bad hooktimeout 'timeout: must be from 1 to 2\^31-1 seconds' 'c["hooks"] = {"prestart": [{"path": "/bin/true", "timeout": 1e300}]}'
bad mqueue 'mqueue at /mq: usbox shows it at /dev/mqueue only' 'c["mounts"].append({"destination": "/mq", "type": "mqueue", "source": "mqueue"})'
bad hookpath 'hooks.prestart\[0\].path: must be absolute' 'c["hooks"] = {"prestart": [{"path": "true"}]}'
bad shmfile 'the bind at /dev/shm needs a directory' 'c["mounts"].append({"destination": "/dev/shm", "type": "bind", "source": "/etc/hostname", "options": ["bind"]})'
mkdir -p "$TMPROOT/nojson" && echo '{"ociVersion": ' >"$TMPROOT/nojson/config.json"
expect_exit 1 "bad bundle: invalid JSON" -- "$RT" create --bundle "$TMPROOT/nojson" badjson
expect_grep "invalid JSON: message" 'config.json: invalid JSON' "$ERR"
expect_exit 1 "bad bundle: no config.json" -- "$RT" create --bundle "$TMPROOT/share" noconf
expect_grep "no config.json: message" 'config.json: No such file' "$ERR"
expect_exit 1 "invalid id" -- "$RT" create --bundle "$B" "../escape"
expect_grep "invalid id: message" 'invalid container id' "$ERR"
rt create --bundle "$B3" dup >/dev/null 2>&1 || fail "create dup"
expect_exit 1 "an id in use" -- "$RT" create --bundle "$B3" dup
expect_grep "an id in use: message" 'container dup already exists' "$ERR"
rt delete --force dup >/dev/null 2>&1
expect_exit 1 "unknown global option" -- "$U" --bogus list
left=$(ls "$ROOT" 2>/dev/null)
expect_eq "nothing left in the state root" "" "$left"
finish
