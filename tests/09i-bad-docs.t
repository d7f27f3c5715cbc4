# The documentation gate fails on a series that adds a docutils error
# (patch 7's transhuge.rst: a literal block announced, and none) and
# kernel-doc warnings (patch 6: a kernel-doc comment naming the wrong
# function), in a copy of the series, printing them.
. "$(dirname "$0")/lib.sh"
bad_series
p7=$(cd "$BAD/patches" && echo 0007-*.patch)
p6=$(cd "$BAD/patches" && echo 0006-*.patch)
# shellcheck disable=SC2016 # the backquotes are reStructuredText's
inject_line "$BAD/patches/$p7" Documentation/admin-guide/mm/transhuge.rst \
	'^\+``fallocate\(\)`` allocate small pages there' 'A literal block should follow::'
for l in ' */' ' * mincore_bad() - a kernel-doc comment that names no function here' '/**'; do
	inject_line "$BAD/patches/$p6" mm/mincore.c '^\+/\* mincore_page\(\) could not tell without sleeping' "$l"
done
expect_status_tee "$BAD/out" 1 scripts/doc-check --series-dir "$BAD"
grep -qE '^    Documentation/admin-guide/mm/transhuge.rst:[0-9]*: \((WARNING|ERROR)/' "$BAD/out" ||
	fail "the docutils warning is not shown"
grep -q '^    mm/mincore.c:[0-9]*: warning: .*mincore_bad' "$BAD/out" ||
	fail "the kernel-doc warning is not shown"
