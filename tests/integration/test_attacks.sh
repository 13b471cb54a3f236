#!/usr/bin/env bash
# The attack programs (tests/attacks/*.c, built by tests/CMakeLists.txt into
# $ATTACKS) run inside the sandbox, and natively with --native for contrast.
# Each prints "ok NAME" or "FAIL NAME: detail" per check and exits 1 if any
# check failed; every FAIL line fails this test, and the exit status must
# match the lines (under usbox that also checks that usbox exits with the
# agent's status). usbox's own exit status is checked directly too.
. "$(dirname "$0")/lib.sh"

: "${ATTACKS:?ATTACKS must be the directory of the built attack programs}"
for prog in denied abi nested_listener race fd_leak proc_escape; do
  [ -x "$ATTACKS/$prog" ] || { echo "missing attack program $ATTACKS/$prog" >&2; exit 1; }
done

# run_attack LABEL MODE STDIN PROG [ARGS...]
#   MODE: native (PROG --native), usbox, audit (usbox --audit $TMPROOT/LABEL.audit),
#   verbose (usbox -v). The program starts with only fds 0-2 open, plus fd 7
#   (/dev/null) when INHERIT_FD7=1. Its stdout is left in $TMPROOT/LABEL.out,
#   stderr in $TMPROOT/LABEL.err.
run_attack() {
  local label=$1 mode=$2 stdin=$3 prog=$4
  shift 4
  local -a cmd
  case $mode in
    native) cmd=("$ATTACKS/$prog" --native "$@") ;;
    usbox) cmd=("$USBOX" exec -- "$ATTACKS/$prog" "$@") ;;
    audit) cmd=("$USBOX" exec --audit "$TMPROOT/$label.audit" -- "$ATTACKS/$prog" "$@") ;;
    verbose) cmd=("$USBOX" exec -v -- "$ATTACKS/$prog" "$@") ;;
    *) echo "run_attack: bad mode $mode" >&2; exit 2 ;;
  esac
  local out=$TMPROOT/$label.out err=$TMPROOT/$label.err
  (
    for fd in "/proc/$BASHPID/fd"/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    [ "${INHERIT_FD7:-0}" = 1 ] && exec 7</dev/null
    cd "$TMPROOT" && exec timeout -k 5 "$CMD_TIMEOUT" "${cmd[@]}"
  ) <"$stdin" >"$out" 2>"$err"
  local rc=$?

  local nok nfail line
  nok=$(grep -c '^ok ' "$out")
  nfail=$(grep -c '^FAIL ' "$out")
  while IFS= read -r line; do
    fail "$label: ${line#FAIL }"
  done < <(grep '^FAIL ' "$out")
  local want=0
  [ "$nfail" -gt 0 ] && want=1
  if [ $((nok + nfail)) -eq 0 ]; then
    fail "$label: no check reported anything (exit status $rc)"
    show stdout "$out"
    show stderr "$err"
  elif [ "$rc" != "$want" ]; then
    # 124/137: timeout; 128+N: killed by signal N (a crash, or usbox died)
    fail "$label: exit status $rc after $nok ok and $nfail FAIL lines, expected $want" \
      "$([ "$mode" = native ] || echo '(usbox must exit with the agent'"'"'s status)')"
    tail -5 "$out" | sed 's/^/  | /' >&2
    show stderr "$err"
  elif [ "$nfail" -eq 0 ]; then
    pass "$label: $nok checks"
  else
    show stderr "$err"
  fi
  # the sentry must not have been surprised by anything
  if [ "$mode" != native ] &&
    grep -qE 'unexpected notification|receiving a notification failed|answering [0-9]+ failed' "$err"; then
    fail "$label: usbox warned about its own operation"
    show stderr "$err"
  fi
  return 0
}

