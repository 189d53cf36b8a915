package uploader

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemoryDoesNotGrowWithFileSize streams a 1 GiB sparse file (no disk
// used) to a server that discards it, sampling the heap the whole time.
func TestMemoryDoesNotGrowWithFileSize(t *testing.T) {
	const size = 1 << 30
	var got atomic.Int64
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		c, _ := io.Copy(io.Discard, r.Body)
		got.Store(c)
		w.WriteHeader(http.StatusOK)
		return true
	})
	p := filepath.Join(t.TempDir(), "sparse.img")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Truncate(size); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	f := fileOf(t, p, "sparse.img")

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		tk := time.NewTicker(10 * time.Millisecond)
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
	events, _ := run(t, &testSource{base: rec.URL, wantCRC: true}, Options{}, f)
	close(stop)
	<-sampled
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	if got.Load() != size {
		t.Fatalf("server got %d bytes", got.Load())
	}
	const limit = 32 << 20
	t.Logf("heap: %d MiB before, peak %d MiB while sending 1 GiB", base.HeapAlloc>>20, peak.Load()>>20)
	if peak.Load() > limit {
		t.Errorf("heap peaked at %d MiB uploading 1 GiB; want under 32 MiB", peak.Load()>>20)
	}
}
