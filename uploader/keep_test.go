package uploader

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// interruptedRun leaves f's multipart upload half done with md: parts 3 and
// later lose their connection every time, and no retry is allowed.
func interruptedRun(t *testing.T, m *fakeMultipart, journal *Journal, f File, md Metadata) {
	t.Helper()
	var down atomic.Bool
	down.Store(true)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if down.Load() && n >= 3 {
			return resetAfter(1, 64<<10)(w, r, 0)
		}
		return false
	}
	run(t, m, mpOptions(Options{Concurrency: 1, Retries: 0, Journal: journal, Metadata: md}), f)
	down.Store(false)
	if m.openUploads() != 1 {
		t.Fatalf("the first run kept %d uploads, want 1", m.openUploads())
	}
}

func eventsOf(events []Event, kind EventKind) []Event {
	var out []Event
	for _, e := range events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestResumeKeepsTheInterruptedRunsMetadata (issue 13 item 9): the rerun
// with other metadata resumed the upload made with the first run's, so the
// object carried ORG-A / 48 although the run said ORG-B / 1. The journal
// records the metadata; a rerun with different metadata starts a new upload
// and aborts the old one.
func TestResumeKeepsTheInterruptedRunsMetadata(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	a := Metadata{OrgID: "ORG-A", UserID: "u", TTLHours: 48}
	b := Metadata{OrgID: "ORG-B", UserID: "u", TTLHours: 1}
	interruptedRun(t, m, journal, f, a)

	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Journal: journal, Metadata: b}), f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("rerun: %v %v", last.Kind, last.Err)
	}
	if got := m.objectMeta["big.bin"]; got != b {
		t.Errorf("the object carries %+v, want the rerun's %+v", got, b)
	}
	if len(eventsOf(events, EventResumed)) != 0 {
		t.Error("the upload made with other metadata was resumed")
	}
	if r := eventsOf(events, EventRestarted); len(r) != 1 || !strings.Contains(r[0].Err.Error(), "metadata differs") {
		t.Errorf("restarted events %v, want one saying the metadata differs", r)
	}
	if len(m.aborted) != 1 || m.openUploads() != 0 {
		t.Errorf("the old upload was not aborted: aborted %v, %d open", m.aborted, m.openUploads())
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("object differs from the file")
	}
}

// TestResumeChecksTheBytesOfKeptParts: a part overwritten in place between
// runs, with size and mtime put back, is sent again rather than kept.
func TestResumeChecksTheBytesOfKeptParts(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	interruptedRun(t, m, journal, f, Metadata{})
	// Part 1 (the first 5 MiB) changes; size and mtime do not.
	copy(data[:1000], bytes.Repeat([]byte("z"), 1000))
	w, _ := os.OpenFile(f.Path, os.O_WRONLY, 0)
	_, _ = w.WriteAt(data[:1000], 0)
	_ = w.Close()
	_ = os.Chtimes(f.Path, f.ModTime, f.ModTime)

	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Journal: journal}), f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("rerun: %v %v", last.Kind, last.Err)
	}
	if r := eventsOf(events, EventResumed); len(r) != 1 || r[0].Resumed != 5<<20 {
		t.Errorf("resumed %v, want only part 2 (5 MiB) kept", r)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("the object holds the part's old bytes")
	}
}

// TestFileChangedBetweenPartsLeavesTheOldObject (issue 13 item 10): the
// change check ran only after CompleteMultipart had joined old and new
// parts over the good object. It runs before; the upload is aborted and the
// previous object stays as it was.
func TestFileChangedBetweenPartsLeavesTheOldObject(t *testing.T) {
	m := newFakeMultipart(t)
	old := []byte("the good copy")
	m.objects["big.bin"] = old
	f, _ := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	var once sync.Once
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if n == 2 {
			once.Do(func() {
				// Another program appends to the file while part 2 goes up.
				a, err := os.OpenFile(f.Path, os.O_APPEND|os.O_WRONLY, 0)
				if err == nil {
					_, _ = a.Write([]byte("more"))
					_ = a.Close()
				}
			})
		}
		return false
	}
	events, _ := run(t, m, mpOptions(Options{Concurrency: 1, Journal: OpenJournal(t.TempDir())}), f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "untouched") {
		t.Fatalf("last %v %v, want failed saying the object is untouched", last.Kind, last.Err)
	}
	if len(m.completed) != 0 {
		t.Errorf("the parts were joined: completed %v", m.completed)
	}
	if !bytes.Equal(m.objects["big.bin"], old) {
		t.Error("the previous object was replaced")
	}
	if m.openUploads() != 0 {
		t.Errorf("%d uploads left open", m.openUploads())
	}
}