# ---------------------------------------------------------------- denied
run_attack denied-native native /dev/null denied
run_attack denied usbox /dev/null denied
# with --audit and -v, denials are answered by the sentry instead of BPF
run_attack denied-audit audit /dev/null denied
run_attack denied-verbose verbose /dev/null denied
audit=$TMPROOT/denied-audit.audit
if [ -s "$audit" ]; then
  expect_grep "audit: ptrace denied" '"syscall":"ptrace".*"decision":"deny".*"errno":"EPERM"' "$audit"
  expect_grep "audit: TIOCSTI denied by its rule" \
    '"syscall":"ioctl".*"decision":"deny".*"errno":"EPERM".*"rule":"argument rule: ioctl EPERM: TIOCSTI' "$audit"
  expect_grep "audit: nested listener denied" '"syscall":"seccomp".*"decision":"deny".*"errno":"EPERM"' "$audit"
  expect_grep "audit: clone namespace flags denied" '"syscall":"clone".*"decision":"deny".*"errno":"EPERM"' "$audit"
  # ENOSYS, what a kernel without io_uring says (libraries go on without
  # it), but a boundary of the sandbox: "deny", not "fallback", its row named
  expect_grep "audit: io_uring_setup ENOSYS" \
    '"syscall":"io_uring_setup".*"decision":"deny".*"errno":"ENOSYS".*"rule":"table: io_uring_setup ENOSYS' "$audit"
  expect_grep "audit: name_to_handle_at EOPNOTSUPP" \
    '"syscall":"name_to_handle_at".*"decision":"deny".*"errno":"EOPNOTSUPP"' "$audit"
else
  fail "audit: $audit is empty or missing"
fi
expect_grep "-v counts denials" 'calls denied: [1-9]' "$TMPROOT/denied-verbose.err"

# ---------------------------------------------------------------- abi
run_attack abi-native native /dev/null abi
abi_args=()
if grep -q '^# no-ia32-emulation' "$TMPROOT/abi-native.out"; then
  echo "note: this kernel has no IA32 emulation; the sandbox run is told so"
  abi_args=(--no-ia32)
fi
run_attack abi usbox /dev/null abi "${abi_args[@]}"
run_attack abi-audit audit /dev/null abi "${abi_args[@]}"
# the agent's main process itself: usbox exits 128+SIGSYS
expect_exit 159 "usbox exits 159 when the agent makes an x32 call" -- "$USBOX" exec -- "$ATTACKS/abi" --self-x32
expect_exit 159 "usbox exits 159 when the agent makes an x32 call (--audit)" -- \
  "$USBOX" exec --audit "$TMPROOT/self-x32.audit" -- "$ATTACKS/abi" --self-x32
if [ ${#abi_args[@]} -eq 0 ]; then
  expect_exit 159 "usbox exits 159 when the agent uses int \$0x80" -- "$USBOX" exec -- "$ATTACKS/abi" --self-ia32
else
  expect_exit 139 "usbox exits 139 when the agent uses int \$0x80 (no IA32 emulation)" -- \
    "$USBOX" exec -- "$ATTACKS/abi" --self-ia32
fi

# ---------------------------------------------------------------- nested listener
run_attack nested_listener-native native /dev/null nested_listener
run_attack nested_listener usbox /dev/null nested_listener
run_attack nested_listener-audit audit /dev/null nested_listener

# ---------------------------------------------------------------- races
run_attack race-native native /dev/null race
run_attack race usbox /dev/null race

# ---------------------------------------------------------------- fds
# fd 7 is open in usbox: natively the program sees it, in the sandbox it must not
INHERIT_FD7=1 run_attack fd_leak-native native /dev/null fd_leak --inherited 7
INHERIT_FD7=1 run_attack fd_leak usbox /dev/null fd_leak --inherited 7

# ---------------------------------------------------------------- /proc/self
# stdin a pipe (its /proc/self/fd/0 is a magic link to pipe:[N]), then a file
run_attack proc_escape-native native <(printf 'from a pipe\n') proc_escape
run_attack proc_escape usbox <(printf 'from a pipe\n') proc_escape
run_attack proc_escape-stdin-file usbox "$SRCDIR/tests/attacks/attack.h" proc_escape

# ---------------------------------------------------------------- exit status
for code in 0 1 42 255; do
  expect_exit "$code" "usbox exits with the agent's status $code" -- "$USBOX" exec -- "$ATTACKS/denied" --exit "$code"
done
expect_exit 42 "usbox exits with the agent's status 42 (--audit)" -- \
  "$USBOX" exec --audit "$TMPROOT/exit.audit" -- "$ATTACKS/denied" --exit 42

finish
