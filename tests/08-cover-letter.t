# The cover letter is in sync with the series (shortlog, diffstat,
# base-commit) and with Documentation/cover-letter.txt.
. "$(dirname "$0")/lib.sh"
scripts/gen-cover-letter --check
grep -q '^base-commit: [0-9a-f]\{40\}$' patches/0000-cover-letter.patch || fail "no base-commit"
