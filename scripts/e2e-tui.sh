#!/usr/bin/env bash
# End-to-end check of the terminal UI, the way a person uses it: build hoist,
# run the real binary in tmux (120x40, xterm-256color) against the embedded
# local store, pick two files with the keyboard, fill in the form, confirm the
# review, wait for the summary, leave, and compare the stored files with the
# originals byte for byte.
#
# Everything lives in one temporary folder (binary, files, store, XDG dirs,
# and the private tmux server's socket); all of it is removed on exit. Exits non-zero on any
# failure and prints the last screen. E2E_KEEP=1 keeps the folder and prints
# its path; the captured screens are in it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hoist-e2e-tui.XXXXXX")
# The socket lives in $WORK, so nothing is left in /tmp/tmux-UID.
SOCKET="$WORK/tmux.sock"

tm() { tmux -S "$SOCKET" "$@"; }

cleanup() {
	tm kill-server >/dev/null 2>&1 || true
	if [[ "${E2E_KEEP:-}" == 1 ]]; then
		echo "e2e-tui: kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

fail() {
	echo "e2e-tui: FAIL: $*" >&2
	echo "---- last screen ----" >&2
	tm capture-pane -p -t e2e >&2 2>/dev/null || true
	exit 1
}

# capture saves the screen as screens/NN-name.txt and prints its path. It
# runs in $( ), so the number comes from the files already there.
capture() {
	local file n
	n=$(find "$WORK/screens" -type f | wc -l)
	file=$(printf '%s/screens/%02d-%s.txt' "$WORK" $((n + 1)) "$1")
	tm capture-pane -p -t e2e >"$file"
	echo "$file"
}

# wait_for TEXT [SECONDS]: wait until TEXT is on the screen.
wait_for() {
	local text=$1 deadline=$((SECONDS + ${2:-20}))
	while ((SECONDS < deadline)); do
		if tm capture-pane -p -t e2e 2>/dev/null | grep -qF -- "$text"; then
			return 0
		fi
		sleep 0.1
	done
	fail "timed out waiting for \"$text\""
}

# send_from_review: the review takes enter only once its checks are done and
# a moment (ui's armDelay, 400 ms) after it opened, so Enters typed ahead on
# the form cannot send; a person's deliberate Enter comes later than that.
send_from_review() {
	wait_for "enter send"
	sleep 0.5
	tm send-keys -t e2e Enter
}

# expect FILE TEXT...: every TEXT is in the captured screen FILE.
expect() {
	local file=$1
	shift
	for text in "$@"; do
		grep -qF -- "$text" "$file" || fail "\"$text\" not on the screen $(basename "$file")"
	done
}

# start_hoist WxH ARGS [NAME=VALUE...]: a fresh tmux session of W x H running
# hoist ARGS in a clean environment (no AWS_*, HOIST_* or config from the
# machine, so hoist falls back to the embedded store unless told otherwise),
# then printing HOIST-EXIT=status.
start_hoist() {
	local size=$1 args=$2
	shift 2
	tm kill-session -t e2e >/dev/null 2>&1 || true
	tm new-session -d -s e2e -x "${size%x*}" -y "${size#*x}" -c "$WORK/src" \
		env -i HOME="$WORK/home" PATH="/usr/bin:/bin" TERM=xterm-256color LANG=C.UTF-8 \
		XDG_CONFIG_HOME="$WORK/xdg/config" XDG_DATA_HOME="$WORK/xdg/data" \
		XDG_STATE_HOME="$WORK/xdg/state" XDG_CACHE_HOME="$WORK/xdg/cache" "$@" \
		sh -c "'$WORK/hoist' $args; echo \"HOIST-EXIT=\$?\"; sleep 600"
}

command -v tmux >/dev/null || fail "tmux is not installed"
command -v cmp >/dev/null || fail "cmp is not installed"

echo "e2e-tui: building hoist"
(cd "$ROOT" && go build -o "$WORK/hoist" .) || fail "go build failed"

mkdir -p "$WORK/src/sub" "$WORK/store" "$WORK/screens" "$WORK/home" \
	"$WORK/xdg/config" "$WORK/xdg/data" "$WORK/xdg/state" "$WORK/xdg/cache"
head -c 300000 /dev/urandom >"$WORK/src/alpha.bin"
head -c 2500000 /dev/urandom >"$WORK/src/beta.bin"
echo "not picked" >"$WORK/src/gamma.txt"
echo "not picked either" >"$WORK/src/sub/delta.txt"

start_hoist 120x40 "--local-dir '$WORK/store'"

echo "e2e-tui: picking files"
wait_for "alpha.bin"
screen=$(capture picker)
expect "$screen" "1 Files" "beta.bin" "gamma.txt" "sub/" "0 files selected"
# Rows: ../, sub/, alpha.bin, beta.bin, gamma.txt. Down twice to alpha.bin;
# space picks it and moves to beta.bin; space picks that.
tm send-keys -t e2e Down Down Space Space
wait_for "2 files selected"
screen=$(capture picked)
expect "$screen" "[x] alpha.bin" "[x] beta.bin" "[ ] gamma.txt" "2.7 MiB"
tm send-keys -t e2e Enter

echo "e2e-tui: filling in the form"
wait_for "Upload details"
screen=$(capture form)
expect "$screen" "Organization ID" "User ID" "TTL (hours)" "2 files · 2.7 MiB"
# A TTL out of range is refused inline before the right one is accepted.
tm send-keys -t e2e -l "acme-e2e"
tm send-keys -t e2e Enter
tm send-keys -t e2e -l "u-e2e"
tm send-keys -t e2e Enter
tm send-keys -t e2e -l "9999"
tm send-keys -t e2e Enter
wait_for "at most 8760 hours"
capture form-invalid >/dev/null
tm send-keys -t e2e BSpace BSpace BSpace BSpace
tm send-keys -t e2e -l "48"
tm send-keys -t e2e Enter

echo "e2e-tui: reviewing"
wait_for "Review before sending"
wait_for "Checks"
screen=$(capture review)
expect "$screen" "2 files · 2.7 MiB" 'organization-id "acme-e2e" · user-id "u-e2e" · ttl-hours 48' "alpha.bin" "beta.bin"
if grep -qi "x-amz-signature\|x-amz-credential" "$screen"; then
	fail "the review shows a URL query"
fi
send_from_review

echo "e2e-tui: uploading"
wait_for "All 2 files uploaded" 60
screen=$(capture summary)
expect "$screen" "5 Summary" "Sent" "Report" "alpha.bin" "beta.bin"
report=$(find "$WORK/xdg/state" -name 'hoist-*.json' -type f | head -n 1)
[[ -n "$report" ]] || fail "no JSON report under XDG_STATE_HOME"
grep -qF "$(basename "$report")" "$screen" || fail "the summary does not name the report $(basename "$report")"
grep -q '"uploaded": 2' "$report" || fail "the report does not count 2 uploads: $(cat "$report")"
tm send-keys -t e2e q
wait_for "HOIST-EXIT=" 20
screen=$(capture exit)
# The summary stays on the terminal after the alternate screen closes.
expect "$screen" "HOIST-EXIT=0" "hoist: uploaded 2 of 2 files (2.7 MiB) to" "✓ alpha.bin → " "✓ beta.bin → " "Report: $report"

echo "e2e-tui: comparing the stored files with the originals"
for name in alpha.bin beta.bin; do
	stored=$(find "$WORK/store" -type f -name "$name")
	[[ $(printf '%s\n' "$stored" | grep -c .) == 1 ]] || fail "$name: expected one stored copy, found: ${stored:-none}"
	cmp "$WORK/src/$name" "$stored" || fail "$name differs from its stored copy $stored"
	grep -qF "$stored" "$WORK/screens/"*-summary.txt ||
		grep -qF "$(basename "$(dirname "$stored")")/$name" "$WORK/screens/"*-summary.txt ||
		fail "the summary does not say where $name landed ($stored)"
done
for name in gamma.txt delta.txt; do
	if [[ -n $(find "$WORK/store" -type f -name "$name") ]]; then
		fail "$name was not picked but was uploaded"
	fi
done

# Second run: a path given on the command line is preselected, the form is
# prefilled with last run's values, the limit and a pause change while it
# runs, and quitting mid-upload asks first, cancels cleanly and exits 130
# without leaving a partial object.
echo "e2e-tui: quitting during an upload"
head -c 8000000 /dev/urandom >"$WORK/src/big.bin"
start_hoist 120x40 "--local-dir '$WORK/store' --limit-rate 500K big.bin"
wait_for "1 file selected"
screen=$(capture preselected)
expect "$screen" "[x] big.bin" "7.6 MiB"
tm send-keys -t e2e Tab
wait_for "Upload details"
screen=$(capture prefilled)
expect "$screen" "> acme-e2e" "> u-e2e" "> 48" "from last time"
tm send-keys -t e2e Enter Enter Enter
wait_for "Review before sending"
wait_for "no problems found"
send_from_review
wait_for "uploading"
screen=$(capture progress)
expect "$screen" "4 Upload" "Uploading 1 file" "big.bin" "throughput" "ETA" "limit 488 KiB/s"
# The bandwidth limit moves while running: ] to the power of two above
# (512 KiB/s), [ halves it; the header follows.
tm send-keys -t e2e ]
wait_for "limit 512 KiB/s"
tm send-keys -t e2e [
wait_for "limit 256 KiB/s"
# Pause and resume the file: the first step selects it, p pauses it (one
# PUT to the local store: it will start over), p again sends it afresh.
tm send-keys -t e2e Up p
wait_for "paused (will start over)"
screen=$(capture paused)
expect "$screen" "big.bin: paused; p sends it again from zero" "1 paused" "p resume file"
tm send-keys -t e2e p
wait_for "1 uploading"
capture resumed >/dev/null
tm send-keys -t e2e q
wait_for "Quit? 1 upload in progress will be canceled"
capture quit-asked >/dev/null
tm send-keys -t e2e y
wait_for "HOIST-EXIT=" 20
screen=$(capture quit)
expect "$screen" "HOIST-EXIT=130" "hoist: uploaded 0 of 1 file (0 B) to" "· interrupted" "⊘ big.bin: canceled"
if [[ -n $(find "$WORK/store" -type f -name big.bin) ]]; then
	fail "a canceled upload left big.bin in the store"
fi

# Third run, at 80x24: files dropped on the terminal (a paste) and a mouse
# click tick files; ctrl+c on the picker, before anything is sent, is an
# interruption: exit 130, and it says so.
echo "e2e-tui: paste, mouse, and ctrl+c before sending"
start_hoist 80x24 "--local-dir '$WORK/store'"
wait_for "alpha.bin"
# Dropping files on a terminal pastes their paths: bracketed paste (-p) of a
# shell-quoted path and a file:// URI ticks both.
printf "'%s'\nfile://%s\n" "$WORK/src/gamma.txt" "$WORK/src/beta.bin" | tm load-buffer -
tm paste-buffer -p -t e2e
wait_for "2 files selected"
screen=$(capture pasted)
expect "$screen" "[x] beta.bin" "[x] gamma.txt"
# The mouse: rows start on screen line 5 (header, blank, folder, filter),
# "../" first, then sub/, alpha.bin…; a click on alpha.bin's box (column 5)
# ticks it. SGR mouse reports: press and release of the left button.
tm send-keys -t e2e -l $'\e[<0;5;7M\e[<0;5;7m'
wait_for "3 files selected"
screen=$(capture clicked)
expect "$screen" "[x] alpha.bin"
tm send-keys -t e2e C-c
wait_for "HOIST-EXIT=" 20
screen=$(capture ctrl-c)
expect "$screen" "HOIST-EXIT=130" "hoist: interrupted; nothing was sent"

# Fourth run: sharing through Konfidant (the emulator of `hoist serve
# --konfidant`). The form asks only the TTL, the review says the files are
# encrypted and shared, the summary shows two links, and after the TUI
# leaves the screen the links are printed as name<TAB>link lines.
echo "e2e-tui: sharing two files through Konfidant"
env -i HOME="$WORK/home" PATH="/usr/bin:/bin" XDG_STATE_HOME="$WORK/xdg/state" \
	"$WORK/hoist" serve --konfidant --local-dir "$WORK/knf-store" >"$WORK/knf-serve.out" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 200); do
	grep -q "Ctrl+C stops it" "$WORK/knf-serve.out" 2>/dev/null && break
	sleep 0.1
