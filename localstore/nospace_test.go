package localstore

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/spf13/afero"

	"hoist/source"
	"hoist/uploader"
)

// fullFs is a disk with no space left: every write to a file fails ENOSPC.
type fullFs struct{ afero.Fs }

func (f fullFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return fullFile{file}, nil
}

func (f fullFs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

type fullFile struct{ afero.File }

func (f fullFile) Write(p []byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func (f fullFile) ReadFrom(r interface{ Read([]byte) (int, error) }) (int64, error) {
	return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// serveOn runs the store's HTTP stack (gofakes3 + the full-disk answer) on
// backend, counting requests.
func serveOn(t *testing.T, dir string, backend *stagedBackend) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	if err := backend.CreateBucket(Bucket); err != nil && !gofakes3.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	var n atomic.Int32
	h := noSpaceHandler{next: gofakes3.New(backend).Server(), dir: dir}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			n.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func uploadTo(t *testing.T, endpoint string, f uploader.File) uploader.Event {
	t.Helper()
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: Bucket, EndpointURL: endpoint, AccessKey: "k", SecretKey: "s", PathStyle: true, MaxSinglePut: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := uploader.New(src, uploader.Options{Retries: 5, BackoffInitial: time.Millisecond, BackoffMax: time.Millisecond})
	p.Start(context.Background())
	var last uploader.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range p.Events() {
			if e.Kind != uploader.EventAwaiting {
				last = e
			}
		}
	}()
	p.Add(f)
	_ = p.Wait(context.Background())
	p.Close()
	<-done
	return last
}

func fileOf(t *testing.T, name string, size int) uploader.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	b := make([]byte, size)
	_, _ = rand.Read(b)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	return uploader.File{Path: p, Name: name, Key: name, Size: st.Size(), ModTime: st.ModTime()}
}

// TestFullDiskIsSaidAndNotRetried (issue 13 item 15): a full disk was "500
// InternalError … a retry will not help" after 5 retries, never naming the
// cause. It is "no space left on DIR", answered 507 and not retried, and
// nothing is left behind.
func TestFullDiskIsSaidAndNotRetried(t *testing.T) {
	dir := t.TempDir()
	backend, err := newStagedBackendOn(dir, fullFs{afero.NewBasePathFs(afero.NewOsFs(), dir)})
	if err != nil {
		t.Fatal(err)
	}
	srv, puts := serveOn(t, dir, backend)
	last := uploadTo(t, srv.URL, fileOf(t, "a.bin", 100_000))
	if last.Kind != uploader.EventFailed {
		t.Fatalf("last event %v, want failed", last.Kind)
	}
	if msg := last.Err.Error(); !strings.Contains(msg, "no space left on "+dir) {
		t.Errorf("error %q does not say the disk is full", msg)
	}
	if n := puts.Load(); n != 1 {
		t.Errorf("%d PUTs, want 1: a full disk is not worth a retry", n)
	}
	assertNoLeftovers(t, dir)
}

// TestLongNamesLeaveNothingBehind: a key of 223–255 bytes was stored, then
// gofakes3's metadata file (the key plus 33 bytes) could not be named: 500,
// and the object stayed. Such a key is refused before a byte is written.
func TestLongNamesLeaveNothingBehind(t *testing.T) {
	dir := t.TempDir()
	backend, err := newStagedBackend(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, puts := serveOn(t, dir, backend)
	ok := strings.Repeat("n", maxKey-4) + ".bin"
	if last := uploadTo(t, srv.URL, fileOf(t, ok, 1000)); last.Kind != uploader.EventDone {
		t.Fatalf("a %d-byte name: %v %v", len(ok), last.Kind, last.Err)
	}
	for _, n := range []int{223, 240, 255} {
		name := strings.Repeat("x", n-4) + ".bin"
		before := puts.Load()
		last := uploadTo(t, srv.URL, fileOf(t, name, 1000))
		if last.Kind != uploader.EventFailed || !strings.Contains(last.Err.Error(), "local store can keep") {
			t.Errorf("a %d-byte name: %v %v, want failed: too long for the store", n, last.Kind, last.Err)
		}
		if got := puts.Load() - before; got != 1 {
			t.Errorf("a %d-byte name: %d PUTs, want 1 (not retried)", n, got)
		}
		if _, err := os.Stat(filepath.Join(dir, "buckets", Bucket, name)); err == nil {
			t.Errorf("a %d-byte name left its object behind", n)
		}
	}
	if err := CheckKey(strings.Repeat("y", 223)); err == nil {
		t.Error("CheckKey accepts a 223-byte key")
	}
}

func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}
