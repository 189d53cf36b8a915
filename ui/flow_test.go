package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"hoist/fileset"
	"hoist/runreport"
	"hoist/uploader"
)

// watched is the root model with its last frame kept where the test can
// read it: the renderer only writes what changed, so the output stream is
// not a reliable place to look for text.
type watched struct {
	model
	frame *atomic.Value
}

func (w watched) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := w.model.Update(msg)
	w.model = next.(model)
	return w, cmd
}

func (w watched) View() tea.View {
	v := w.model.View()
	w.frame.Store(ansi.Strip(v.Content))
	return v
}

func waitForFrame(t *testing.T, frame *atomic.Value, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		f, _ := frame.Load().(string)
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(f, w)
		}
		if ok {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q; last frame:\n%s", want, f)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFlowPickFillUploadSummary is a person's whole run: pick two files
// in the picker, fill in the form, accept the review, watch the upload to
// a server, read the summary and leave.
func TestFlowPickFillUploadSummary(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "alpha.txt"), 64<<10)
	b := writeFile(t, filepath.Join(dir, "beta.bin"), 3<<20)
	writeFile(t, filepath.Join(dir, "gamma.txt"), 100) // not picked
	s := newStore(t)
	var saved uploader.Metadata
	var mu sync.Mutex
	o := flowOptions(t, s, dir, &saved, &mu)
	o.Metadata = uploader.Metadata{UserID: "u-remembered"}

	frame := &atomic.Value{}
	tm := teatest.NewTestModel(t, watched{model: newModel(context.Background(), o), frame: frame},
		teatest.WithInitialTermSize(120, 40))

	waitForFrame(t, frame, "alpha.txt", "beta.bin", "gamma.txt")
	// ".." is the first row: down to alpha, space picks it and moves to
	// beta, space picks beta; enter goes on.
	tm.Send(press("down"))
	tm.Send(press("space"))
	tm.Send(press("space"))
	waitForFrame(t, frame, "2 files selected · 3.1 MiB")
	tm.Send(press("enter"))

	waitForFrame(t, frame, "Upload details", "2 files · 3.1 MiB → "+s.URL+"/bucket/")
	tm.Type("acme")
	tm.Send(press("enter"))
	// The user id was remembered from last time; enter keeps it.
	tm.Send(press("enter"))
	tm.Type("48")
	tm.Send(press("enter"))

	review := waitForFrame(t, frame, "Review before sending", "a warning the person accepts", "enter send")
	for _, want := range []string{"2 files · 3.1 MiB", `organization-id "acme" · user-id "u-remembered" · ttl-hours 48`, s.URL + "/bucket/"} {
		if !strings.Contains(review, want) {
			t.Errorf("review lacks %q:\n%s", want, review)
		}
	}
	tm.Send(press("enter"))

	summary := waitForFrame(t, frame, "All 2 files uploaded", "Report")
	if strings.Contains(summary, secretSignature) {
		t.Error("the summary shows the URL's signature")
	}
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(watched).model
	defer final.pool.Close()

	if sum := final.outcome.Summary; sum.Uploaded != 2 || sum.Failed != 0 || sum.Bytes != int64(len(a)+len(b)) {
		t.Errorf("summary %+v", sum)
	}
	if final.outcome.Interrupted {
		t.Error("a finished run reads as interrupted")
	}
	for key, want := range map[string][]byte{"alpha.txt": a, "beta.bin": b} {
		got, h, ok := s.object(key)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: stored %d bytes (present %v), want %d", key, len(got), ok, len(want))
		}
		if h.Get(uploader.HeaderOrgID) != "acme" || h.Get(uploader.HeaderUserID) != "u-remembered" || h.Get(uploader.HeaderTTLHours) != "48" {
			t.Errorf("%s: metadata headers %v", key, h)
		}
	}
	if _, _, ok := s.object("gamma.txt"); ok {
		t.Error("gamma.txt was not picked but was sent")
	}
	mu.Lock()
	if saved != (uploader.Metadata{OrgID: "acme", UserID: "u-remembered", TTLHours: 48}) {
		t.Errorf("remembered %+v", saved)
	}
	mu.Unlock()

	data, err := os.ReadFile(final.outcome.ReportPath)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	var r runreport.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary.Uploaded != 2 || len(r.Files) != 2 || r.Files[0].Key != "alpha.txt" || r.Files[1].Location != "bucket/beta.bin" {
		t.Errorf("report %s", data)
	}
	if !strings.Contains(summary, final.outcome.ReportPath) {
		t.Errorf("the summary does not show the report's path %s:\n%s", final.outcome.ReportPath, summary)
	}
}

