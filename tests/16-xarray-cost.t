# What patch 2 adds to an xas_find() walk, in instructions per entry
# (callgrind, exact): with xas_for_each(), at most 1% over order-0
# entries and 10% over multi-index ones (measured: +0.4%, +5.2% at order
# 2, +7.3% at order 9); with one xas_find() call per entry, at most 10%.
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/xarray-cost.out
expect_status_tee "$out" 0 scripts/xarray-cost 0 2 9
ratio() { sed -n "s/^xarray-cost: order=$1 .* ratio=//p" "$out"; }
for o in 0 2 9; do
	[ -n "$(ratio "$o")" ] || fail "no figure for order $o"
done
awk -v r="$(ratio 0)" 'BEGIN { exit !(r <= 1.01) }' || fail "order 0: ratio $(ratio 0) > 1.01"
for o in 2 9; do
	awk -v r="$(ratio "$o")" 'BEGIN { exit !(r <= 1.10) }' || fail "order $o: ratio $(ratio "$o") > 1.10"
done
# One xas_find() call per entry (find_get_entry()): the per-call part is
# paid every time; measured +9.1%, +5.9%, +7.4%.  At most 10%.
fratio() { sed -n "s/^xarray-cost: walk=find order=$1 .* ratio=//p" "$out"; }
for o in 0 2 9; do
	[ -n "$(fratio "$o")" ] || fail "no find-walk figure for order $o"
	awk -v r="$(fratio "$o")" 'BEGIN { exit !(r <= 1.10) }' || fail "find walk, order $o: ratio $(fratio "$o") > 1.10"
done
