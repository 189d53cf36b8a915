package localstore

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

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
	fs  *stagingFs
	dir string
	mu  sync.Mutex
}

func (b *stagedBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	// Refused before a byte is written: gofakes3 would store the object,
	// then fail on its metadata file and leave the object behind.
	if err := CheckKey(key); err != nil {
		return gofakes3.PutObjectResult{}, gofakes3.ErrorMessage(gofakes3.ErrKeyTooLong, err.Error())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	in := &wholeReader{r: input, want: size}
	b.fs.setCommit(in.whole)
	defer b.fs.setCommit(nil)
	res, err := b.MultiBucketBackend.PutObject(bucket, key, meta, in, size, cond)
	if isNoSpace(err) {
		return res, noSpace(b.dir)
	}
	return res, err
}

// maxKey is the longest key the store keeps: gofakes3 names an object's
// metadata file after its whole key ("/" made "_") plus "-" and 32 hex
// digits, and a file name holds at most 255 bytes.
const maxKey = 255 - 33

// CheckKey says why the store cannot keep an object under key, or nil.
// Preflight calls it, so such a file is refused before anything is sent.
func CheckKey(key string) error {
	if len(key) > maxKey {
		return fmt.Errorf("its key is %d bytes long, more than the %d the local store can keep (with its folders); rename it, or use --s3", len(key), maxKey)
	}
	for _, seg := range strings.Split(key, "/") {
		if len(seg) > 255 {
			return fmt.Errorf("a name in its key is %d bytes long, more than a file name may be (255)", len(seg))
		}
	}
	return nil
}

// codeNoSpace is the store's answer when its disk is full: 507, as MinIO
// answers (XMinioStorageFull); a retry will not help until space is made.
const codeNoSpace = "InsufficientStorage"

func noSpace(dir string) error {
	return gofakes3.ErrorMessage(codeNoSpace, "no space left on "+dir)
}

func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
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
	return newStagedBackendOn(dir, afero.NewBasePathFs(afero.NewOsFs(), dir))
}

// newStagedBackendOn keeps objects in base, which is dir's filesystem (tests
// wrap it to fail as a full disk does).
func newStagedBackendOn(dir string, base afero.Fs) (*stagedBackend, error) {
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
	return &stagedBackend{MultiBucketBackend: backend, fs: fs, dir: dir}, nil
}

// noSpaceHandler answers 507 for the store's full-disk errors, which
// gofakes3 would send as 500 (its status comes from a fixed table of codes,
// and 500 invites retries that cannot help). A PUT whose body cannot fit in
// the space left is refused before it is read.
type noSpaceHandler struct {
	next http.Handler
	dir  string
}

func (h noSpaceHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && r.ContentLength > 0 {
		var st syscall.Statfs_t
		if syscall.Statfs(h.dir, &st) == nil && uint64(r.ContentLength) > st.Bavail*uint64(st.Bsize) {
			writeNoSpace(w, h.dir)
			return
		}
	}
	nw := &noSpaceWriter{ResponseWriter: w, dir: h.dir}
	h.next.ServeHTTP(nw, r)
	if nw.pending { // a 500 without a body (HEAD)
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// noSpaceWriter turns gofakes3's 500 for InsufficientStorage into a 507.
// gofakes3 writes its error document in one Write after the status.
type noSpaceWriter struct {
	http.ResponseWriter
	dir     string
	pending bool // a 500 whose body has not been seen yet
}

func (w *noSpaceWriter) WriteHeader(code int) {
	if code == http.StatusInternalServerError {
		w.pending = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noSpaceWriter) Write(b []byte) (int, error) {
	if w.pending {
		w.pending = false
		if strings.Contains(string(b), "<Code>"+codeNoSpace+"</Code>") {
			w.ResponseWriter.WriteHeader(http.StatusInsufficientStorage)
		} else {
			w.ResponseWriter.WriteHeader(http.StatusInternalServerError)
		}
	}
	return w.ResponseWriter.Write(b)
}

func writeNoSpace(w http.ResponseWriter, dir string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Connection", "close") // the body was not read
	w.WriteHeader(http.StatusInsufficientStorage)
	_, _ = fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>no space left on %s</Message></Error>", codeNoSpace, xmlEscape(dir))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
