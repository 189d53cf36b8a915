package uploader

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testSource hands out PUTs to one server; every file goes to base + "/" + key.
type testSource struct {
	base      string
	sendToken bool
	header    http.Header
	caps      Capabilities
	wantCRC   bool

	mu      sync.Mutex
	targets int // calls to Target
	expires time.Time
}

func (s *testSource) Describe() string           { return s.base }
func (s *testSource) Capabilities() Capabilities { return s.caps }
func (s *testSource) WantsChecksum(File) bool    { return s.wantCRC }
func (s *testSource) Target(_ context.Context, f File, md Metadata) (Target, error) {
	s.mu.Lock()
	s.targets++
	n := s.targets
	exp := s.expires
	s.mu.Unlock()
	h := http.Header{}
	for k, v := range md.Values() {
		h.Set(k, v)
	}
	for k, v := range s.header {
		h[k] = v
	}
	return Target{
		Method: http.MethodPut, URL: s.base + "/" + f.Key + "?X-Amz-Signature=deadbeefsig&X-Amz-Credential=AKIDSECRETCRED&n=" + strconv.Itoa(n),
		Header: h, Key: f.Key, SendToken: s.sendToken, Expires: exp,
	}, nil
}

// received is what the test server saw of one request.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	Length int64
}

// recorder is an httptest server that stores every complete request and
// answers with handle (nil = 200 with an ETag).
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []received
	handle func(w http.ResponseWriter, r *http.Request, n int) bool // return true when it answered
}

func newRecorder(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int) bool) *recorder {
	t.Helper()
	rec := &recorder{handle: handle}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		n := len(rec.reqs)
		rec.reqs = append(rec.reqs, received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Length: r.ContentLength})
		rec.mu.Unlock()
		if rec.handle != nil && rec.handle(w, r, n) {
			return
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r.Body); err != nil {
			return
		}
		rec.mu.Lock()
		rec.reqs[n].Body = buf.Bytes()
		rec.mu.Unlock()
		w.Header().Set("ETag", `"etag-`+strconv.Itoa(n)+`"`)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// writeFile makes a file of n random bytes and returns it as a File.
func writeFile(t *testing.T, dir, name string, n int) (File, []byte) {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return fileOf(t, p, name), b
}

func fileOf(t *testing.T, p, name string) File {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return File{Path: p, Name: name, Key: name, Size: st.Size(), ModTime: st.ModTime()}
}

// run uploads files through a fresh pool and returns every event and the pool.
func run(t *testing.T, src Source, opts Options, files ...File) ([]Event, *Pool) {
	t.Helper()
	if opts.BackoffInitial == 0 {
		opts.BackoffInitial = 5 * time.Millisecond
	}
	if opts.BackoffMax == 0 {
		opts.BackoffMax = 20 * time.Millisecond
	}
	p := New(src, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p.Start(ctx)
	log := collectEvents(p)
	p.Add(files...)
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("wait: %v", err)
	}
	p.Close()
	events := log.wait()
	return events, p
}

func kinds(events []Event, id int) []EventKind {
	var out []EventKind
	for _, e := range events {
		if e.ID == id {
			out = append(out, e.Kind)
		}
	}
	return out
}

func lastOf(events []Event, id int) Event {
	var last Event
	for _, e := range events {
		if e.ID == id && e.Kind != EventAwaiting {
			last = e
		}
	}
	return last
}

// eventLog keeps every event of a pool until its channel closes.
type eventLog struct {
	events []Event
	done   chan struct{}
}

func collectEvents(p *Pool) *eventLog {
	l := &eventLog{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for e := range p.Events() {
			l.events = append(l.events, e)
		}
	}()
	return l
}

// wait returns the events once the pool has closed its channel.
func (l *eventLog) wait() []Event {
	<-l.done
	return l.events
}

// sampleSnapshots calls each with the pool's snapshot as fast as a UI
// could, until stop is called: the way to catch progress that lies.
func sampleSnapshots(p *Pool, each func([]FileStatus)) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var buf []FileStatus
		for {
			select {
			case <-quit:
				return
			default:
			}
			buf = p.Snapshot(buf)
			each(buf)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
