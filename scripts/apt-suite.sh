#!/bin/bash
# Run apt-get or apt-cache on one suite of the machine's Debian archive
# (e.g. trixie-backports, sid), with a sources list and package lists of
# its own under the cache: the machine's apt configuration is left alone.
# The archive is the one the machine already uses (its security archive
# for a *-security suite), signed by the installed Debian keyring.
# Usage: apt-suite.sh SUITE apt-get|apt-cache ARGS...
set -euo pipefail
. "$(dirname "$0")/lib.sh"

suite=${1:?usage: apt-suite.sh SUITE apt-get|apt-cache ARGS...}
tool=${2:?usage: apt-suite.sh SUITE apt-get|apt-cache ARGS...}
shift 2
case $tool in apt-get | apt-cache) ;; *) die "apt-suite.sh: $tool is not apt-get or apt-cache" ;; esac

. /etc/os-release
own=$VERSION_CODENAME
case $suite in *-security) own=$own-security ;; esac
# awk reads to the end: stopping early could kill apt-get with SIGPIPE.
# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
site=$(apt-get indextargets --format '$(SITE) $(RELEASE)' | awk -v s="$own" '$2 == s && !n++ {print $1}')
[ -n "$site" ] || die "no archive of the machine serves $own (apt-get indextargets); run apt-get update"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f $keyring ] || die "$keyring missing (install debian-archive-keyring)"

dir=$CACHE/apt/$suite
mkdir -p "$dir/lists/partial"
echo "deb [signed-by=$keyring] $site $suite main" >"$dir/sources.list"
opts=(-q -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=-
	-o Dir::State::Lists="$dir/lists" -o APT::Get::List-Cleanup=0
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o APT::Sandbox::User=root)
# Package lists older than a day are fetched again.
if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
	apt-get "${opts[@]}" update >/dev/null 2>"$dir/update.err" ||
		die "apt-get update of $suite failed: $(tail -n 3 "$dir/update.err")"
fi
exec "$tool" "${opts[@]}" "$@"
