# The XArray fix on 7.2: the upstream series' tools/testing/radix-tree
# passes its xarray and multiorder tests at XA_CHUNK_SHIFT 6 and 3, and
# the new lib/test_xarray.c cases fail there without the fix (7.2's own
# lib/xarray.c); 7.2's own harness passes as it is, so the series changes
# no verdict but the one it means to.  No VM.
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/upstream-xarray-harness.out
expect_status_tee "$out" 0 env SERIES=upstream scripts/xarray-harness patched unfixed base
for want in \
	"tree=upstream-patched shift=6 xarray=PASS multiorder=PASS" \
	"tree=upstream-patched shift=3 xarray=PASS multiorder=PASS" \
	"tree=upstream-unfixed shift=6 xarray=FAIL multiorder=PASS" \
	"tree=upstream-unfixed shift=3 xarray=FAIL multiorder=PASS" \
	"tree=upstream-base shift=6 xarray=PASS multiorder=PASS" \
	"tree=upstream-base shift=3 xarray=PASS multiorder=PASS"; do
	grep -qxF "xarray-harness: $want" "$out" || fail "want '$want'"
done
grep -q 'BUG at check_find_replaced_1' "$out" ||
	fail "the unfixed tree does not fail in check_find_replaced_1"
