# Documentation: the series adds no docutils message to the kernel's .rst
# files nor kernel-doc message to its C files, and the project's own
# Documentation/*.rst has none at all.
. "$(dirname "$0")/lib.sh"
scripts/doc-check
