package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hoist/headless"
	"hoist/internal/s3test"
	"hoist/uploader"
)

// putLog is a store-and-forward proxy in front of versitygw that records
// every PUT: its key, whether it was conditional, and the store's answer.
// It forwards a body only once it has all of it, as S3 keeps no object
// whose body was cut short (versitygw would keep it truncated, DESIGN.md),
// so a killed hoist leaves either the whole object or none.
type putLog struct {
	*httptest.Server
	mu   sync.Mutex
	puts []put
	fail map[string]bool // keys answered 500 instead of forwarded, once each
}

type put struct {
	key         string
	conditional bool // If-None-Match: *
	status      int
}

func newPutLog(t *testing.T, upstream string) *putLog {
	t.Helper()
	l := &putLog{fail: map[string]bool{}}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(client.CloseIdleConnections)
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || int64(len(body)) != r.ContentLength {
			return // the client went away mid-body: nothing reaches the store
		}
		key := strings.TrimPrefix(r.URL.Path, "/uploads/")
		if r.Method == http.MethodPut {
			l.mu.Lock()
			refuse := l.fail[key]
			delete(l.fail, key)
			l.mu.Unlock()
			if refuse {
				l.record(put{key: key, status: http.StatusInternalServerError})
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
		}
		req, err := http.NewRequest(r.Method, upstream+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		req.Host = r.Host // the URL was signed for the proxy's host
		req.ContentLength = r.ContentLength
		resp, err := client.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if r.Method == http.MethodPut {
			l.record(put{key: key, conditional: r.Header.Get("If-None-Match") == "*", status: resp.StatusCode})
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *putLog) record(p put) {
	l.mu.Lock()
	l.puts = append(l.puts, p)
	l.mu.Unlock()
}

// since returns the PUTs recorded from index from on, and the next index.
func (l *putLog) since(from int) ([]put, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]put(nil), l.puts[from:]...), len(l.puts)
}

// shardFiles is the manifest size of TestFourMachinesOneManifest;
// HOIST_SHARD_FILES changes it.
func shardFiles() int {
	if n, err := strconv.Atoi(os.Getenv("HOIST_SHARD_FILES")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// TestFourMachinesOneManifest runs one manifest of 10,000 files as a job of
// four hoist processes (--shard i/4) against one versitygw, kills one of
// them mid-run and reruns its shard with --skip-existing, and reruns
// another shard's failures with --retry-failed. Every object must be stored
// exactly once and byte-identical, no stored object may be sent again
// unconditionally or overwritten, and the merged reports must end with
// nothing failed.
func TestFourMachinesOneManifest(t *testing.T) {
	n := shardFiles()
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	proxy := newPutLog(t, srv.Endpoint)
	viaProxy := *srv
	viaProxy.Endpoint = proxy.URL

	dir := t.TempDir()
	files := make(map[string][]byte, n) // key → content
	pathOf := make(map[string]string, n)
	lines := make([][2]string, 0, n)
	for i := range n {
		key := fmt.Sprintf("job/f%05d.bin", i)
		body := []byte(fmt.Sprintf("file %d of the job, %s\n", i, strings.Repeat("x", i%97)))
		p := filepath.Join(dir, "files", fmt.Sprintf("f%05d.bin", i))
		if i == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		files[key], pathOf[key] = body, p
		lines = append(lines, [2]string{p, viaProxy.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: key, Meta: apiMetadata.Values(), PinnedCRC32: "-"})})
	}
	manifest := filepath.Join(dir, "job.jsonl")
	writeManifest(t, manifest, lines)
	shardOf := func(key string) int { return uploader.ShardOf(key, 4) }

	// Shard 1 meets a few refusals it does not retry (--retries 0).
	var failing []string
	proxy.mu.Lock()
	for key := range files {
		if shardOf(key) == 1 && len(failing) < 5 {
			failing = append(failing, key)
			proxy.fail[key] = true
		}
	}
	proxy.mu.Unlock()

	args := func(i int, more ...string) []string {
		return append(append([]string{"--json", "--manifest", manifest, "--concurrency", "8", "--shard", fmt.Sprintf("%d/4", i)}, meta...), more...)
	}
	reports := make([]string, 4)
	var wg sync.WaitGroup
	codes := make([]int, 4)
	start := time.Now()
	// Shard 0 is killed once a few hundred of its files are done.
	killed := hoistCmd(t, nil, args(0)...)
	out, err := killed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	var killedLog bytes.Buffer
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		done := 0
		for sc.Scan() {
			killedLog.Write(sc.Bytes())
			killedLog.WriteByte('\n')
			if strings.Contains(sc.Text(), `"event":"done"`) {
				if done++; done == n/40 {
					_ = killed.Process.Kill()
				}
			}
		}
		_ = killed.Wait()
	}()
	for i := 1; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			extra := []string{}
			if i == 1 {
				extra = []string{"--retries", "0"}
			}
			r, _ := runHoistFor(t, 5*time.Minute, nil, args(i, extra...)...)
			codes[i] = r.code
			reports[i] = filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", i))
			if err := os.WriteFile(reports[i], []byte(r.stdout), 0o644); err != nil {
				t.Error(err)
			}
			if r.code != 0 && i != 1 {
				t.Errorf("shard %d: exit %d\n%s", i, r.code, tail(r.stderr))
			}
		}()
	}
	wg.Wait()
	firstRun := time.Since(start)
	if codes[1] != 1 {
		t.Errorf("shard 1 with %d refused files: exit %d, want 1", len(failing), codes[1])
	}

	stored := map[string]int{} // key → PUTs that stored it
	before, next := proxy.since(0)
	for _, p := range before {
		if p.status/100 == 2 {
			stored[p.key]++
		}
	}
	var missing0 int
	for key := range files {
		if shardOf(key) == 0 && stored[key] == 0 {
			missing0++
		}
	}
	if missing0 == 0 {
		t.Fatal("shard 0 finished before it was killed; nothing left to rerun")
	}

	// Shard 0 again, as a Job's pod restarts: skip what is stored.
	reports[0] = filepath.Join(dir, "shard-0-killed.jsonl")
	if err := os.WriteFile(reports[0], killedLog.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runHoist(t, nil, args(0, "--skip-existing")...)
	if r.code != 0 {
		t.Fatalf("rerun of shard 0: exit %d\n%s", r.code, tail(r.stderr))
	}
	rerun0 := filepath.Join(dir, "shard-0-rerun.jsonl")
	if err := os.WriteFile(rerun0, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	s := summaryOf(t, parseEvents(t, r.stdout))
	stored0 := 0
	for key := range files {
		if shardOf(key) == 0 && stored[key] > 0 {
			stored0++
		}
	}
	if s.Uploaded != missing0 || s.Skipped != stored0 || s.Failed != 0 {
		t.Errorf("rerun of shard 0: %d uploaded, %d skipped, %d failed; want %d uploaded (missing), %d skipped (stored)", s.Uploaded, s.Skipped, s.Failed, missing0, stored0)
	}
	rerunPuts, next := proxy.since(next)
	for _, p := range rerunPuts {
		switch {
		case shardOf(p.key) != 0:
			t.Errorf("rerun of shard 0 sent %s, of shard %d", p.key, shardOf(p.key))
		case stored[p.key] > 0 && (!p.conditional || p.status != http.StatusPreconditionFailed):
			t.Errorf("rerun of shard 0 sent stored %s again: conditional %v, answered %d", p.key, p.conditional, p.status)
		}
	}

	// Shard 1's failures, and only those, from its report.
	r = runHoist(t, nil, args(1, "--retry-failed", reports[1])...)
	if r.code != 0 {
		t.Fatalf("--retry-failed of shard 1: exit %d\n%s", r.code, tail(r.stderr))
	}
	retryReport := filepath.Join(dir, "shard-1-retry.jsonl")
	if err := os.WriteFile(retryReport, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	retried, _ := proxy.since(next)
	var sent []string
	for _, p := range retried {
		sent = append(sent, p.key)
	}
	if len(sent) != len(failing) {
		t.Errorf("--retry-failed sent %d files %v; want exactly the %d that failed %v", len(sent), sent, len(failing), failing)
	}

	// Every object once, byte-identical.
	all, _ := proxy.since(0)
	stored = map[string]int{}
	for _, p := range all {
		if p.status/100 == 2 {
			stored[p.key]++
		}
	}
	for key, body := range files {
		if stored[key] != 1 {
			t.Errorf("%s stored by %d PUTs, want 1", key, stored[key])
			continue
		}
		got, err := os.ReadFile(filepath.Join(srv.Dir, "uploads", key))
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s on the store differs from %s (%v)", key, pathOf[key], err)
		}
	}
	if len(stored) != n {
		t.Errorf("%d keys stored, want %d", len(stored), n)
	}

	// The shards' reports merge: all of them together leave nothing to retry.
	failed, err := headless.FailedPaths([]string{reports[0], reports[1], reports[2], reports[3], rerun0, retryReport})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 0 {
		t.Errorf("the merged reports still list %d failed files", len(failed))
	}
	t.Logf("%d files, 4 shards: first run %v; shard 0 killed with %d of its files missing, rerun skipped %d", n, firstRun.Round(100*time.Millisecond), missing0, stored0)
}
