# With shmem THP denied (shmem_enabled=deny), every race selftest SKIPs
# and says why: no vacuous pass, no failure.
. "$(dirname "$0")/lib.sh"
scripts/apply-series >/dev/null
make -s selftests >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
expect_status_tee "$out" 0 scripts/vm-run --kernel patched --timeout 300 \
	--add "$BUILD_DIR/selftests/collapse_races" -- sh -c \
	'echo deny >/sys/kernel/mm/transparent_hugepage/shmem_enabled && ./collapse_races'
n=$(tr -d '\r' <"$out" | grep -c '^ok [0-9]* # SKIP shmem THP disabled (shmem_enabled is deny)$' || true)
[ "$n" -eq 12 ] || fail "want 12 tests skipped for shmem_enabled=deny, got $n"
! tr -d '\r' <"$out" | grep -q '^not ok' || fail "a test failed instead of skipping"
echo "12 of 12 tests skipped with the reason"
