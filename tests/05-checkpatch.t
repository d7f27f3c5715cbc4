# checkpatch --strict is clean on every patch of the series.  Ignored, as
# the cover letter says: UNKNOWN_COMMIT_ID (the base comes from a tarball,
# without the history that would let checkpatch find the commits Fixes:
# names) and FILE_PATH_CHANGES (the new selftest is in
# tools/testing/selftests/vm/, which MAINTAINERS already gives to MEMORY
# MANAGEMENT).
. "$(dirname "$0")/lib.sh"
. scripts/lib.sh
scripts/prepare-base >/dev/null
bad=0
while read -r p _; do
	case "$p" in '' | \#*) continue ;; esac
	# (scripts/checkpatch.pl is the same in base and patched.)
	# Run from the top of the kernel tree, as checkpatch expects.
	out=$(cd "$BASE_REPO" && scripts/checkpatch.pl --strict \
		--ignore UNKNOWN_COMMIT_ID,FILE_PATH_CHANGES "$PROJECT_ROOT/patches/$p" 2>&1) || true
	echo "$p: $(echo "$out" | grep '^total:')"
	if echo "$out" | grep -qE '^(ERROR|WARNING|CHECK):'; then
		echo "$out" | grep -A4 -E '^(ERROR|WARNING|CHECK):'
		bad=$((bad + 1))
	fi
done <series
[ "$bad" -eq 0 ] || fail "$bad patches have checkpatch remarks"
