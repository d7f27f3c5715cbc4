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

# series_len: the number of patches in $SERIES_ROOT/series.
series_len() {
	grep -cvE '^\s*(#|$)' "$SERIES_ROOT/series" || true
}

# quilt_round_trip DIR: apply $SERIES_ROOT's series with quilt push -a in
# DIR, which holds the base's files (all of them, or just those the series
# touches), and fail unless every file the series touches ends up as git am
# left it on the `patched` branch: the same content and executable bit, or
# absent.  Needs scripts/lib.sh sourced (BASE_REPO, SERIES_ROOT).
quilt_round_trip() {
	local dir=$1 n f line want got
	n=$(series_len)
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

# mbox_common MBOX: what every series' mbox must be (scripts/lib.sh
# sourced, FROM set): no placeholder identity, one message per patch plus
# the cover letter, each From: $FROM, base-commit, [PATCH i/n] subjects.
mbox_common() {
	local mbox=$1 n base i
	n=$(series_len)
	base=$(git -C "$BASE_REPO" rev-parse base)
	! grep -qF "$PLACEHOLDER_IDENT" "$mbox" || fail "the placeholder identity is still in the mbox"
	[ "$(grep -c '^From [0-9a-f]\{40\} ' "$mbox")" -eq $((n + 1)) ] ||
		fail "$(grep -c '^From [0-9a-f]\{40\} ' "$mbox") messages in the mbox, want $((n + 1))"
	[ "$(grep -c "^From: $FROM\$" "$mbox")" -eq $((n + 1)) ] || fail "not every message is From: $FROM"
	grep -qx "base-commit: $base" "$mbox" || fail "no base-commit: $base"
	for i in $(seq 0 "$n"); do
		grep -q "^Subject: \[PATCH $i/$n\] " "$mbox" || fail "no [PATCH $i/$n]"
	done
}

# b4_round_trip MBOX: b4 am of MBOX, then git am of what b4 made, onto the
# base in the worktree $BUILD_DIR/[upstream-]gates, must give the tree of
# the `patched` branch.
b4_round_trip() {
	local mbox=$1 n base tmp want got
	n=$(series_len)
	base=$(git -C "$BASE_REPO" rev-parse base)
	use_worktree gates
	git -C "$WORKTREE" am --abort >/dev/null 2>&1 || true
	git -C "$WORKTREE" checkout -q --detach base
	tmp=$(mktemp -d)
	echo "+ b4 --offline-mode am -m $mbox"
	(cd "$WORKTREE" && b4 --offline-mode am -m "$mbox" -o "$tmp") >"$tmp/b4.out" 2>&1 ||
		{ cat "$tmp/b4.out"; rm -rf "$tmp"; fail "b4 am failed"; }
	cat "$tmp/b4.out"
	grep -q "Total patches: $n\$" "$tmp/b4.out" || { rm -rf "$tmp"; fail "b4 did not find $n patches"; }
	grep -q "Base: using specified base-commit $base" "$tmp/b4.out" ||
		{ rm -rf "$tmp"; fail "b4 did not take the base-commit $base"; }
	echo "+ git am $(basename "$tmp"/*.mbx)"
	git -C "$WORKTREE" am -q "$tmp"/*.mbx ||
		{ git -C "$WORKTREE" am --abort; rm -rf "$tmp"; fail "git am of b4's mbox failed"; }
	rm -rf "$tmp"
	want=$(git -C "$BASE_REPO" rev-parse 'patched^{tree}')
	got=$(git -C "$WORKTREE" rev-parse 'HEAD^{tree}')
	[ "$got" = "$want" ] || fail "b4 am's tree $got differs from the series' $want"
	echo "b4 am + git am of the mbox gives the series' tree: $want"
}

# stand_in_smtp DIR: DIR/server, a local program that git send-email can
# take for --smtp-server and that only records what it is given in
# DIR/sent; and no configuration of git is read.
stand_in_smtp() {
	printf '%s\n' '#!/bin/sh' "echo \"RCPT \$*\" >>'$1/sent'" "cat >>'$1/sent'" >"$1/server"
	chmod +x "$1/server"
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
}

# send_dry_run DIR: make send's dry run (FROM set) shows one message per
# patch plus the cover letter and mails nothing; its output in DIR/dry.
send_dry_run() {
	local dir=$1 n got
	n=$(series_len)
	expect_status_tee "$dir/dry" 0 scripts/send -- --smtp-server="$dir/server"
	[ ! -e "$dir/sent" ] || fail "the dry run mailed something"
	got=$(grep -c '^Dry-OK' "$dir/dry" || true)
	[ "$got" -eq $((n + 1)) ] || fail "$got messages in the dry run, want $((n + 1))"
	echo "make send's dry run shows $((n + 1)) messages and mails nothing"
}
