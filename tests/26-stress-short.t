# The short form of `make stress`: on debug-patched the race selftests,
# the stress program, the memcg v1 move-charge scenario and a rollback
# soak run with no splat; on the frozen comparison kernel (old pages left
# frozen in the page cache, as v5 3/3 did) mincore and move-charge lock
# up; a rollback soak on patched leaves the page cache counters as found.
. "$(dirname "$0")/lib.sh"
scripts/apply-series >/dev/null
scripts/stress --short
