# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are used by the scripts that source this
# Common helpers, sourced by the scripts in this directory.

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$PROJECT_ROOT/.build}
LOG_DIR=$BUILD_DIR/logs
PROG=$(basename "$0")

# Pinned inputs.  The base is Debian's linux-source-6.1 package; the
# reference is Debian's linux-source-6.12, which carries upstream's fix.
BASE_PKG=linux-source-6.1
BASE_PKG_VERSION=${BASE_PKG_VERSION:-6.1.192-2}
BASE_TARBALL=/usr/src/linux-source-6.1.tar.xz
REF_PKG=linux-source-6.12
REF_TARBALL=/usr/src/linux-source-6.12.tar.xz

# The upstream base: Debian's linux-source-7.2 from the unstable suite
# (sid), the closest tree to mainline reachable here, fetched by
# scripts/prepare-upstream without adding sid to the machine's sources.
# sid moves: UPSTREAM_PKG_VERSION=... moves the pin for one run; change it
# here to move it for good (that changes the upstream base-commit).
UPSTREAM_PKG=linux-source-7.2
UPSTREAM_PKG_VERSION=${UPSTREAM_PKG_VERSION:-7.2.13-1}
UPSTREAM_REPO=$BUILD_DIR/upstream

# The identity the stored patches carry: scripts/mbox puts the sender's
# (FROM="Name <address>", or git's user.name and user.email) in its place,
# and scripts/send --really refuses to mail it.
PLACEHOLDER_IDENT='Collapse Races Developers <dev@collapse-races.invalid>'

# Where the trees live.
BASE_REPO=$BUILD_DIR/linux
REF_TREE=$BUILD_DIR/reference
OUT_DIR=$BUILD_DIR/out

# Which series the scripts work on: SERIES=6.1 (the default: `series` and
# patches/ at the top, on the 6.1 base) or SERIES=upstream (upstream/series
# and upstream/patches/, on the 7.2 base).  SERIES_ROOT holds the series;
# BASE_REPO is its base repository; PREPARE_BASE makes that; the worktrees
# an upstream run makes (and their O= directories and logs) are named with
# WORKTREE_PREFIX; BASE_KERNEL is the base's kernel (scripts/build-kernel);
# SELFTEST_DIR is
# where the base keeps the mm selftests.
SERIES=${SERIES:-6.1}
case "$SERIES" in
6.1)
	SERIES_ROOT=$PROJECT_ROOT
	COVER_TEXT=$PROJECT_ROOT/Documentation/cover-letter.txt
	MBOX_NAME=collapse-races
	PREPARE_BASE=$PROJECT_ROOT/scripts/prepare-base
	WORKTREE_PREFIX=
	BASE_KERNEL=base
	SELFTEST_DIR=tools/testing/selftests/vm
	;;
upstream)
	SERIES_ROOT=$PROJECT_ROOT/upstream
	COVER_TEXT=$SERIES_ROOT/cover-letter.txt
	MBOX_NAME=collapse-races-upstream
	BASE_REPO=$UPSTREAM_REPO
	PREPARE_BASE=$PROJECT_ROOT/scripts/prepare-upstream
	WORKTREE_PREFIX=upstream-
	BASE_KERNEL=upstream
	SELFTEST_DIR=tools/testing/selftests/mm
	;;
*)
	echo "$(basename "$0"): SERIES: want 6.1 or upstream, got '$SERIES'" >&2
	exit 2
	;;
esac
# The lock held while the base repository's checkout is switched.
BASE_LOCK=$BASE_REPO.lock

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

# usage_error MESSAGE: bad input, exit 2.
usage_error() {
	echo "$PROG: $*" >&2
	exit 2
}

_t0=$(date +%s)
step() {
	printf '[%s +%ds] %s\n' "$PROG" "$(($(date +%s) - _t0))" "$*"
}

# run_logged NAME CMD...: run CMD with its output in $LOG_DIR/NAME.log;
# on failure print the log's tail and its name.
run_logged() {
	local name=$1 log
	shift
	mkdir -p "$LOG_DIR"
	log=$LOG_DIR/$name.log
	if ! "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "$name failed; full log: $log"
	fi
}

# Fixed identity for every commit made in the base repository, so that
# its commit ids are the same on every machine.
export GIT_AUTHOR_NAME="collapse-races bench" \
	GIT_AUTHOR_EMAIL="bench@localhost" \
	GIT_COMMITTER_NAME="collapse-races bench" \
	GIT_COMMITTER_EMAIL="bench@localhost" \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" \
	GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"

# Kernel build identity, so that rebuilds are reproducible and ccache hits.
export KBUILD_BUILD_USER=bench KBUILD_BUILD_HOST=localhost \
	KBUILD_BUILD_TIMESTAMP="2000-01-01"

