# shellcheck shell=bash
# Common settings for the gmemwalk scripts. Sourced, never run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
LOGS=$BUILD/logs
CACHE=${GMEMWALK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gmemwalk}
# SERIES=none builds and tests the unpatched base side by side.
SERIES=${SERIES:-gmemwalk}
FLAVOR=${FLAVOR:-kvm}

# shellcheck source=../BASE
. "$TOP/BASE"

if [ "$SERIES" = none ]; then
	WT=$BUILD/linux-base
else
	WT=$BUILD/linux
fi
OBJ=$BUILD/obj/$SERIES-$FLAVOR
STAGE=$BUILD/stage/$SERIES

mkdir -p "$LOGS"

step() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Never stop silently: name the command that made a script stop (set -e),
# also inside functions, command substitutions and pipelines (set -E).
failed() { printf 'error: %s:%s: "%s" failed (exit %s)\n' "${3##*/}" "$4" "$2" "$1" >&2; }
set -E
trap 'failed $? "$BASH_COMMAND" "${BASH_SOURCE[0]:-$0}" "$LINENO"' ERR

# The cached base repository for the pinned version.
base_repo() { echo "$CACHE/base-$VERSION.git"; }
# What the work tree holds: its commit, uncommitted changes, and files that
# git does not track (the Debian tree's .gitignore hides new files).
wt_state() {
	git -C "$WT" rev-parse HEAD
	git -C "$WT" diff HEAD
	(cd "$WT" && git ls-files -o -z | sort -z | xargs -0 -r sha256sum)
}
