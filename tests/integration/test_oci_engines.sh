#!/usr/bin/env bash
# Container engines run containers on usbox (issue 12): podman with
# --runtime, containerd's ctr with --runc-binary, Docker with a "runtimes"
# entry, each with private storage and (containerd, dockerd) started here
# and stopped at the end. The image is a busybox-static rootfs imported
# without a registry. An engine that cannot start here is reported as
# SKIPPED with the reason and counts as nothing; if none runs, the test
# fails.
. "$(dirname "$0")/lib.sh"

U=$USBOX_REAL
IMG=localhost/usbox-test:latest
ran=0

skip() { echo "SKIPPED: $*"; }

# ---- the image ----
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { fail "busybox is needed (scripts/install-deps)"; finish; }
R=$TMPROOT/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/tmp" "$R/proc" "$R/dev" "$R/sys" "$R/root"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh ls cat echo id mkdir touch sleep env pwd tty rmdir true hostname readlink; do ln -sf busybox "$R/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
echo "the image's secret" >"$R/etc/secret"
tar -C "$R" -cf "$TMPROOT/rootfs.tar" .
# a docker-archive of it (for ctr, which imports images, not rootfs tars)
/usr/bin/python3 - "$TMPROOT" <<'EOF'
import hashlib, json, os, sys, tarfile
d = sys.argv[1]
layer = os.path.join(d, "rootfs.tar")
diff = "sha256:" + hashlib.sha256(open(layer, "rb").read()).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
manifest = json.dumps([{"Config": "config.json", "RepoTags": ["localhost/usbox-test:latest"],
                        "Layers": ["layer.tar"]}]).encode()
with tarfile.open(os.path.join(d, "image.tar"), "w") as t:
    t.add(layer, "layer.tar")
    for name, data in (("config.json", config), ("manifest.json", manifest)):
        info = tarfile.TarInfo(name); info.size = len(data)
        import io; t.addfile(info, io.BytesIO(data))
EOF

# A strict seccomp profile: rmdir denied with EPERM.
cat >"$TMPROOT/no-rmdir.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["rmdir", "unlinkat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
mkdir -p "$TMPROOT/vol" && echo from-host >"$TMPROOT/vol/in" && chmod 0777 "$TMPROOT/vol"
chmod 711 "$TMPROOT" # --uidmap: the monitor (host uid 100000 then) reaches podman's storage below

# The cases every engine runs. $1: engine name; run_c ARGS... runs a
# container (engine-specific options first, then IMAGE-less command).
common_cases() {
  local e=$1 no_user=${2:-}
  expect_exit 0 "$e: echo" -- run_c "" echo hello
  expect_grep "$e: echo: output" '^hello' "$OUT"
  expect_exit 7 "$e: exit status" -- run_c "" sh -c 'exit 7'
  expect_exit 0 "$e: env and cwd" -- run_c "env" sh -c 'echo "$GREETING $(pwd)"'
  expect_grep "$e: env and cwd: output" '^hi /etc' "$OUT"
  if [ -n "$no_user" ]; then
    skip "$e: user: $no_user"
  else
    expect_exit 0 "$e: user" -- run_c "user" id -u
    expect_grep "$e: user: uid" '^1000' "$OUT"
  fi
  expect_exit 0 "$e: read-only rootfs" -- run_c "readonly" sh -c 'touch /x 2>/dev/null || echo refused'
  expect_grep "$e: read-only rootfs: refused" '^refused' "$OUT"
  rm -f "$TMPROOT/vol/out"
  expect_exit 0 "$e: bind mount" -- run_c "bind" sh -c 'cat /data/in && echo from-box >/data/out'
  expect_grep "$e: bind mount: read" '^from-host' "$OUT"
  expect_eq "$e: bind mount: written" from-box "$(cat "$TMPROOT/vol/out" 2>/dev/null)"
  expect_exit 0 "$e: tmpfs" -- run_c "tmpfs" sh -c 'echo t >/scratch/t && cat /scratch/t'
  expect_grep "$e: tmpfs: output" '^t' "$OUT"
  expect_exit 0 "$e: seccomp profile" -- run_c "seccomp" sh -c 'mkdir /tmp/d && rmdir /tmp/d 2>&1; true'
  expect_grep "$e: seccomp profile: rmdir denied" 'Operation not permitted' "$OUT"
  expect_exit 137 "$e: memory limit" -- run_c "memory" sh -c 'a=xxxxxxxxxxxxxxxx; while :; do a="$a$a"; done'
}

