# Helpers of the network tests (test_net.sh, test_net_names.sh), sourced
# after lib.sh. An agent script prints one line "STEP: RESULT" per step
# into $TMPROOT/LABEL.out; the host's servers log one line per event into
# $HLOG.
#
#   expect LABEL STEP RESULT-REGEX    the step's result must match
#   mark; host_saw REGEX COUNT        how many lines of the host's log match,
#                                     since the last mark

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
