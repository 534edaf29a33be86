#!/bin/bash
# Fetch the pinned base kernel package, verify it, and turn it into a
# cached git repository with one commit (tag "base"). Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

repo=$(base_repo)
if git -C "$repo" rev-parse -q --verify base >/dev/null 2>&1; then
	exit 0
fi

mkdir -p "$CACHE"
deb=$CACHE/${PKG}_${VERSION/:/%3a}_all.deb
if [ ! -f "$deb" ]; then
	step "downloading $PKG=$VERSION from $SUITE"
	# Lists fetched in the last day may predate an upload: retry afresh.
	get() { (cd "$CACHE" && bash "$TOP/scripts/apt-suite.sh" "$SUITE" apt-get download "$PKG=$VERSION"); }
	if ! get && ! { rm -rf "$CACHE/apt/$SUITE" && get; }; then
		step "$PKG=$VERSION has left $SUITE; what the archive serves now:"
		bash "$TOP/scripts/base-versions.sh" | sed 's/^/    /' >&2
		die "$PKG=$VERSION is not in $SUITE any more. Move the series with: make rebase VERSION=<a version above>"
	fi
fi
echo "$DEB_SHA256  $deb" | sha256sum -c --quiet - ||
	die "$deb: sha256 mismatch (BASE says $DEB_SHA256)"

tmp=$CACHE/tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp" && mkdir -p "$tmp"
dpkg-deb --fsys-tarfile "$deb" | tar -C "$tmp" -x "./usr/src/$TARBALL"
tarball=$tmp/usr/src/$TARBALL
echo "$TARBALL_SHA256  $tarball" | sha256sum -c --quiet - ||
	die "$TARBALL: sha256 mismatch (BASE says $TARBALL_SHA256)"

step "extracting $TARBALL"
mkdir -p "$tmp/src"
tar -C "$tmp/src" --strip-components=1 -xf "$tarball"
rm -f "$tarball"

step "creating the base commit (takes a minute or two)"
src=$tmp/src
git init -q -b master "$src"
# A fixed identity and date make the base commit hash the same everywhere.
export GIT_AUTHOR_NAME="Debian $PKG" GIT_AUTHOR_EMAIL="debian-kernel@lists.debian.org"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
git -C "$src" -c core.autocrlf=false add -A -f .
git -C "$src" commit -q -m "Base: Debian $PKG $VERSION"
git -C "$src" tag base
rm -rf "$repo.new"
git clone -q --bare "$src" "$repo.new"
rm -rf "$repo"
mv "$repo.new" "$repo"
step "base ready: $repo ($(git -C "$repo" rev-parse --short base))"
