package uploader

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sealingSource wraps each file as a sharing source would: a body made from
// the file (here a per-target marker byte before every file byte, so the
// body is twice the file's size plus one), and a Finish that makes a link.
type sealingSource struct {
	testSource
	finishErr error

	mu     sync.Mutex
	bodies map[byte]int // marker → times its Body was made
	next   byte
}

type doubling struct {
	r      io.Reader
	marker byte
	sent   bool
	buf    []byte
}

func (d *doubling) Read(p []byte) (int, error) {
	if !d.sent {
		d.sent = true
		p[0] = d.marker
		return 1, nil
	}
	if len(d.buf) == 0 {
		in := make([]byte, max(len(p)/2, 1))
		n, err := d.r.Read(in)
		for _, b := range in[:n] {
			d.buf = append(d.buf, d.marker, b)
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

func (s *sealingSource) Target(ctx context.Context, f File, md Metadata) (Target, error) {
	tg, err := s.testSource.Target(ctx, f, md)
	if err != nil {
		return tg, err
	}
	s.mu.Lock()
	s.next++
	marker := s.next
	s.mu.Unlock()
	tg.BodySize = 2*f.Size + 1
	tg.Body = func(file io.Reader) io.Reader {
		s.mu.Lock()
		s.bodies[marker]++
		s.mu.Unlock()
		return &doubling{r: file, marker: marker}
	}
	tg.Finish = func(context.Context) (Share, error) {
		if s.finishErr != nil {
			return Share{}, s.finishErr
		}
		return Share{URL: "https://share.example/#t=" + string('a'+rune(marker)), Expires: time.Unix(1e9, 0)}, nil
	}
	return tg, nil
}

func TestWrappedBodyCountsFileBytesAndEachAttemptGetsAFreshTarget(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n > 0 {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	src := &sealingSource{testSource: testSource{base: rec.URL}, bodies: map[byte]int{}}
	f, data := writeFile(t, t.TempDir(), "a", 300_000)
	events, p := run(t, src, Options{Retries: 2}, f)
	last := lastOf(events, 0)
	if last.Kind != EventDone {
		t.Fatalf("last event %v (%v), want done", last.Kind, last.Err)
	}
	reqs := rec.requests()
	if len(reqs) != 2 || src.targets != 2 {
		t.Fatalf("%d requests from %d targets; want 2 and 2 (a fresh target for the retry)", len(reqs), src.targets)
	}
	for m, n := range src.bodies {
		if n != 1 {
			t.Errorf("target %d made its body %d times; a target serves one attempt", m, n)
		}
	}
	got := reqs[1]
	if got.Length != 2*f.Size+1 || int64(len(got.Body)) != got.Length {
		t.Fatalf("Content-Length %d, body %d; want BodySize %d", got.Length, len(got.Body), 2*f.Size+1)
	}
	if got.Body[0] != 2 || got.Body[2] != data[0] || got.Body[len(got.Body)-1] != data[len(data)-1] {
		t.Fatalf("the body is not the second target's wrapping of the file")
	}
	if r := last.Result; r.Bytes != f.Size || r.ShareURL != "https://share.example/#t=c" || r.ShareExpires.IsZero() {
		t.Fatalf("result %+v", r)
	}
	if st := p.Snapshot(nil)[0]; st.Sent != f.Size {
		t.Errorf("progress counted %d bytes, want the file's %d", st.Sent, f.Size)
	}
}

func TestFinishFailureFailsTheFile(t *testing.T) {
	rec := newRecorder(t, nil)
	src := &sealingSource{testSource: testSource{base: rec.URL}, bodies: map[byte]int{}, finishErr: errors.New("the upload did not fully arrive")}
	f, _ := writeFile(t, t.TempDir(), "a", 1000)
	events, p := run(t, src, Options{}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || last.Err == nil || last.Err.Error() != "the upload did not fully arrive" {
		t.Fatalf("last event %v (%v), want failed with Finish's error", last.Kind, last.Err)
	}
	if len(p.Results()) != 0 {
		t.Fatalf("a result for a file whose share was never made: %+v", p.Results())
	}
}

// prereading takes the whole file on its first Read, as a body that runs
// ahead of the file would, then hands it out as asked.
type prereading struct {
	file io.Reader
	rest []byte
	read bool
}

func (p *prereading) Read(b []byte) (int, error) {
	if !p.read {
		p.read = true
		all, err := io.ReadAll(p.file)
		if err != nil {
			return 0, err
		}
		p.rest = all
	}
	if len(p.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

type aheadSource struct{ testSource }

func (s *aheadSource) Target(ctx context.Context, f File, md Metadata) (Target, error) {
	tg, err := s.testSource.Target(ctx, f, md)
	tg.BodySize = f.Size
	tg.Body = func(file io.Reader) io.Reader { return &prereading{file: file} }
	return tg, err
}

// smallBuffers makes sockets with 64 KiB kernel buffers, so a slow reader
// holds its writer back at once instead of behind megabytes of loopback
// buffering.
func smallBuffers(_, _ string, c syscall.RawConn) error {
	var err error
	_ = c.Control(func(fd uintptr) {
		if err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10); err == nil {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 64<<10)
		}
	})
	return err
}

func TestWrappedBodyMovingSlowlyIsNotAStall(t *testing.T) {
	// The server takes the body steadily, 64 KiB every 50 ms: 2 MiB take
	// longer than the 500 ms stall timeout, while the file's own bytes were
	// all read at the start.
	ln, err := (&net.ListenConfig{Control: smallBuffers}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		for {
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				break
			}
			time.Sleep(50 * time.Millisecond) // the slow network being simulated, not synchronisation
		}
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	tr := &http.Transport{DialContext: (&net.Dialer{Control: smallBuffers}).DialContext}
	defer tr.CloseIdleConnections()

	f, _ := writeFile(t, t.TempDir(), "a", 2<<20)
	events, _ := run(t, &aheadSource{testSource{base: srv.URL}}, Options{Client: &http.Client{Transport: tr}, StallTimeout: 500 * time.Millisecond}, f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last event %v: %v", last.Kind, last.Err)
	}
}
