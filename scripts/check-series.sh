#!/bin/bash
# Bisectability: build the kernel and the KVM selftests at every commit of
# the series, oldest first, in the work tree itself (incremental builds),
# then return to the series head. Refuses to run on unexported work.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$SERIES" != none ] || die "SERIES=none has no series to check"
bash "$TOP/scripts/deps.sh"
[ -d "$WT/.git" ] || bash "$TOP/scripts/tree.sh"
bash "$TOP/scripts/exported.sh" || die "export your work first ('make export')"

head=$(git -C "$WT" symbolic-ref --short HEAD)
trap 'git -C "$WT" checkout -q "$head"' EXIT
mapfile -t commits < <(git -C "$WT" rev-list --reverse base..HEAD)
i=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	step "[$i/${#commits[@]}] $(git -C "$WT" log -1 --format=%s "$c")"
	git -C "$WT" checkout -q "$c"
	bash "$TOP/scripts/kernel.sh"
	bash "$TOP/scripts/selftests.sh"
done
step "every patch of the series builds (kernel and KVM selftests)"
