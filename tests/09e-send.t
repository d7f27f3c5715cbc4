# make send: by default a dry run, which prints what would be mailed
# (To/Cc with linux-mm and akpm on every message) and mails nothing; with
# --really it hands the messages to the SMTP server.  Both run here with
# a stand-in server, a local program that only records what it is given:
# nothing leaves the machine, and no configuration of git is read.
. "$(dirname "$0")/lib.sh"
n=$(grep -cvE '^\s*(#|$)' series || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stand_in_smtp "$tmp"

# No FROM and no git identity: a one-line error, nothing mailed.
expect_status_tee "$tmp/noid" 1 env -u FROM scripts/send --really -- --smtp-server="$tmp/server"
grep -q "no sender: set FROM=" "$tmp/noid" || fail "no error naming the missing identity"
[ ! -e "$tmp/sent" ] || fail "mailed without a sender"
# The placeholder identity is never mailed.
(. scripts/lib.sh; echo "$PLACEHOLDER_IDENT") >"$tmp/ph"
expect_status_tee "$tmp/ph.out" 1 env FROM="$(cat "$tmp/ph")" scripts/send --really -- --smtp-server="$tmp/server"
grep -q "refusing to mail as" "$tmp/ph.out" || fail "the placeholder identity was not refused"
[ ! -e "$tmp/sent" ] || fail "mailed as the placeholder"
export FROM='Jane Doe <jane@example.org>'

(. scripts/lib.sh; send_dry_run "$tmp")
grep -q '^To: .*<akpm@linux-foundation.org>' "$tmp/dry" || fail "no To: akpm"
grep -q '^Cc: linux-mm@kvack.org' "$tmp/dry" || fail "no Cc: linux-mm"
# Every message goes to linux-mm and akpm.
while read -r line; do
	case "$line" in *" akpm@linux-foundation.org"*) ;; *) fail "not to akpm: $line" ;; esac
	case "$line" in *" linux-mm@kvack.org"*) ;; *) fail "not to linux-mm: $line" ;; esac
done < <(grep '^Sendmail: ' "$tmp/dry")
echo "the dry run mailed nothing, and shows $((n + 1)) messages to linux-mm and akpm"

expect_status_tee "$tmp/really" 0 scripts/send --really -- --smtp-server="$tmp/server"
got=$(grep -c '^RCPT ' "$tmp/sent" || true)
[ "$got" -eq $((n + 1)) ] || fail "the server got $got messages, want $((n + 1))"
for i in $(seq 0 "$n"); do
	grep -q "^Subject: \[PATCH $i/$n\] " "$tmp/sent" || fail "[PATCH $i/$n] not sent"
done
grep -q "^From: $FROM\$" "$tmp/sent" || fail "not mailed as $FROM"
echo "--really gave the server the $((n + 1)) messages, from $FROM"
expect_status 2 scripts/send --bogus
