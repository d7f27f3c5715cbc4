# MAINTAINERS-snippet: well formed, its F: paths exist in the patched tree,
# and once inserted (in order) into the base's MAINTAINERS, the base's
# get_maintainer.pl names its maintainer and list for the new selftest;
# without it, that maintainer is not named.
. "$(dirname "$0")/lib.sh"
. scripts/lib.sh
scripts/apply-series >/dev/null
snippet=MAINTAINERS-snippet
selftest=tools/testing/selftests/vm/collapse_races.c
title=$(head -n 1 "$snippet")
echo "section: $title"
echo "$title" | grep -qE '^[A-Z0-9][^a-z]*$' || fail "the first line is not a section title: $title"
if tail -n +2 "$snippet" | grep -vE '^[A-Z]:	[^ ]'; then
	fail "lines above are not 'X:<tab>value' lines"
fi
grep -q '^M:	' "$snippet" || fail "no M: line"
grep -q '^S:	' "$snippet" || fail "no S: line"
while read -r f; do
	git -C "$BASE_REPO" cat-file -e "patched:$f" 2>/dev/null ||
		fail "F: $f is not in the patched tree"
	echo "F: $f exists in the patched tree"
done < <(sed -n 's/^F:\t//p' "$snippet")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$BASE_REPO" show base:MAINTAINERS >"$tmp/MAINTAINERS.base"
git -C "$BASE_REPO" show base:scripts/get_maintainer.pl >"$tmp/get_maintainer.pl"
# Insert the snippet where it sorts: after the section whose title is the
# longest prefix of its own (MEMORY MANAGEMENT), before the first one from
# there whose title sorts after it.  (MAINTAINERS is not sorted
# everywhere: a first section that sorts after it could be anywhere.)
perl -e '
	my ($snippet, $title) = @ARGV[0, 1];
	open(my $s, "<", $snippet) or die; my @snip = <$s>; close($s);
	open(my $m, "<", $ARGV[2]) or die; my @l = <$m>; close($m);
	my ($anchor, $len) = (-1, 0);
	my @sections;
	for (my $i = 1; $i < @l - 1; $i++) {
		next unless $l[$i - 1] eq "\n" && $l[$i] =~ /^\S/ && $l[$i + 1] =~ /^[A-Z]:\t/;
		chomp(my $t = $l[$i]);
		push(@sections, [$i, $t]);
		($anchor, $len) = ($#sections, length($t))
			if length($t) > $len && index($title, $t) == 0;
	}
	die "no section is a prefix of $title\n" if $anchor < 0;
	for my $sec (@sections[$anchor + 1 .. $#sections]) {
		next if uc($sec->[1]) le uc($title);
		splice(@l, $sec->[0], 0, @snip, "\n");
		print @l;
		exit 0;
	}
	die "no section sorts after $title\n";
' "$snippet" "$title" "$tmp/MAINTAINERS.base" >"$tmp/MAINTAINERS"
diff -u "$tmp/MAINTAINERS.base" "$tmp/MAINTAINERS" | sed -n '3,$p' | grep -v '^ ' || true

# get_maintainer.pl -f wants the file: give it the patched one.
mkdir -p "$tmp/tree/$(dirname "$selftest")"
git -C "$BASE_REPO" show "patched:$selftest" >"$tmp/tree/$selftest"
getm() {
	(cd "$tmp/tree" && perl ../get_maintainer.pl --mpath "$1" --no-tree \
		--no-git --no-git-fallback -f "$selftest")
}
echo "+ get_maintainer.pl -f $selftest, with the snippet:"
with=$(getm "$tmp/MAINTAINERS")
echo "$with"
without=$(getm "$tmp/MAINTAINERS.base")
m=$(sed -n 's/^M:\t//p' "$snippet" | head -n 1)
l=$(sed -n 's/^L:\t//p' "$snippet" | head -n 1)
echo "$with" | grep -qF "$m (maintainer:$title)" || fail "not named: $m (maintainer:$title)"
[ -z "$l" ] || echo "$with" | grep -qF "$l (open list:" || fail "list not named: $l"
echo "$with" | grep -qF "(maintainer:MEMORY MANAGEMENT)" || fail "MEMORY MANAGEMENT no longer named"
if echo "$without" | grep -qF "$m"; then
	fail "the base's MAINTAINERS already names $m"
fi
echo "the snippet names $m for $selftest; the base's MAINTAINERS alone does not"
