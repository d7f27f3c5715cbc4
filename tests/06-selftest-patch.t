# The series' selftest patch is in sync with the selftest sources, and in
# the patched base tree the vm selftests build it and run_vmtests.sh runs it.
. "$(dirname "$0")/lib.sh"
. scripts/lib.sh
scripts/gen-selftest-patch --check
scripts/apply-series >/dev/null
tmp=$(mktemp -d "$BUILD_DIR/vm-selftests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git -C "$BASE_REPO" archive --format=tar patched | tar -x -C "$tmp"
echo "+ make -C tools/testing/selftests TARGETS=vm"
make -s -C "$tmp/tools/testing/selftests" TARGETS=vm -j"$(nproc)" >"$tmp.log" 2>&1 ||
	{ grep -E 'error|Error' "$tmp.log" | head -n 20; fail "the vm selftests do not build"; }
rm -f "$tmp.log"
[ -x "$tmp/tools/testing/selftests/vm/collapse_races" ] || fail "no collapse_races binary"
grep -q '^run_test ./collapse_races$' "$tmp/tools/testing/selftests/vm/run_vmtests.sh" ||
	fail "run_vmtests.sh does not run collapse_races"
echo "make TARGETS=vm builds collapse_races in the patched tree, and run_vmtests.sh runs it"
