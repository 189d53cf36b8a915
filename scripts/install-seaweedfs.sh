#!/usr/bin/env bash
# Builds SeaweedFS's weed at a pinned version into GOBIN, for the conformance
# tests (internal/s3test). `go install` refuses it (its go.mod has a replace
# directive), so the module is downloaded, copied somewhere writable and built
# there. Running it again is cheap: a stamp beside the binary names the version
# it was built from, and a match does nothing. `make deps` (and so .ci/run)
# calls it.
set -euo pipefail

VERSION=${1:?usage: install-seaweedfs.sh VERSION OUTPUT}
OUT=${2:?usage: install-seaweedfs.sh VERSION OUTPUT}
MODULE=github.com/seaweedfs/seaweedfs
STAMP=$OUT.version

if [[ -x $OUT && -f $STAMP && $(cat "$STAMP") == "$MODULE@$VERSION" ]]; then
	echo "install-seaweedfs: $MODULE@$VERSION already in $OUT"
	exit 0
fi

echo "install-seaweedfs: building $MODULE@$VERSION into $OUT (a few minutes)"
dir=$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -n $dir && -d $dir ]] || { echo "install-seaweedfs: go mod download gave no folder for $MODULE@$VERSION" >&2; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$(dirname "$OUT")"
rm -f "$STAMP"
(cd "$work/src" && GOFLAGS=-mod=mod go build -o "$OUT" ./weed)
echo "$MODULE@$VERSION" >"$STAMP"
echo "install-seaweedfs: done ($OUT)"
