package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hoist/runreport"
)

// homeEnv keeps every run of a test in one home, so later runs see the
// reports of earlier ones.
func homeEnv(t *testing.T) []string {
	home := t.TempDir()
	return []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_STATE_HOME=" + filepath.Join(home, "state")}
}

// hoist history lists past runs; --retry N sends again exactly the files run
// N did not upload, to the same URLs with the same metadata.
func TestHistoryListsRunsAndRetriesTheFailedFiles(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r.URL.Path)
		mu.Unlock()
		if refuse.Load() && strings.HasSuffix(r.URL.Path, "/b.txt") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>not now</Message></Error>`)
			return
		}
		w.Header().Set("ETag", `"ok"`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	a, _ := writeTemp(t, dir, "a.txt", 100)
	b, _ := writeTemp(t, dir, "b.txt", 200)
	var lines []string
	for _, p := range []string{a, b} {
		line, _ := json.Marshal(map[string]string{"path": p, "url": presign(t, srv.URL, filepath.Base(p), time.Hour)})
		lines = append(lines, string(line))
	}
	manifest := filepath.Join(dir, "m.jsonl")
	if err := os.WriteFile(manifest, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := homeEnv(t)

	// The first run names the manifest relative to its folder; the retry
	// runs from another.
	first := hoistCmd(t, env, append([]string{"--no-tui", "--retries", "0", "--manifest", filepath.Base(manifest)}, meta...)...)
	first.Dir = dir
	r := runCmd(t, first)
	if r.code != 1 {
		t.Fatalf("first run: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runHoist(t, env, "history")
	if r.code != 0 || !strings.Contains(r.stdout, "1 uploaded, 1 failed") || !strings.Contains(r.stdout, srv.URL) || strings.Count(r.stdout, "\n") != 2 {
		t.Fatalf("history: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	refuse.Store(false)
	mu.Lock()
	got = nil
	mu.Unlock()
	r = runHoist(t, env, "history", "--retry", "1", "--json")
	if r.code != 0 {
		t.Fatalf("retry: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != "/uploads/b.txt" {
		t.Errorf("the retry sent %v, want only b.txt", got)
	}
	mu.Unlock()
	if sum := eventsOf(jsonLines(t, r.stdout), "summary"); len(sum) != 1 || sum[0]["uploaded"] != 1.0 {
		t.Errorf("retry summary %v (flags after --retry N apply: --json)", sum)
	}
	r = runHoist(t, env, "history")
	rows := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(rows) != 3 || !strings.HasPrefix(rows[1], "1 ") || !strings.Contains(rows[1], "1 uploaded") || strings.Contains(rows[1], "failed") {
		t.Errorf("history after the retry:\n%s", r.stdout)
	}
	if r := runHoist(t, env, "history", "--retry", "1"); r.code != 0 || !strings.Contains(r.stdout, "nothing to retry") {
		t.Errorf("retrying a run with nothing left: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runHoist(t, env, "history", "--retry", "7"); r.code != 2 || !strings.Contains(r.stderr, "no run 7") {
		t.Errorf("no such run: exit %d %s", r.code, r.stderr)
	}
	assertClean(t, r, secretsOf(t, presign(t, srv.URL, "a.txt", time.Hour))...)
}

// A retry to the local store keeps each file's key, folder included; a run
// that went to a presigned URL cannot be retried, and says what to do.
func TestHistoryRetryKeepsKeysAndRefusesWithheldURLs(t *testing.T) {
	env := homeEnv(t)
	state := strings.TrimPrefix(env[3], "XDG_STATE_HOME=")
	dir := t.TempDir()
	a, _ := writeTemp(t, dir, "folder/a.txt", 10)
	b, bData := writeTemp(t, dir, "folder/sub/b.txt", 20)
	store := filepath.Join(t.TempDir(), "store")
	reports := filepath.Join(state, "hoist", "reports")
	started := time.Now().Add(-time.Hour)
	rep := runreport.Report{Version: 1, Started: started, Target: "local store", Settings: map[string]string{"local-dir": store},
		Summary: runreport.Summary{Uploaded: 1, Failed: 1},
		Files: []runreport.File{
			{File: a, Path: a, Key: "folder/a.txt", State: "done"},
			{File: b, Path: b, Key: "folder/sub/b.txt", State: "failed", Error: "503 SlowDown"},
		}}
	if err := runreport.Write(runreport.PathFor(reports, started), rep); err != nil {
		t.Fatal(err)
	}
	r := runHoist(t, env, "history", "--retry", "1")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if data, err := os.ReadFile(filepath.Join(store, "buckets", "hoist", "folder", "sub", "b.txt")); err != nil || string(data) != string(bData) {
		t.Errorf("b.txt not at its key folder/sub/b.txt: %v", err)
	}
	if _, err := os.Stat(filepath.Join(store, "buckets", "hoist", "folder", "a.txt")); err == nil {
		t.Error("a.txt was sent again, though the run had uploaded it")
	}

	later := started.Add(time.Minute)
	rep.Started, rep.Settings = later, map[string]string{"url": ""}
	if err := runreport.Write(runreport.PathFor(reports, later), rep); err != nil {
		t.Fatal(err)
	}
	// Newest first: the retry above is run 1, this report run 2.
	r = runHoist(t, env, "history", "--retry", "2")
	if r.code != 2 || !strings.Contains(r.stderr, "--url") || !strings.Contains(r.stderr, b) {
		t.Errorf("withheld URL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Any other URL withheld for its query is asked for again, never dropped
	// (the rerun would go somewhere else).
	latest := later.Add(time.Minute)
	rep.Started, rep.Settings = latest, map[string]string{"s3": "s3://bkt/in", "endpoint-url": ""}
	if err := runreport.Write(runreport.PathFor(reports, latest), rep); err != nil {
		t.Fatal(err)
	}
	r = runHoist(t, env, "history", "--retry", "2")
	if r.code != 2 || !strings.Contains(r.stderr, "--retry 2 --endpoint-url URL") {
		t.Errorf("withheld endpoint: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
