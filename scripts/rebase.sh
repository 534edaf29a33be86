#!/bin/bash
# Move the series to another version of the base kernel, from any suite
# Debian's archive serves (see: bash scripts/base-versions.sh): record it
# in BASE (package, suite, fresh checksums), fetch it, and re-apply the
# series on it with a 3-way git am. Conflicts stop in build/linux for you
# to resolve ('git am --continue'), then 'make export'.
# Usage: rebase.sh VERSION
set -euo pipefail
. "$(dirname "$0")/lib.sh"

new=${1:-}
if [ -z "$new" ]; then
	step "kernel sources the archive serves (suite, package, version):"
	bash "$TOP/scripts/base-versions.sh" | sed 's/^/    /' >&2
	die "usage: make rebase VERSION=<a version above>"
fi
bash "$TOP/scripts/exported.sh" || die "export your work first ('make export')"

# The newest suite listing that version wins (they serve the same file).
read -r suite pkg _ < <(bash "$TOP/scripts/base-versions.sh" | awk -v v="$new" '$3 == v' | tail -n 1) ||
	die "no linux-source-X.Y $new in the archive (list: bash scripts/base-versions.sh)"
tarball=$pkg.tar.xz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step "downloading $pkg=$new from $suite"
(cd "$tmp" && bash "$TOP/scripts/apt-suite.sh" "$suite" apt-get download "$pkg=$new") ||
	die "$pkg=$new could not be downloaded from $suite"
deb=$(ls "$tmp"/*.deb)
deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)
tar_sha=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$tarball" | sha256sum | cut -d' ' -f1)
mkdir -p "$CACHE"
mv "$deb" "$CACHE/${pkg}_${new/:/%3a}_all.deb"
sed -i -e "s/^PKG=.*/PKG=$pkg/" -e "s/^VERSION=.*/VERSION=$new/" -e "s/^SUITE=.*/SUITE=$suite/" \
	-e "s/^DEB_SHA256=.*/DEB_SHA256=$deb_sha/" -e "s/^TARBALL=.*/TARBALL=$tarball/" \
	-e "s/^TARBALL_SHA256=.*/TARBALL_SHA256=$tar_sha/" "$TOP/BASE"
step "BASE now pins $pkg $new ($suite)"
old_wt=
if [ -d "$WT" ]; then
	old_wt=$WT.old
	rm -rf "$old_wt"
	mv "$WT" "$old_wt"
fi
bash "$TOP/scripts/fetch-base.sh"
FORCE=1 bash "$TOP/scripts/tree.sh" ||
	die "the series does not apply on $new${old_wt:+ (previous tree kept in $old_wt)}; resolve in ${WT#"$TOP"/} ('git am --continue') or port it by hand, then 'make export'"
step "series rebased; run 'make export' and 'make check', then commit BASE and patches/"
