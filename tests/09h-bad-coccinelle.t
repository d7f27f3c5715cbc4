# The coccinelle gate fails on a series that adds a coccicheck report (in
# a copy of the series: patch 6 open-codes a min()), printing it.
. "$(dirname "$0")/lib.sh"
bad_series
p6=$(cd "$BAD/patches" && echo 0006-*.patch)
inject_line "$BAD/patches/$p6" mm/mincore.c '^\+	int i;$' \
	'	nr = nr < PTRS_PER_PTE ? nr : PTRS_PER_PTE;'
expect_status_tee "$BAD/out" 1 scripts/cocci-check --series-dir "$BAD"
grep -qE '^    mm/mincore.c:[0-9]+:[-0-9]+: WARNING opportunity for min\(\)' "$BAD/out" ||
	fail "the new report is not shown"
