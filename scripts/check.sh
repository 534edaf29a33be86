#!/bin/bash
# Run a test list once per KVM configuration in tests/configs (NPT, and
# shadow paging where every guest page-table walk goes through KVM's
# walker) and print one total line "N passed, N failed, N skipped".
# Usage: check.sh LIST   (CONFIGS="npt shadow" picks configurations)
# REPEAT=N boots every configuration N times and then says, per test, how
# many runs it passed (a measure of flakiness; logs: run-...-LABEL-rK).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=$1
repeat=${REPEAT:-1}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "REPEAT=$repeat: want a positive number"
bash "$TOP/scripts/deps.sh"
bash "$TOP/scripts/kernel.sh"
bash "$TOP/scripts/selftests.sh"
export GMEMWALK_BUILT=1

mapfile -t configs < <(grep -v -e '^#' -e '^[[:space:]]*$' "$TOP/tests/configs" |
	awk -v want="${CONFIGS:-}" 'want == "" || index(" " want " ", " " $1 " ")')
[ ${#configs[@]} -gt 0 ] || die "no configuration in tests/configs matches CONFIGS=$CONFIGS"
p=0 f=0 s=0 i=0 rc=0
runs=()
for r in $(seq 1 "$repeat"); do
	[ "$repeat" = 1 ] || export RUN=r$r
	for conf in "${configs[@]}"; do
		i=$((i + 1))
		read -r label args <<<"$conf"
		step "configuration $i of $((${#configs[@]} * repeat)): $label${RUN:+ (run $r of $repeat)}"
		# shellcheck disable=SC2086 # args are words of a command line
		bash "$TOP/scripts/test.sh" "$list" "$label" $args || rc=1
		run=$LOGS/run-$SERIES-$FLAVOR-$(basename "$list")-$label${RUN:+-$RUN}
		runs+=("$label" "$run")
		read -r a b c <"$run/counts" || { a=0 b=1 c=0; }
		p=$((p + a)) f=$((f + b)) s=$((s + c))
	done
done
# The whole series boots Linux from private guest_memfd with our VMM.
if [ "$list" = check ] && [ "$SERIES" != none ]; then
	step "booting Linux with our VMM (gmem-nodirect, gmem, anon)"
	out=$LOGS/run-$SERIES-$FLAVOR-vmm
	# The debug kernel's page table dump takes seconds to read.
	hold=3
	[ "$FLAVOR" != debug ] || hold=30
	VMM_HOLD=$hold VMM_OUT=$out bash "$TOP/scripts/vmm-run.sh" gmem-nodirect gmem anon || rc=1
	read -r a b c <"$out/counts" || { a=0 b=1 c=0; }
	p=$((p + a)) f=$((f + b)) s=$((s + c))
fi
[ "$repeat" = 1 ] || python3 "$TOP/scripts/tally.py" "${runs[@]}" | tee "$LOGS/tally-$SERIES-$FLAVOR-$(basename "$list").txt"
echo "$p passed, $f failed, $s skipped"
if [ $rc != 0 ] || [ $f != 0 ]; then
	exit 1
fi
