# The bisect gate (scripts/bisect-check) fails on a series that breaks the
# build in the middle and on one that adds a sparse warning, naming the
# patches.  In a copy of the series: patch 3 includes a header that only
# patch 4 adds, and patch 5 compares a pointer with a plain 0.  Runs in its
# own worktree and O= ($BUILD_DIR/bisect-alt, $BUILD_DIR/out/bisect-alt).
. "$(dirname "$0")/lib.sh"
bad_series
p3=$(cd "$BAD/patches" && echo 0003-*.patch)
p4=$(cd "$BAD/patches" && echo 0004-*.patch)
p5=$(cd "$BAD/patches" && echo 0005-*.patch)
inject_line "$BAD/patches/$p3" mm/khugepaged.c '^\+	bool missing = false;$' '#include "bisect_demo.h"'
add_file "$BAD/patches/$p4" mm/bisect_demo.h '/* SPDX-License-Identifier: GPL-2.0 */'
inject_line "$BAD/patches/$p5" mm/mincore.c '^\+	present = folio_test_uptodate\(folio\);$' \
	'	WARN_ON_ONCE(folio->mapping == 0);'
expect_status_tee "$BAD/out" 1 scripts/bisect-check --series-dir "$BAD"
grep -q '^step 1 builds, no new' "$BAD/out" || fail "step 1 should pass"
grep -q '^step 2 builds, no new' "$BAD/out" || fail "step 2 should pass"
grep -q '^step 3 does not build: ' "$BAD/out" || fail "step 3 not named as not building"
grep -q 'bisect_demo.h: No such file' "$BAD/out" || fail "the build error is not shown"
grep -q '^step 4 builds, no new' "$BAD/out" || fail "step 4 should pass"
grep -q '^step 5 adds warnings: ' "$BAD/out" || fail "step 5 not named as adding a warning"
grep -q '^    mm/mincore.c: warning: Using plain integer as NULL pointer' "$BAD/out" ||
	fail "the sparse warning is not shown"
