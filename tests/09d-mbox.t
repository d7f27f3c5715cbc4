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
mbox_common "$mbox"
grep -q "^Signed-off-by: $FROM\$" "$mbox" || fail "no Signed-off-by: $FROM"
grep -q '^Message-Id: <collapse-races-[0-9a-f]*-0@example.org>$' "$mbox" ||
	fail "the cover letter's Message-Id is not in the sender's domain"
[ "$(grep -c '^To: .*akpm@linux-foundation.org' "$mbox")" -ge 1 ] || fail "akpm is in no To:"
[ "$(grep -c '^Cc: linux-mm@kvack.org' "$mbox")" -ge 1 ] || fail "linux-mm is in no Cc:"
b4_round_trip "$mbox"
