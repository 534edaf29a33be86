#!/bin/bash
# Move the series to another version of the base package: record it in
# BASE (with fresh checksums), fetch it, and re-apply the series on it
# with a 3-way git am. Conflicts stop in build/linux for you to resolve
# ('git am --continue'), then 'make export'.
# Usage: rebase.sh VERSION   (see: apt-cache madison linux-source-6.12)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

new=${1:-}
[ -n "$new" ] || die "usage: make rebase VERSION=<version> (available: $(apt-cache madison "$PKG" | awk -F'|' '{gsub(/ /,"",$2); printf "%s ", $2}'))"
bash "$TOP/scripts/exported.sh" || die "export your work first ('make export')"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "$PKG=$new") || die "$PKG=$new is not in the archive"
deb=$(ls "$tmp"/*.deb)
deb_sha=$(sha256sum "$deb" | cut -d' ' -f1)
tar_sha=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$TARBALL" | sha256sum | cut -d' ' -f1)
mkdir -p "$CACHE"
mv "$deb" "$CACHE/${PKG}_${new/:/%3a}_all.deb"
sed -i -e "s/^VERSION=.*/VERSION=$new/" -e "s/^DEB_SHA256=.*/DEB_SHA256=$deb_sha/" \
	-e "s/^TARBALL_SHA256=.*/TARBALL_SHA256=$tar_sha/" "$TOP/BASE"
step "BASE now pins $PKG $new"
old_wt=$WT.old
rm -rf "$old_wt"
[ -d "$WT" ] && mv "$WT" "$old_wt"
VERSION=$new
bash "$TOP/scripts/fetch-base.sh"
FORCE=1 bash "$TOP/scripts/tree.sh" || die "the series does not apply on $new; previous tree kept in $old_wt"
step "series rebased; run 'make export' and 'make check', then commit BASE and patches/"
