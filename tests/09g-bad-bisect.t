# The bisect gate (scripts/bisect-check) fails on a series that breaks the
# build in the middle and on one that adds a sparse warning, naming the
# patches.  In a copy of the series: patch 4 includes a header that only
# patch 5 adds, and patch 6 compares a pointer with a plain 0.  Applied in
# its own worktree ($BUILD_DIR/bisect-alt), built in $BUILD_DIR/out/
# bisect-alt with --objects-only: both faults show in the files the series
# touches, so the demo compiles those, not a kernel per patch.
. "$(dirname "$0")/lib.sh"
bad_series
p4=$(cd "$BAD/patches" && echo 0004-*.patch)
p5=$(cd "$BAD/patches" && echo 0005-*.patch)
p6=$(cd "$BAD/patches" && echo 0006-*.patch)
inject_line "$BAD/patches/$p4" mm/khugepaged.c '^\+	SCAN_UFFD_MISSING,$' '#include "bisect_demo.h"'
add_file "$BAD/patches/$p5" mm/bisect_demo.h '/* SPDX-License-Identifier: GPL-2.0 */'
inject_line "$BAD/patches/$p6" mm/mincore.c '^\+		present = folio_test_uptodate\(folio\);$' \
	'		WARN_ON_ONCE(folio->mapping == 0);'
expect_status_tee "$BAD/out" 1 scripts/bisect-check --objects-only --series-dir "$BAD"
for i in 1 2 3; do
	grep -q "^step $i builds, no new" "$BAD/out" || fail "step $i should pass"
done
grep -q '^step 4 does not build: ' "$BAD/out" || fail "step 4 not named as not building"
grep -q 'bisect_demo.h: No such file' "$BAD/out" || fail "the build error is not shown"
grep -q '^step 5 builds, no new' "$BAD/out" || fail "step 5 should pass"
grep -q '^step 6 adds warnings: ' "$BAD/out" || fail "step 6 not named as adding a warning"
grep -q '^    mm/mincore.c: warning: Using plain integer as NULL pointer' "$BAD/out" ||
	fail "the sparse warning is not shown"