// TestTransientListPartsKeepsTheResume (issue 13 item 12): one failed
// ListParts threw the journal away and orphaned the parts. It is retried
// like any call; when it keeps failing the file fails and the journal stays;
// only NoSuchUpload drops the journal, and the run says so.
func TestTransientListPartsKeepsTheResume(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	interruptedRun(t, m, journal, f, Metadata{})

	// Failing for good: the file fails, nothing is thrown away.
	m.listFail.Store(100)
	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Retries: 1, Journal: journal}), f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "journal is kept") {
		t.Fatalf("ListParts failing: %v %v", last.Kind, last.Err)
	}
	if n, _ := journal.Pending(); n != 1 || m.openUploads() != 1 || len(m.aborted) != 0 {
		t.Fatalf("after a failed list: %d journaled, %d open, aborted %v; want the upload kept", n, m.openUploads(), m.aborted)
	}

	// Failing twice, then answering: retried, and the upload resumes.
	m.listFail.Store(2)
	events, _ = run(t, m, mpOptions(Options{Concurrency: 2, Retries: 3, Journal: journal}), f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("rerun: %v %v", last.Kind, last.Err)
	}
	if len(eventsOf(events, EventResumed)) != 1 {
		t.Error("the upload was not resumed after ListParts failed twice")
	}
	if !bytes.Equal(m.objects["big.bin"], data) || len(m.completed) != 1 {
		t.Error("the resumed object differs")
	}
}

func TestGoneUploadIsSaidAndStartedAgain(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	interruptedRun(t, m, journal, f, Metadata{})
	// The server forgets the upload (expired by a lifecycle rule).
	m.mu.Lock()
	for id := range m.parts {
		delete(m.parts, id)
	}
	m.mu.Unlock()
	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Journal: journal}), f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("rerun: %v %v", last.Kind, last.Err)
	}
	if r := eventsOf(events, EventRestarted); len(r) != 1 || !strings.Contains(r[0].Err.Error(), "NoSuchUpload") {
		t.Errorf("restarted events %v, want one naming NoSuchUpload", r)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("object differs")
	}
}

// TestLostCreateAnswerLeavesNoUpload (issue 13 item 12): a
// CreateMultipartUpload whose answer was lost left an empty upload nobody
// would abort. The create is retried, and the uploads this run made for the
// key and never heard of are aborted; another client's upload to the same
// key, begun before, is left alone.
func TestLostCreateAnswerLeavesNoUpload(t *testing.T) {
	m := newFakeMultipart(t)
	foreign := m.foreignUpload("big.bin")
	m.createLost.Store(1)
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Retries: 2, Journal: OpenJournal(t.TempDir())}), f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("%v %v", last.Kind, last.Err)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("object differs")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Equal(m.aborted, []string{"up1"}) {
		t.Errorf("aborted %v, want the lost upload up1 only", m.aborted)
	}
	if _, ok := m.parts[foreign]; !ok || len(m.parts) != 1 {
		t.Errorf("open uploads %v, want only the other client's", m.parts)
	}
}

// TestInterruptKeepsMultipartResumable (issue 13 item 16): interrupting the
// run aborted the upload, so the rerun sent every byte again. The upload
// and its journal are kept, the file says how to resume and how to discard
// it, and the rerun resumes. Canceling one file still discards its upload
// (TestMultipartCancelAbortsUpload).
func TestInterruptKeepsMultipartResumable(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	var hold atomic.Bool
	hold.Store(true)
	started := make(chan struct{}, 16)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if !hold.Load() || n == 1 {
			return false
		}
		started <- struct{}{}
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return true
	}
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	ctx, cancel := context.WithCancel(context.Background())
	p := New(m, mpOptions(Options{Concurrency: 1, Journal: journal}))
	p.Start(ctx)
	log := collectEvents(p)
	p.Add(f)
	<-started // part 1 is on the server, part 2 is held
	cancel()
	p.Close()
	last := lastOf(log.wait(), 0)
	if last.Kind != EventCanceled || !strings.Contains(last.Err.Error(), "run the same command again") || !strings.Contains(last.Err.Error(), "hoist uploads --abort") {
		t.Fatalf("last %v %v, want canceled saying how to resume and discard", last.Kind, last.Err)
	}
	if len(m.aborted) != 0 || m.openUploads() != 1 {
		t.Fatalf("aborted %v, %d open: the upload was not kept", m.aborted, m.openUploads())
	}
	ups, err := journal.List()
	if err != nil || len(ups) != 1 || ups[0].Parts != 1 || ups[0].Key != "big.bin" || ups[0].Dest != m.Describe() {
		t.Fatalf("journal lists %+v %v, want the upload with 1 part", ups, err)
	}

	hold.Store(false)
	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Journal: journal}), f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("rerun: %v %v", last.Kind, last.Err)
	}
	if r := eventsOf(events, EventResumed); len(r) != 1 || r[0].Resumed != 5<<20 {
		t.Errorf("resumed %v, want part 1", r)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("object differs")
	}
}

// TestCompleteRacingTheInterruptIsDone: the parts were joined, but the
// interrupt came before the answer. The file was reported canceled although
// stored; the server is asked (the upload is gone, the object has the
// file's size), and the file is done.
func TestCompleteRacingTheInterruptIsDone(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	m.onComplete = func(cctx context.Context) error {
		cancel()
		<-cctx.Done()
		return cctx.Err()
	}
	f, data := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	p := New(m, mpOptions(Options{Concurrency: 2, Journal: journal}))
	p.Start(ctx)
	log := collectEvents(p)
	p.Add(f)
	_ = p.Wait(context.Background())
	p.Close()
	last := lastOf(log.wait(), 0)
	if last.Kind != EventDone {
		t.Fatalf("last %v %v, want done: the server joined the parts", last.Kind, last.Err)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("object differs")
	}
	if n, _ := journal.Pending(); n != 0 {
		t.Errorf("journal still holds %d uploads", n)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Error("the run was not interrupted")
	}
}
