# lib/test_xarray.c at boot on 7.2 (CONFIG_TEST_XARRAY): every test passes
# with the upstream series, and its new cases fail without the xas_find()
# fix (upstream-xatest-unfixed), with no splat.
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/upstream-xarray-boot.out
expect_status_tee "$out" 0 scripts/xarray-boot upstream-xatest upstream-xatest-unfixed
grep -qE '^xarray-boot: kernel=upstream-xatest passed=([0-9]+) run=\1 verdict=PASS vm=0$' "$out" ||
	fail "the upstream series' XArray tests do not all pass at boot"
grep -qE '^xarray-boot: kernel=upstream-xatest-unfixed passed=[0-9]+ run=[0-9]+ verdict=FAIL vm=0$' "$out" ||
	fail "the XArray tests do not fail at boot on 7.2 without the fix"
grep -q 'BUG at check_find_replaced_1' "$out" ||
	fail "the failure is not in check_find_replaced_1"
