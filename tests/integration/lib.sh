# Helpers for tests/integration/test_*.sh. Source it first:
#   . "$(dirname "$0")/lib.sh"
# then call checks, and end the script with `finish`.
#
#   fail MSG                        record a failure and go on
#   pass MSG                        record a success
#   same_as_native NAME [--setup FN] [--stdin FILE] -- CMD...
#                                   run CMD natively and under usbox, each in a
#                                   fresh scratch dir (cwd; also $SCRATCH),
#                                   compare stdout, stderr and exit status
#   expect_exit CODE [NAME] -- CMD...
#                                   CMD's exit status must be CODE; its stdout
#                                   and stderr are left in the files $OUT, $ERR
#                                   (CMD may be a shell function: it then
#                                   bounds its own commands' time)
#   expect_eq NAME EXPECTED ACTUAL
#   expect_grep NAME REGEX FILE     FILE must contain a line matching REGEX
#   track_bg PID / wait_bg PID [SECS] / wait_gone PID [SECS]
#                                   background processes: kill at exit / wait
#                                   with a bound and get the status / wait for
#                                   any process to end
#   finish                          end the test (optional: the summary is
#                                   printed at exit anyway; the script exits 1
#                                   if anything failed or nothing was checked)
#
# Environment (set by ctest): USBOX, SRCDIR, BUILDDIR. KEEP_TMP=1 keeps the
# scratch directories for a look after the run.

set -u
set -o pipefail
# Tests read no terminal: with one on stdin (a run from an interactive
# shell), usbox would relay it and put it in raw mode while tests run side
# by side (sentry/tty_relay.h). Tests that want a terminal make a pty.
exec </dev/null

: "${USBOX:?USBOX must be the path of the built usbox binary}"
[ -x "$USBOX" ] || { echo "USBOX=$USBOX is not executable" >&2; exit 1; }
SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# Extra options for every `usbox exec` of same_as_native (e.g. --cap-add ALL
# where a test compares with what root may do natively).
[ -v USBOX_EXEC_ARGS ] || USBOX_EXEC_ARGS=()

# Every command gets a bound, so a hang is a failure, not a stuck ctest.
CMD_TIMEOUT=${CMD_TIMEOUT:-120}
# Same locale and timezone for native and sandboxed runs.
export LC_ALL=C TZ=UTC

_failures=0
_passes=0
_case=0
TEST_NAME=$(basename "$0" .sh)
TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/usbox-it.XXXXXX")
export TMPROOT
OUT=$TMPROOT/out ERR=$TMPROOT/err
# The sandbox's default view has a private /tmp and a read-only host: every
# test runs with the default policy plus its own scratch root bound
# writable (issue 3), and the source and build trees bound read-only (they
# may live under /tmp, as in a CI checkout). A shim puts these in front of
# every exec.
USBOX_REAL=$USBOX
_binds="--rw $TMPROOT"
for _d in "${SRCDIR:-}" "${BUILDDIR:-}"; do
  [ -n "$_d" ] && [ -d "$_d" ] && _binds="$_binds --ro $(cd "$_d" && pwd -P)"
done
mkdir -p "$TMPROOT/bin"
cat >"$TMPROOT/bin/usbox" <<SHIM
#!/bin/sh
if [ "\$1" = exec ]; then shift; exec "$USBOX_REAL" exec $_binds "\$@"; fi
exec "$USBOX_REAL" "\$@"
SHIM
chmod +x "$TMPROOT/bin/usbox"
USBOX=$TMPROOT/bin/usbox

# usbox_for_nobody: prints the path of a usbox an unprivileged user can run
# wherever the checkout is (a fresh clone may sit in a directory only root
# can enter): a copy of the binary in the scratch root, behind a shim that
# binds the scratch root only. The caller makes $TMPROOT enterable (711).
usbox_for_nobody() {
  local d=$TMPROOT/nobody
  mkdir -p "$d"
  cp "$USBOX_REAL" "$d/usbox-bin"
  cat >"$d/usbox" <<SHIM
#!/bin/sh
if [ "\$1" = exec ]; then shift; exec "$d/usbox-bin" exec --rw $TMPROOT "\$@"; fi
exec "$d/usbox-bin" "\$@"
SHIM
  chmod 755 "$d" "$d/usbox" "$d/usbox-bin"
  echo "$d/usbox"
}
_bg_pids=()

_on_exit() {
  local rc=$? p
  for p in "${_bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMPROOT"; else rm -rf "$TMPROOT"; fi
  echo "== $TEST_NAME: $_passes passed, $_failures failed"
  if [ "$rc" -ne 0 ]; then
    echo "== $TEST_NAME: script ended with status $rc" >&2
    exit "$rc"
  fi
  if [ $((_passes + _failures)) -eq 0 ]; then
    echo "== $TEST_NAME: no checks ran" >&2
    exit 1
  fi
  [ "$_failures" -eq 0 ] || exit 1
}
trap _on_exit EXIT

# Remember a background pid so it is killed if the test stops early.
track_bg() { _bg_pids+=("$1"); }

fail() {
  _failures=$((_failures + 1))
  echo "FAIL: $*" >&2
}

pass() {
  _passes=$((_passes + 1))
  echo "ok:   $*"
}

finish() { exit 0; }

