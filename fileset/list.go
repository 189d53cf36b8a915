package fileset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// List is the files of a run, kept compactly: a headless run of 100,000
// files holds its whole list before the first byte is sent (every key is
// checked first), and a File is about 180 bytes with its three strings,
// where a List keeps about 45 (issue 15). A file found in a picked folder
// is kept as its path inside the folder; a picked file as its path. Nothing
// in a List points into the heap, so the garbage collector does not scan it.
// At builds a File on demand.
type List struct {
	roots []Root // picked folders
	names []byte // every record's path inside its folder, or its own path or base name, one after another
	// dirs are the folders of picked files, each once, ending in a
	// separator: 100,000 manifest lines in one folder keep it once, not
	// 100,000 times (issue 15). dirOf finds one while the list is built.
	dirs  []string
	dirOf map[string]int32
	recs  []rec  // in the run's order
	files []File // a list made of Files as they are (ListOf); recs is then unused
	total int64  // bytes of all files
}

// rec is one file of a List.
type rec struct {
	root    int32 // index in roots; -1: a picked file, names holds its path; -2-d: a picked file in dirs[d], names holds its base name
	off, n  uint32
	base    bool // a picked file shown by its base name (the picker's), not by its path
	size    int64
	modTime int64 // Unix nanoseconds
}

// ListOf is a List of files as they are (files fixed beforehand, such as
// `hoist history --retry`'s).
func ListOf(files []File) *List {
	l := &List{files: files}
	for _, f := range files {
		l.total += f.Size
	}
	return l
}

// Len is the number of files; a nil List has none.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	if l.files != nil {
		return len(l.files)
	}
	return len(l.recs)
}

// Total is the bytes of all the files, at the sizes they had when found.
func (l *List) Total() int64 {
	if l == nil {
		return 0
	}
	return l.total
}

// At is the i-th file.
func (l *List) At(i int) File {
	if l.files != nil {
		return l.files[i]
	}
	r := l.recs[i]
	name := string(l.names[r.off : r.off+r.n])
	f := File{Size: r.size, ModTime: time.Unix(0, r.modTime)}
	if r.root < -1 {
		name = l.dirs[-2-r.root] + name
	}
	if r.root < 0 {
		f.Path = name
		f.Name = filepath.Clean(name)
		if r.base {
			f.Name = filepath.Base(f.Name)
		}
		f.Key = Key(f.Name, "")
		return f
	}
	root := l.roots[r.root]
	f.Path = filepath.Join(root.Path, name)
	f.Name = filepath.Join(root.name(), name)
	f.Key = Key(root.name(), name)
	return f
}

// SizeAt is the i-th file's size, without making its File.
func (l *List) SizeAt(i int) int64 {
	if l.files != nil {
		return l.files[i].Size
	}
	return l.recs[i].size
}

// Files is every file of the list as a slice, for callers that want one
// (the picker, the terminal UI).
func (l *List) Files() []File {
	if l.files != nil {
		return l.files
	}
	out := make([]File, l.Len())
	for i := range out {
		out[i] = l.At(i)
	}
	return out
}

// Filter is the list of the files keep returns true for, in order.
func (l *List) Filter(keep func(File) bool) *List {
	if l.files != nil {
		var kept []File
		for _, f := range l.files {
			if keep(f) {
				kept = append(kept, f)
			}
		}
		return ListOf(kept)
	}
	out := &List{roots: l.roots, names: l.names, dirs: l.dirs}
	for i, r := range l.recs {
		if keep(l.At(i)) {
			out.recs = append(out.recs, r)
			out.total += r.size
		}
	}
	return out
}

// addFile adds a picked file, checked (it can be read).
func (l *List) addFile(path string, st fs.FileInfo) {
	l.addRec(path, st.Size(), st.ModTime().UnixNano(), false)
}

