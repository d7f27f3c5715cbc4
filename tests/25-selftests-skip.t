# With shmem THP denied (shmem_enabled=deny), every selftest that needs
# THP SKIPs and says why: no vacuous pass, no failure.  readahead.mincore
# needs none, and passes.
. "$(dirname "$0")/lib.sh"
scripts/apply-series >/dev/null
make -s selftests >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
expect_status_tee "$out" 0 scripts/vm-run --kernel patched --timeout 300 \
	--add "$BUILD_DIR/selftests/collapse_races" -- sh -c \
	'echo deny >/sys/kernel/mm/transparent_hugepage/shmem_enabled && ./collapse_races'
# Every test of tests/expected-results but readahead.mincore needs THP.
want=$(grep -v '^#' "$PROJECT_ROOT/tests/expected-results" | awk 'NF && $1 != "readahead.mincore"' | wc -l)
n=$(tr -d '\r' <"$out" | grep -c '^ok [0-9]* # SKIP shmem THP disabled (shmem_enabled is deny)$' || true)
[ "$n" -eq "$want" ] || fail "want $want tests skipped for shmem_enabled=deny, got $n"
! tr -d '\r' <"$out" | grep -q '^not ok' || fail "a test failed instead of skipping"
tr -d '\r' <"$out" | grep -q '^ok [0-9]* readahead.mincore$' ||
	fail "readahead.mincore, which needs no THP, did not pass"
echo "$n of $want THP tests skipped with the reason; readahead.mincore passed"