# Print the head of a file, indented, to explain a failure.
show() {
  local label=$1 file=$2
  [ -s "$file" ] || return 0
  echo "  --- $label" >&2
  head -c 3000 "$file" | sed 's/^/  | /' >&2
}

# run_in DIR MODE STDIN OUTFILE ERRFILE CMD...: MODE native|usbox. Returns the
# exit status. DIR is the cwd and $SCRATCH.
run_in() {
  local dir=$1 mode=$2 stdin=$3 out=$4 err=$5
  shift 5
  local -a prefix=()
  [ "$mode" = usbox ] && prefix=("$USBOX" exec "${USBOX_EXEC_ARGS[@]}" --)
  # Close whatever fds this script inherited above 2: usbox does so for the
  # agent, so the native run must start the same way.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    cd "$dir" && SCRATCH=$dir exec timeout -k 5 "$CMD_TIMEOUT" "${prefix[@]}" "$@"
  ) <"$stdin" >"$out" 2>"$err"
}

# same_as_native NAME [--setup FN] [--stdin FILE] -- CMD...
# FN is called (natively) inside each scratch dir before CMD runs, so both
# runs start from the same tree. Scratch dirs have names of the same length;
# their paths are replaced by $SCRATCH in the output before comparing.
same_as_native() {
  local name=$1 setup="" stdin=/dev/null
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
      --setup) setup=$2; shift 2 ;;
      --stdin) stdin=$2; shift 2 ;;
      *) echo "same_as_native: bad argument $1" >&2; exit 2 ;;
    esac
  done
  shift
  _case=$((_case + 1))
  local mode dir rc rc_native rc_usbox c=$TMPROOT/case$_case
  for mode in native usbox; do
    dir=$(mktemp -d "$TMPROOT/$(printf %.1s "$mode").XXXXXX")
    if [ -n "$setup" ] && ! (cd "$dir" && SCRATCH=$dir "$setup") >"$dir.setup" 2>&1; then
      fail "$name: setup $setup failed"; show setup "$dir.setup"; return
    fi
    run_in "$dir" "$mode" "$stdin" "$c.$mode.out.raw" "$c.$mode.err.raw" "$@"
    rc=$?
    sed "s|$dir|\$SCRATCH|g" "$c.$mode.out.raw" >"$c.$mode.out"
    sed "s|$dir|\$SCRATCH|g" "$c.$mode.err.raw" >"$c.$mode.err"
    if [ "$mode" = native ]; then rc_native=$rc; else rc_usbox=$rc; fi
  done
  local ok=1 stream
  if [ "$rc_native" != "$rc_usbox" ]; then
    fail "$name: exit status native=$rc_native usbox=$rc_usbox"; ok=0
  fi
  for stream in out err; do
    if ! cmp -s "$c.native.$stream" "$c.usbox.$stream"; then
      fail "$name: std$stream differs (native vs usbox)"; ok=0
      diff -u "$c.native.$stream" "$c.usbox.$stream" | head -40 | sed 's/^/  | /' >&2
    fi
  done
  if [ $ok = 1 ]; then
    pass "$name (status $rc_native)"
  else
    show "native stderr" "$c.native.err"
    show "usbox stderr" "$c.usbox.err"
  fi
}

# expect_exit CODE [NAME] -- CMD...: stdout/stderr land in $OUT/$ERR.
expect_exit() {
  local want=$1 name
  shift
  if [ "$1" = -- ]; then
    shift
    name="$*"
  else
    name=$1
    shift
    [ "${1:-}" = -- ] && shift
  fi
  if declare -F "$1" >/dev/null; then
    "$@" </dev/null >"$OUT" 2>"$ERR" # a shell function bounds its own commands
  else
    timeout -k 5 "$CMD_TIMEOUT" "$@" </dev/null >"$OUT" 2>"$ERR"
  fi
  local rc=$?
  if [ "$rc" = "$want" ]; then
    pass "$name (status $rc)"
    return 0
  fi
  fail "$name: exit status $rc, expected $want"
  show stdout "$OUT"
  show stderr "$ERR"
  return 1
}

expect_eq() {
  local name=$1 want=$2 got=$3
  if [ "$want" = "$got" ]; then
    pass "$name"
  else
    fail "$name: expected [$want], got [$got]"
  fi
}

expect_grep() {
  local name=$1 re=$2 file=$3
  if grep -qE -- "$re" "$file"; then
    pass "$name"
  else
    fail "$name: no line matching /$re/"
    show "$(basename "$file")" "$file"
  fi
}

# wait_bg PID [SECS]: wait for background job PID (a child of this shell) for
# at most SECS seconds (default 20), SIGKILL it after that; return its status.
wait_bg() {
  local pid=$1 limit=${2:-20}
  wait_gone "$pid" "$limit" || { echo "wait_bg: $pid still running, killing it" >&2; kill -KILL "$pid"; }
  wait "$pid"
}

# wait_gone PID [SECS]: wait up to SECS seconds (default 5) for any process
# PID to end (gone, or a zombie waiting to be reaped); 1 if it still runs.
# running: the process exists and has not ended (a zombie has ended; when
# its reaper collects it is the reaper's business)
running() {
  [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

wait_gone() {
  local pid=$1 limit=${2:-5} i
  for ((i = 0; i < limit * 20; i++)); do
    [ -e "/proc/$pid" ] || return 0
    # a zombie has finished running
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.05
  done
  return 1
}
