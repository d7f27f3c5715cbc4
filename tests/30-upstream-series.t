# The upstream series (upstream/series, on Debian's 7.2): it applies with
# git am onto its base (and with quilt onto a plain copy), checkpatch
# --strict is clean on it, its selftest patch and cover letter are in sync
# with their sources, and in the patched tree 7.2's selftests/mm Makefile
# builds collapse_races and run_vmtests.sh runs it as -t collapse_races.
. "$(dirname "$0")/lib.sh"
export SERIES=upstream
. scripts/lib.sh
scripts/apply-series
n=$(grep -cvE '^\s*(#|$)' "$SERIES_ROOT/series" || true)
got=$(git -C "$BASE_REPO" rev-list --count base..patched)
[ "$got" -eq "$n" ] || fail "patched has $got commits on base, upstream/series has $n patches"
scripts/checkpatch-series
scripts/gen-selftest-patch --check
scripts/gen-cover-letter --check
grep -q '^base-commit: [0-9a-f]\{40\}$' "$SERIES_ROOT/patches/0000-cover-letter.patch" || fail "no base-commit"

tmp=$(mktemp -d "$BUILD_DIR/upstream-tree.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git -C "$BASE_REPO" archive --format=tar base | tar -x -C "$tmp"
quilt_round_trip "$tmp"

mm=$tmp/tools/testing/selftests/mm
echo "+ make -C tools/testing/selftests/mm collapse_races (7.2's Makefile and flags)"
# (make check runs under make: selftests' lib.mk sets OUTPUT only at
# MAKELEVEL 0, so give it, and none of the outer make's flags.)
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$mm" OUTPUT="$mm" "$mm/collapse_races" >"$tmp.log" 2>&1 ||
	{ tail -n 20 "$tmp.log"; rm -f "$tmp.log"; fail "collapse_races does not build in 7.2's selftests/mm"; }
! grep -E 'collapse_races\.c:.*warning' "$tmp.log" || { rm -f "$tmp.log"; fail "collapse_races builds with warnings in 7.2's selftests/mm"; }
rm -f "$tmp.log"
[ -x "$mm/collapse_races" ] || fail "no collapse_races binary"
grep -q '^CATEGORY="collapse_races" run_test ./collapse_races$' "$mm/run_vmtests.sh" ||
	fail "run_vmtests.sh does not run collapse_races"
bash "$mm/run_vmtests.sh" -h | grep -qx -- '- collapse_races' ||
	fail "run_vmtests.sh -h does not list the collapse_races category"
echo "7.2's selftests/mm builds collapse_races, and run_vmtests.sh -t collapse_races runs it"