# podman's and docker's options for a case, into the caller's o=()
cli_options() {
  case $1 in
    env) o=(-e GREETING=hi -w /etc) ;;
    user) o=(--user 1000:1000) ;;
    readonly) o=(--read-only) ;;
    bind) o=(-v "$TMPROOT/vol:/data") ;;
    tmpfs) o=(--tmpfs /scratch) ;;
    seccomp) o=(--security-opt "seccomp=$TMPROOT/no-rmdir.json") ;;
    memory) o=(--memory 32m --memory-swap 32m) ;;
  esac
}

# podman's and docker's shared cases: a tty through the console socket,
# stop (the process's TERM handler's exit status) and rm. $1: the engine;
# CLI: its command; RUN: its run options.
tty_and_stop_cases() {
  local e=$1
  expect_exit 0 "$e: tty through the console socket" -- "${CLI[@]}" run --rm -t "${RUN[@]}" "$IMG" tty
  expect_grep "$e: tty: a pty of the container's own" '^/dev/pts/[0-9]' "$OUT"
  "${CLI[@]}" run -d --name stopme "${RUN[@]}" "$IMG" \
    sh -c 'trap "exit 5" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 || fail "$e: run -d"
  sleep 1
  expect_exit 0 "$e: stop" -- "${CLI[@]}" stop -t 10 stopme
  expect_eq "$e: stop: the process's TERM handler ran" 5 \
    "$("${CLI[@]}" inspect stopme --format '{{.State.ExitCode}}' 2>/dev/null)"
  expect_exit 0 "$e: rm" -- "${CLI[@]}" rm stopme
}

# podman's and docker's exec into a running container: output, exit code,
# env and cwd, a tty, a program not found. $1: the engine; $2: its exit
# code for a program not found (Docker 20.10 gives 126 for any failed
# exec start, with runc too; podman reads runc's words: 127).
exec_cases() {
  local e=$1 not_found=$2
  "${CLI[@]}" run -d --name execme "${RUN[@]}" "$IMG" sleep 1000.732 >/dev/null 2>&1 || fail "$e: run -d execme"
  expect_exit 0 "$e: exec" -- "${CLI[@]}" exec execme sh -c 'tr "\\0" " " </proc/2/cmdline; echo'
  expect_grep "$e: exec: in the container (its process is pid 2)" '^sleep 1000.732 $' "$OUT"
  expect_exit 3 "$e: exec: exit code" -- "${CLI[@]}" exec execme sh -c 'exit 3'
  expect_exit 0 "$e: exec: env and cwd" -- "${CLI[@]}" exec -e GREETING=hey -w /etc execme sh -c 'echo "$GREETING $(pwd)"'
  expect_grep "$e: exec: env and cwd: output" '^hey /etc' "$OUT"
  expect_exit 0 "$e: exec: a tty" -- "${CLI[@]}" exec -t execme tty
  expect_grep "$e: exec: a pty of the container's own" '^/dev/pts/[0-9]' "$OUT"
  expect_exit "$not_found" "$e: exec: a program not found" -- "${CLI[@]}" exec execme nope
  cat "$OUT" "$ERR" >"$TMPROOT/notfound"
  expect_grep "$e: exec: runc's words for it" 'executable file not found in \$PATH' "$TMPROOT/notfound"
  # update: a memory limit set on the running container holds
  local grow='a=xxxxxxxxxxxxxxxx; i=0; while [ $i -lt 22 ]; do a="$a$a"; i=$((i+1)); done; echo ${#a}'
  expect_exit 0 "$e: before update: 64 MiB fit" -- "${CLI[@]}" exec execme sh -c "$grow"
  expect_exit 0 "$e: update --memory" -- "${CLI[@]}" update --memory 32m --memory-swap 32m execme
  expect_exit 137 "$e: update: the limit holds" -- "${CLI[@]}" exec execme sh -c "$grow"
  expect_exit 0 "$e: exec: rm -f of the container" -- "${CLI[@]}" rm -f execme
  pgrep -f "^sleep 1000\.732$" >/dev/null && fail "$e: a container process is left after rm -f"
}

