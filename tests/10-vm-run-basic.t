# vm-run boots the base kernel, runs a command in the working directory
# holding the added files, passes its exit status through, and says how
# long the boot took.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\necho "args:$*"; test "$(nproc)" = 2 || exit 9; exit 0\n' >"$tmp/probe.sh"
chmod +x "$tmp/probe.sh"
out=$tmp/out
expect_status_tee "$out" 0 scripts/vm-run --kernel base --timeout 120 --add "$tmp/probe.sh" -- ./probe.sh "a b" "it's"
grep -q "^args:a b it's$" "$out" || fail "arguments did not reach the guest intact"
grep -q 'boot_to_command=[0-9.]*s' "$out" || fail "no boot time reported"
expect_status 3 scripts/vm-run --kernel base --timeout 120 -- sh -c 'exit 3'
expect_status 1 scripts/vm-run --kernel base --timeout 120 -- false
