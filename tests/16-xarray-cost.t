# What patch 2 adds to an xas_find() walk, in instructions per entry
# (callgrind, exact): with xas_for_each(), at most 1% over order-0
# entries and 12% over multi-index ones (measured: +0.2%, +6.8% at order
# 2, +11.1% at order 9: holes are tested first, so a hole costs what it
# did and a sibling one comparison more); with one xas_find() call per
# entry, at most 12%.
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/xarray-cost.out
expect_status_tee "$out" 0 scripts/xarray-cost 0 2 9
ratio() { sed -n "s/^xarray-cost: order=$1 .* ratio=//p" "$out"; }
for o in 0 2 9; do
	[ -n "$(ratio "$o")" ] || fail "no figure for order $o"
done
awk -v r="$(ratio 0)" 'BEGIN { exit !(r <= 1.01) }' || fail "order 0: ratio $(ratio 0) > 1.01"
for o in 2 9; do
	awk -v r="$(ratio "$o")" 'BEGIN { exit !(r <= 1.12) }' || fail "order $o: ratio $(ratio "$o") > 1.12"
done
# One xas_find() call per entry (find_get_entry()): the per-call part is
# paid every time; measured +4.6%, +7.9%, +11.4%.  At most 12%.
fratio() { sed -n "s/^xarray-cost: walk=find order=$1 .* ratio=//p" "$out"; }
for o in 0 2 9; do
	[ -n "$(fratio "$o")" ] || fail "no find-walk figure for order $o"
	awk -v r="$(fratio "$o")" 'BEGIN { exit !(r <= 1.12) }' || fail "find walk, order $o: ratio $(fratio "$o") > 1.12"
done
