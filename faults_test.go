package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/internal/faultproxy"
	"hoist/internal/s3test"
	"hoist/uploader"
)

// The metadata the API signs, as meta (main_test.go) passes it.
var apiMetadata = uploader.Metadata{OrgID: "org-1", UserID: "user-2", TTLHours: 48}

const faultToken = "tok_fault_5f2c9a8e1d7b4c3a"

// mixedSizes are the 50 file sizes: empty and tiny files, many of a few
// hundred KiB to a few MiB, some of 4–12 MiB, and four of 16–32 MiB, the
// largest exactly 32 MiB. About 200 MiB in all.
func mixedSizes(rng *rand.Rand) []int {
	sizes := []int{0, 1, 137, 4 << 10, 32 << 20}
	for len(sizes) < 12 {
		sizes = append(sizes, rng.IntN(100<<10)+1)
	}
	for len(sizes) < 34 {
		sizes = append(sizes, 100<<10+rng.IntN(4<<20))
	}
	for len(sizes) < 46 {
		sizes = append(sizes, 4<<20+rng.IntN(8<<20))
	}
	for len(sizes) < 50 {
		sizes = append(sizes, 16<<20+rng.IntN(16<<20))
	}
	rng.Shuffle(len(sizes), func(i, j int) { sizes[i], sizes[j] = sizes[j], sizes[i] })
	return sizes
}

// faultRunBound is how long the 50-file run may take, stated in
// RELIABILITY.md. No file meets more than 3 faults in a row (MaxInARow), so
// the worst a file can be held back is 3 stall timeouts (2 s, noticed within
// 2.5 s) and the first 3 backoffs (at most 0.75 + 1.5 + 3 s): about 13 s.
// (The stall timeout is short for the test, but not so short that a slow
// moment of a loaded machine passes for a stall.)
// With 8 workers, ~200 MiB and about 40 faults, runs take 6–12 s on two
// cores under the race detector; the bound leaves room for a slower machine.
const faultRunBound = 90 * time.Second

// TestFiftyFilesThroughABadNetwork sends 50 files of mixed sizes up to
// 32 MiB to versitygw through a proxy that resets 20 % of requests mid-body,
// answers 10 % with 503 SlowDown, stalls 5 % for longer than the stall
// timeout and jitters latency by up to 40 ms each way, with hoist's default
// --retries 5. Every object must land byte-identical, every fault must show
// as a retry, nothing may be reported uploaded that is not on the server,
// and the run must end within faultRunBound.
func TestFiftyFilesThroughABadNetwork(t *testing.T) {
	seed := faultproxy.Seed(t)
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	proxy := faultproxy.Start(t, srv.Endpoint, faultproxy.Faults{
		Reset: 0.20, SlowDown: 0.10, Stall: 0.05,
		Jitter:    40 * time.Millisecond,
		StallFor:  time.Minute,
		MaxInARow: 3,
		// Each kind at least once, whatever the dice say.
		First: []faultproxy.Kind{faultproxy.Reset, faultproxy.SlowDown, faultproxy.Stall},
		Seed:  seed,
	})
	viaProxy := *srv
	viaProxy.Endpoint = proxy.URL

	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, 1))
	sizes := mixedSizes(rng)
	type file struct {
		path, key string
		data      []byte
	}
	files := make([]file, len(sizes))
	var lines [][2]string
	var total int
	for i, size := range sizes {
		name := fmt.Sprintf("f%02d-%d.bin", i, size)
		p, data := writeTemp(t, dir, name, size)
		key := "batch/" + name
		files[i] = file{path: p, key: key, data: data}
		lines = append(lines, [2]string{p, viaProxy.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: key, Meta: apiMetadata.Values()})})
		total += size
	}
	manifest := filepath.Join(dir, "batch.jsonl")
	writeManifest(t, manifest, lines)

	args := append([]string{"--json", "--manifest", manifest, "--concurrency", "8", "--stall-timeout", "2s"}, meta...)
	r, cmd := runHoistFor(t, faultRunBound+60*time.Second, []string{"HOIST_TOKEN=" + faultToken}, args...)
	stats := proxy.Stats()
	t.Logf("%d files, %d MiB, in %v (exit %d); proxy: %v", len(files), total>>20, r.took.Round(100*time.Millisecond), r.code, stats)

	events := parseEvents(t, r.stdout)
	done := map[string]event{}
	retries := map[string]int{} // by reason
	retried := map[string]bool{}
	for _, e := range events {
		switch e.Event {
		case "done":
			if _, twice := done[e.File]; twice {
				t.Errorf("%s reported done twice", e.File)
			}
			done[e.File] = e
		case "retrying":
			retried[e.File] = true
			switch {
			case e.Code == "SlowDown":
				retries["503 SlowDown"]++
			case strings.Contains(e.Error, "stalled"):
				retries["stalled"]++
			default:
				retries["connection lost: "+e.Error]++
				// Said in words, not as a socket error's dump.
				if strings.Contains(e.Error, "tcp") || strings.Contains(e.Error, "127.0.0.1") {
					t.Errorf("retry reason %q is not plain", e.Error)
				}
			}
		case "failed":
			t.Errorf("%s failed: %s", e.File, e.Error)
		}
	}
	var nRetries int
	for _, n := range retries {
		nRetries += n
	}
	t.Logf("%d retrying events over %d files: %v", nRetries, len(retried), retries)

	if r.code != 0 {
		t.Errorf("exit %d, want 0\nstderr: %s", r.code, tail(r.stderr))
	}
	if s := summaryOf(t, events); s.Uploaded != len(files) || s.Failed != 0 || s.Canceled != 0 {
		t.Errorf("summary %+v, want all %d uploaded", s, len(files))
	}
	if r.took > faultRunBound {
		t.Errorf("the run took %v, more than the %v bound", r.took, faultRunBound)
	}

	// From the server's side: every object byte-identical, and every file
	// reported done really there.
	for _, f := range files {
		got, md := srv.Object(t, "uploads", f.key)
		if !bytes.Equal(got, f.data) {
			t.Errorf("%s: the server holds %d bytes that differ from the file's %d", f.key, len(got), len(f.data))
		}
		if md[uploader.HeaderOrgID] != apiMetadata.OrgID {
			t.Errorf("%s: metadata %v", f.key, md)
		}
		e, ok := done[f.path]
		switch {
		case !ok:
			t.Errorf("%s: no done event", f.path)
		case e.Key != f.key || e.Bytes == nil || *e.Bytes != int64(len(f.data)) || !sameCRC32(e.CRC32, f.data) || e.ETag == "":
			t.Errorf("%s: done event %+v does not describe the file", f.path, e)
		}
	}

	// Every fault the proxy made cost exactly one attempt, and each one
	// shows as a retry; nothing else failed.
	if int64(nRetries) != stats.Faulted() {
		t.Errorf("%d retrying events for %d faults injected", nRetries, stats.Faulted())
	}
	for _, want := range []string{"503 SlowDown", "stalled"} {
		if retries[want] == 0 {
			t.Errorf("no retry for %s among %v", want, retries)
		}
	}
	if stats.Resets == 0 || stats.SlowDowns == 0 || stats.Stalls == 0 {
		t.Errorf("the proxy did not make every kind of fault: %v", stats)
	}
	assertNothingLeaks(t, r, cmd, append(secretsOf(t, lines[0][1]), faultToken, srv.SecretKey, srv.AccessKey)...)
}

