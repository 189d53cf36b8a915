package uploader

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeMultipart is a MultipartSource over an httptest server that keeps
// parts in memory, enough to check what the engine does with parts.
type fakeMultipart struct {
	testSource
	srv *httptest.Server

	mu        sync.Mutex
	nextID    int
	parts     map[string]map[int][]byte // upload id → part → bytes
	objects   map[string][]byte
	aborted   []string
	completed []string
	partBytes atomic.Int64 // bytes of part bodies the server received in full
	inFlight  atomic.Int32
	peak      atomic.Int32

	// fail, when set, answers a part request instead of storing it.
	fail func(w http.ResponseWriter, r *http.Request, uploadID string, n int) bool

	meta       map[string]Metadata  // upload id → metadata it was created with
	keys       map[string]string    // upload id → key
	initiated  map[string]time.Time // upload id → when it began
	objectMeta map[string]Metadata  // key → metadata of the stored object

	listFail   atomic.Int32 // ListParts calls still to fail with a network error
	createLost atomic.Int32 // CreateMultipart calls whose answer is still to be lost
	// onComplete, when set, runs after the parts are joined and before the
	// answer returns; its error replaces the answer.
	onComplete func(ctx context.Context) error
}

func newFakeMultipart(t *testing.T) *fakeMultipart {
	m := &fakeMultipart{parts: map[string]map[int][]byte{}, objects: map[string][]byte{},
		meta: map[string]Metadata{}, keys: map[string]string{}, initiated: map[string]time.Time{}, objectMeta: map[string]Metadata{}}
	m.caps = Capabilities{Resign: true, Multipart: true}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	m.base = m.srv.URL
	return m
}

