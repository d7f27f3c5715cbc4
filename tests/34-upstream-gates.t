# The submission gates on the upstream series: every patch builds on its
# own with no new sparse or W=1 warning in the files it touches
# (bisect-check), coccicheck adds no report, and its mbox, To/Cc from 7.2's
# get_maintainer.pl (the XArray, selftests and mm maintainers and lists),
# goes through b4 am and git am to the series' tree; make send's dry run
# mails nothing.
. "$(dirname "$0")/lib.sh"
export SERIES=upstream
. scripts/lib.sh
scripts/bisect-check
scripts/cocci-check

export FROM='Jane Doe <jane@example.org>'
scripts/mbox
mbox=$BUILD_DIR/mbox/collapse-races-upstream.mbox
mbox_common "$mbox"
# The XArray patch goes to the XArray maintainer, the selftest to the
# mm selftests' people; both to linux-mm and akpm.
for want in willy@infradead.org linux-mm@kvack.org akpm@linux-foundation.org linux-kselftest@vger.kernel.org; do
	grep -qE "^(To|Cc): .*$want|^ .*$want" "$mbox" || fail "$want is not among the recipients"
done
b4_round_trip "$mbox"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stand_in_smtp "$tmp"
send_dry_run "$tmp"
