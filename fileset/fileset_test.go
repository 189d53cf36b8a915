package fileset

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, p string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
		t.Fatal(err)
	}
}

func chdir(t *testing.T, dir string) {
	t.Helper()
	t.Chdir(dir)
}

func keysOf(files []File) map[string]string {
	m := map[string]string{}
	for _, f := range files {
		m[f.Key] = f.Name
	}
	return m
}

// A key never has an empty, "." or ".." segment, whatever was picked: "..",
// "." and "/" put their files at the top; a folder keeps its name.
func TestKeysNeverEscape(t *testing.T) {
	top := t.TempDir()
	write(t, filepath.Join(top, "t.txt"), 1)
	write(t, filepath.Join(top, "sub", "deep", "d.txt"), 1)
	chdir(t, filepath.Join(top, "sub"))

	cases := []struct {
		picked string
		want   map[string]string // key → name
	}{
		{"..", map[string]string{"t.txt": "../t.txt", "sub/deep/d.txt": "../sub/deep/d.txt"}},
		{".", map[string]string{"deep/d.txt": "deep/d.txt"}},
		{"deep", map[string]string{"deep/d.txt": "deep/d.txt"}},
		{"./deep/", map[string]string{"deep/d.txt": "deep/d.txt"}},
		{"../sub/deep/d.txt", map[string]string{"d.txt": "../sub/deep/d.txt"}},
		{filepath.Join(top, "sub"), map[string]string{"sub/deep/d.txt": filepath.Join(top, "sub", "deep", "d.txt")}},
	}
	for _, c := range cases {
		set, err := Collect([]Root{{Path: c.picked}})
		if err != nil {
			t.Errorf("%s: %v", c.picked, err)
			continue
		}
		got := keysOf(set.Files)
		if len(got) != len(c.want) {
			t.Errorf("%s: keys %v, want %v", c.picked, got, c.want)
		}
		for key, name := range c.want {
			if got[key] != name {
				t.Errorf("%s: key %q named %q, want %q (all: %v)", c.picked, key, got[key], name, got)
			}
		}
		for key := range got {
			if err := CheckKey(key); err != nil {
				t.Errorf("%s: %v", c.picked, err)
			}
		}
	}
}

func TestCheckKey(t *testing.T) {
	for _, bad := range []string{"", "/a", "a//b", "a/../b", "..", ".", "p/..", "./a"} {
		if CheckKey(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"a", "a/b.txt", "p/", "..a/b..", "a/.hidden"} {
		if err := CheckKey(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}

// Special files are named in one wording everywhere; inside a folder they are
// skipped and counted, given by name they are an error; opening one for
// sending never waits for a writer.
func TestSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "docs", "a.txt"), 3)
	fifo := filepath.Join(dir, "docs", "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := Collect([]Root{{Path: filepath.Join(dir, "docs")}})
	if err != nil || len(set.Files) != 1 || set.Special != 1 {
		t.Fatalf("folder with a FIFO: %d files, %d skipped, %v", len(set.Files), set.Special, err)
	}
	_, err = Collect([]Root{{Path: fifo, Name: "docs/pipe"}})
	if err == nil || !strings.Contains(err.Error(), "docs/pipe: it is a named pipe (FIFO)") {
		t.Errorf("FIFO by name: %v", err)
	}
	if _, _, err := Open(fifo); err == nil || !strings.Contains(err.Error(), "a named pipe (FIFO)") {
		t.Errorf("Open(FIFO): %v", err)
	}
	if _, _, err := Open(filepath.Join(dir, "gone")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Open(missing): %v", err)
	}
}