// addRec adds a picked file's record: its folder kept once, its base name.
func (l *List) addRec(path string, size, modTime int64, base bool) {
	r := rec{root: -1, base: base, size: size, modTime: modTime}
	if i := strings.LastIndexAny(path, separators); i >= 0 {
		dir := path[:i+1]
		d, ok := l.dirOf[dir]
		if !ok {
			if l.dirOf == nil {
				l.dirOf = map[string]int32{}
				for j, known := range l.dirs {
					l.dirOf[known] = int32(j)
				}
			}
			if d, ok = l.dirOf[dir]; !ok {
				d = int32(len(l.dirs))
				l.dirs = append(l.dirs, dir)
				l.dirOf[dir] = d
			}
		}
		r.root, path = -2-d, path[i+1:]
	}
	r.off, r.n = uint32(len(l.names)), uint32(len(path))
	l.recs = append(l.recs, r)
	l.names = append(l.names, path...)
	l.total += size
}

// Append adds f, compactly when it has a picked file's form (named by its
// path or by its base name, keyed by its base name), as it is otherwise.
func (l *List) Append(f File) {
	clean := filepath.Clean(f.Path)
	name, base := f.Name == clean, f.Name == filepath.Base(clean)
	if l.files != nil || !(name || base) || f.Key != Key(f.Name, "") || f.HasCRC32 || f.ModTime.IsZero() {
		l.mixed(f)
		return
	}
	l.addRec(f.Path, f.Size, f.ModTime.UnixNano(), base && !name)
}

// AppendList adds the files of o that keep says to (all of them when keep
// is nil), compactly when both lists are: a folder of 100,000 files picked
// in the terminal UI is never a slice of Files (issue 15).
func (l *List) AppendList(o *List, keep func(i int) bool) {
	if o.Len() == 0 {
		return
	}
	if o.files != nil || l.files != nil {
		for i := range o.Len() {
			if keep == nil || keep(i) {
				l.Append(o.At(i))
			}
		}
		return
	}
	rootShift, dirShift := int32(len(l.roots)), int32(len(l.dirs))
	l.roots = append(l.roots, o.roots...)
	l.dirs = append(l.dirs, o.dirs...)
	l.dirOf = nil // made again if a file is added by path
	for i, r := range o.recs {
		if keep != nil && !keep(i) {
			continue
		}
		nr := r
		switch {
		case r.root >= 0:
			nr.root += rootShift
		case r.root <= -2:
			nr.root -= dirShift
		}
		nr.off = uint32(len(l.names))
		l.names = append(l.names, o.names[r.off:r.off+r.n]...)
		l.recs = append(l.recs, nr)
		l.total += r.size
	}
}

// separators are the characters that end a folder in a path here.
const separators = "/" + string(filepath.Separator)

// Trim gives back the room the list's appends left over, once it is built:
// a list is built once and read for the whole run.
func (l *List) Trim() {
	if l == nil || l.files != nil {
		return
	}
	l.recs = slices.Clone(l.recs)
	l.names = slices.Clone(l.names)
	l.dirOf = nil
}

// CollectList is Collect keeping the files as a List.
func CollectList(roots []Root) (*List, int, error) {
	l := &List{}
	special := 0
	for _, r := range roots {
		s, err := l.Add(r)
		if err != nil {
			return nil, 0, err
		}
		special += s
	}
	l.Trim()
	return l, special, nil
}

// Add adds what was picked at r, by the rules of Collect, and returns the
// number of special files passed over inside a folder.
func (l *List) Add(r Root) (special int, err error) {
	st, err := os.Stat(r.Path)
	if err != nil {
		return 0, fmt.Errorf("%s: %s", r.name(), Problem(err))
	}
	switch {
	case st.Mode().IsRegular():
		if st, err = readable(r.Path, st); err != nil {
			return 0, fmt.Errorf("%s: %w", r.name(), err)
		}
		if r.Name == "" && l.files == nil {
			l.addFile(r.Path, st)
			return 0, nil
		}
		if l.files == nil && r.Name == filepath.Base(filepath.Clean(r.Path)) {
			l.addFile(r.Path, st)
			l.recs[len(l.recs)-1].base = true
			return 0, nil
		}
		// A picked file shown by another name: kept as it is.
		l.mixed(File{Path: r.Path, Name: r.name(), Key: Key(r.name(), ""), Size: st.Size(), ModTime: st.ModTime()})
		return 0, nil
	case st.IsDir():
		n, special, err := l.walk(r)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, fmt.Errorf("%s: the directory holds no files to upload", r.name())
		}
		return special, nil
	}
	return 0, fmt.Errorf("%s: it is %s, not a regular file; give a file or a directory", r.name(), Kind(st.Mode()))
}

