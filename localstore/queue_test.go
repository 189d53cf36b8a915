package localstore_test

import (
	"bytes"
	"context"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hoist/localstore"
	"hoist/uploader"
)

// heldReader gives its first bytes, then waits for release before the rest.
type heldReader struct {
	first, rest io.Reader
	release     <-chan struct{}
	held        bool
}

func (h *heldReader) Read(p []byte) (int, error) {
	if n, err := h.first.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	if !h.held {
		<-h.release
		h.held = true
	}
	return h.rest.Read(p)
}

// TestConcurrentPutsQueue records what localstore.OneAtATime rests on: while
// one PUT's body is being copied, another PUT gets no answer, however small,
// until the first is done (gofakes3's backend lock). If this fails, the
// store serves PUTs at once and hoist need not send it one at a time.
func TestConcurrentPutsQueue(t *testing.T) {
	if !localstore.OneAtATime {
		t.Fatal("the store is documented as one PUT at a time")
	}
	st := start(t)
	src := newSource(t, st)
	c := httpClient(t)
	target := func(key string, body []byte) uploader.Target {
		tg, err := src.Target(context.Background(), uploader.File{Name: key, Key: key, Size: int64(len(body)),
			CRC32: crc32.ChecksumIEEE(body), HasCRC32: true}, uploader.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}

	big := bytes.Repeat([]byte("a"), 256<<10)
	release := make(chan struct{})
	bigDone := make(chan struct{})
	go func() {
		defer close(bigDone)
		send(t, c, target("big", big), &heldReader{first: bytes.NewReader(big[:64<<10]), rest: bytes.NewReader(big[64<<10:]), release: release}, int64(len(big)))
	}()
	// The big PUT is inside the store's PutObject once its staging file exists.
	staging := filepath.Join(st.Dir(), ".staging")
	for deadline := time.Now().Add(10 * time.Second); ; {
		if ents, _ := os.ReadDir(staging); len(ents) > 0 {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the big PUT never reached the store's backend")
		}
		time.Sleep(5 * time.Millisecond)
	}

	small := []byte("small")
	smallDone := make(chan struct{})
	go func() {
		defer close(smallDone)
		send(t, c, target("small", small), bytes.NewReader(small), int64(len(small)))
	}()
	select {
	case <-smallDone:
		t.Error("a 5-byte PUT was answered while another PUT's body was being copied: the store takes PUTs at once")
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	<-bigDone
	<-smallDone
	for key, want := range map[string][]byte{"big": big, "small": small} {
		if got, err := os.ReadFile(st.PathFor(key)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v (equal=%v)", key, err, bytes.Equal(got, want))
		}
	}
}
