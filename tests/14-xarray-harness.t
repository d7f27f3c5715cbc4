# The userspace XArray harness (tools/testing/radix-tree) of the patched
# tree passes its xarray and multiorder tests at XA_CHUNK_SHIFT 6 and 3,
# and the series' new lib/test_xarray.c cases fail without the xas_find()
# fix (tree "unfixed": patched with base's lib/xarray.c).  No VM.
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/xarray-harness.out
expect_status_tee "$out" 0 scripts/xarray-harness patched unfixed
for want in \
	"tree=patched shift=6 xarray=PASS multiorder=PASS" \
	"tree=patched shift=3 xarray=PASS multiorder=PASS" \
	"tree=unfixed shift=6 xarray=FAIL multiorder=PASS" \
	"tree=unfixed shift=3 xarray=FAIL multiorder=PASS"; do
	grep -qxF "xarray-harness: $want" "$out" || fail "want '$want'"
done
grep -q 'BUG at check_find_replaced_1' "$out" ||
	fail "the unfixed tree does not fail in check_find_replaced_1"
