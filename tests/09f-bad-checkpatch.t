# The checkpatch gate fails on a series with a style error (in a copy of
# the series: patch 6, the mincore fix, gets "int bad=0;"), naming the patch and the error.
. "$(dirname "$0")/lib.sh"
bad_series
p6=$(cd "$BAD/patches" && echo 0006-*.patch)
inject_line "$BAD/patches/$p6" mm/mincore.c '^\+	unsigned char present;$' '	int bad=0;'
expect_status_tee "$BAD/out" 1 scripts/checkpatch-series --series-dir "$BAD"
grep -q "^$p6: total: 1 errors" "$BAD/out" || fail "patch 6 not named with 1 error"
grep -q "^ERROR:SPACING: spaces required around that '='" "$BAD/out" || fail "the error is not shown"
n=$(grep -cvE '^\s*(#|$)' "$BAD/series" || true)
[ "$(grep -c ': total: 0 errors, 0 warnings, 0 checks' "$BAD/out")" -eq $((n - 1)) ] ||
	fail "the other $((n - 1)) patches are not clean"
