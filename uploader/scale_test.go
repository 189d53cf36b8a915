package uploader

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hoist/fileset"
)

// TestHeapPerFile uploads many 1 KiB files and reports what the pool keeps
// per file: the heap still live once every file is done, and the peak while
// they go. It is not timed; it fails when a finished file keeps more than
// its record and result. HOIST_SCALE_FILES sets the count (default 5,000);
// HOIST_HEAP_PROFILE=FILE writes a heap profile taken after the run.
//
//	HOIST_SCALE_FILES=20000 HOIST_HEAP_PROFILE=/tmp/heap.out go test -run TestHeapPerFile -v ./uploader/
func TestHeapPerFile(t *testing.T) {
	// A file's record, its result and their strings are about 600 bytes;
	// the retained contexts of issue 15 made it about 1 KiB. Forgotten, a
	// finished file keeps its slot in the pool's tables only.
	t.Run("kept", func(t *testing.T) { heapPerFile(t, false, 900) })
	t.Run("forgotten", func(t *testing.T) { heapPerFile(t, true, 300) })
}

func heapPerFile(t *testing.T, forget bool, maxPerFile int64) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("HOIST_SCALE_FILES")); err == nil && v > 0 {
		n = v
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	dir := t.TempDir()
	files := make([]File, n)
	buf := make([]byte, 1<<10)
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("file-%06d.bin", i))
		if err := os.WriteFile(p, buf, 0o600); err != nil {
			t.Fatal(err)
		}
		files[i] = fileOf(t, p, filepath.Base(p))
	}
	client := NewClient()
	defer client.CloseIdleConnections()
	src := &testSource{base: srv.URL, wantCRC: true}

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()

	p := New(src, Options{Client: client, Concurrency: 16, ForgetFinished: forget})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p.Start(ctx)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range p.Events() {
		}
	}()
	if forget {
		// As headless runs: fed as workers free up, finished files forgotten.
		if added := p.Feed(ctx, fileset.ListOf(files)); added != n {
			t.Fatalf("Feed added %d of %d", added, n)
		}
	} else {
		p.Add(files...)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-sampled
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if path := os.Getenv("HOIST_HEAP_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if s := p.Summary(); s.Uploaded != n {
		t.Fatalf("uploaded %d of %d (%d failed)", s.Uploaded, n, s.Failed)
	}
	live := int64(after.HeapAlloc) - int64(base.HeapAlloc)
	perFile := live / int64(n)
	t.Logf("%d files × 1 KiB: heap live after the run %d KiB (%d B/file), peak %d KiB (%d B/file), before %d KiB",
		n, live>>10, perFile, int64(peak.Load()-base.HeapAlloc)>>10, int64(peak.Load()-base.HeapAlloc)/int64(n), base.HeapAlloc>>10)
	runtime.KeepAlive(files)
	p.Close()
	<-drained
	if perFile > maxPerFile {
		t.Errorf("the pool keeps %d bytes per finished file; want at most %d", perFile, maxPerFile)
	}
}

// Feed keeps at most feedAhead files queued ahead of the workers, and stops
// adding when its context ends.
func TestFeedPacesAndStops(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	files := make([]File, 5*feedAhead)
	for i := range files {
		files[i] = f
		files[i].Key = fmt.Sprintf("k%d", i)
	}
	p := New(&testSource{base: srv.URL}, Options{Concurrency: 1})
	p.Start(context.Background())
	log := collectEvents(p)
	ctx, cancel := context.WithCancel(context.Background())
	added := make(chan int)
	go func() { added <- p.Feed(ctx, fileset.ListOf(files)) }()
	// With one worker held by the server, Feed must stop near feedAhead.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		queued, n := len(p.queue), len(p.files)
		p.mu.Unlock()
		if queued > feedAhead {
			t.Fatalf("%d files queued; Feed keeps at most %d", queued, feedAhead)
		}
		if n >= feedAhead/2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	got := <-added
	close(release)
	p.Close()
	log.wait()
	if got <= 0 || got > feedAhead+1 {
		t.Errorf("Feed added %d of %d files before its context ended; want 1..%d", got, len(files), feedAhead+1)
	}
}

