# No regressions: the base's own vm/khugepaged (anon and shmem, every
# context) and vm/userfaultfd (anon, shmem) pass on patched wherever they
# pass on base.  (The swap tests fail on both: the guest has no swap.)
. "$(dirname "$0")/lib.sh"
scripts/apply-series >/dev/null
scripts/run-base-selftests --kernel base
scripts/run-base-selftests --kernel patched
scripts/compare-base-selftests base patched