// TestFlowFailureAndRetry: a file the server refuses shows as failed with
// its reason, and r on the summary sends it again.
func TestFlowFailureAndRetry(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ok.txt"), 1000)
	writeFile(t, filepath.Join(dir, "no.txt"), 1000)
	s := newStore(t)
	s.mu.Lock()
	s.deny = "no"
	s.mu.Unlock()
	var saved uploader.Metadata
	var mu sync.Mutex
	o := flowOptions(t, s, dir, &saved, &mu)
	o.Preflight = nil
	o.FixedFiles = fileset.ListOf([]uploader.File{
		{Path: filepath.Join(dir, "ok.txt"), Name: "ok.txt", Key: "ok.txt", Size: 1000},
		{Path: filepath.Join(dir, "no.txt"), Name: "no.txt", Key: "no.txt", Size: 1000},
	})
	o.Required = []string{}
	var doneMu sync.Mutex
	var done []string // Options.Done's results, in the order they came
	willSend := -1
	o.WillSend = func(n int) {
		doneMu.Lock()
		willSend = n
		doneMu.Unlock()
	}
	o.Done = func(r *uploader.Result) {
		doneMu.Lock()
		done = append(done, r.Key)
		doneMu.Unlock()
	}

	frame := &atomic.Value{}
	tm := teatest.NewTestModel(t, watched{model: newModel(context.Background(), o), frame: frame},
		teatest.WithInitialTermSize(120, 40))
	waitForFrame(t, frame, "no problems found", "enter send")
	tm.Send(press("enter"))
	summary := waitForFrame(t, frame, "Finished: 1 uploaded · 1 failed")
	if !strings.Contains(summary, "✗ no.txt") || !strings.Contains(summary, "AccessDenied") {
		t.Errorf("the failure and its reason are not shown:\n%s", summary)
	}

	s.mu.Lock()
	s.deny = ""
	s.mu.Unlock()
	tm.Send(press("r"))
	waitForFrame(t, frame, "All 2 files uploaded")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(watched).model
	defer final.pool.Close()
	if final.outcome.Summary.Uploaded != 2 || final.outcome.Summary.Failed != 0 {
		t.Errorf("summary after retry %+v", final.outcome.Summary)
	}
	// The pool forgot ok.txt once sent and kept no.txt for r; every result
	// reached Done once; the report says both went, the retried one last.
	doneMu.Lock()
	defer doneMu.Unlock()
	if willSend != 2 {
		t.Errorf("WillSend was told %d files, want 2", willSend)
	}
	if fmt.Sprint(done) != "[ok.txt no.txt]" {
		t.Errorf("Done saw %v, want ok.txt then no.txt", done)
	}
	data, err := os.ReadFile(final.outcome.ReportPath)
	if err != nil {
		t.Fatal(err)
	}
	var r runreport.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Files) != 2 || r.Files[0].State != "done" || r.Files[1].State != "done" || r.Files[1].ETag == "" || r.Files[1].Error != "" {
		t.Errorf("report files %+v", r.Files)
	}
}

// TestFlowPauseResumeAndLimit drives a real pool: p pauses the chosen file
// and resumes it (a single PUT: sent again from zero, and stored whole), [
// and 0 change the pool's bandwidth limit, shown in the header.
func TestFlowPauseResumeAndLimit(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.bin"), 64<<10)
	writeFile(t, filepath.Join(dir, "b.bin"), 64<<10)
	s := newStore(t)
	s.hold = make(chan struct{})
	var saved uploader.Metadata
	var mu sync.Mutex
	o := flowOptions(t, s, dir, &saved, &mu)
	o.Preflight = nil
	o.FixedFiles = fileset.ListOf([]uploader.File{
		{Path: filepath.Join(dir, "a.bin"), Name: "a.bin", Key: "a.bin", Size: 64 << 10},
		{Path: filepath.Join(dir, "b.bin"), Name: "b.bin", Key: "b.bin", Size: 64 << 10},
	})
	o.Required = []string{}
	pools := make(chan *uploader.Pool, 1)
	o.NewPool = func(md uploader.Metadata) *uploader.Pool {
		p := uploader.New(storeSource{base: s.URL}, uploader.Options{Concurrency: 2, Metadata: md, StallTimeout: time.Minute, LimitRate: 8 << 20})
		pools <- p
		return p
	}

	frame := &atomic.Value{}
	tm := teatest.NewTestModel(t, watched{model: newModel(context.Background(), o), frame: frame},
		teatest.WithInitialTermSize(120, 40))
	waitForFrame(t, frame, "no problems found", "enter send")
	tm.Send(press("enter"))
	waitForFrame(t, frame, "limit 8.0 MiB/s · workers 2", "2 uploading")
	pool := <-pools

	tm.Send(press("up")) // select a.bin, the first file being sent
	tm.Send(press("p"))
	waitForFrame(t, frame, "a.bin: paused; p sends it again from zero: a single PUT cannot resume", "paused (will start over)", "1 paused")
	if st := pool.Snapshot(nil)[0].State; st != uploader.StatePaused {
		t.Fatalf("the pool has a.bin %v, want paused", st)
	}
	tm.Send(press("p"))
	waitForFrame(t, frame, "2 uploading")

	tm.Send(press("["))
	waitForFrame(t, frame, "limit 4.0 MiB/s")
	if r := pool.Rate(); r != 4<<20 {
		t.Errorf("after [ the pool's limit is %d B/s, want 4 MiB/s", r)
	}
	tm.Send(press("0"))
	deadline := time.Now().Add(15 * time.Second)
	for f, _ := frame.Load().(string); strings.Contains(f, "/s · workers"); f, _ = frame.Load().(string) {
		if time.Now().After(deadline) {
			t.Fatalf("after 0 the header still shows a limit:\n%s", f)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := pool.Rate(); r != 0 {
		t.Errorf("after 0 the pool's limit is %d B/s, want none", r)
	}

	close(s.hold)
	waitForFrame(t, frame, "All 2 files uploaded")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(watched).model
	defer final.pool.Close()
	if got, _, ok := s.object("a.bin"); !ok || !bytes.Equal(got, a) {
		t.Errorf("a.bin after pause and resume: stored %d bytes (present %v), want %d", len(got), ok, len(a))
	}
}
