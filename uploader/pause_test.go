package uploader

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// pausePool runs files through p with events on a channel the test reads
// as they come.
func startPaused(t *testing.T, p *Pool, files ...File) (<-chan Event, func() []Event) {
	t.Helper()
	p.Start(context.Background())
	live := make(chan Event, 1024)
	var all []Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(live)
		for e := range p.Events() {
			all = append(all, e)
			live <- e
		}
	}()
	p.Add(files...)
	return live, func() []Event {
		for range live {
		}
		<-done
		return all
	}
}

func waitEvent(t *testing.T, live <-chan Event, kind EventKind) Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-live:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event within 30s", kind)
		}
	}
}

func waitSent(t *testing.T, p *Pool, atLeast int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.Snapshot(nil)[0].Sent < atLeast {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d bytes sent within 30s: %+v", atLeast, p.Snapshot(nil)[0])
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestPauseSinglePutStartsAgainFromZero (issue 14 item 13, engine side).
func TestPauseSinglePutStartsAgainFromZero(t *testing.T) {
	rec := newRecorder(t, nil)
	f, data := writeFile(t, t.TempDir(), "a.bin", 512<<10)
	p := New(&testSource{base: rec.URL}, Options{LimitRate: 256 << 10, StallTimeout: 5 * time.Second})
	live, finish := startPaused(t, p, f)
	waitSent(t, p, 1)
	if !p.Pause(0) {
		t.Fatal("Pause refused a file under way")
	}
	waitEvent(t, live, EventPaused)
	if s := p.Snapshot(nil)[0]; s.State != StatePaused {
		t.Fatalf("state %v, want paused", s.State)
	}
	p.SetRate(0)
	if !p.Resume(0) {
		t.Fatal("Resume refused a paused file")
	}
	if e := waitEvent(t, live, EventRestarted); e.Err == nil {
		t.Error("the restart does not say why")
	}
	waitEvent(t, live, EventDone)
	_ = p.Wait(context.Background())
	p.Close()
	finish()
	// Requests are listed as their handlers start, which under load need
	// not be the order they were sent in: the one that carried the whole
	// file is the upload that was stored.
	if !slices.ContainsFunc(rec.requests(), func(r received) bool { return bytes.Equal(r.Body, data) }) {
		t.Error("the object differs from the file")
	}
	if p.Resume(0) || p.Pause(0) {
		t.Error("Pause or Resume acted on a finished file")
	}
}

// TestPauseMultipartResumesAtItsNextPart: the parts on the server stay; the
// upload is neither aborted nor started again.
func TestPauseMultipartResumesAtItsNextPart(t *testing.T) {
	m := newFakeMultipart(t)
	var hold atomic.Bool
	hold.Store(true)
	held := make(chan struct{}, 4)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if n != 2 || !hold.Load() {
			return false
		}
		held <- struct{}{}
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return true
	}
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	p := New(m, mpOptions(Options{Concurrency: 1, StallTimeout: 5 * time.Second, Journal: OpenJournal(t.TempDir())}))
	live, finish := startPaused(t, p, f)
	<-held // part 1 is on the server, part 2 is under way
	hold.Store(false)
	p.Pause(0)
	waitEvent(t, live, EventPaused)
	if m.openUploads() != 1 || len(m.aborted) != 0 {
		t.Fatalf("after pause: %d open, aborted %v; want the upload kept", m.openUploads(), m.aborted)
	}
	p.Resume(0)
	if e := waitEvent(t, live, EventResumed); e.Resumed < 5<<20 {
		t.Errorf("resumed with %d bytes on the server, want at least part 1", e.Resumed)
	}
	waitEvent(t, live, EventDone)
	_ = p.Wait(context.Background())
	p.Close()
	finish()
	if !bytes.Equal(m.objects["big.bin"], data) || len(m.completed) != 1 {
		t.Error("the object differs, or another upload completed it")
	}
	if sent := m.partBytes.Load(); sent > 20<<20+5<<20 {
		t.Errorf("the server received %d part bytes: more than the file and the one part in flight", sent)
	}
}

// A file still waiting in the queue is paused at once, not when a worker
// reaches it: with one worker held by the first file, the third pauses
// while the first is still being sent, and the queue goes on without it.
func TestPauseOfAQueuedFileIsImmediate(t *testing.T) {
	release := make(chan struct{})
	var held atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if held.CompareAndSwap(false, true) {
			<-release
		}
	}))
	defer srv.Close()
	f, _ := writeFile(t, t.TempDir(), "a.bin", 10)
	files := []File{f, f, f}
	for i := range files {
		files[i].Key = string(rune('a' + i))
	}
	p := New(&testSource{base: srv.URL}, Options{Concurrency: 1})
	live, finish := startPaused(t, p, files...)
	for !held.Load() {
		time.Sleep(time.Millisecond)
	}
	if !p.Pause(2) {
		t.Fatal("Pause refused a queued file")
	}
	if e := waitEvent(t, live, EventPaused); e.ID != 2 {
		t.Fatalf("paused file %d, want 2", e.ID)
	}
	if s := p.Snapshot(nil); s[0].State == StateDone || s[2].State != StatePaused || s[2].Attempt != 0 {
		t.Fatalf("while the first is held: %+v", s)
	}
	close(release)
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Uploaded != 2 || s.Pending != 1 {
		t.Errorf("summary %+v: want two uploaded and the paused one pending", s)
	}
	if !p.Resume(2) {
		t.Fatal("Resume refused the paused file")
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	paused := 0
	for _, e := range finish() {
		if e.Kind == EventPaused {
			paused++
		}
	}
	if s := p.Summary(); s.Uploaded != 3 || paused != 1 {
		t.Errorf("summary %+v, %d paused events; want all three uploaded, one pause", s, paused)
	}
}
