package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"hoist/config"
	"hoist/fileset"
	"hoist/runreport"
	"hoist/uploader"
)

// hoist inspect URL FILE reads the metadata from HOIST_* and the config file,
// as the upload does, so it reports no missing metadata the upload would find.
func TestInspectReadsSettingsLikeAnUpload(t *testing.T) {
	dir := t.TempDir()
	file, _ := writeTemp(t, dir, "ok.txt", 10)
	u := presign(t, "http://127.0.0.1:9", "ok.txt", time.Hour)
	conf := filepath.Join(dir, "hoist.toml")
	if err := os.WriteFile(conf, []byte("ttl_hours = 48\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOIST_ORG_ID=org-1", "HOIST_USER_ID=user-2", "HOIST_CONFIG=" + conf}

	r := runHoist(t, env, "inspect", u, file)
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "set --") {
		t.Errorf("exit %d, want 0 with the metadata from env and file\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A flag still wins, and a missing value is still found.
	r = runHoist(t, []string{"HOIST_ORG_ID=org-1", "HOIST_CONFIG=" + conf}, "inspect", "--user-id", "user-2", u, file)
	if r.code != 0 {
		t.Errorf("flag + env + file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runHoist(t, []string{"HOIST_CONFIG=" + conf}, "inspect", u, file)
	if r.code != 1 || !strings.Contains(r.stdout, "--org-id") {
		t.Errorf("missing org id: exit %d, want 1 naming --org-id\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertClean(t, r, secretsOf(t, u)...)
}

// jsonLines fails the test unless every line of out is one JSON object with
// an "event", and returns them.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil || e["event"] == nil {
			t.Fatalf("--json printed a line that is not an event: %q", line)
		}
		events = append(events, e)
	}
	return events
}

func eventsOf(events []map[string]any, kind string) []map[string]any {
	var out []map[string]any
	for _, e := range events {
		if e["event"] == kind {
			out = append(out, e)
		}
	}
	return out
}

// With --json every line hoist writes is an event: config warnings,
// preflight warnings and preflight errors included.
func TestJSONProblemsAreEvents(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"e"`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	file, _ := writeTemp(t, dir, "ok.txt", 10)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok_json_problems_1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyPin := withQueryParam(t, presign(t, srv.URL, "ok.txt", time.Hour), "x-amz-checksum-crc32", "AAAAAA==")

	// Warnings only: the upload goes ahead.
	r := runHoist(t, nil, append([]string{"--json", "--token-file", tokenFile, "--url", emptyPin, file}, meta...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q (want 0 and nothing outside the events)\n%s", r.code, r.stderr, r.stdout)
	}
	warnings := eventsOf(jsonLines(t, r.stdout), "warning")
	if len(warnings) != 2 {
		t.Fatalf("%d warning events, want the token file's and the empty-body pin's:\n%s", len(warnings), r.stdout)
	}
	if !strings.Contains(warnings[0]["message"].(string), "readable by others") ||
		warnings[1]["file"] != file || !strings.Contains(warnings[1]["message"].(string), "EMPTY body") {
		t.Errorf("warnings %v", warnings)
	}

	// A preflight error: exit 2, an error event, nothing sent.
	r = runHoist(t, nil, "--json", "--user-id", "user-2", "--ttl-hours", "48", "--url", presign(t, srv.URL, "ok.txt", time.Hour), file)
	if r.code != 2 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q (want 2 and nothing outside the events)\n%s", r.code, r.stderr, r.stdout)
	}
	events := jsonLines(t, r.stdout)
	errs := eventsOf(events, "error")
	if len(errs) != 1 || errs[0]["file"] != file || !strings.Contains(errs[0]["message"].(string), "--org-id") || len(eventsOf(events, "done")) > 0 {
		t.Errorf("events %v", events)
	}

	// A missing file is a problem of the run, not of the command line.
	r = runHoist(t, nil, "--json", filepath.Join(dir, "nope.txt"))
	if r.code != 2 || r.stderr != "" || len(eventsOf(jsonLines(t, r.stdout), "error")) != 1 {
		t.Errorf("missing file: exit %d, stderr %q, stdout %s", r.code, r.stderr, r.stdout)
	}

	// A usage error before the run starts stays plain text.
	r = runHoist(t, nil, "--json", "--frobnicate", file)
	if r.code != 2 || !strings.Contains(r.stderr, "frobnicate") {
		t.Errorf("usage error: exit %d, stderr %q", r.code, r.stderr)
	}
}

func withQueryParam(t *testing.T, raw, name, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// slowServer accepts every PUT but answers only after hold, so a run lasts
// long enough for progress to be reported.
func slowServer(t *testing.T, hold time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
		}
		w.Header().Set("ETag", `"slow"`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Headless says what it starts, reports progress while it runs (--json:
// progress events every --progress-interval), and ends with the run report's
// path; the report is the one the TUI writes.
func TestHeadlessStartProgressAndReport(t *testing.T) {
	srv := slowServer(t, 800*time.Millisecond)
	p, _ := writeTemp(t, t.TempDir(), "big.bin", 300_000)
	u := presign(t, srv.URL, "in/big.bin", time.Hour)

	cmd := hoistCmd(t, nil, append([]string{"--json", "--progress-interval", "100ms", "--url", u, p}, meta...)...)
	r := runCmd(t, cmd)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	events := jsonLines(t, r.stdout)
	if events[0]["event"] != "start" || events[0]["files_total"] != 1.0 || events[0]["bytes"] != 300_000.0 || !strings.HasPrefix(events[0]["target"].(string), srv.URL) {
		t.Errorf("first event %v, want start with files, bytes and target", events[0])
	}
	progress := eventsOf(events, "progress")
	if len(progress) < 2 {
		t.Fatalf("%d progress events in a run of 800 ms at 100 ms, want several:\n%s", len(progress), r.stdout)
	}
	for _, e := range progress {
		if e["files_total"] != 1.0 || e["bytes_total"] != 300_000.0 || e["bytes_sent"].(float64) > 300_000 {
			t.Errorf("progress %v", e)
		}
	}
	sum := eventsOf(events, "summary")
	if len(sum) != 1 {
		t.Fatalf("summary events %v", sum)
	}
	report, _ := sum[0]["report"].(string)
	home := envValue(cmd, "HOME")
	if !strings.HasPrefix(report, filepath.Join(home, "state", "hoist", "reports")) {
		t.Fatalf("summary names report %q, want one under the state folder", report)
	}
	rep, err := runreport.Read(report)
	if err != nil {
		t.Fatal(err)
	}
	// Headless lists the files that did not upload (the pool forgets the
	// others, for flat memory at scale); the summary counts them all.
	if rep.Summary.Uploaded != 1 || rep.Summary.Bytes != 300_000 || len(rep.Files) != 0 {
		t.Errorf("report %+v", rep)
	}
	if _, ok := rep.Settings["url"]; !ok || rep.Settings["url"] != "" || rep.Metadata.OrgID != "org-1" {
		t.Errorf("report settings %v metadata %+v: want the URL marked as withheld, and the metadata", rep.Settings, rep.Metadata)
	}
	data, _ := os.ReadFile(report)
	assertClean(t, result{stdout: string(data)}, secretsOf(t, u)...)

	// Human mode, not on a terminal: a start line, then the report's path.
	r = runHoist(t, nil, append([]string{"--no-tui", "--url", u, p}, meta...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "hoist: uploading 1 file (293 KiB) to "+srv.URL) || !strings.Contains(r.stdout, "Report: ") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	// --progress-interval 0: no progress events.
	r = runHoist(t, nil, append([]string{"--json", "--progress-interval", "0", "--url", u, p}, meta...)...)
	if n := len(eventsOf(jsonLines(t, r.stdout), "progress")); r.code != 0 || n != 0 {
		t.Errorf("exit %d, %d progress events with --progress-interval 0", r.code, n)
	}
}

// On a terminal, headless keeps a live status line, redrawn in place and
// cleared before each result line.
func TestHeadlessLiveStatusOnATerminal(t *testing.T) {
	srv := slowServer(t, 1500*time.Millisecond)
	p, _ := writeTemp(t, t.TempDir(), "big.bin", 300_000)
	u := presign(t, srv.URL, "big.bin", time.Hour)
	master, slave := openPTY(t)
	cmd := hoistCmd(t, nil, append([]string{"--no-tui", "--url", u, p}, meta...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	screen := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(master); screen <- b }() // ends when the child closes the terminal
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := string(<-screen)
	if !strings.Contains(got, "hoist: uploading 1 file") || !strings.Contains(got, "0 of 1 file done") || !strings.Contains(got, "\r\x1b[K") {
		t.Errorf("terminal shows %q, want a start line and a live status line", got)
	}
	if !strings.Contains(out.String(), "✓") || !strings.Contains(out.String(), "Report: ") {
		t.Errorf("stdout %s", out.String())
	}
}

func TestCompletionAndManCommands(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := runHoist(t, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "--org-id") && !strings.Contains(r.stdout, "-l org-id") {
			t.Errorf("completion %s: exit %d\n%s", shell, r.code, r.stderr)
		}
	}
	if r := runHoist(t, nil, "completion", "tcsh"); r.code != 2 || !strings.Contains(r.stderr, "bash, zsh, fish") {
		t.Errorf("completion tcsh: exit %d %s", r.code, r.stderr)
	}
	if r := runHoist(t, nil, "man"); r.code != 0 || !strings.HasPrefix(r.stdout, ".TH HOIST 1") {
		t.Errorf("man: exit %d\n%.200s", r.code, r.stdout)
	}
}

// Which metadata a source needs is one rule (destination.required), which
// the TUI's form and headless preflight both follow: --s3 sends the three
// the API signs, so headless refuses to start without them, as the form
// would; the embedded local store needs none.
func TestRequiredMetadataIsOneRule(t *testing.T) {
	srv := newContactLog(t)
	p, _ := writeTemp(t, t.TempDir(), "a.txt", 10)
	env := []string{"AWS_ACCESS_KEY_ID=AKIATESTCREDENTIAL01", "AWS_SECRET_ACCESS_KEY=secretkeysecretkeysecretkey", "AWS_REGION=auto"}
	r := runHoist(t, env, "--no-tui", "--s3", "s3://bkt/in", "--endpoint-url", srv.URL, "--user-id", "u", "--ttl-hours", "1", p)
	if r.code != 2 || !strings.Contains(r.stderr, "x-amz-meta-organization-id") || !strings.Contains(r.stderr, "--org-id") || srv.contacts("") > 0 {
		t.Errorf("--s3 without --org-id: exit %d, %d requests\n%s%s", r.code, srv.contacts(""), r.stdout, r.stderr)
	}
	assertClean(t, r, "secretkeysecretkeysecretkey")

	d, err := openDestination(context.Background(), &config.Config{LocalDir: t.TempDir()}, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if req := d.required(); req == nil || len(req) != 0 {
		t.Errorf("the local store requires %v, want none (an empty list, not nil: nil means all three)", req)
	}
	if ps := d.preflight(context.Background(), fileset.ListOf([]uploader.File{{Path: p, Name: p, Key: "a.txt", Size: 10}}), uploader.Metadata{}); len(ps) != 0 {
		t.Errorf("local store preflight without metadata: %v", ps)
	}
}

// hoist serve says when its sample URL stops working with the date and the
// time zone, not a bare "3:04PM".
func TestServePrintsExpiryWithDateAndZone(t *testing.T) {
	cmd := hoistCmd(t, []string{"TZ=UTC"}, "serve", "--local-dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGINT); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "valid until") {
			continue
		}
		if !regexp.MustCompile(`valid until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\b`).MatchString(line) {
			t.Errorf("expiry line %q, want a date, a time and the zone", line)
		}
		return
	}
	t.Fatalf("no expiry line (%v)", sc.Err())
}
