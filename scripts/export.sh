#!/bin/bash
# Write the work tree's commits after "base" back to patches/ as
# format-patch files, a quilt-style series file and a cover letter.
# Deterministic: re-exporting an unchanged tree changes no file (fixed
# abbreviation length: git would scale it with the repository's size).
# Usage: export.sh [OUTDIR]   (default: patches/)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$TOP/patches}
[ "$SERIES" != none ] || die "SERIES=none is the unpatched base: nothing to export"
[ -d "$WT/.git" ] || die "no work tree at $WT (run 'make tree')"
git -C "$WT" rev-parse -q --verify base >/dev/null || die "$WT has no 'base' tag"
[ -z "$(git -C "$WT" status --porcelain --untracked-files=no)" ] ||
	die "$WT has uncommitted changes: commit them first"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=$(git -C "$WT" rev-list --count base..HEAD)
# The posting's version (patches/VERSION: 2 for "[PATCH v2 ...]").
v=$(cat "$TOP/patches/VERSION" 2>/dev/null || echo 1)
[[ $v =~ ^[1-9][0-9]*$ ]] || die "patches/VERSION: want a number, got '$v'"
prefix=PATCH
[ "$v" = 1 ] || prefix="PATCH v$v"
if [ "$n" -gt 0 ]; then
	git -C "$WT" -c diff.noprefix=false -c format.signature= -c core.abbrev=12 \
		format-patch -q --no-signature --zero-commit --numbered \
		--no-thread --cover-letter --subject-prefix="$prefix" \
		-o "$tmp" base..HEAD >/dev/null
	# Keep the hand-written subject and blurb of the cover letter.
	cover=$tmp/0000-cover-letter.patch
	old=$out/0000-cover-letter.patch
	python3 "$TOP/scripts/cover-letter.py" "$cover" "$old" \
		"$(git -C "$WT" log -1 --format=%aD HEAD)"
fi

mkdir -p "$out"
rm -f "$out"/[0-9][0-9][0-9][0-9]-*.patch
for f in "$tmp"/*.patch; do
	[ -e "$f" ] || continue
	# format-patch dates come from the commit; nothing else varies.
	cp "$f" "$out/"
done
for f in "$tmp"/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -e "$f" ] || continue
	case ${f##*/} in 0000-*) ;; *) echo "${f##*/}" ;; esac
done >"$out/series"
step "exported $n patch(es) to ${out#"$TOP"/}"
