# The submission gates on the upstream series: every patch builds on its
# own with no new sparse or W=1 warning in the files it touches
# (bisect-check), coccicheck adds no report, and its mbox, To/Cc from 7.2's
# get_maintainer.pl (the XArray, selftests and mm maintainers and lists),
# goes through b4 am and git am to the series' tree; make send's dry run
# mails nothing.
. "$(dirname "$0")/lib.sh"
export SERIES=upstream
. scripts/lib.sh
scripts/bisect-check
scripts/cocci-check

export FROM='Jane Doe <jane@example.org>'
scripts/mbox
mbox=$BUILD_DIR/mbox/collapse-races-upstream.mbox
n=$(grep -cvE '^\s*(#|$)' "$SERIES_ROOT/series" || true)
base=$(git -C "$BASE_REPO" rev-parse base)
! grep -qF "$PLACEHOLDER_IDENT" "$mbox" || fail "the placeholder identity is still in the mbox"
[ "$(grep -c "^From: $FROM\$" "$mbox")" -eq $((n + 1)) ] || fail "not every message is From: $FROM"
[ "$(grep -c '^From [0-9a-f]\{40\} ' "$mbox")" -eq $((n + 1)) ] || fail "want $((n + 1)) messages"
grep -qx "base-commit: $base" "$mbox" || fail "no base-commit: $base"
for i in $(seq 0 "$n"); do
	grep -q "^Subject: \[PATCH $i/$n\] " "$mbox" || fail "no [PATCH $i/$n]"
done
# The XArray patch goes to the XArray maintainer, the selftest to the
# mm selftests' people; both to linux-mm and akpm.
for want in willy@infradead.org linux-mm@kvack.org akpm@linux-foundation.org linux-kselftest@vger.kernel.org; do
	grep -qE "^(To|Cc): .*$want|^ .*$want" "$mbox" || fail "$want is not among the recipients"
done

use_worktree gates
git -C "$WORKTREE" am --abort >/dev/null 2>&1 || true
git -C "$WORKTREE" checkout -q --detach base
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "+ b4 --offline-mode am -m $mbox"
(cd "$WORKTREE" && b4 --offline-mode am -m "$mbox" -o "$tmp") >"$tmp/b4.out" 2>&1 ||
	{ cat "$tmp/b4.out"; fail "b4 am failed"; }
cat "$tmp/b4.out"
grep -q "Total patches: $n\$" "$tmp/b4.out" || fail "b4 did not find $n patches"
grep -q "Base: using specified base-commit $base" "$tmp/b4.out" ||
	fail "b4 did not take the base-commit $base"
git -C "$WORKTREE" am -q "$tmp"/*.mbx || { git -C "$WORKTREE" am --abort; fail "git am of b4's mbox failed"; }
want=$(git -C "$BASE_REPO" rev-parse 'patched^{tree}')
got=$(git -C "$WORKTREE" rev-parse 'HEAD^{tree}')
[ "$got" = "$want" ] || fail "b4 am's tree $got differs from the series' $want"
echo "b4 am + git am of the mbox gives the upstream series' tree: $want"

printf '%s\n' '#!/bin/sh' "echo \"RCPT \$*\" >>'$tmp/sent'" "cat >>'$tmp/sent'" >"$tmp/server"
chmod +x "$tmp/server"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
expect_status_tee "$tmp/dry" 0 scripts/send -- --smtp-server="$tmp/server"
[ ! -e "$tmp/sent" ] || fail "the dry run mailed something"
got=$(grep -c '^Dry-OK' "$tmp/dry" || true)
[ "$got" -eq $((n + 1)) ] || fail "$got messages in the dry run, want $((n + 1))"
echo "make send's dry run shows $((n + 1)) messages and mails nothing"
