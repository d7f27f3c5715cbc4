# checkpatch --strict is clean on every patch of the series (the ignored
# checks, and why, are in scripts/checkpatch-series).
. "$(dirname "$0")/lib.sh"
scripts/checkpatch-series