# a pod: its infra container (catatonit) and its members on usbox share the
# pod's host name and IPC namespace, found through the infra's state pid
podman_pod_cases() {
  command -v catatonit >/dev/null || { fail "podman: pods: catatonit is not installed"; return; }
  # the infra takes its limits from containers.conf (pod create has no --ulimit)
  printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n' \
    >"$TMPROOT/containers.conf"
  local PP=(env CONTAINERS_CONF="$TMPROOT/containers.conf" "${P[@]}" --runtime "$U")
  expect_exit 0 "podman: pod create" -- "${PP[@]}" pod create --name pod1 --hostname pod-one --network none
  expect_exit 0 "podman: pod start (its infra on usbox)" -- "${PP[@]}" pod start pod1
  local show='hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts'
  expect_exit 0 "podman: a pod's member" -- "${PP[@]}" run --rm --pod pod1 "$IMG" sh -c "$show"
  cp "$OUT" "$TMPROOT/member1"
  expect_exit 0 "podman: another member" -- "${PP[@]}" run --rm --pod pod1 "$IMG" sh -c "$show"
  expect_grep "podman: pods: the pod's host name" '^pod-one$' "$TMPROOT/member1"
  expect_grep "podman: pods: an IPC namespace" '^ipc:\[' "$TMPROOT/member1"
  expect_eq "podman: pods: the members share IPC and UTS" "$(cat "$TMPROOT/member1")" "$(cat "$OUT")"
  # /dev/shm is the pod's (podman binds the infra's shm directory in every
  # member), as under runc: what one member writes there, another reads
  "${PP[@]}" run -d --name shmw --pod pod1 "$IMG" sh -c 'echo pod-shm >/dev/shm/f; sleep 1000.735' \
    >/dev/null 2>&1 || fail "podman: pods: run -d shmw"
  for _ in 1 2 3 4 5; do
    "${PP[@]}" run --rm --pod pod1 "$IMG" cat /dev/shm/f >"$OUT" 2>&1 && break
    sleep 0.3
  done
  expect_grep "podman: pods: a member reads what another wrote in /dev/shm" '^pod-shm$' "$OUT"
  "${PP[@]}" rm -f -t 0 shmw >/dev/null 2>&1
  local infra
  infra=$("${PP[@]}" pod inspect pod1 --format '{{.InfraContainerID}}' 2>/dev/null)
  [ "$(readlink /proc/self/ns/ipc)" != "$(sed -n 2p "$TMPROOT/member1")" ] ||
    fail "podman: pods: the pod's IPC namespace is not the host's"
  expect_exit 0 "podman: pod rm -f" -- "${PP[@]}" pod rm -f pod1
  [ -n "$infra" ] && "${PP[@]}" container exists "$infra" 2>/dev/null &&
    fail "podman: pods: the infra container is left"
  return 0
}

