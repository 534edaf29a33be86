#!/bin/bash
# Build the work tree: the pinned base (tag "base") plus every patch in
# patches/series applied with "git am", one commit per patch.
# Refuses to clobber a work tree holding work not yet exported, unless
# FORCE=1. With SERIES=none the tree is the pristine base.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$TOP/scripts/fetch-base.sh"
repo=$(base_repo)

if [ -e "$WT" ]; then
	if [ "${FORCE:-0}" != 1 ] && [ "$SERIES" != none ]; then
		if ! bash "$TOP/scripts/exported.sh"; then
			die "$WT holds work not exported to patches/: run 'make export' and commit, or FORCE=1 to throw it away"
		fi
	fi
	rm -rf "$WT"
fi

step "creating work tree ${WT#"$TOP"/} at base $(git -C "$repo" rev-parse --short base)"
git clone -q --no-checkout "$repo" "$WT"
git -C "$WT" checkout -q -b "$SERIES" base
git -C "$WT" tag -f base base >/dev/null
git -C "$WT" remote remove origin

[ "$SERIES" = none ] && exit 0

# git am needs a committer identity; a fresh machine may have none.
if ! git -C "$WT" config user.email >/dev/null; then
	git -C "$WT" config user.name "gmemwalk tooling"
	git -C "$WT" config user.email "gmemwalk@localhost"
fi
mapfile -t patches < <(grep -v -e '^#' -e '^[[:space:]]*$' "$TOP/patches/series" 2>/dev/null || true)
i=0
for p in "${patches[@]}"; do
	i=$((i + 1))
	step "applying [$i/${#patches[@]}] $p"
	git -C "$WT" am -q --3way --keep-cr "$TOP/patches/$p" ||
		die "patch $p does not apply; see 'git -C $WT am --show-current-patch'"
done
step "work tree ready: ${#patches[@]} patch(es) on base"