// Given URLs cannot be re-signed: when they run out part-way through a
// batch, each file whose URL expired fails on its own with an error that
// names it and says what to do, the files sent in time are on the server,
// and nothing is reported uploaded that is not.
func TestGivenURLsExpiringMidBatchFailOneByOne(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	dir := t.TempDir()
	type file struct {
		path, key string
		data      []byte
	}
	var files []file
	var lines [][2]string
	for i := range 10 {
		name := fmt.Sprintf("part-%02d.bin", i)
		p, data := writeTemp(t, dir, name, 1<<20)
		files = append(files, file{path: p, key: "late/" + name, data: data})
		lines = append(lines, [2]string{p, srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "late/" + name,
			Meta: apiMetadata.Values(), Expires: 5 * time.Second})})
	}
	manifest := filepath.Join(dir, "late.jsonl")
	writeManifest(t, manifest, lines)

	// One file at a time at 1 MiB/s: the URLs run out after about five.
	args := append([]string{"--json", "--manifest", manifest, "--concurrency", "1", "--limit-rate", "1MiB"}, meta...)
	r, cmd := runHoistFor(t, 60*time.Second, []string{"HOIST_TOKEN=" + faultToken}, args...)
	events := parseEvents(t, r.stdout)
	done, failed := map[string]event{}, map[string]event{}
	for _, e := range events {
		switch e.Event {
		case "done":
			done[e.File] = e
		case "failed":
			failed[e.File] = e
		}
	}
	t.Logf("%d done, %d failed in %v", len(done), len(failed), r.took.Round(100*time.Millisecond))
	for _, e := range failed {
		t.Logf("for example: %s: %s", e.File, e.Error)
		break
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (some failed)\nstderr: %s", r.code, r.stderr)
	}
	if len(done) == 0 || len(failed) == 0 || len(done)+len(failed) != len(files) {
		t.Fatalf("%d done and %d failed of %d; want some of each", len(done), len(failed), len(files))
	}
	if s := summaryOf(t, events); s.Uploaded != len(done) || s.Failed != len(failed) {
		t.Errorf("summary %+v disagrees with %d done, %d failed", s, len(done), len(failed))
	}
	for _, f := range files {
		if e, ok := failed[f.path]; ok {
			if !strings.Contains(e.Error, "expired") || !strings.Contains(e.Error, "new URL") {
				t.Errorf("%s: error %q does not say the URL expired and what to do", f.path, e.Error)
			}
			if _, err := headObject(srv, "uploads", f.key); err == nil {
				t.Errorf("%s failed, yet s3://uploads/%s exists", f.path, f.key)
			}
			continue
		}
		got, _ := srv.Object(t, "uploads", f.key)
		if !bytes.Equal(got, f.data) {
			t.Errorf("%s reported done, but the server's copy differs", f.path)
		}
	}
	assertNothingLeaks(t, r, cmd, append(secretsOf(t, lines[0][1]), faultToken)...)
}