# podman --uidmap: the runtime makes the user namespace from the config's
# maps; container root is host uid 100000, and with podman's default
# capabilities (DAC_OVERRIDE among them) it still cannot read a host
# root's 0600 file in a volume, as under runc
podman_userns_cases() {
  echo secret >"$TMPROOT/vol/rootonly" && chmod 600 "$TMPROOT/vol/rootonly"
  rm -f "$TMPROOT/vol/umade"
  expect_exit 0 "podman: --uidmap" -- timeout -k 5 120 "${P[@]}" run --rm "${base[@]}" \
    --uidmap 0:100000:65536 --gidmap 0:100000:65536 -v "$TMPROOT/vol:/data" "$IMG" \
    sh -c 'id -u; cat /proc/self/uid_map; cat /data/rootonly 2>/dev/null || echo refused; touch /data/umade'
  expect_grep "podman: --uidmap: root inside" '^0$' "$OUT"
  expect_grep "podman: --uidmap: the maps" '^ *0 *100000 *65536$' "$OUT"
  expect_grep "podman: --uidmap: a host root's file refused" '^refused$' "$OUT"
  expect_eq "podman: --uidmap: a file made inside is host uid 100000's" 100000:100000 \
    "$(stat -c %u:%g "$TMPROOT/vol/umade" 2>&1)"
  rm -f "$TMPROOT/vol/rootonly" "$TMPROOT/vol/umade"
  # a pod with maps: the infra makes the user namespace, members join it
  local PP=(env CONTAINERS_CONF="$TMPROOT/containers.conf" "${P[@]}" --runtime "$U")
  expect_exit 0 "podman: pod create --uidmap" -- "${PP[@]}" pod create --name upod --network none \
    --uidmap 0:100000:65536 --gidmap 0:100000:65536
  expect_exit 0 "podman: pod start --uidmap (its infra on usbox)" -- "${PP[@]}" pod start upod
  local show='id -u; readlink /proc/self/ns/user; readlink /proc/self/ns/ipc'
  expect_exit 0 "podman: a --uidmap pod's member" -- "${PP[@]}" run --rm --pod upod "$IMG" sh -c "$show"
  cp "$OUT" "$TMPROOT/umember1"
  expect_exit 0 "podman: another --uidmap pod member" -- "${PP[@]}" run --rm --pod upod "$IMG" sh -c "$show"
  expect_grep "podman: --uidmap pod: root inside" '^0$' "$OUT"
  expect_eq "podman: --uidmap pod: the members share the user and IPC namespaces" \
    "$(cat "$TMPROOT/umember1")" "$(cat "$OUT")"
  grep -qF "$(readlink /proc/self/ns/user)" "$OUT" && fail "podman: --uidmap pod: the host's user namespace"
  # podman 4.3 races itself here: when conmon's exit command (`podman
  # container cleanup`, in conmon's mount namespace) cleans the infra up
  # before `pod rm` does ("another process interfered" in its debug log),
  # `pod rm` skips its own unmount of the infra's shm and finds that mount
  # still in its namespace: unlinkat .../userdata/shm, EBUSY (1 in ~10
  # here). No usbox process holds the mount (none has an fd, cwd or root
  # on it, and it unmounts at once after the monitor's exit), and a second
  # `pod rm -f` removes the pod. Only that error is retried, once.
  if ! "${PP[@]}" pod rm -f upod >"$OUT" 2>&1; then
    if grep -q 'userdata/shm: device or resource busy' "$OUT"; then
      echo "note: podman's own shm race on pod rm; once more"
      "${PP[@]}" pod rm -f upod >"$OUT" 2>&1 || fail "podman: pod rm -f (--uidmap): $(tail -n 1 "$OUT")"
    else
      fail "podman: pod rm -f (--uidmap): $(tail -n 1 "$OUT")"
    fi
  fi
  expect_exit 1 "podman: --uidmap pod: removed" -- "${PP[@]}" pod exists upod
}