# The submission gates (scripts/checkpatch-series, bisect-check, cocci-check,
# doc-check) check the project's series by default, or, with --series-dir
# DIR, the series of a directory laid out like the project (DIR/series,
# DIR/patches/): a deliberately bad copy, say.

# read_series DIR: set SERIES_PATCHES to the paths of the patches that
# DIR/series names, in order.
read_series() {
	local p
	SERIES_PATCHES=()
	[ -f "$1/series" ] || die "no series file at $1/series"
	while read -r p _; do
		case "$p" in '' | \#*) continue ;; esac
		[ -f "$1/patches/$p" ] || die "series names a missing patch: patches/$p"
		SERIES_PATCHES+=("$1/patches/$p")
	done <"$1/series"
}

# use_worktree NAME [DIR...]: make (once) the worktree $BUILD_DIR/NAME
# (upstream-NAME for SERIES=upstream) of the base repository and hold its
# lock until the script exits; sets WORKTREE.  With DIRs, the worktree
# holds only those top-level directories (and the top-level files): a
# sparse checkout, a few seconds where a whole kernel tree takes 15-35.
use_worktree() {
	WORKTREE=$BUILD_DIR/$WORKTREE_PREFIX$1
	shift
	exec 8>"$WORKTREE.lock"
	flock 8
	if [ ! -e "$WORKTREE/.git" ]; then
		step "making the worktree $WORKTREE${1:+ ($* only)}"
		rm -rf "$WORKTREE"
		git -C "$BASE_REPO" worktree prune
		if [ $# -eq 0 ]; then
			git -C "$BASE_REPO" worktree add -q --detach "$WORKTREE" base
		else
			git -C "$BASE_REPO" worktree add -q --no-checkout --detach "$WORKTREE" base
			git -C "$WORKTREE" sparse-checkout set --cone "$@"
			git -C "$WORKTREE" checkout -q --detach base
		fi
	fi
}

# series_commit DIR: set SERIES_COMMIT to the commit of DIR's series on
# the base.  The project's own series is the `patched` branch (made by
# scripts/apply-series); another is applied with git am in $WORKTREE.
series_commit() {
	local p
	if [ "$1" -ef "$SERIES_ROOT" ]; then
		"$PROJECT_ROOT/scripts/apply-series" >/dev/null
		SERIES_COMMIT=$(git -C "$BASE_REPO" rev-parse patched)
		return
	fi
	read_series "$1"
	git -C "$WORKTREE" am --abort >/dev/null 2>&1 || true
	git -C "$WORKTREE" checkout -q --detach base
	for p in ${SERIES_PATCHES[@]+"${SERIES_PATCHES[@]}"}; do
		if ! git -C "$WORKTREE" am -q --whitespace=nowarn "$p" >"$LOG_DIR/$PROG-am.log" 2>&1; then
			git -C "$WORKTREE" am --abort >/dev/null 2>&1 || true
			die "patch does not apply: $p; log: $LOG_DIR/$PROG-am.log"
		fi
	done
	SERIES_COMMIT=$(git -C "$WORKTREE" rev-parse HEAD)
}

# seed_build_dir FROM TO: make the O= directory TO a copy of the kernel
# build in FROM, so that building in TO recompiles only what differs.
# cp -a keeps the mtimes make goes by; objtool's build (tools/objtool)
# records its targets by absolute path, so those are moved to TO, or it
# would rebuild objtool, and with it every object of the kernel.
seed_build_dir() {
	local from=$1 to=$2
	rm -rf "$to"
	cp -a "$from" "$to"
	rm -f "$to/.bench-stamp"
	grep -rlIZ -- "$from/" "$to" | xargs -0 -r sed -i "s|$from/|$to/|g"
}

# series_dir_arg ARG...: parse the gates' command line, [--series-dir DIR],
# into SERIES_DIR (default: the project's series, $SERIES_ROOT).  A gate
# with options of its own names them in GATE_OPTIONS, for the usage line.
series_dir_arg() {
	SERIES_DIR=$SERIES_ROOT
	case "$#:${1:-}" in
	0:) ;;
	2:--series-dir) SERIES_DIR=$2 ;;
	*) echo "usage: $PROG ${GATE_OPTIONS:-}[--series-dir DIR]" >&2; exit 2 ;;
	esac
	[ -d "$SERIES_DIR" ] || usage_error "no such directory '$SERIES_DIR'"
	SERIES_DIR=$(cd "$SERIES_DIR" && pwd)
}

# A guest shell's lines that turn on swap on the ramdisk /dev/ram0 (brd,
# 16 MiB, configs/slowio.config: the VM kernels have it), and print
# "@@ swap on" or "@@ swap FAILED".  For the selftests that need swap.
# shellcheck disable=SC2016,SC2089,SC2034
GUEST_SWAP_ON='if mkswap /dev/ram0 >/dev/null && swapon /dev/ram0; then
	echo "@@ swap on"; else echo "@@ swap FAILED"; fi'
