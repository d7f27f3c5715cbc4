# make mbox: one mbox holding the cover letter (with base-commit) and the
# patches, each with To/Cc from the base's get_maintainer.pl; b4 am of it,
# then git am of what b4 made, onto the base (in the worktree
# $BUILD_DIR/gates) gives the tree that the series gives.  The sender
# (FROM) replaces the stored patches' placeholder identity.
. "$(dirname "$0")/lib.sh"
. scripts/lib.sh
export FROM='Jane Doe <jane@example.org>'
scripts/mbox
mbox=$BUILD_DIR/mbox/collapse-races.mbox
# The sender replaces the stored placeholder in From: and Signed-off-by:.
! grep -qF "$PLACEHOLDER_IDENT" "$mbox" || fail "the placeholder identity is still in the mbox"
[ "$(grep -c "^From: $FROM\$" "$mbox")" -eq "$(($(grep -cvE '^\s*(#|$)' series) + 1))" ] ||
	fail "not every message is From: $FROM"
grep -q "^Signed-off-by: $FROM\$" "$mbox" || fail "no Signed-off-by: $FROM"
grep -q '^Message-Id: <collapse-races-[0-9a-f]*-0@example.org>$' "$mbox" ||
	fail "the cover letter's Message-Id is not in the sender's domain"
n=$(grep -cvE '^\s*(#|$)' series || true)
base=$(git -C "$BASE_REPO" rev-parse base)
got=$(grep -c '^From [0-9a-f]\{40\} ' "$mbox")
[ "$got" -eq $((n + 1)) ] || fail "$got messages in the mbox, want $((n + 1))"
grep -qx "base-commit: $base" "$mbox" || fail "no base-commit: $base"
for i in $(seq 0 "$n"); do
	grep -q "^Subject: \[PATCH $i/$n\] " "$mbox" || fail "no [PATCH $i/$n]"
done
[ "$(grep -c '^To: .*akpm@linux-foundation.org' "$mbox")" -ge 1 ] || fail "akpm is in no To:"
[ "$(grep -c '^Cc: linux-mm@kvack.org' "$mbox")" -ge 1 ] || fail "linux-mm is in no Cc:"

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
echo "+ git am $(basename "$tmp"/*.mbx)"
git -C "$WORKTREE" am -q "$tmp"/*.mbx || { git -C "$WORKTREE" am --abort; fail "git am of b4's mbox failed"; }
want=$(git -C "$BASE_REPO" rev-parse 'patched^{tree}')
got=$(git -C "$WORKTREE" rev-parse 'HEAD^{tree}')
[ "$got" = "$want" ] || fail "b4 am's tree $got differs from the series' $want"
echo "b4 am + git am of the mbox gives the series' tree: $want"
