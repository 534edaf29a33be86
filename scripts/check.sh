#!/bin/bash
# Run a test list once per KVM configuration in tests/configs (NPT, and
# shadow paging where every guest page-table walk goes through KVM's
# walker) and print one total line "N passed, N failed, N skipped".
# Usage: check.sh LIST   (CONFIGS="npt shadow" picks configurations)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=$1
bash "$TOP/scripts/deps.sh"
bash "$TOP/scripts/kernel.sh"
bash "$TOP/scripts/selftests.sh"
export GMEMWALK_BUILT=1

mapfile -t configs < <(grep -v -e '^#' -e '^[[:space:]]*$' "$TOP/tests/configs" |
	awk -v want="${CONFIGS:-}" 'want == "" || index(" " want " ", " " $1 " ")')
[ ${#configs[@]} -gt 0 ] || die "no configuration in tests/configs matches CONFIGS=$CONFIGS"
p=0 f=0 s=0 i=0 rc=0
for conf in "${configs[@]}"; do
	i=$((i + 1))
	read -r label args <<<"$conf"
	step "configuration $i of ${#configs[@]}: $label"
	# shellcheck disable=SC2086 # args are words of a command line
	bash "$TOP/scripts/test.sh" "$list" "$label" $args || rc=1
	name=$(basename "$list")-$label
	read -r a b c <"$LOGS/run-$SERIES-$FLAVOR-$name/counts" || { a=0 b=1 c=0; }
	p=$((p + a)) f=$((f + b)) s=$((s + c))
done
echo "$p passed, $f failed, $s skipped"
if [ $rc != 0 ] || [ $f != 0 ]; then
	exit 1
fi
