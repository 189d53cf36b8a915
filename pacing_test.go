package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPacedFilesToTheEmbeddedStoreAreNeverStalled (issue 14 item 4): four
// files to the embedded store at a low --limit-rate and the shortest stall
// timeout. The store takes one PUT at a time; hoist used to send all four,
// and the three bodies queued inside the store sat still (about 4 MiB each
// in the socket buffers) until they were retried as stalled. Now the files
// take turns: the ones behind say "waiting", and every file is uploaded
// once, with no retry.
func TestPacedFilesToTheEmbeddedStoreAreNeverStalled(t *testing.T) {
	dir := t.TempDir()
	want := map[string][]byte{}
	var paths []string
	// Each file is larger than a connection's buffers plus a second of the
	// rate, so a body queued in the store used to sit still for > 1 s.
	for _, name := range []string{"a.bin", "b.bin", "c.bin", "d.bin"} {
		p, data := writeTemp(t, dir, name, 16<<20)
		want[name], paths = data, append(paths, p)
	}
	store := filepath.Join(t.TempDir(), "store")
	args := append([]string{"--json", "--local-dir", store, "--limit-rate", "8MiB", "--stall-timeout", "1s", "--retries", "2"}, paths...)
	r := runHoist(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	count := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e struct{ Event, File, Error string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		count[e.Event]++
		if e.Event == "retrying" {
			t.Errorf("%s retried (%s): waiting for the store or hoist's own pacing was taken for a stall", e.File, e.Error)
		}
	}
	if count["done"] != len(want) || count["started"] != len(want) {
		t.Errorf("events %v: want %d started and %d done, once each", count, len(want), len(want))
	}
	if count["waiting"] == 0 {
		t.Errorf("events %v: no file waited for its turn at the store", count)
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(store, "buckets", "hoist", name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s on disk: %v (equal=%v)", name, err, bytes.Equal(got, data))
		}
	}
}
