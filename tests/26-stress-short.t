# The short form of `make stress`: on the frozen comparison kernel (old
# pages left frozen in the page cache, as v5 3/3 did) mincore and
# move-charge lock up; on punch-nowait (a punch that skips the folios a
# collapse holds locked) the cut tests fail; a rollback soak on patched
# leaves the page cache counters as found.  The debug kernel's run and the reference kernel's
# are in the full `make stress`.
. "$(dirname "$0")/lib.sh"
scripts/apply-series >/dev/null
scripts/stress --short