// AddFile adds the regular file at path, checked as Add checks one: the
// one-file form of Add, for a path that must name a file (a given URL's).
// A folder is never walked: its error is ErrDirectory (errors.Is).
func (l *List) AddFile(path string) error {
	st, err := os.Stat(path)
	if err == nil {
		st, err = readable(path, st)
	} else {
		err = errors.New(Problem(err))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Clean(path), err)
	}
	if l.files != nil {
		l.mixed(File{Path: path, Name: filepath.Clean(path), Key: Key(filepath.Clean(path), ""), Size: st.Size(), ModTime: st.ModTime()})
		return nil
	}
	l.addFile(path, st)
	return nil
}

// mixed adds a File that has no compact form, turning the list into one of
// Files (rare: only a picked file named other than its path).
func (l *List) mixed(f File) {
	if l.files == nil {
		l.files = append(make([]File, 0, l.Len()+1), l.Files()...)
		l.recs, l.names, l.roots, l.dirs, l.dirOf = nil, nil, nil, nil, nil
	}
	l.files = append(l.files, f)
	l.total += f.Size
}

// walk adds the regular files under a picked folder, sorted by key: the
// rules of Walk. It reads each folder a batch of entries at a time, not
// whole (100,000 entries of one folder read at once are about 10 MB).
func (l *List) walk(r Root) (files, special int, err error) {
	start, err := filepath.EvalSymlinks(r.Path)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %s", r.name(), Problem(err))
	}
	if l.files != nil {
		// Already a list of Files: walk into a list of its own and add those.
		sub := &List{}
		n, s, err := sub.walk(r)
		for i := range sub.Len() {
			l.mixed(sub.At(i))
		}
		return n, s, err
	}
	root := int32(len(l.roots))
	l.roots = append(l.roots, r)
	first := len(l.recs)
	var visit func(rel string) error
	visit = func(rel string) error {
		d, err := os.Open(filepath.Join(start, rel))
		if err != nil {
			return fmt.Errorf("%s: %s", filepath.Join(r.name(), rel), Problem(err))
		}
		subdirs, err := l.readDir(d, r, root, start, rel, &special)
		d.Close()
		if err != nil {
			return err
		}
		for _, s := range subdirs {
			if err := visit(s); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(""); err != nil {
		return 0, 0, err
	}
	// By key: within one folder, the order of the paths inside it, as slashes.
	found := l.recs[first:]
	slices.SortFunc(found, func(a, b rec) int {
		x, y := l.names[a.off:a.off+a.n], l.names[b.off:b.off+b.n]
		if filepath.Separator != '/' {
			return strings.Compare(filepath.ToSlash(string(x)), filepath.ToSlash(string(y)))
		}
		return bytes.Compare(x, y)
	})
	return len(found), special, nil
}

// readDir adds the regular files of one folder (rel inside the picked
// folder r, found at start), a batch of entries at a time, and returns its
// folders for walk to visit.
func (l *List) readDir(d *os.File, r Root, root int32, start, rel string, special *int) ([]string, error) {
	var subdirs []string
	for {
		entries, err := d.ReadDir(256)
		for _, e := range entries {
			p := filepath.Join(rel, e.Name())
			if e.IsDir() {
				subdirs = append(subdirs, p)
				continue
			}
			full := filepath.Join(start, p)
			st, err := os.Stat(full) // follows a link to see what it points at
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) {
					*special++ // a broken link, or a link loop
					continue
				}
				return nil, fmt.Errorf("%s: %s", filepath.Join(r.name(), p), Problem(err))
			}
			if !st.Mode().IsRegular() {
				*special++
				continue
			}
			if _, err := readable(full, st); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(r.name(), p), err)
			}
			l.recs = append(l.recs, rec{root: root, off: uint32(len(l.names)), n: uint32(len(p)), size: st.Size(), modTime: st.ModTime().UnixNano()})
			l.names = append(l.names, p...)
			l.total += st.Size()
		}
		if err == io.EOF {
			return subdirs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s", filepath.Join(r.name(), rel), Problem(err))
		}
	}
}
