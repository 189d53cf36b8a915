package uploader

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// readSizes records the largest read asked of it.
type readSizes struct {
	r       io.Reader
	largest int
}

func (s *readSizes) Read(p []byte) (int, error) {
	s.largest = max(s.largest, len(p))
	return s.r.Read(p)
}

// TestBodyIsReadInBigChunks sends a body through NewClient's own transport:
// each read of it is one pread of the file and one socket write, so the
// size net/http asks for sets the system calls per GiB. Left to itself,
// net/http reads 32 KiB at a time.
func TestBodyIsReadInBigChunks(t *testing.T) {
	const size = 1 << 20
	var got int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	client := NewClient()
	defer client.CloseIdleConnections()

	body := &readSizes{r: io.LimitReader(strings.NewReader(strings.Repeat("x", size)), size)}
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/k", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drainClose(resp.Body)
	if got != size {
		t.Fatalf("the server read %d bytes; want %d", got, size)
	}
	if body.largest < 256<<10 {
		t.Errorf("the transport read the body %d bytes at a time; want 256 KiB", body.largest)
	}
}

// writeCounter counts the writes made on its connection.
type writeCounter struct {
	net.Conn
	writes *atomic.Int64
}

func (c writeCounter) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A small file leaves in the same write as its request's headers: net/http
// writes the headers first and the body after for a body it does not know
// to be in memory, and at 100,000 small files the second write (and the
// second segment the server takes in) was 6% of hoist's CPU and 5–9% of
// versitygw's. Its bytes, CRC32 and events are those of any other file.
func TestSmallFileLeavesInOneWrite(t *testing.T) {
	rec := newRecorder(t, nil)
	dir := t.TempDir()
	var writes atomic.Int64
	client := NewClient()
	tr := client.Transport.(*http.Transport)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return writeCounter{c, &writes}, nil
	}
	defer client.CloseIdleConnections()
	for _, size := range []int{1, 1 << 10, smallBody, smallBody + 1} {
		writes.Store(0)
		f, data := writeFile(t, dir, fmt.Sprintf("f%d", size), size)
		events, _ := run(t, &testSource{base: rec.URL}, Options{Client: client, Concurrency: 1}, f)
		done := lastOf(events, 0)
		if done.Kind != EventDone || done.Result.Bytes != int64(size) || done.Result.CRC32 != crc32.ChecksumIEEE(data) {
			t.Fatalf("%d bytes: last event %+v; want done with %d bytes and CRC32 %08x", size, done, size, crc32.ChecksumIEEE(data))
		}
		if !slices.Contains(kinds(events, 0), EventAwaiting) {
			t.Errorf("%d bytes: no awaiting event once the body was written: %v", size, kinds(events, 0))
		}
		reqs := rec.requests()
		if got := reqs[len(reqs)-1].Body; !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: the server got %d different bytes", size, len(got))
		}
		switch n := writes.Load(); {
		case size <= smallBody && n != 1:
			t.Errorf("a file of %d bytes took %d writes; want 1, with the headers", size, n)
		case size > smallBody && n < 2:
			t.Errorf("a file of %d bytes took %d writes; a body over smallBody streams after the headers", size, n)
		}
	}
}
