package headless

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/uploader"
)

func TestStartLine(t *testing.T) {
	var out, errb bytes.Buffer
	p := &Printer{Out: &out, Err: &errb}
	p.Start(2, 4<<20, "s3://bkt/in/")
	if got := errb.String(); got != "hoist: uploading 2 files (4.0 MiB) to s3://bkt/in/\n" || out.Len() != 0 {
		t.Errorf("stderr %q stdout %q", got, out.String())
	}
	out.Reset()
	p = &Printer{Out: &out, Err: &errb, JSON: true}
	p.Start(1, 10, "http://127.0.0.1:9/b/")
	var e map[string]any
	if err := json.Unmarshal(out.Bytes(), &e); err != nil || e["event"] != "start" || e["files_total"] != 1.0 || e["bytes"] != 10.0 || e["target"] != "http://127.0.0.1:9/b/" {
		t.Errorf("start event %s (%v)", out.String(), err)
	}
}

func TestSamplerCountsFinishedFromTheSummaryAndSmooths(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := sampler{start: t0, files: 3, total: 160 << 20}
	sum := uploader.Summary{Uploaded: 1, Failed: 1, Bytes: 10 << 20}
	active := []uploader.FileStatus{
		{Size: 100 << 20, State: uploader.StateUploading},
		{Size: 10 << 20, Sent: 10 << 20, State: uploader.StateDone}, // not yet forgotten: counted once, by the summary
	}
	pr := s.sample(sum, active, t0.Add(time.Second))
	if pr.Files != 3 || pr.Total != 160<<20 || pr.Sent != 10<<20 || pr.Done != 1 || pr.Failed != 1 || pr.Rate != 0 {
		t.Fatalf("first sample %+v", pr)
	}
	active[0].Sent = 10 << 20 // 10 MiB in the next second
	pr = s.sample(sum, active, t0.Add(2*time.Second))
	if pr.Rate != 10<<20 {
		t.Fatalf("rate %v, want the first measured rate", pr.Rate)
	}
	active[0].Sent = 40 << 20 // a burst: 30 MiB in one second
	pr = s.sample(sum, active, t0.Add(3*time.Second))
	if pr.Rate <= 10<<20 || pr.Rate >= 30<<20 {
		t.Errorf("rate %v after a burst, want between the old and the new", pr.Rate)
	}
	if eta, ok := pr.ETA(); !ok || eta <= 0 {
		t.Errorf("eta %v %v", eta, ok)
	}
	active[0].Sent = 0 // a retry gives the bytes back
	if pr = s.sample(sum, active, t0.Add(4*time.Second)); pr.Rate < 0 {
		t.Errorf("negative rate %v", pr.Rate)
	}
}

func TestLiveStatusIsClearedBeforeOtherLines(t *testing.T) {
	var out, errb bytes.Buffer
	p := &Printer{Out: &out, Err: &errb, Live: true, Width: 40}
	p.Progress(Progress{Files: 3, Done: 1, Sent: 5 << 20, Total: 20 << 20, Rate: 1 << 20})
	p.Warn("a.bin", "careful")
	got := errb.String()
	status, rest, ok := strings.Cut(got, clearLine)
	if !ok || strings.Contains(status, "\n") || len([]rune(status)) > 39 || !strings.HasPrefix(status, "1 of 3 files done") {
		t.Errorf("status %q (want one row, cut to the width)", status)
	}
	if rest != "hoist: warning: a.bin: careful\n" {
		t.Errorf("after the status: %q", rest)
	}

	errb.Reset()
	p = &Printer{Out: &out, Err: &errb}
	p.Progress(Progress{Files: 2, Done: 0, Failed: 1, Sent: 1 << 20, Total: 4 << 20, Rate: 1 << 20})
	if got := errb.String(); got != "… 0 of 2 files done, 1 failed · 1.0 MiB of 4.0 MiB · 1.0 MiB/s · 3s left\n" {
		t.Errorf("plain status %q", got)
	}
}

func TestProgressEvent(t *testing.T) {
	var out bytes.Buffer
	p := &Printer{Out: &out, Err: &out, JSON: true}
	p.Progress(Progress{Files: 2, Done: 1, Sent: 6, Total: 10, Rate: 2})
	var e map[string]any
	if err := json.Unmarshal(out.Bytes(), &e); err != nil {
		t.Fatal(err)
	}
	if e["event"] != "progress" || e["files_total"] != 2.0 || e["done"] != 1.0 || e["bytes_sent"] != 6.0 || e["bytes_total"] != 10.0 ||
		e["bytes_per_second"] != 2.0 || e["eta_seconds"] != 2.0 {
		t.Errorf("progress %v", e)
	}
}

// A --json output is also a report --retry-failed reads: the start and
// progress events must not look like a run report's "files" list.
func TestStartAndProgressEventsAreReadableAsAReport(t *testing.T) {
	var out bytes.Buffer
	p := &Printer{Out: &out, Err: &out, JSON: true}
	p.Start(1, 10, "t")
	p.Progress(Progress{Files: 1, Total: 10})
	p.Event(uploader.Event{Kind: uploader.EventFailed, File: "a.bin", Err: errors.New("nope")})
	name := filepath.Join(t.TempDir(), "run.jsonl")
	if err := os.WriteFile(name, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FailedPaths([]string{name}); err != nil {
		t.Errorf("--retry-failed cannot read a --json output: %v", err)
	}
}