done
api=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/knf-serve.out" | head -n 1)
key=$(grep -o 'kfd_[0-9a-f]*' "$WORK/knf-serve.out" | head -n 1)
[[ -n "$api" && -n "$key" ]] || fail "hoist serve --konfidant printed no API URL or key: $(cat "$WORK/knf-serve.out")"
start_hoist 120x40 "--konfidant --api-url '$api' alpha.bin beta.bin" KONFIDANT_API_KEY="$key"
wait_for "2 files selected"
tm send-keys -t e2e Tab
wait_for "Upload details"
screen=$(capture knf-form)
expect "$screen" "TTL (hours)" "only the links' lifetime is asked"
if grep -qF "Organization ID" "$screen"; then
	fail "the form asks for an organization the API already knows"
fi
# Last run's 48 hours is above the emulator's plan (8): type 8 instead.
tm send-keys -t e2e BSpace BSpace BSpace BSpace
tm send-keys -t e2e -l "8"
tm send-keys -t e2e Enter
wait_for "Review before sending"
screen=$(capture knf-review)
expect "$screen" "encrypted here, shared as one-time links"
send_from_review
wait_for "All 2 files uploaded" 60
screen=$(capture knf-summary)
expect "$screen" "alpha.bin" "beta.bin" "share link"
[[ $(grep -c "link made, expires" "$screen") == 2 ]] || fail "the summary does not show two links"
tm send-keys -t e2e q
wait_for "HOIST-EXIT=" 20
screen=$(capture knf-exit)
expect "$screen" "HOIST-EXIT=0"
for name in alpha.bin beta.bin; do
	grep -qE "^$name[[:space:]]+http://127\.0\.0\.1:[0-9]+/#t=.*&k=" "$screen" || fail "no $name<TAB>link line after the TUI"
