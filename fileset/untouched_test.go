package fileset

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestUntouchedOnlyWhenCtimeProvesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	// Opened well after its last change: a stat again vouches for it, where
	// ctime is read (Linux); elsewhere Untouched never vouches, and the
	// engine reads the file again.
	later := time.Now().Add(racyWindow + time.Second)
	after, _ := os.Stat(path)
	if got, want := Untouched(before, after, later), runtime.GOOS == "linux"; got != want {
		t.Errorf("an unchanged file on %s: Untouched = %v, want %v", runtime.GOOS, got, want)
	}
	// Opened within the racy window of its last change: never vouched for.
	if Untouched(before, after, time.Now()) {
		t.Error("a file changed just before it was opened is vouched for")
	}
	// Written in place and its mtime put back: ctime moved.
	if err := os.WriteFile(path, []byte("HELLO"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, _ = os.Stat(path)
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("the test did not put size and mtime back")
	}
	if Untouched(before, after, later) {
		t.Error("a file written in place with its mtime put back is vouched for")
	}
	// Another file in its place (renamed over it): another inode.
	other := filepath.Join(t.TempDir(), "g")
	if err := os.WriteFile(other, []byte("HELLO"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, _ := os.Stat(other)
	if Untouched(before, o, later) {
		t.Error("another file is vouched for")
	}
}
