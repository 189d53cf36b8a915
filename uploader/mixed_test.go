package uploader

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOverwrittenInPlaceIsNotDone: the file is overwritten in place while it
// goes out, with its size kept and its mtime put back, so size+mtime say
// nothing changed. The bytes sent are compared with the file's CRC32 (the
// one computed before sending when the source wanted it, else the file as it
// is after): the upload fails, saying the object may hold mixed bytes.
func TestOverwrittenInPlaceIsNotDone(t *testing.T) {
	for _, hashedFirst := range []bool{false, true} {
		name := "given URL, no checksum computed"
		if hashedFirst {
			name = "source that hashes first (S3, local store)"
		}
		t.Run(name, func(t *testing.T) {
			f, _ := writeFile(t, t.TempDir(), "a.bin", 2<<20)
			var once sync.Once
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
				if _, err := io.CopyN(io.Discard, r.Body, 64<<10); err != nil {
					return true
				}
				once.Do(func() { overwriteKeepingTimes(t, f) })
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("ETag", `"e"`)
				w.WriteHeader(http.StatusOK)
				return true
			})
			// The rate limit keeps the client from reading the whole file
			// into socket buffers before the server has seen 64 KiB.
			events, _ := run(t, &testSource{base: rec.URL, wantCRC: hashedFirst}, Options{Retries: 0, LimitRate: 4 << 20}, f)
			last := lastOf(events, 0)
			if last.Kind != EventFailed {
				t.Fatalf("last event %v, want failed: the server holds mixed bytes", last.Kind)
			}
			if msg := last.Err.Error(); !strings.Contains(msg, "the object at a.bin may hold a mix") {
				t.Errorf("error %q does not say the object may hold mixed bytes", msg)
			}
		})
	}
}

// overwriteKeepingTimes rewrites f's bytes in place, same size, and puts its
// mtime back.
func overwriteKeepingTimes(t *testing.T, f File) {
	b := make([]byte, f.Size)
	_, _ = rand.Read(b)
	w, err := os.OpenFile(f.Path, os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	_, err = io.Copy(w, bytes.NewReader(b))
	_ = w.Close()
	if err != nil {
		t.Error(err)
	}
	if err := os.Chtimes(f.Path, f.ModTime, f.ModTime); err != nil {
		t.Error(err)
	}
}

// TestSizeUnknownFilesAreRefused: /proc/cpuinfo is a regular file of size 0
// that yields bytes. Sending it as 0 B was reported done; it is refused.
func TestSizeUnknownFilesAreRefused(t *testing.T) {
	rec := newRecorder(t, nil)
	st, err := os.Stat("/proc/cpuinfo")
	if err != nil || st.Size() != 0 || !st.Mode().IsRegular() {
		t.Fatalf("this test needs /proc/cpuinfo to be a regular file of size 0: %v %v", st, err)
	}
	f := File{Path: "/proc/cpuinfo", Name: "cpuinfo", Key: "cpuinfo", ModTime: st.ModTime()}
	events, _ := run(t, &testSource{base: rec.URL}, Options{StallTimeout: 5 * time.Second}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "size is not known") {
		t.Fatalf("last event %v (%v), want failed: size not known", last.Kind, last.Err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
	// A truly empty file is still sent.
	empty, _ := writeFile(t, t.TempDir(), "empty", 0)
	events, _ = run(t, &testSource{base: rec.URL}, Options{}, empty)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Errorf("an empty file: %v %v", last.Kind, last.Err)
	}
}

// TestUntouchedFileIsReadOnce: the proof that the bytes sent are the file's
// reads it a second time only when its ctime cannot vouch that nothing wrote
// to it since it was opened: a file written just now (within the racy
// window) is read again; a file last changed long ago is not — for a 4 GiB
// PUT that second read was a third of the client's CPU (issue 15).
func TestUntouchedFileIsReadOnce(t *testing.T) {
	rec := newRecorder(t, nil)
	fresh, _ := writeFile(t, t.TempDir(), "fresh.bin", 300<<10)
	before := proofReads.Load()
	if last := lastOf(mustRun(t, rec.URL, fresh), 0); last.Kind != EventDone {
		t.Fatalf("fresh file: %v %v", last.Kind, last.Err)
	}
	if n := proofReads.Load() - before; n != 1 {
		t.Errorf("a file written just now was read again %d times, want 1", n)
	}

	// A file of the system, unchanged for longer than the racy window.
	var old File
	for _, path := range []string{"/usr/bin/env", "/bin/sh", "/etc/os-release", "/etc/passwd"} {
		st, err := os.Stat(path)
		if err == nil && st.Mode().IsRegular() && st.Size() > 0 && time.Since(st.ModTime()) > time.Minute {
			old = File{Path: path, Name: "old", Key: "old", Size: st.Size(), ModTime: st.ModTime()}
			break
		}
	}
	if old.Path == "" {
		t.Fatal("no regular file of the system unchanged for a minute to send")
	}
	before = proofReads.Load()
	last := lastOf(mustRun(t, rec.URL, old), 0)
	if last.Kind != EventDone {
		t.Fatalf("%s: %v %v", old.Path, last.Kind, last.Err)
	}
	if n := proofReads.Load() - before; n != 0 {
		t.Errorf("%s, untouched for long, was read again %d times", old.Path, n)
	}
	want, _ := os.ReadFile(old.Path)
	if got := rec.requests()[len(rec.requests())-1].Body; !bytes.Equal(got, want) {
		t.Errorf("the server got %d bytes, not %s's %d", len(got), old.Path, len(want))
	}
}

func mustRun(t *testing.T, base string, f File) []Event {
	events, _ := run(t, &testSource{base: base}, Options{Retries: 0}, f)
	return events
}
