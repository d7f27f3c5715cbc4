# A hung guest is caught by the timeout (124) and killed.
. "$(dirname "$0")/lib.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
t0=$(date +%s)
expect_status_tee "$out" 124 scripts/vm-run --kernel base --timeout 6 -- sleep 1000
dt=$(($(date +%s) - t0))
[ "$dt" -lt 60 ] || fail "took ${dt}s to time out after 6s"
grep -q 'verdict=timeout' "$out" || fail "no timeout verdict"
