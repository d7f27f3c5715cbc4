# lib/test_xarray.c at boot (CONFIG_TEST_XARRAY): every test passes on the
# patched tree, and the series' new cases fail without the xas_find() fix
# (xatest-unfixed: patched with base's lib/xarray.c), with no splat.
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/xarray-boot.out
expect_status_tee "$out" 0 scripts/xarray-boot xatest xatest-unfixed
grep -qE '^xarray-boot: kernel=xatest passed=([0-9]+) run=\1 verdict=PASS vm=0$' "$out" ||
	fail "the patched tree's XArray tests do not all pass at boot"
grep -qE '^xarray-boot: kernel=xatest-unfixed passed=[0-9]+ run=[0-9]+ verdict=FAIL vm=0$' "$out" ||
	fail "the XArray tests do not fail at boot without the fix"
grep -q 'BUG at check_find_replaced_1' "$out" ||
	fail "the failure is not in check_find_replaced_1"
