#!/bin/bash
# The terminal UI as a person uses it at scale: a folder of N files × 1 KiB
# given on the command line (the picker opens with it picked), tab, the
# form, the review, and the upload to the embedded local store, driven in
# tmux at 120×40. Prints the upload's wall time (Enter to the summary) and
# hoist's peak RSS and CPU by GNU time (issue 15: ≤ 64 MiB at 100,000).
# Needs tmux, python3 and /usr/bin/time; works in /dev/shm.
#
#   go build -o /tmp/hoist . && bash scripts/tui-pick-rss.sh /tmp/hoist 100000
#
# EXTRA='HOIST_MEMSTATS=/tmp/mem.txt' passes variables to hoist (a
# -tags hoistprof build: profile_hoistprof.go).
set -e
HOIST=$1; N=${2:-100000}
W=/dev/shm/pick$N
rm -rf $W; mkdir -p $W/files $W/x
python3 - "$W/files" "$N" <<'PY'
import os,sys
d,n=sys.argv[1],int(sys.argv[2])
blob=os.urandom(1024)
for i in range(n):
    with open(os.path.join(d,"f%06d.bin"%i),"wb") as f: f.write(blob)
PY
S=pick$$
tmux -L $S new-session -d -x 120 -y 40 -c $W "env -i $EXTRA TERM=xterm-256color PATH=/usr/bin:/bin HOME=$W/x XDG_CONFIG_HOME=$W/x/c XDG_STATE_HOME=$W/x/s XDG_DATA_HOME=$W/x/d XDG_CACHE_HOME=$W/x/k /usr/bin/time -v -o $W/time.txt $HOIST $W/files; echo EXIT=\$?; sleep 600"
scr() { tmux -L $S capture-pane -p -t 0; }
waitfor() { for i in $(seq 1 $2); do scr | grep -q "$1" && return 0; sleep 0.2; done; echo "never saw $1"; scr; tmux -L $S kill-server; exit 1; }
waitfor "$N files selected" 3000
tmux -L $S send-keys Tab; waitfor "Upload details" 300
tmux -L $S send-keys Enter Enter Enter; waitfor "Review before sending" 300
waitfor "no problems found" 3000; sleep 0.6
start=$(date +%s.%N); tmux -L $S send-keys Enter
waitfor "All $N files uploaded" 30000
end=$(date +%s.%N)
tmux -L $S send-keys q; waitfor "EXIT=" 300
scr | tail -5
tmux -L $S kill-server
echo "upload wall: $(echo "$end - $start" | bc) s"
grep -E 'Maximum resident|Elapsed|User time|System time' $W/time.txt
