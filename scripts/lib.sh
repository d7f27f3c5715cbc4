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

# Where the trees live.
BASE_REPO=$BUILD_DIR/linux
REF_TREE=$BUILD_DIR/reference
OUT_DIR=$BUILD_DIR/out

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