done
if grep -rqF "#t=" "$WORK/xdg/state"; then
	fail "a share link went into a report or journal"
fi
kill $serve_pid 2>/dev/null || true

# Fifth run: one machine's share of a job, in the terminal UI. alpha.bin and
# beta.bin are in the store since the first run. --shard 0/2 keeps the files
# whose keys hash to shard 0 (alpha.bin, beta.bin, iota.txt; not
# epsilon.txt), and --skip-existing leaves the two stored ones alone.
echo "e2e-tui: --shard and --skip-existing"
echo "shard 0" >"$WORK/src/iota.txt"
echo "shard 1" >"$WORK/src/epsilon.txt"
start_hoist 120x40 "--local-dir '$WORK/store' --shard 0/2 --skip-existing alpha.bin beta.bin iota.txt epsilon.txt"
wait_for "4 files selected"
tm send-keys -t e2e Tab
wait_for "Upload details"
tm send-keys -t e2e Enter Enter Enter
wait_for "Review before sending"
wait_for "Checks"
screen=$(capture shard-review)
expect "$screen" "3 files" "sending 3 of the 4 files picked: the others are not this run's share (--shard 0/2)"
send_from_review
wait_for "2 skipped (already on the server)" 60
screen=$(capture shard-summary)
expect "$screen" "The file was uploaded" "skipped: already on the server"
tm send-keys -t e2e q
wait_for "HOIST-EXIT=" 20
screen=$(capture shard-exit)
expect "$screen" "HOIST-EXIT=0" "hoist: uploaded 1 of 3 files" "2 skipped (already on the server)" "✓ iota.txt"
[[ -n $(find "$WORK/store" -type f -name iota.txt) ]] || fail "iota.txt (shard 0) was not stored"
if [[ -n $(find "$WORK/store" -type f -name epsilon.txt) ]]; then
	fail "epsilon.txt is shard 1's but was uploaded"
fi

echo "e2e-tui: PASS"
