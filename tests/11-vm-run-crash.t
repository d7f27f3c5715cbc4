# A real crash in the guest (sysrq-trigger c) is caught as a splat (125),
# even though the command never reports a status.
. "$(dirname "$0")/lib.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
expect_status_tee "$out" 125 scripts/vm-run --kernel base --timeout 120 -- sh -c 'echo c >/proc/sysrq-trigger'
grep -q 'verdict=splat' "$out" || fail "no splat verdict"
grep -q 'Kernel panic\|Oops' "$out" || fail "the splat was not printed"
