package localstore_test

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hoist/uploader"
)

// cutShort sends n bytes of a body that claims size, then fails.
type cutShort struct{ n int }

func (c *cutShort) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errors.New("network gone")
	}
	k := min(len(p), c.n)
	for i := range p[:k] {
		p[i] = 'z'
	}
	c.n -= k
	return k, nil
}

func TestCutShortBodyLeavesNoObject(t *testing.T) {
	st := start(t)
	src := newSource(t, st)
	c := httpClient(t)
	ctx := context.Background()
	key := "report.bin"
	good := bytes.Repeat([]byte("good copy "), 100_000)

	// A first, whole upload.
	f := uploader.File{Name: key, Key: key, Size: int64(len(good)), CRC32: crc32.ChecksumIEEE(good), HasCRC32: true}
	tg, err := src.Target(ctx, f, uploader.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	send(t, c, tg, bytes.NewReader(good), int64(len(good)))

	// An overwrite whose body stops a third of the way.
	const size = 3 << 20
	f2 := uploader.File{Name: key, Key: key, Size: size, CRC32: 1, HasCRC32: true}
	tg2, err := src.Target(ctx, f2, uploader.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(tg2.Method, tg2.URL, io.NopCloser(&cutShort{n: size / 3}))
	req.ContentLength = size
	req.Header = tg2.Header.Clone()
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a cut-short body was answered %d", resp.StatusCode)
	}

	// The store finishes with the cut request on its own goroutine.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := os.ReadFile(st.PathFor(key))
		if err == nil && bytes.Equal(got, good) {
			entries, _ := os.ReadDir(filepath.Join(st.Dir(), ".staging"))
			if len(entries) == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a cut-short overwrite the object is %d bytes (want the good %d), err %v", len(got), len(good), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
