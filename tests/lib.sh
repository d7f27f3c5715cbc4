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
