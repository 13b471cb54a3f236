# test_oci.sh: what root of a user namespace may do in directory $1 (run inside
# a usbox container and natively under the same maps; the outputs must match)
cd "$1" || exit 9
echo "uid $(id -u) gid $(id -g)"
cat rootonly 2>/dev/null || echo rootonly-refused
cat mine
echo new > new && echo new-made
chown 70000 new 2>/dev/null || echo unmapped-refused
chown 1000:1000 new && echo chown-mapped
chmod 666 rootonly 2>/dev/null || echo chmod-refused
chown 0 rootonly 2>/dev/null || echo chown-root-refused
rm -f rootonly 2>/dev/null || echo rm-refused
mkdir sub && echo mkdir-made
stat -c '%n %u %g %a' rootonly mine new sub
