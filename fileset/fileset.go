// Package fileset decides which files a run can send, the object key each one
// gets and how each is named: the one rule that headless PATHs, the picker,
// manifests and the engine's check at send time all use.
//
// The rules, in one place:
//   - Only regular files are sent. Inside a picked folder, links to files are
//     followed, links to folders are not (they are how loops happen), and
//     special files (FIFOs, sockets, devices) are skipped and counted. A file
//     that cannot be read is a problem found before anything is sent.
//   - A file's key is its path relative to what was picked: a picked file is
//     its base name; a file in a picked folder is the folder's name, a slash
//     and its path inside the folder — except for ".", ".." and "/", whose
//     files go at the top, never under a ".." segment.
//   - A file's name is what the person called it: the path as given (or as
//     picked), joined with its path inside a picked folder.
package fileset

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// File is one file to upload, as the picker or the command line found it.
type File struct {
	Path    string    // where it is on disk
	Name    string    // what a person calls it: the path as given, or as picked, joined with its path inside a picked folder
	Key     string    // the object key (slash-separated, see Key); sources may add a prefix
	Size    int64     // size when it was chosen; a different size at send time is an error
	ModTime time.Time // likewise

	// CRC32 (IEEE, as S3's x-amz-checksum-crc32) of the whole file, set by the
	// engine before a source is asked for a URL when the source wants it.
	CRC32    uint32
	HasCRC32 bool
}

// Kind says what a file that is not a regular file is, in the words every
// message uses ("a named pipe (FIFO)").
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	}
	return "a special file"
}

// Problem words an error from opening or reading a path, with what to do.
func Problem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or folder; check the path"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied reading it; check its permissions"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "cannot open it: " + pe.Err.Error()
	}
	return err.Error()
}

// notRegular is the problem of a path that is not a regular file.
func notRegular(m fs.FileMode) error { return notRegularError{m} }

// ErrDirectory is what Open's error is (errors.Is) when the path names a
// folder, for callers that must say a file is wanted there.
var ErrDirectory = errors.New("it is a directory")

type notRegularError struct{ mode fs.FileMode }

func (e notRegularError) Error() string {
	return fmt.Sprintf("it is %s, not a regular file; pick a file", Kind(e.mode))
}

func (e notRegularError) Is(target error) bool { return target == ErrDirectory && e.mode.IsDir() }

// Open opens path for sending: it must still be a regular file that can be
// read. It stats before opening, since opening a FIFO would wait for a writer
// forever, and again after, since the path may have changed in between. The
// error is one line saying what is wrong (without the path: callers name the
// file).
func Open(path string) (*os.File, fs.FileInfo, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, nil, errors.New(Problem(err))
	} else if !st.Mode().IsRegular() {
		return nil, nil, notRegular(st.Mode())
	}
	f, err := openRead(path)
	if err != nil {
		return nil, nil, errors.New(Problem(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, errors.New(Problem(err))
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(st.Mode())
	}
	if err := knownSize(f, st.Size()); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// errSizeUnknown: a regular file whose size the kernel does not know.
var errSizeUnknown = errors.New("its size is not known before it is read (a file the kernel makes up as it is read, like those in /proc or /sys); copy it to a regular file and upload the copy")

// knownSize refuses a file that says it is empty but is not: files in /proc
// and /sys report size 0 and yield bytes, and an upload needs its exact
// length before the first byte goes out.
func knownSize(f io.ReaderAt, size int64) error {
	if size != 0 {
		return nil
	}
	var b [1]byte
	if n, _ := f.ReadAt(b[:], 0); n > 0 {
		return errSizeUnknown
	}
	return nil
}

// readable is what Open would say of path, whose stat is st, before
// anything is sent: a file that is not regular or may not be read is an
// error. Where access(2) can tell, the file is not opened: at 100,000 files
// opening each was half of the time to list them (issue 15); Open has the
// last word when the file is sent. A file that says it is empty is opened
// all the same, as files in /proc say so and have bytes (knownSize).
func readable(path string, st fs.FileInfo) (fs.FileInfo, error) {
	if !st.Mode().IsRegular() {
		return nil, notRegular(st.Mode())
	}
	if st.Size() > 0 {
		if err := access(path); err != nil {
			return nil, errors.New(Problem(err))
		}
		return st, nil
	}
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	return st, nil
}

// Prefix is the key prefix a picked folder gives its files: the folder's own
// name; nothing for ".", ".." and "/" (their files go at the top).
func Prefix(picked string) string {
	base := filepath.Base(filepath.Clean(picked))
	switch base {
	case ".", "..", string(filepath.Separator):
		return ""
	}
	return base
}

// Key is the object key of the file at rel (an OS path) inside a picked
// folder; for a picked file, rel is "" and the key is its base name. picked
// is the path as the person named it, so "hoist .." and picking ".." in the
// TUI give the same keys.
func Key(picked, rel string) string {
	if rel == "" {
		return filepath.Base(filepath.Clean(picked))
	}
	return path.Join(Prefix(picked), filepath.ToSlash(rel))
}

// CheckKey refuses a key (or a key prefix, with a trailing slash allowed)
// that a server would normalise to somewhere else: empty, ".", ".." or empty
// segments, or a leading slash.
func CheckKey(key string) error {
	if key == "" {
		return errors.New("the object key is empty")
	}
	for _, seg := range strings.Split(strings.TrimSuffix(key, "/"), "/") {
		switch seg {
		case "":
			return fmt.Errorf("the object key %q has an empty segment (a leading or doubled slash)", key)
		case ".", "..":
			return fmt.Errorf("the object key %q has a %q segment, which a server resolves to another place", key, seg)
		}
	}
	return nil
}

// Root is one thing the person picked: a file or a folder.
type Root struct {
	Path string // on disk
	Name string // what the person called it; "" means Path, cleaned
}

func (r Root) name() string {
	if r.Name != "" {
		return r.Name
	}
	return filepath.Clean(r.Path)
}

// Set is what a run can send from what was picked.
type Set struct {
	Files   []File
	Special int // special files, broken links and links to folders inside picked folders: passed over
}

// Collect turns what was picked into files. Anything that cannot be sent is
// an error naming it, before anything is sent: a path that does not exist,
// a special file picked by name, a file or folder that cannot be read.
func Collect(roots []Root) (Set, error) {
	l, special, err := CollectList(roots)
	if err != nil {
		return Set{}, err
	}
	return Set{Files: l.Files(), Special: special}, nil
}

// Walk finds every regular file under a picked folder, sorted by key. Links
// to files are followed; links to folders are not, and special files are
// skipped and counted. A file or folder inside that cannot be read is an
// error naming it.
func Walk(r Root) (Set, error) {
	l := &List{}
	_, special, err := l.walk(r)
	if err != nil {
		return Set{}, err
	}
	return Set{Files: l.Files(), Special: special}, nil
}
