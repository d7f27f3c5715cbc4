# With the series applied, in the VM, every race selftest PASSES.
. "$(dirname "$0")/lib.sh"
scripts/apply-series
scripts/run-selftests --kernel patched
scripts/results-table patched
