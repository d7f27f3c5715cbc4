# The series applies with git am onto the base (the `patched` branch), and
# the same files apply with quilt push -a onto a plain copy of the base's
# files that the series touches, with the same result.
. "$(dirname "$0")/lib.sh"
scripts/apply-series
. scripts/lib.sh
n=$(grep -cvE '^\s*(#|$)' series || true)
got=$(git -C "$BASE_REPO" rev-list --count base..patched)
[ "$got" -eq "$n" ] || fail "patched has $got commits on base, series has $n patches"

# Only the files the series touches: a copy of the whole tree costs minutes.
tmp=$(mktemp -d "$BUILD_DIR/quilt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mapfile -t touched < <(git -C "$BASE_REPO" diff --name-only base patched)
mapfile -t old < <(git -C "$BASE_REPO" ls-tree -r --name-only base -- "${touched[@]}")
git -C "$BASE_REPO" archive --format=tar base -- "${old[@]}" | tar -x -C "$tmp"
quilt_round_trip "$tmp"
