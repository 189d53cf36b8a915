package fileset

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// A folder's files come sorted by key, across its subfolders ("d/a-c"
// before "d/a/b", though the walk meets folder a first), with the path,
// name and size each was found with; a picked file after them keeps its
// place.
func TestCollectListOrderAndFields(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "d")
	write(t, filepath.Join(d, "a", "b"), 1)
	write(t, filepath.Join(d, "a-c"), 2)
	write(t, filepath.Join(d, "z", "y", "x"), 3)
	write(t, filepath.Join(dir, "solo.txt"), 4)
	l, special, err := CollectList([]Root{{Path: d}, {Path: filepath.Join(dir, "solo.txt")}})
	if err != nil || special != 0 {
		t.Fatal(special, err)
	}
	want := []File{
		{Path: filepath.Join(d, "a-c"), Name: filepath.Join(d, "a-c"), Key: "d/a-c", Size: 2},
		{Path: filepath.Join(d, "a", "b"), Name: filepath.Join(d, "a", "b"), Key: "d/a/b", Size: 1},
		{Path: filepath.Join(d, "z", "y", "x"), Name: filepath.Join(d, "z", "y", "x"), Key: "d/z/y/x", Size: 3},
		{Path: filepath.Join(dir, "solo.txt"), Name: filepath.Join(dir, "solo.txt"), Key: "solo.txt", Size: 4},
	}
	if l.Len() != len(want) || l.Total() != 10 {
		t.Fatalf("%d files, %d bytes; want %d, 10", l.Len(), l.Total(), len(want))
	}
	for i, w := range want {
		got := l.At(i)
		if got.ModTime.IsZero() {
			t.Errorf("file %d has no modification time", i)
		}
		got.ModTime = w.ModTime
		if got != w {
			t.Errorf("file %d = %+v, want %+v", i, got, w)
		}
	}
	odd := l.Filter(func(f File) bool { return f.Size%2 == 1 })
	if keys := []string{odd.At(0).Key, odd.At(1).Key}; odd.Len() != 2 || odd.Total() != 4 || !slices.Equal(keys, []string{"d/a/b", "d/z/y/x"}) {
		t.Errorf("filtered: %d files, %d bytes, %v", odd.Len(), odd.Total(), keys)
	}
}

// A List keeps little per file: a slice of Files was about 180 bytes a file
// with its strings, and at 100,000 files most of a headless run's memory
// (issue 15).
func TestCollectListKeepsLittlePerFile(t *testing.T) {
	const files = 5000
	dir := filepath.Join(t.TempDir(), "many")
	for i := range files {
		write(t, filepath.Join(dir, fmt.Sprintf("f%06d.bin", i)), 0)
	}
	before := liveHeap()
	l, _, err := CollectList([]Root{{Path: dir}})
	if err != nil {
		t.Fatal(err)
	}
	perFile := float64(liveHeap()-before) / files
	t.Logf("%.0f bytes kept a file", perFile)
	if perFile > 80 {
		t.Errorf("%.0f bytes kept a file, want at most 80", perFile)
	}
	if l.Len() != files || l.At(files-1).Key != fmt.Sprintf("many/f%06d.bin", files-1) {
		t.Errorf("%d files, the last %q", l.Len(), l.At(files-1).Key)
	}
}

func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Files picked one by one (a manifest's lines, --url) keep their folder
// once: each keeps its base name, and At gives back the path as given,
// relative, absolute or with dots (issue 15: 100,000 manifest lines in one
// folder kept that folder 100,000 times).
func TestPickedFilesKeepTheirFolderOnce(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write(t, filepath.Join(dir, "in", "a.txt"), 1)
	write(t, filepath.Join(dir, "top.txt"), 2)
	given := []string{filepath.Join(dir, "in", "a.txt"), "in/a.txt", "./in/../top.txt", "top.txt"}
	var l List
	for _, p := range given {
		if _, err := l.Add(Root{Path: p}); err != nil {
			t.Fatal(err)
		}
	}
	l.Trim()
	for i, p := range given {
		want := File{Path: p, Name: filepath.Clean(p), Key: Key(filepath.Clean(p), "")}
		got := l.At(i)
		got.Size, got.ModTime = 0, time.Time{}
		if got != want {
			t.Errorf("file %d = %+v, want %+v", i, got, want)
		}
	}

	const files = 5000
	many := filepath.Join(dir, "a-rather-long-folder-name", "with", "another-level-below-it")
	for i := range files {
		write(t, filepath.Join(many, fmt.Sprintf("f%06d.bin", i)), 0)
	}
	before := liveHeap()
	var m List
	for i := range files {
		if _, err := m.Add(Root{Path: filepath.Join(many, fmt.Sprintf("f%06d.bin", i))}); err != nil {
			t.Fatal(err)
		}
	}
	m.Trim()
	perFile := float64(liveHeap()-before) / files
	t.Logf("%.0f bytes kept a file", perFile)
	if limit := 32 + 12 + 8.0; perFile > limit { // a record, the base name, slack
		t.Errorf("%.0f bytes kept a file, want at most %.0f: the folder is kept once", perFile, limit)
	}
	if got := m.At(files - 1).Path; got != filepath.Join(many, fmt.Sprintf("f%06d.bin", files-1)) {
		t.Errorf("last path %q", got)
	}
	runtime.KeepAlive(&m)
}

// Lists join compactly: a folder's list appended whole or in part keeps
// each file exactly as it was, and files picked on their own (named by
// their path or by their base name, as the picker names them) stay
// compact; any other File is kept as it is.
func TestAppendKeepsEveryFileAsItWas(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"d/a", "d/sub/b", "e/c", "solo.txt", "other.txt"} {
		write(t, filepath.Join(dir, p), 3)
	}
	folder := func(name string) *List {
		l := &List{}
		if _, err := l.Add(Root{Path: filepath.Join(dir, name), Name: name}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	d, e := folder("d"), folder("e")
	st, err := os.Stat(filepath.Join(dir, "solo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	solo := File{Path: filepath.Join(dir, "solo.txt"), Name: "solo.txt", Key: "solo.txt", Size: st.Size(), ModTime: st.ModTime()}
	var byPath List
	if _, err := byPath.Add(Root{Path: filepath.Join(dir, "other.txt")}); err != nil {
		t.Fatal(err)
	}

	var out List
	out.AppendList(d, func(i int) bool { return d.At(i).Key != "d/a" })
	out.Append(solo)
	out.AppendList(&byPath, nil)
	out.AppendList(e, nil)
	want := []File{d.At(1), solo, byPath.At(0), e.At(0)}
	if out.Len() != len(want) || out.Total() != 12 || out.files != nil {
		t.Fatalf("%d files, %d bytes, compact %v; want %d, 12, compact", out.Len(), out.Total(), out.files == nil, len(want))
	}
	for i, w := range want {
		if got := out.At(i); got.Path != w.Path || got.Name != w.Name || got.Key != w.Key || got.Size != w.Size || !got.ModTime.Equal(w.ModTime) {
			t.Errorf("file %d = %+v, want %+v", i, got, w)
		}
	}

	// A File with a name of its own has no compact form: kept as it is.
	odd := solo
	odd.Name = "renamed.txt"
	out.Append(odd)
	if got := out.At(out.Len() - 1); got.Name != "renamed.txt" || out.At(0).Key != "d/sub/b" {
		t.Errorf("after a File kept as it is: %+v, first %+v", got, out.At(0))
	}
}
