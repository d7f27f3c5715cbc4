# lib/test_xarray.c at boot (CONFIG_TEST_XARRAY): every test passes on the
# patched tree, with no splat.  That the series' new cases fail there
# without the xas_find() fix is shown here in the userspace harness (14)
# and at boot by make stress (step xarray: xatest-unfixed, patched with
# base's lib/xarray.c), a kernel build and a boot of 45 s that a series
# change gains nothing from in every make check.
. "$(dirname "$0")/lib.sh"
out=$BUILD_DIR/xarray-boot.out
expect_status_tee "$out" 0 scripts/xarray-boot xatest
grep -qE '^xarray-boot: kernel=xatest passed=([0-9]+) run=\1 verdict=PASS vm=0$' "$out" ||
	fail "the patched tree's XArray tests do not all pass at boot"