func (m *fakeMultipart) serve(w http.ResponseWriter, r *http.Request) {
	// /part/<upload>/<n>
	f := strings.Split(strings.TrimPrefix(r.URL.Path, "/part/"), "/")
	if len(f) != 2 {
		http.Error(w, "bad path", 400)
		return
	}
	n, _ := strconv.Atoi(f[1])
	cur := m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	for {
		old := m.peak.Load()
		if cur <= old || m.peak.CompareAndSwap(old, cur) {
			break
		}
	}
	if m.fail != nil && m.fail(w, r, f[0], n) {
		return
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if want := r.Header.Get("X-Part-Crc"); want != "" && want != strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `<Error><Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message></Error>`)
		return
	}
	m.partBytes.Add(int64(len(b)))
	m.mu.Lock()
	if m.parts[f[0]] == nil {
		m.mu.Unlock()
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>`)
		return
	}
	m.parts[f[0]][n] = b
	m.mu.Unlock()
	sum := md5.Sum(b)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
}

func (m *fakeMultipart) WantsChecksum(File) bool { return true }

func (m *fakeMultipart) CreateMultipart(_ context.Context, f File, md Metadata) (Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	id := "up" + strconv.Itoa(m.nextID)
	m.parts[id] = map[int][]byte{}
	m.meta[id], m.keys[id], m.initiated[id] = md, f.Key, time.Now()
	if m.createLost.Add(-1) >= 0 {
		return Upload{}, fmt.Errorf("read tcp: %w", syscall.ECONNRESET) // created, but the answer never came back
	}
	return Upload{Key: f.Key, UploadID: id}, nil
}

func (m *fakeMultipart) ListUploads(_ context.Context, f File) ([]Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Upload
	for id := range m.parts {
		if m.keys[id] == f.Key {
			out = append(out, Upload{Key: f.Key, UploadID: id, Initiated: m.initiated[id].Truncate(time.Second)})
		}
	}
	return out, nil
}

func (m *fakeMultipart) StatObject(_ context.Context, key string) (int64, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return -1, "", nil
	}
	return int64(len(b)), `"whole-etag-2"`, nil
}

// foreignUpload is an upload to key another client began a minute ago.
func (m *fakeMultipart) foreignUpload(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := "foreign-" + key
	m.parts[id] = map[int][]byte{}
	m.keys[id], m.initiated[id] = key, time.Now().Add(-time.Minute)
	return id
}

func (m *fakeMultipart) PartTarget(_ context.Context, u Upload, n int, _ int64, crc uint32) (Target, error) {
	h := http.Header{}
	h.Set("X-Part-Crc", strconv.FormatUint(uint64(crc), 10))
	return Target{Method: http.MethodPut, URL: fmt.Sprintf("%s/part/%s/%d?X-Amz-Signature=deadbeefsig", m.srv.URL, u.UploadID, n), Header: h, Key: u.Key}, nil
}

func (m *fakeMultipart) ListParts(_ context.Context, u Upload) ([]Part, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listFail.Add(-1) >= 0 {
		return nil, fmt.Errorf("read tcp: %w", syscall.ECONNRESET)
	}
	ps, ok := m.parts[u.UploadID]
	if !ok {
		return nil, &ServerError{Status: 404, Code: "NoSuchUpload", Message: "The specified upload does not exist."}
	}
	var out []Part
	for n, b := range ps {
		sum := md5.Sum(b)
		out = append(out, Part{Number: n, Size: int64(len(b)), ETag: `"` + hex.EncodeToString(sum[:]) + `"`})
	}
	return out, nil
}

func (m *fakeMultipart) CompleteMultipart(ctx context.Context, u Upload, parts []Part) (string, error) {
	etag, err := m.complete(u, parts)
	if err == nil && m.onComplete != nil {
		err = m.onComplete(ctx)
	}
	return etag, err
}

func (m *fakeMultipart) complete(u Upload, parts []Part) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := m.parts[u.UploadID]
	if len(ps) != len(parts) {
		return "", fmt.Errorf("complete with %d parts, server has %d", len(parts), len(ps))
	}
	var whole []byte
	for i, p := range parts {
		if p.Number != i+1 {
			return "", fmt.Errorf("parts out of order")
		}
		whole = append(whole, ps[p.Number]...)
	}
	m.objects[u.Key] = whole
	m.objectMeta[u.Key] = m.meta[u.UploadID]
	delete(m.parts, u.UploadID)
	m.completed = append(m.completed, u.UploadID)
	return `"whole-etag-2"`, nil
}

func (m *fakeMultipart) AbortMultipart(_ context.Context, u Upload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.parts, u.UploadID)
	m.aborted = append(m.aborted, u.UploadID)
	return nil
}

func (m *fakeMultipart) openUploads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.parts)
}

func mpOptions(o Options) Options {
	o.MultipartThreshold = 8 << 20
	if o.PartSize == 0 {
		o.PartSize = 5 << 20
	}
	return o
}

func TestMultipartUploadsPartsInParallelAndJoinsThem(t *testing.T) {
	m := newFakeMultipart(t)
	const size = 40<<20 + 12345
	f, data := writeFile(t, t.TempDir(), "big.bin", size)
	events, p := run(t, m, mpOptions(Options{Concurrency: 4}), f)
	last := lastOf(events, 0)
	if last.Kind != EventDone {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Fatal("assembled object differs from the file")
	}
	r := last.Result
	if r.Parts != 9 || r.Bytes != size || r.CRC32 != crc32.ChecksumIEEE(data) || r.ETag != "whole-etag-2" {
		t.Errorf("result %+v (want 9 parts, crc %08x)", r, crc32.ChecksumIEEE(data))
	}
	if got := m.peak.Load(); got != 4 {
		t.Errorf("peak parts in flight %d, want 4 (one file, four workers)", got)
	}
	if st := p.Snapshot(nil)[0]; st.Sent != size || st.Parts != 9 {
		t.Errorf("snapshot sent %d parts %d", st.Sent, st.Parts)
	}
}

func TestMultipartPartRetryTakesBackOnlyItsBytes(t *testing.T) {
	m := newFakeMultipart(t)
	var resets atomic.Int32
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if n%2 == 0 && resets.Add(1) <= 3 {
			return resetAfter(1, 1<<20)(w, r, 0)
		}
		return false
	}
	const size = 30 << 20
	f, data := writeFile(t, t.TempDir(), "big.bin", size)
	p := New(m, mpOptions(Options{Concurrency: 3, Retries: 4, BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond}))
	ctx := context.Background()
	p.Start(ctx)
	go func() {
		for range p.Events() {
		}
	}()
	var worst atomic.Int64
	stop := sampleSnapshots(p, func(buf []FileStatus) {
		if len(buf) == 1 && buf[0].Sent > worst.Load() {
			worst.Store(buf[0].Sent)
		}
	})
	p.Add(f)
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	stop()
	p.Close()
	if w := worst.Load(); w > size {
		t.Errorf("progress reached %d of %d bytes", w, size)
	}
	if st := p.Snapshot(nil)[0]; st.State != StateDone || st.Sent != size {
		t.Errorf("final %v sent %d", st.State, st.Sent)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("object differs")
	}
}

func TestMultipartPermanentPartFailureAbortsUpload(t *testing.T) {
	m := newFakeMultipart(t)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if n != 3 {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(403)
		_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return true
	}
	f, _ := writeFile(t, t.TempDir(), "big.bin", 30<<20)
	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Retries: 3, Journal: OpenJournal(t.TempDir())}), f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "part 3") || last.Code != "AccessDenied" {
		t.Fatalf("last %v %v %q", last.Kind, last.Err, last.Code)
	}
	if len(m.aborted) != 1 || m.openUploads() != 0 {
		t.Errorf("aborted %v, %d uploads left open", m.aborted, m.openUploads())
	}
	if len(m.objects) != 0 {
		t.Error("an object was completed from a failed upload")
	}
}

func TestMultipartCancelAbortsUpload(t *testing.T) {
	m := newFakeMultipart(t)
	started := make(chan struct{}, 16)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		started <- struct{}{}
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return true
	}
	f, _ := writeFile(t, t.TempDir(), "big.bin", 30<<20)
	p := New(m, mpOptions(Options{Concurrency: 2, Journal: OpenJournal(t.TempDir())}))
	p.Start(context.Background())
	log := collectEvents(p)
	ids := p.Add(f)
	<-started
	p.Cancel(ids[0])
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	events := log.wait()
	if last := lastOf(events, 0); last.Kind != EventCanceled {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	if len(m.aborted) != 1 || m.openUploads() != 0 {
		t.Errorf("aborted %v, %d uploads left open", m.aborted, m.openUploads())
	}
}

func TestMultipartInterruptAbortsQueuedParts(t *testing.T) {
	m := newFakeMultipart(t)
	started := make(chan struct{}, 16)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		started <- struct{}{}
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return true
	}
	f, _ := writeFile(t, t.TempDir(), "big.bin", 30<<20)
	ctx, cancel := context.WithCancel(context.Background())
	p := New(m, mpOptions(Options{Concurrency: 1}))
	p.Start(ctx)
	go func() {
		for range p.Events() {
		}
	}()
	p.Add(f)
	<-started
	begin := time.Now()
	cancel()
	p.Close()
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("interrupt took %v", d)
	}
	if m.openUploads() != 0 || len(m.aborted) != 1 {
		t.Errorf("after interrupt: %d open, aborted %v", m.openUploads(), m.aborted)
	}
	if s := p.Summary(); s.Canceled != 1 {
		t.Errorf("summary %+v", s)
	}
}

func TestMultipartResumesFromJournal(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	// First run: parts 5 and later lose their connection every time, as if
	// the network went away partway.
	var down atomic.Bool
	down.Store(true)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if down.Load() && n >= 5 {
			return resetAfter(1, 64<<10)(w, r, 0)
		}
		return false
	}
	const size = 50 << 20 // 10 parts of 5 MiB
	f, data := writeFile(t, t.TempDir(), "big.bin", size)
	events, _ := run(t, m, mpOptions(Options{Concurrency: 1, Retries: 1, Journal: journal}), f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "resume") {
		t.Fatalf("first run: %v %v", last.Kind, last.Err)
	}
	if m.openUploads() != 1 {
		t.Fatalf("the interrupted upload was not kept for a resume (%d open)", m.openUploads())
	}
	if n, _ := journal.Pending(); n != 1 {
		t.Fatalf("journal holds %d uploads, want 1", n)
	}

	down.Store(false)
	before := m.partBytes.Load()
	events, p := run(t, m, mpOptions(Options{Concurrency: 2, Journal: journal}), f)
	last = lastOf(events, 0)
	if last.Kind != EventDone {
		t.Fatalf("second run: %v %v", last.Kind, last.Err)
	}
	var resumed int64
	for _, e := range events {
		if e.Kind == EventResumed {
			resumed = e.Resumed
		}
	}
	if resumed != 4*(5<<20) {
		t.Errorf("resumed %d bytes, want the 4 parts that made it", resumed)
	}
	again := m.partBytes.Load() - before
	if again > size*6/10 {
		t.Errorf("resume sent %d of %d bytes again (≥ 60%%)", again, size)
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("resumed object differs")
	}
	if st := p.Snapshot(nil)[0]; st.Sent != size {
		t.Errorf("resumed progress ended at %d of %d", st.Sent, size)
	}
	if n, _ := journal.Pending(); n != 0 {
		t.Errorf("journal still holds %d uploads after completing", n)
	}
	if last.Result.CRC32 != crc32.ChecksumIEEE(data) {
		t.Errorf("crc of resumed upload %08x", last.Result.CRC32)
	}
}

func TestMultipartChangedFileIsNotResumed(t *testing.T) {
	m := newFakeMultipart(t)
	journal := OpenJournal(t.TempDir())
	var down atomic.Bool
	down.Store(true)
	m.fail = func(w http.ResponseWriter, r *http.Request, id string, n int) bool {
		if down.Load() && n >= 2 {
			return resetAfter(1, 64<<10)(w, r, 0)
		}
		return false
	}
	f, _ := writeFile(t, t.TempDir(), "big.bin", 20<<20)
	run(t, m, mpOptions(Options{Concurrency: 1, Retries: 0, Journal: journal}), f)
	if m.openUploads() != 1 {
		t.Fatal("no upload kept to resume")
	}
	// Change the file: same size, new content and time.
	data := bytes.Repeat([]byte("x"), 20<<20)
	if err := os.WriteFile(f.Path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(f.Path, later, later)
	f = fileOf(t, f.Path, f.Name)
	down.Store(false)
	events, _ := run(t, m, mpOptions(Options{Concurrency: 2, Journal: journal}), f)
	for _, e := range events {
		if e.Kind == EventResumed {
			t.Error("a changed file was resumed")
		}
	}
	if !bytes.Equal(m.objects["big.bin"], data) {
		t.Error("object is not the changed file")
	}
	if len(m.aborted) != 1 || m.openUploads() != 0 {
		t.Errorf("stale upload not aborted: aborted %v open %d", m.aborted, m.openUploads())
	}
}

func TestPartSize(t *testing.T) {
	for _, c := range []struct{ size, want, got int64 }{
		{100 << 20, 0, 16 << 20},
		{100 << 20, 1 << 20, 5 << 20},     // raised to the 5 MiB minimum
		{500 << 30, 0, 52 << 20},          // 10,000 parts of 16 MiB is too few
		{5 << 40, 0, 525 << 20},           // S3's largest object: 10,000 parts of 525 MiB
		{60 << 40, 0, 5 << 30},            // capped at 5 GiB
		{1 << 30, 64 << 20, 64 << 20},     // as asked
		{48828 << 20, 0, 16 << 20},        // 16 MiB still fits in 10,000 parts
		{(160000 << 20) + 1, 0, 17 << 20}, // one byte over 10,000 × 16 MiB
	} {
		got := PartSize(c.size, c.want)
		if got != c.got {
			t.Errorf("PartSize(%d, %d) = %d, want %d", c.size, c.want, got, c.got)
		}
		if n := (c.size + got - 1) / got; n > maxParts && got < maxPartSize {
			t.Errorf("PartSize(%d) gives %d parts", c.size, n)
		}
	}
}

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for range 50 {
		cuts := []int{0, len(data)}
		for range rng.IntN(6) {
			cuts = append(cuts, rng.IntN(len(data)))
		}
		sort.Ints(cuts)
		var crc uint32
		for i := 1; i < len(cuts); i++ {
			part := data[cuts[i-1]:cuts[i]]
			crc = crc32Combine(crc, crc32.ChecksumIEEE(part), int64(len(part)))
		}
		if want := crc32.ChecksumIEEE(data); crc != want {
			t.Fatalf("cuts %v: combined %08x, want %08x", cuts, crc, want)
		}
	}
}

// hangingCreate never answers CreateMultipart until its context ends: a
// stalled network on a control call must fail the file, not hold it.
type hangingCreate struct{ *fakeMultipart }

func (h hangingCreate) CreateMultipart(ctx context.Context, _ File, _ Metadata) (Upload, error) {
	<-ctx.Done()
	return Upload{}, ctx.Err()
}

func TestMultipartControlCallsTimeOut(t *testing.T) {
	m := newFakeMultipart(t)
	f, _ := writeFile(t, t.TempDir(), "big.bin", 10<<20)
	start := time.Now()
	events, _ := run(t, hangingCreate{m}, mpOptions(Options{StallTimeout: 100 * time.Millisecond}), f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "starting the multipart upload") {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a hung CreateMultipart held the file for %v", d)
	}
}

// TestPartsForIsWhatTheEngineDoes: the review (ui) says how a file goes up
// with PartsFor; the engine sends it the same way, because it decides with
// the same function.
func TestPartsForIsWhatTheEngineDoes(t *testing.T) {
	m := newFakeMultipart(t)
	dir := t.TempDir()
	small, _ := writeFile(t, dir, "small.bin", 8<<20-1)
	big, _ := writeFile(t, dir, "big.bin", 21<<20+7)
	opts := mpOptions(Options{Concurrency: 2})
	if n := PartsFor(m, opts, small.Size); n != 0 {
		t.Errorf("a file under the threshold: %d parts, want a single PUT", n)
	}
	if n := PartsFor(m, opts, big.Size); n != 5 {
		t.Errorf("21 MiB in 5 MiB parts: %d parts, want 5", n)
	}
	events, _ := run(t, m, opts, big, small)
	last := lastOf(events, 0)
	if last.Kind != EventDone {
		t.Fatalf("big.bin: %v %v", last.Kind, last.Err)
	}
	if last.Result.Parts != 5 {
		t.Errorf("big.bin went up in %d parts; PartsFor said 5", last.Result.Parts)
	}
	// The fake takes parts only, so small.bin's single PUT is refused there;
	// what counts is that no multipart upload was created for it.
	if m.nextID != 1 {
		t.Errorf("%d multipart uploads created, want 1 (big.bin's)", m.nextID)
	}
	// A source that cannot do multipart (given URLs, the local store) sends
	// every file in one PUT, however big; so does one that could but says
	// it cannot.
	if n := PartsFor(&testSource{}, opts, 1<<40); n != 0 {
		t.Errorf("a source without multipart: %d parts", n)
	}
	m.caps.Multipart = false
	if n := PartsFor(m, opts, big.Size); n != 0 {
		t.Errorf("multipart turned off: %d parts", n)
	}
	// The defaults: 64 MiB threshold, 16 MiB parts; more than 10,000 parts
	// grow the part size.
	m.caps.Multipart = true
	if n := PartsFor(m, Options{}, 64<<20-1); n != 0 {
		t.Errorf("just under the default threshold: %d parts", n)
	}
	if n := PartsFor(m, Options{}, 100<<20); n != 7 {
		t.Errorf("100 MiB by default: %d parts, want 7", n)
	}
	if n := PartsFor(m, Options{}, 1<<40); n > 10_000 {
		t.Errorf("1 TiB: %d parts, over S3's 10,000", n)
	}
}
