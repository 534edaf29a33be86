#!/bin/bash
# Apply the series to a kernel tree of your own.
# A git tree gets one commit per patch (git am); any other tree is
# patched with patch -p1 after a dry run shows every patch applies.
# Usage: apply.sh KSRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ksrc=${1:-}
[ -n "$ksrc" ] || die "usage: make apply KSRC=/path/to/linux"
if [ ! -f "$ksrc/Makefile" ] || [ ! -d "$ksrc/virt/kvm" ]; then
	die "$ksrc is not a kernel source tree"
fi
mapfile -t patches < <(grep -v -e '^#' -e '^[[:space:]]*$' "$TOP/patches/series" || true)
[ ${#patches[@]} -gt 0 ] || { step "the series is empty: nothing to apply"; exit 0; }

if git -C "$ksrc" rev-parse --git-dir >/dev/null 2>&1; then
	for p in "${patches[@]}"; do
		step "git am $p"
		git -C "$ksrc" am -q "$TOP/patches/$p" ||
			die "$p does not apply; 'git -C $ksrc am --abort' restores the tree"
	done
else
	# Patch by patch: a dry run first, so a failure leaves the tree as it
	# was after the previous patch.
	for p in "${patches[@]}"; do
		patch -d "$ksrc" -p1 --dry-run -s -f <"$TOP/patches/$p" >/dev/null ||
			die "$p does not apply to $ksrc (tree left as it was before this patch)"
		step "patch -p1 < $p"
		patch -d "$ksrc" -p1 -s -f <"$TOP/patches/$p"
	done
fi
step "applied ${#patches[@]} patch(es) to $ksrc"
