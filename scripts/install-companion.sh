#!/usr/bin/env bash
# Installs Uppy Companion (the presign service hoist's --presign-url speaks to)
# for the interop tests in source/companion_interop_test.go.
#
# It goes outside the repository, into $HOIST_COMPANION_DIR or else
# $(go env GOPATH)/hoist-companion, the folder internal/companiontest looks in
# and CI caches. Running it again is cheap: it does nothing when the pinned
# version is already there. `make test` (and so .ci/run) calls it.
set -euo pipefail

# The version the interop tests were written and run against. Change it only
# together with a run of `go test ./source/ -run Companion`.
VERSION=6.2.2
PACKAGE=@uppy/companion

PREFIX=${HOIST_COMPANION_DIR:-$(go env GOPATH)/hoist-companion}
MARKER=$PREFIX/.installed-version

command -v node >/dev/null || { echo "install-companion: node is not installed; install Node.js 20.19+ (Debian: apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-companion: npm is not installed; install it (Debian: apt-get install npm)" >&2; exit 1; }
# Companion 6.2 needs Node.js ^20.19.3 or >= 22.
node -e '
  const [maj, min, pat] = process.versions.node.split(".").map(Number);
  const ok = maj >= 22 || (maj === 20 && (min > 19 || (min === 19 && pat >= 3)));
  if (!ok) { console.error(`install-companion: Node.js ${process.versions.node} is too old for Uppy Companion; install Node.js 20.19.3+ or 22+`); process.exit(1); }
'

if [[ -f $MARKER && $(cat "$MARKER") == "$PACKAGE@$VERSION" && -x $PREFIX/node_modules/.bin/companion ]]; then
	echo "install-companion: $PACKAGE@$VERSION already in $PREFIX"
	exit 0
fi

echo "install-companion: installing $PACKAGE@$VERSION into $PREFIX"
mkdir -p "$PREFIX"
rm -f "$MARKER"
# A package.json of its own keeps npm from walking up to some other project.
cat >"$PREFIX/package.json" <<EOF
{
  "name": "hoist-companion",
  "private": true,
  "description": "Uppy Companion for hoist's interop tests; written by scripts/install-companion.sh",
  "dependencies": { "$PACKAGE": "$VERSION" }
}
EOF
npm install --prefix "$PREFIX" --omit=dev --no-audit --no-fund --loglevel=error </dev/null

installed=$(node -p "require(process.argv[1]).version" "$PREFIX/node_modules/$PACKAGE/package.json")
if [[ $installed != "$VERSION" ]]; then
	echo "install-companion: npm installed $PACKAGE $installed, want $VERSION" >&2
	exit 1
fi
[[ -x $PREFIX/node_modules/.bin/companion ]] || { echo "install-companion: $PREFIX/node_modules/.bin/companion is missing after the install" >&2; exit 1; }
echo "$PACKAGE@$VERSION" >"$MARKER"
echo "install-companion: done ($PREFIX/node_modules/.bin/companion)"
