# The series applies with git am onto the base (the `patched` branch), and
# the same files apply with quilt push -a onto a plain copy of the base.
. "$(dirname "$0")/lib.sh"
scripts/apply-series
. scripts/lib.sh
n=$(grep -cvE '^\s*(#|$)' series || true)
got=$(git -C "$BASE_REPO" rev-list --count base..patched)
[ "$got" -eq "$n" ] || fail "patched has $got commits on base, series has $n patches"

tmp=$(mktemp -d "$BUILD_DIR/quilt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git -C "$BASE_REPO" archive --format=tar base | tar -x -C "$tmp"
echo "+ quilt push -a ($n patches)"
(cd "$tmp" && QUILT_PATCHES="$PROJECT_ROOT/patches" QUILT_SERIES="$PROJECT_ROOT/series" \
	quilt push -a -q --quiltrc=/dev/null) || fail "quilt push -a failed"
# quilt's tree and git am's tree are the same tree.
git -C "$BASE_REPO" archive --format=tar patched | tar -t | sort >"$tmp.git-files"
want=$(git -C "$BASE_REPO" rev-parse 'patched^{tree}')
got=$(cd "$tmp" && rm -rf .pc && git init -q . && git add -f -A . && git write-tree)
rm -f "$tmp.git-files"
[ "$got" = "$want" ] || fail "quilt's tree $got differs from git am's $want"
echo "quilt push -a gives the same tree as git am: $want"
