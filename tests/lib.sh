# shellcheck shell=bash
# Sourced by the tests/*.t scripts that scripts/check runs.
set -euo pipefail
PROJECT_ROOT=${PROJECT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$PROJECT_ROOT/.build}
cd "$PROJECT_ROOT"

fail() {
	echo "FAIL: $*"
	exit 1
}

# expect_status WANT CMD...: run CMD, fail unless it exits WANT.
expect_status() {
	local want=$1 got=0
	shift
	echo "+ $*"
	"$@" || got=$?
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, want $want"
}

# expect_status_tee OUT WANT CMD...: as expect_status, with CMD's output
# (and stderr) both shown and kept in the file OUT.
expect_status_tee() {
	local out=$1 want=$2 got=0
	shift 2
	echo "+ $*"
	"$@" >"$out" 2>&1 || got=$?
	cat "$out"
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, want $want"
}

# bad_series: copy the project's series into a new temporary directory
# (removed on exit), laid out for the gates' --series-dir; sets BAD.
bad_series() {
	BAD=$(mktemp -d "$BUILD_DIR/bad-series.XXXXXX")
	trap 'rm -rf "$BAD"' EXIT
	cp -r series patches "$BAD/"
}

# inject_line PATCH FILE REGEX LINE: in PATCH, add LINE to the diff of
# FILE, just after the first context or added line there that matches the
# Perl REGEX (matched with its leading ' ' or '+'); the hunk headers are
# adjusted so that the patch still applies.
inject_line() {
	perl -e '
		my ($patch, $file, $re, $new) = @ARGV;
		open(my $fh, "<", $patch) or die "$patch: $!\n";
		my @l = <$fh>;
		close($fh);
		my ($in, $done, $hunk) = (0, 0, -1);
		for (my $i = 0; $i < @l; $i++) {
			if ($l[$i] =~ m{^diff --git a/(\S+)}) { $in = ($1 eq $file); next; }
			next unless $in;
			if ($l[$i] =~ /^@@ /) {
				$hunk = $i;
				# later hunks of the file start a line further down
				$l[$i] =~ s/^(@@ -\S+ \+)(\d+)/$1 . ($2 + 1)/e if $done;
				next;
			}
			next if $done || $hunk < 0 || $l[$i] !~ /^[ +]/ || $l[$i] !~ /$re/;
			splice(@l, $i + 1, 0, "+$new\n");
			$l[$hunk] =~ s/^(@@ -\S+ \+\d+),(\d+)/$1 . "," . ($2 + 1)/e;
			$done = 1;
			$i++;
		}
		die "inject_line: no line matching /$re/ in $file\n" unless $done;
		open($fh, ">", $patch) or die "$patch: $!\n";
		print $fh @l;
		close($fh) or die "$patch: $!\n";
	' "$@"
}

# add_file PATCH FILE LINE: make PATCH also create FILE, holding LINE.
add_file() {
	perl -e '
		my ($patch, $file, $line) = @ARGV;
		open(my $fh, "<", $patch) or die "$patch: $!\n";
		my $diff = "diff --git a/$file b/$file\nnew file mode 100644\n" .
			"--- /dev/null\n+++ b/$file\n@@ -0,0 +1 @@\n+$line\n";
		my $s = join("", <$fh>);
		close($fh);
		# before the signature, if there is one
		$s =~ s/^-- \n/$diff-- \n/m or $s .= $diff;
		open($fh, ">", $patch) or die "$patch: $!\n";
		print $fh $s;
		close($fh) or die "$patch: $!\n";
	' "$@"
}

# one_line_error WANT-SUBSTRING CMD...: CMD exits non-zero (exactly
# $WANT_STATUS when that is set) with exactly one line on stderr,
# containing WANT-SUBSTRING.
one_line_error() {
	local want=$1 err rc=0
	shift
	echo "+ $*"
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' succeeded"
	[ -z "${WANT_STATUS:-}" ] || [ "$rc" -eq "$WANT_STATUS" ] ||
		fail "'$*' exited $rc, want $WANT_STATUS"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $err"
	case "$err" in *"$want"*) ;; *) fail "'$*' said '$err', not '$want'" ;; esac
	echo "  -> exit $rc: $err"
}

# quilt_round_trip DIR: apply $SERIES_ROOT's series with quilt push -a in
# DIR, which holds the base's files (all of them, or just those the series
# touches), and fail unless every file the series touches ends up as git am
# left it on the `patched` branch: the same content and executable bit, or
# absent.  Needs scripts/lib.sh sourced (BASE_REPO, SERIES_ROOT).
quilt_round_trip() {
	local dir=$1 n f line want got
	n=$(grep -cvE '^\s*(#|$)' "$SERIES_ROOT/series" || true)
	echo "+ quilt push -a ($n patches)"
	(cd "$dir" && QUILT_PATCHES="$SERIES_ROOT/patches" QUILT_SERIES="$SERIES_ROOT/series" \
		quilt push -a -q --quiltrc=/dev/null) || fail "quilt push -a failed"
	n=0
	while IFS= read -r f; do
		n=$((n + 1))
		line=$(git -C "$BASE_REPO" ls-tree patched -- "$f")
		want=absent
		[ -z "$line" ] || want=$(echo "$line" | awk '{ print $1, $3 }')
		got=absent
		if [ -f "$dir/$f" ]; then
			got="100644 $(git hash-object "$dir/$f")"
			[ ! -x "$dir/$f" ] || got="100755 ${got#* }"
		fi
		[ "$got" = "$want" ] || fail "$f: quilt gives '$got', git am '$want' (mode, blob)"
	done < <(git -C "$BASE_REPO" diff --name-only base patched)
	echo "quilt push -a gives git am's result in all $n files the series touches"
}
