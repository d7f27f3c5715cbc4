# Bad input gives a one-line error naming the problem and a non-zero
# status, and modifies nothing in the checkout.
. "$(dirname "$0")/lib.sh"
before=$(git status --porcelain --untracked-files=all -- . ':!.build' | sha1sum)

one_line_error "unknown kernel 'nosuch'" scripts/vm-run --kernel nosuch -- true
one_line_error "no such file '/nonexistent'" scripts/vm-run --kernel base --add /nonexistent -- true
one_line_error "no such kernel image" scripts/vm-run --kernel ./nosuch/bzImage -- true
one_line_error "--timeout" scripts/vm-run --kernel base --timeout soon -- true
one_line_error "no COMMAND" scripts/vm-run --kernel base --
one_line_error "--host-cpus: want a CPU list" scripts/vm-run --kernel base --host-cpus first -- true
one_line_error "--host-cpus: '4095' is not a set of CPUs this process may run on" scripts/vm-run --kernel base --host-cpus 4095 -- true
one_line_error "unknown kernel 'nosuch'" scripts/build-kernel nosuch

# A series naming a missing patch, in a scratch copy of the project.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r scripts patches series configs "$tmp/"
echo "0099-no-such.patch" >>"$tmp/series"
one_line_error "missing patch: patches/0099-no-such.patch" env BUILD_DIR="$BUILD_DIR" "$tmp/scripts/apply-series"
one_line_error "missing patch: patches/0099-no-such.patch" scripts/checkpatch-series --series-dir "$tmp"

# The gates and the mail scripts.
one_line_error "no such directory '/nonexistent'" scripts/cocci-check --series-dir /nonexistent
one_line_error "usage: bisect-check [--objects-only] [--series-dir DIR]" scripts/bisect-check --bogus
one_line_error "usage: doc-check [--series-dir DIR]" scripts/doc-check --series-dir
one_line_error "usage: mbox" scripts/mbox extra
one_line_error "usage: send [--really]" scripts/send --bogus

# The upstream series.
one_line_error "SERIES: want 6.1 or upstream, got 'nosuch'" env SERIES=nosuch scripts/apply-series
one_line_error "unknown kernel 'nosuch'" scripts/run-mm-selftests --kernel nosuch
one_line_error "unknown option '--bogus'" scripts/run-mm-selftests --bogus
one_line_error "unknown option '--bogus'" scripts/compare-base-selftests --bogus base patched
one_line_error "no results in" scripts/compare-base-selftests --mm nosuch-a nosuch-b
one_line_error "--only: unknown step 'nosuch'" scripts/stress --only nosuch
one_line_error "sid no longer has linux-source-7.2 0.0-nonexistent" \
	env UPSTREAM_PKG_VERSION=0.0-nonexistent BUILD_DIR="$tmp/build" scripts/prepare-upstream

# A package missing, and no root for apt-get.
one_line_error "missing packages" env BASE_PKG_VERSION=0.0-nonexistent scripts/install-deps --check
one_line_error "need root to apt-get install" setpriv --reuid=65534 --regid=65534 --clear-groups \
	env BASE_PKG_VERSION=0.0-nonexistent BUILD_DIR=/nonexistent scripts/install-deps

after=$(git status --porcelain --untracked-files=all -- . ':!.build' | sha1sum)
[ "$before" = "$after" ] || fail "the checkout was modified"
