#!/bin/bash
# Exit 0 when the work tree holds nothing that patches/ lacks:
# no uncommitted edits and the same patches an export would write.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$WT/.git" ] || exit 0
if [ -n "$(git -C "$WT" status --porcelain --untracked-files=no)" ]; then
	echo "$WT: uncommitted edits" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$TOP"/patches/0000-cover-letter.patch "$tmp/" 2>/dev/null || true
bash "$TOP/scripts/export.sh" "$tmp" 2>/dev/null
diff -r -q -x 0000-cover-letter.patch -x VERSION "$tmp" "$TOP/patches" >&2 || {
	echo "$WT: commits differ from patches/" >&2
	exit 1
}
