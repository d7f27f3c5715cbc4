# The splat detector recognizes a recorded sample of each kind of splat,
# and takes neither a clean boot nor a test's own "WARNING:" for one.
. "$(dirname "$0")/lib.sh"
n=0
for f in tests/splat-samples/*.log; do
	expect_status 1 scripts/splat-scan "$f"
	n=$((n + 1))
done
for f in tests/clean-samples/*.log; do
	expect_status 0 scripts/splat-scan "$f"
	n=$((n + 1))
done
expect_status 2 scripts/splat-scan /nonexistent.log
echo "$n samples classified as expected"
