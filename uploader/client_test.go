package uploader

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