# ---- podman ----
podman_engine() {
  command -v podman >/dev/null || { skip "podman: not installed"; return; }
  local P=(podman --root "$TMPROOT/podman/root" --runroot "$TMPROOT/podman/run" --storage-driver vfs
           --cgroup-manager cgroupfs --events-backend none)
  if ! "${P[@]}" import -q "$TMPROOT/rootfs.tar" "$IMG" >"$TMPROOT/podman.import" 2>&1; then
    skip "podman: cannot import an image here: $(tail -n 1 "$TMPROOT/podman.import")"; return
  fi
  ran=$((ran + 1))
  local base=(--runtime "$U" --network none --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
  run_c() {
    local kind=$1; shift
    local o=()
    cli_options "$kind"
    timeout -k 5 120 "${P[@]}" run --rm "${base[@]}" "${o[@]}" "$IMG" "$@"
  }
  common_cases podman
  expect_exit 0 "podman: annotation policy" -- "${P[@]}" run --rm "${base[@]}" \
    --annotation dev.usbox.hide=/etc/secret "$IMG" sh -c 'cat /etc/secret 2>/dev/null || echo hidden'
  expect_grep "podman: annotation policy: hidden" '^hidden' "$OUT"
  # --preserve-fds: podman and conmon hand the runtime the caller's fd 3
  echo podman-three >"$TMPROOT/podman-fd3"
  expect_exit 0 "podman: run --preserve-fds 1" -- "${P[@]}" run --rm "${base[@]}" --preserve-fds 1 \
    "$IMG" sh -c 'cat <&3; echo fds: $(ls /proc/self/fd)' 3<"$TMPROOT/podman-fd3"
  expect_grep "podman: run --preserve-fds: fd 3 reached the container" '^podman-three$' "$OUT"
  expect_grep "podman: run --preserve-fds: fds 0-3 (and ls's own)" '^fds: 0 1 2 3 4$' "$OUT"
  "${P[@]}" run -d --name pfdme "${base[@]}" "$IMG" sleep 1000.733 >/dev/null 2>&1 || fail "podman: run -d pfdme"
  expect_exit 0 "podman: exec --preserve-fds 1" -- "${P[@]}" exec --preserve-fds 1 pfdme \
    sh -c 'cat <&3; echo fds: $(ls /proc/self/fd)' 3<"$TMPROOT/podman-fd3"
  expect_grep "podman: exec --preserve-fds: fd 3 reached the process" '^podman-three$' "$OUT"
  expect_grep "podman: exec --preserve-fds: fds 0-3 (and ls's own)" '^fds: 0 1 2 3 4$' "$OUT"
  "${P[@]}" rm -f pfdme >/dev/null 2>&1
  CLI=("${P[@]}") RUN=("${base[@]}")
  tty_and_stop_cases podman
  exec_cases podman 127
  podman_pod_cases
  podman_userns_cases
  "${P[@]}" run -d --name killme "${base[@]}" "$IMG" sleep 1000.731 >/dev/null 2>&1 || fail "podman: run -d"
  expect_exit 0 "podman: pause" -- "${P[@]}" pause killme
  expect_eq "podman: paused" paused "$("${P[@]}" inspect killme --format '{{.State.Status}}' 2>/dev/null)"
  expect_exit 0 "podman: unpause" -- "${P[@]}" unpause killme
  expect_eq "podman: running again" running "$("${P[@]}" inspect killme --format '{{.State.Status}}' 2>/dev/null)"
  expect_exit 0 "podman: kill" -- "${P[@]}" kill killme
  expect_exit 0 "podman: rm -f" -- "${P[@]}" rm -f killme
  # (a number of its own: test_process runs sleep 1000... beside this test)
  pgrep -f "^sleep 1000\.731$" >/dev/null && fail "podman: a container process is left after rm -f"
  "${P[@]}" rmi -a -f >/dev/null 2>&1
}

# ---- containerd (ctr) ----
CTRD=""
containerd_engine() {
  command -v containerd >/dev/null && command -v ctr >/dev/null ||
    { skip "containerd: not installed"; return; }
  mkdir -p "$TMPROOT/ctrd"
  CTRD=$TMPROOT/ctrd/sock
  containerd --root "$TMPROOT/ctrd/root" --state "$TMPROOT/ctrd/state" --address "$CTRD" \
    >"$TMPROOT/ctrd/log" 2>&1 &
  CTRD_PID=$!
  track_bg $CTRD_PID
  for _ in $(seq 100); do ctr -a "$CTRD" version >/dev/null 2>&1 && break; sleep 0.1; done
  if ! ctr -a "$CTRD" images import "$TMPROOT/image.tar" >"$TMPROOT/ctr.import" 2>&1; then
    skip "containerd: $(tail -n 1 "$TMPROOT/ctr.import" "$TMPROOT/ctrd/log" | tail -n 1)"; CTRD=""; return
  fi
  ran=$((ran + 1))
  local n=0
  run_c() {
    local kind=$1; shift
    local o=()
    case $kind in
      env) o=(--env GREETING=hi --cwd /etc) ;;
      readonly) o=(--read-only) ;;
      bind) o=(--mount "type=bind,src=$TMPROOT/vol,dst=/data,options=rbind:rw") ;;
      tmpfs) o=(--mount "type=tmpfs,src=tmpfs,dst=/scratch,options=rw") ;;
      seccomp) o=(--seccomp --seccomp-profile "$TMPROOT/no-rmdir.json") ;;
      memory) o=(--memory-limit 33554432) ;;
    esac
    n=$((n + 1))
    timeout -k 5 120 ctr -a "$CTRD" run --rm --runc-binary "$U" "${o[@]}" "$IMG" "c$n" "$@"
  }
  common_cases ctr "this ctr has no --user"
  ctr -a "$CTRD" run -d --runc-binary "$U" "$IMG" bg sleep 1000 >/dev/null 2>&1 || fail "ctr: run -d"
  expect_exit 4 "ctr: task exec: exit code" -- ctr -a "$CTRD" task exec --exec-id e1 bg sh -c 'tr "\0" " " </proc/2/cmdline; echo; exit 4'
  expect_grep "ctr: task exec: in the container" '^sleep 1000 $' "$OUT"
  # (ctr -t wants a terminal of its own: script(1) gives it one)
  expect_exit 0 "ctr: task exec --tty" -- script -qec "ctr -a '$CTRD' task exec -t --exec-id e2 bg tty" /dev/null
  expect_grep "ctr: task exec --tty: a pty" '/dev/pts/[0-9]' "$OUT"
  # a pod as containerd's CRI makes one: the members name /proc/PID/ns/* of
  # the pause container's task (PID: the runtime's state pid)
  local pause
  pause=$(ctr -a "$CTRD" task ls 2>/dev/null | awk '$1 == "bg" {print $2}')
  local show='readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts'
  expect_exit 0 "ctr: the pause container's namespaces" -- ctr -a "$CTRD" task exec --exec-id e3 bg sh -c "$show"
  cp "$OUT" "$TMPROOT/ctr.pause"
  expect_exit 0 "ctr: a pod's member (--with-ns)" -- timeout -k 5 120 ctr -a "$CTRD" run --rm \
    --runc-binary "$U" --with-ns "ipc:/proc/$pause/ns/ipc" --with-ns "uts:/proc/$pause/ns/uts" \
    --with-ns "network:/proc/$pause/ns/net" "$IMG" member sh -c "$show"
  expect_grep "ctr: pods: an IPC namespace" '^ipc:\[' "$OUT"
  expect_eq "ctr: pods: the member shares the pause container's IPC and UTS" \
    "$(cat "$TMPROOT/ctr.pause")" "$(cat "$OUT")"
  expect_exit 0 "ctr: task kill" -- ctr -a "$CTRD" task kill -s KILL bg
  for _ in $(seq 50); do ctr -a "$CTRD" task ls 2>/dev/null | grep -q "bg.*STOPPED" && break; sleep 0.1; done
  expect_exit 0 "ctr: task rm and container rm" -- sh -c "ctr -a '$CTRD' task rm bg && ctr -a '$CTRD' container rm bg"
}

