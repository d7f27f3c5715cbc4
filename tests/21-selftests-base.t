# On the unpatched base, in the VM, every race selftest FAILS: the tests
# catch the bugs.
. "$(dirname "$0")/lib.sh"
scripts/run-selftests --kernel base
scripts/results-table base
