# Bisectability: the kernel builds after each patch of the series, and no
# patch adds a sparse (C=2) or W=1 warning to the files the series touches.
. "$(dirname "$0")/lib.sh"
scripts/bisect-check
