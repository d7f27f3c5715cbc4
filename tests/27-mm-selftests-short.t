# Upstream's own tests of this code, short form (`make stress` runs them
# in full, on every kernel): 6.12's khugepaged madvise:shmem and
# mincore_selftest, built statically, on base and on patched, with swap
# in the guest; patched must pass every test base passes.
. "$(dirname "$0")/lib.sh"
scripts/apply-series >/dev/null
for k in base patched; do
	scripts/build-kernel "$k" >/dev/null
	scripts/run-mm-selftests --short --kernel "$k"
done
scripts/compare-base-selftests --mm-short base patched
# Not a run that proves nothing: each program ran and reported tests.
for k in base patched; do
	f=$BUILD_DIR/results/mm-short-$k.txt
	grep -q '^khugepaged:madvise:shmem:' "$f" || fail "no khugepaged test result on $k ($f)"
	grep -q '^mincore_selftest:' "$f" || fail "no mincore_selftest result on $k ($f)"
	grep -q ' PASS$' "$f" || fail "nothing passed on $k ($f)"
done
