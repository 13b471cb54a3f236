#!/usr/bin/env bash
# The folders depend on each other one way only (docs/architecture.md, "How
# the folders depend on each other"): every #include "DIR/..." of a source
# file goes to its own folder or to one of a lower layer (never to another
# folder of the same layer). Layers, lowest first:
#   0 common    1 table, limits    2 platform, netstack-shim, overlay
#   3 policy, gofer    4 vfs    5 sentry    6 oci    7 cli
# So the VFS includes nothing of the sentry, the gofer nothing of the VFS,
# platform/ nothing of the gofer; a new upward include fails here.
. "$(dirname "$0")/lib.sh"

declare -A rank=([common]=0 [table]=1 [limits]=1 [platform]=2 [netstack-shim]=2 [overlay]=2
                 [policy]=3 [gofer]=3 [vfs]=4 [sentry]=5 [oci]=6 [cli]=7)
bad=0 checked=0
for dir in "${!rank[@]}"; do
  for f in "$SRCDIR/$dir"/*.[ch]; do
    [ -e "$f" ] || continue
    while IFS= read -r target; do
      checked=$((checked + 1))
      [ "$target" = "$dir" ] && continue
      if [ -z "${rank[$target]+x}" ]; then
        echo "  ${f#$SRCDIR/} includes $target/, a folder of no layer"; bad=$((bad + 1))
      elif [ "${rank[$target]}" -ge "${rank[$dir]}" ]; then
        echo "  ${f#$SRCDIR/} ($dir, layer ${rank[$dir]}) includes $target/ (layer ${rank[$target]})"
        bad=$((bad + 1))
      fi
    done < <(sed -n 's|^#include "\([a-z_-]*\)/.*|\1|p' "$f")
  done
done
[ "$checked" -gt 100 ] || fail "only $checked includes found under $SRCDIR: the scan is broken"
[ "$bad" = 0 ] && pass "$checked includes, every one to its own folder or a lower layer" ||
  fail "$bad includes go up or sideways"
finish
