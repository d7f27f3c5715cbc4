# The race selftest on 7.2, built against 7.2's harness as the upstream
# series ships it: on upstream (7.2 as Debian ships it: upstream's own fix,
# without the xas_find() fix) the mincore, userfaultfd, rollback,
# readahead and killable tests PASS and the seek tests are shown, not
# judged; with the upstream series (upstream-patched) every test PASSES.
. "$(dirname "$0")/lib.sh"
SERIES=upstream scripts/apply-series
scripts/run-selftests --kernel upstream
scripts/run-selftests --kernel upstream-patched
scripts/results-table upstream upstream-patched
