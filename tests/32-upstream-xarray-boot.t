# lib/test_xarray.c at boot on 7.2 (CONFIG_TEST_XARRAY): every test passes
# with the upstream series, with no splat.  Its new cases fail without the
# xas_find() fix in the userspace harness (31) and at boot in make stress
# (step xarray: upstream-xatest-unfixed).
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/upstream-xarray-boot.out
expect_status_tee "$out" 0 scripts/xarray-boot upstream-xatest
grep -qE '^xarray-boot: kernel=upstream-xatest passed=([0-9]+) run=\1 verdict=PASS vm=0$' "$out" ||
	fail "the upstream series' XArray tests do not all pass at boot"
