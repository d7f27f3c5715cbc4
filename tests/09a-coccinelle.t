# Coccinelle: make coccicheck MODE=report on the C files and headers the
# series touches gives no report that the base does not have.
. "$(dirname "$0")/lib.sh"
scripts/cocci-check
