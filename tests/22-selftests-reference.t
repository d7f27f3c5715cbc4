# On the reference kernel (Debian's 6.12, upstream's own fix), in the VM,
# the mincore, userfaultfd and rollback race selftests PASS: the tests
# encode the bugs, not our fix.  Its seek tests are shown, not judged: 6.12
# has the xas_find() skip that patch 2 fixes (tests/expected-results).
. "$(dirname "$0")/lib.sh"
scripts/run-selftests --kernel reference
scripts/results-table reference