// A Cancel or Pause of a file Feed has not added yet is kept for when it is
// (the TUI shows every file from the start and lets a person stop any):
// the canceled file ends canceled and the paused one paused, neither sent,
// and a pause taken back by Resume lets its file go.
func TestFeedKeepsCancelAndPauseOfFilesNotAddedYet(t *testing.T) {
	release := make(chan struct{})
	var sent sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		sent.Store(strings.TrimPrefix(r.URL.Path, "/"), true)
		<-release
	}))
	defer srv.Close()
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	files := make([]File, 2*feedAhead)
	for i := range files {
		files[i] = f
		files[i].Key = fmt.Sprintf("k%d", i)
	}
	p := New(&testSource{base: srv.URL}, Options{Concurrency: 1})
	p.Start(context.Background())
	log := collectEvents(p)
	added := make(chan int)
	go func() { added <- p.Feed(context.Background(), fileset.ListOf(files)) }()
	for p.task(0) == nil {
		runtime.Gosched()
	}
	last := len(files) - 1
	if p.task(last) != nil {
		t.Fatal("Feed added every file at once")
	}
	p.Cancel(last)
	if !p.Pause(last - 1) {
		t.Error("Pause of a file not added yet was refused")
	}
	if p.Pause(last) {
		t.Error("a pause took the place of a cancel")
	}
	if !p.Pause(last-2) || !p.Resume(last-2) {
		t.Error("Pause and Resume of a file not added yet were refused")
	}
	if p.Pause(len(files)) {
		t.Error("Pause of an id Feed will never add was taken")
	}
	close(release)
	if got := <-added; got != len(files) {
		t.Fatalf("Feed added %d of %d", got, len(files))
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	ends := map[int]EventKind{}
	for _, e := range log.wait() {
		switch e.Kind {
		case EventDone, EventCanceled, EventPaused, EventFailed:
			ends[e.ID] = e.Kind
		}
	}
	want := map[int]EventKind{last: EventCanceled, last - 1: EventPaused, last - 2: EventDone, 0: EventDone}
	for id, kind := range want {
		if ends[id] != kind {
			t.Errorf("file %d ended %q, want %q", id, ends[id], kind)
		}
	}
	for _, id := range []int{last, last - 1} {
		if _, ok := sent.Load(files[id].Key); ok {
			t.Errorf("file %d was sent although stopped before it was added", id)
		}
	}
}

// The terminal UI's pool (ForgetFinished with KeepFailed): a file sent is
// forgotten, a failed one stays for Retry, OnEnd hears each end, and
// Summary.Active is the time workers were at work.
func TestKeepFailedRetriesWhatForgetFinishedDrops(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/bad") && fail.Load() {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("ETag", `"e"`)
	}))
	defer srv.Close()
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	good, bad := f, f
	good.Key, bad.Key = "good", "bad"
	p := New(&testSource{base: srv.URL}, Options{Concurrency: 2, ForgetFinished: true, KeepFailed: true})
	var mu sync.Mutex
	ended := map[int]EventKind{}
	p.OnEnd(func(e Event) {
		mu.Lock()
		ended[e.ID] = e.Kind
		mu.Unlock()
	})
	p.Start(context.Background())
	log := collectEvents(p)
	p.Add(good, bad)
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := p.Snapshot(nil)
	if len(snap) != 1 || snap[0].ID != 1 || snap[0].State != StateFailed {
		t.Fatalf("snapshot %+v: want only the failed file kept", snap)
	}
	fail.Store(false)
	if !p.Retry(1) {
		t.Fatal("Retry of the kept failed file refused")
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Summary()
	if s.Uploaded != 2 || s.Failed != 0 || len(p.Snapshot(nil)) != 0 {
		t.Errorf("summary %+v, snapshot %d: want both uploaded and forgotten", s, len(p.Snapshot(nil)))
	}
	if s.Active <= 0 || s.Active > s.Elapsed {
		t.Errorf("active %v of elapsed %v", s.Active, s.Elapsed)
	}
	p.Close()
	events := log.wait()
	mu.Lock()
	defer mu.Unlock()
	if ended[0] != EventDone || ended[1] != EventDone {
		t.Errorf("OnEnd heard %v", ended)
	}
	fails := 0
	for _, e := range events {
		if e.Kind == EventFailed {
			fails++
		}
	}
	if fails != 1 {
		t.Errorf("%d failed events, want 1", fails)
	}
}
