# Every shell script in the project is shellcheck clean.
. "$(dirname "$0")/lib.sh"
mapfile -t files < <(grep -rlE '^#!.*(ba)?sh|^# shellcheck shell=' scripts tests .ci | sort)
echo "shellcheck ${#files[@]} files"
shellcheck -x "${files[@]}"
