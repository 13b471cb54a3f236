# Helpers of the network tests (test_net.sh, test_net_names.sh), sourced
# after lib.sh. An agent script prints one line "STEP: RESULT" per step
# into $TMPROOT/LABEL.out; the host's servers log one line per event into
# $HLOG.
#
#   agent LABEL [USBOX OPTIONS] -- STEPS...
#                                     run $TMPROOT/agent.py inside usbox with
#                                     AGENT_OPTS (the test's, for every run)
#                                     and the options; its output is
#                                     $TMPROOT/LABEL.out ({LABEL} in
#                                     AGENT_OPTS is the label)
#   expect LABEL STEP RESULT-REGEX    the step's result must match
#   mark; host_saw REGEX COUNT        how many lines of the host's log match,
#                                     since the last mark

AGENT_OPTS=()
agent() {
  local label=$1
  shift
  local -a opts=("${AGENT_OPTS[@]//\{LABEL\}/$label}")
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  timeout -k 5 "$CMD_TIMEOUT" "$USBOX" exec "${opts[@]}" -- python3 "$TMPROOT/agent.py" "$@" \
    </dev/null >"$TMPROOT/$label.out" 2>"$TMPROOT/$label.err"
  local rc=$?
  [ "$rc" = 0 ] || { fail "$label: agent exited $rc"; show stderr "$TMPROOT/$label.err"; show stdout "$TMPROOT/$label.out"; }
}

expect() {
  local label=$1 step=$2 want=$3 got
  got=$(awk -v p="$step: " 'index($0, p) == 1 { print substr($0, length(p) + 1); exit }' \
    "$TMPROOT/$label.out")
  if [[ "$got" =~ ^($want)$ ]]; then
    pass "$label: $step -> $got"
  else
    fail "$label: $step: expected /$want/, got [$got]"
  fi
}

mark() { MARK=$(wc -l <"$HLOG"); }
host_saw() {
  local what=$1 want=$2 got
  got=$(tail -n +$((MARK + 1)) "$HLOG" | grep -cE -- "^($what)\$")
  expect_eq "the host saw '$what' $want time(s)" "$want" "$got"
}
