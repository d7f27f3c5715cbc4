# The checkpatch gate fails on a series with a style error (in a copy of
# the series: patch 4 gets "int bad=0;"), naming the patch and the error.
. "$(dirname "$0")/lib.sh"
bad_series
p4=$(cd "$BAD/patches" && echo 0004-*.patch)
inject_line "$BAD/patches/$p4" mm/mincore.c '^\+	unsigned char present;$' '	int bad=0;'
expect_status_tee "$BAD/out" 1 scripts/checkpatch-series --series-dir "$BAD"
grep -q "^$p4: total: 1 errors" "$BAD/out" || fail "patch 4 not named with 1 error"
grep -q "^ERROR: spaces required around that '='" "$BAD/out" || fail "the error is not shown"
[ "$(grep -c ': total: 0 errors, 0 warnings, 0 checks' "$BAD/out")" -eq 4 ] ||
	fail "the other patches are not clean"
