#!/usr/bin/env bash
# A new user's first run: no config, no target, no terminal. hoist must upload
# to the embedded local store and the bytes on disk must match.
set -euo pipefail
bin=$(realpath "${1:-./hoist}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data XDG_STATE_HOME=$work/state
mkdir -p "$HOME" "$work/files/sub"
head -c 5000000 /dev/urandom >"$work/files/big.bin"
printf 'hello from hoist\n' >"$work/files/sub/note.txt"

"$bin" --no-tui "$work/files" </dev/null >"$work/out" 2>&1 || { cat "$work/out"; echo "FAIL: hoist exited $?"; exit 1; }
cat "$work/out"
store=$XDG_DATA_HOME/hoist/local
for f in big.bin sub/note.txt; do
  cmp "$work/files/$f" "$store/buckets/hoist/files/$f" || { echo "FAIL: $f differs on disk"; exit 1; }
done
grep -q "Files are in $store" "$work/out" || { echo "FAIL: the summary does not say where the files are"; exit 1; }
echo "fresh-check: OK (2 files byte-identical under $store)"