# ---- Docker ----
docker_engine() {
  command -v dockerd >/dev/null && command -v docker >/dev/null || { skip "docker: not installed"; return; }
  [ -n "$CTRD" ] || { skip "docker: needs the containerd started above"; return; }
  local d=$TMPROOT/docker
  mkdir -p "$d"
  printf '{"runtimes": {"usbox": {"path": "%s"}}}\n' "$U" >"$d/daemon.json"
  dockerd --config-file "$d/daemon.json" --containerd "$CTRD" --iptables=false --ip6tables=false \
    --bridge=none --storage-driver vfs --data-root "$d/data" --exec-root "$d/exec" \
    --pidfile "$d/pid" -H "unix://$d/sock" >"$d/log" 2>&1 &
  DOCKERD=$!
  track_bg $DOCKERD
  local D=(docker -H "unix://$d/sock")
  for _ in $(seq 150); do "${D[@]}" info >/dev/null 2>&1 && break; sleep 0.1; done
  if ! "${D[@]}" import "$TMPROOT/rootfs.tar" "$IMG" >"$TMPROOT/docker.import" 2>&1; then
    skip "docker: $(tail -n 1 "$TMPROOT/docker.import" "$d/log" | tail -n 1)"; return
  fi
  ran=$((ran + 1))
  run_c() {
    local kind=$1; shift
    local o=()
    cli_options "$kind"
    timeout -k 5 120 "${D[@]}" run --rm --runtime usbox --network none "${o[@]}" "$IMG" "$@"
  }
  common_cases docker
  local api
  api=$("${D[@]}" version --format '{{.Server.APIVersion}}' 2>/dev/null)
  if [ "$(printf '%s\n1.43\n' "$api" | sort -V | head -n 1)" != 1.43 ]; then
    skip "docker: annotation policy: this daemon's API ($api) has no --annotation (1.43)"
  else
    expect_exit 0 "docker: annotation policy" -- "${D[@]}" run --rm --runtime usbox --network none \
      --annotation dev.usbox.hide=/etc/secret "$IMG" sh -c 'cat /etc/secret 2>/dev/null || echo hidden'
    expect_grep "docker: annotation policy: hidden" '^hidden' "$OUT"
  fi
  CLI=("${D[@]}") RUN=(--runtime usbox --network none)
  tty_and_stop_cases docker
  exec_cases docker 126
}

# The daemons stop as they would be stopped, and nothing they mounted
# stays behind (docker's network namespace files).
stop_daemons() {
  for pid in ${DOCKERD:-} ${CTRD_PID:-}; do
    kill -TERM "$pid" 2>/dev/null && wait_gone "$pid" 15 || kill -KILL "$pid" 2>/dev/null
  done
  findmnt -rn -o TARGET | grep "^$TMPROOT/" | sort -r | while read -r m; do umount -l "$m"; done
}

podman_engine
containerd_engine
docker_engine
stop_daemons
[ "$ran" -gt 0 ] || fail "no engine could start on this machine"
echo "engines run: $ran of 3"
finish
