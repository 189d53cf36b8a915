package localstore

import (
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// gofakes3's filesystem backend writes a body straight into the object's
// final path and leaves whatever arrived when the body stops early: a
// canceled upload would look uploaded, and a failed overwrite would destroy
// the good copy. The two wrappers below make a PUT all or nothing: the bytes
// go to a staging file, which becomes the object only once the whole body
// arrived, and is removed otherwise.

// stagingDir holds bodies in flight, beside buckets/ so a rename moves them.
const stagingDir = ".staging"

// stagingFs is the buckets' filesystem with Create redirected to a staging
// file that is renamed into place on Close when commit says the body was
// complete. Only objects are created through it (metadata has its own fs).
type stagingFs struct {
	afero.Fs
	mu     sync.Mutex
	commit func() bool // the current PUT's verdict; nil means "not inside a PUT"
}

func (s *stagingFs) setCommit(f func() bool) {
	s.mu.Lock()
	s.commit = f
	s.mu.Unlock()
}

func (s *stagingFs) Create(name string) (afero.File, error) {
	if err := s.Fs.MkdirAll(stagingDir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := afero.TempFile(s.Fs, stagingDir, "put-")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	commit := s.commit
	s.mu.Unlock()
	return &stagedFile{File: tmp, fs: s.Fs, final: name, commit: commit}, nil
}

type stagedFile struct {
	afero.File
	fs     afero.Fs
	final  string
	commit func() bool
	once   sync.Once
	err    error
}

// Close ends the write: rename into place when the body was complete,
// remove the staging file otherwise. gofakes3 may close twice.
func (f *stagedFile) Close() error {
	f.once.Do(func() {
		tmp := f.File.Name()
		if f.err = f.File.Close(); f.err != nil {
			_ = f.fs.Remove(tmp)
			return
		}
		if f.commit == nil || !f.commit() {
			_ = f.fs.Remove(tmp)
			f.err = io.ErrUnexpectedEOF
			return
		}
		f.err = f.fs.Rename(tmp, f.final)
	})
	return f.err
}

// stagedBackend tells the staging fs whether each PUT's body arrived whole.
// gofakes3 already runs one PutObject at a time, so holding a lock around
// it costs nothing.
type stagedBackend struct {
	*s3afero.MultiBucketBackend
	fs *stagingFs
	mu sync.Mutex
}

func (b *stagedBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	in := &wholeReader{r: input, want: size}
	b.fs.setCommit(in.whole)
	defer b.fs.setCommit(nil)
	return b.MultiBucketBackend.PutObject(bucket, key, meta, in, size, cond)
}

// wholeReader knows whether it was read to a clean end at exactly want bytes.
type wholeReader struct {
	r    io.Reader
	want int64
	n    int64
	eof  bool
}

func (w *wholeReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.n += int64(n)
	if err == io.EOF {
		w.eof = true
	}
	return n, err
}

func (w *wholeReader) whole() bool { return w.eof && (w.want < 0 || w.n == w.want) }

// newStagedBackend opens the store in dir with all-or-nothing PUTs.
func newStagedBackend(dir string) (*stagedBackend, error) {
	base := afero.NewBasePathFs(afero.NewOsFs(), dir)
	// Leftovers of a run that died mid-PUT are never objects.
	_ = os.RemoveAll(filepath.Join(dir, stagingDir))
	if err := os.MkdirAll(filepath.Join(dir, "metadata"), 0o700); err != nil {
		return nil, err
	}
	fs := &stagingFs{Fs: base}
	backend, err := s3afero.MultiBucket(fs, s3afero.MultiWithMetaFs(afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(dir, "metadata"))))
	if err != nil {
		return nil, err
	}
	return &stagedBackend{MultiBucketBackend: backend, fs: fs}, nil
}
