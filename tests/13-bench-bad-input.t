# scripts/bench and collapse_bench: bad input gives a one-line error
# naming the problem and exit status 2, before anything is built or
# booted, and modifies nothing in the checkout.
. "$(dirname "$0")/lib.sh"
before=$(git status --porcelain --untracked-files=all -- . ':!.build' | sha1sum)

WANT_STATUS=2
one_line_error "--boots: want a number" scripts/bench --boots 0
one_line_error "--boots: want a number" scripts/bench --boots many
one_line_error "--boots needs a value" scripts/bench --boots
one_line_error "--seconds: want a number" scripts/bench --seconds soon
one_line_error "--seconds: want a number" scripts/bench --seconds 0
one_line_error "unknown option '--fast'" scripts/bench --fast
one_line_error "unexpected argument 'base'" scripts/bench base
one_line_error "BENCH_IMAGE_BASE: no such kernel image" \
	env BENCH_IMAGE_BASE=/nonexistent/bzImage BENCH_IMAGE_PATCHED=/nonexistent/bzImage scripts/bench
one_line_error "--boots: want a number from 1 to 9" scripts/bench-icount --boots 0
one_line_error "--seconds: want a number" scripts/bench-icount --seconds soon
one_line_error "unknown option '--fast'" scripts/bench-icount --fast

# The guest binary, built into a scratch directory.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -g -Wall -Wextra -Werror -static -pthread -o "$tmp/collapse_bench" tools/bench/collapse_bench.c
one_line_error "-s: want a number" "$tmp/collapse_bench" -s soon
one_line_error "-s: want a number" "$tmp/collapse_bench" -s 0
one_line_error "-r: want a whole number" "$tmp/collapse_bench" -r 2.5
one_line_error "-m: want a multiple of 2 MiB" "$tmp/collapse_bench" -m 3
one_line_error "-s needs an argument" "$tmp/collapse_bench" -s
one_line_error "unknown option '-x'" "$tmp/collapse_bench" -x
one_line_error "-U" "$tmp/collapse_bench" -x
one_line_error "unexpected argument 'now'" "$tmp/collapse_bench" now

after=$(git status --porcelain --untracked-files=all -- . ':!.build' | sha1sum)
[ "$before" = "$after" ] || fail "the checkout was modified"
