package runreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/uploader"
)

func TestListNewestFirstSkippingWhatIsNotAReport(t *testing.T) {
	dir := t.TempDir()
	if entries, skipped, err := List(filepath.Join(dir, "none")); err != nil || len(entries) != 0 || skipped != 0 {
		t.Fatalf("a folder not made yet: %v %d %v", entries, skipped, err)
	}
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, target := range []string{"first", "second", "third"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		if err := Write(PathFor(dir, at), Report{Version: 1, Started: at, Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "hoist-broken.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, skipped, err := List(dir)
	if err != nil || skipped != 1 || len(entries) != 3 {
		t.Fatalf("%d entries, %d skipped, %v", len(entries), skipped, err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Report.Target)
	}
	if strings.Join(got, ",") != "third,second,first" {
		t.Errorf("order %v, want newest first", got)
	}
}

func TestBuildKeepsAbsolutePathsCodesAndNoShareLink(t *testing.T) {
	t.Chdir(t.TempDir())
	files := map[int]uploader.File{1: {Path: "rel/a.txt", Name: "rel/a.txt", Key: "rel/a.txt"}, 2: {Path: "b.txt", Name: "b.txt", Key: "b.txt"}}
	statuses := []uploader.FileStatus{
		{ID: 1, Name: "rel/a.txt", State: uploader.StateFailed, Reason: "403 AccessDenied:\n\tnot allowed"},
		{ID: 2, Name: "b.txt", State: uploader.StateDone, Result: &uploader.Result{Key: "in/b.txt", CRC32: 0xcbf43926, ShareURL: "https://share.example/s/secret-link"}},
	}
	r := Build(Run{Files: files, Codes: map[int]string{1: "AccessDenied"}}, uploader.Summary{Uploaded: 1, Failed: 1}, statuses, time.Now())
	a, b := r.Files[0], r.Files[1]
	if !filepath.IsAbs(a.Path) || a.Code != "AccessDenied" || a.Error != "403 AccessDenied: not allowed" || a.Sent() {
		t.Errorf("failed file %+v", a)
	}
	if !b.Sent() || b.Key != "in/b.txt" || b.CRC32 != "y/Q5Jg==" {
		t.Errorf("done file %+v", b)
	}
	path := PathFor(t.TempDir(), time.Now())
	if err := Write(path, r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "secret-link") {
		t.Error("the report holds a share link")
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reading a missing report: %v", err)
	}
}

// The report is written a file at a time (issue 15: 100,000 files made one
// buffer of tens of megabytes), byte for byte what json.MarshalIndent makes.
func TestWriteEncodesFileByFileAsMarshalIndent(t *testing.T) {
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	base := Report{Version: 1, Started: exp, Finished: exp, Target: "http://127.0.0.1:9000/b/", Settings: map[string]string{"concurrency": "4"}}
	for _, n := range []int{0, 1, 3} {
		r := base
		r.Files = nil
		for i := range n {
			r.Files = append(r.Files, File{File: fmt.Sprintf("f%d \"q\"", i), Path: "/p", State: "failed", Error: "x\ny", LinkExpires: &exp})
		}
		want, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			// A report with no file says so with an empty list, not null.
			r.Files = []File{}
			want, _ = json.MarshalIndent(r, "", "  ")
		}
		path := filepath.Join(t.TempDir(), "r.json")
		if err := Write(path, r); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want)+"\n" {
			t.Errorf("%d files:\n%s\nwant\n%s", n, got, want)
		}
	}
}

// A done file whose result says nothing of its key (the terminal UI's, when
// its spooled record could not be kept) is reported under the file's key,
// not an empty one.
func TestFileOfKeepsTheKeyOfAResultKnownInPart(t *testing.T) {
	f := uploader.File{Path: "/data/a.txt", Name: "a.txt", Key: "a.txt", Size: 3}
	got := FileOf(f, uploader.FileStatus{Name: "a.txt", Size: 3, State: uploader.StateDone, Result: &uploader.Result{Bytes: 3, CRC32: 1}}, "")
	if got.Key != "a.txt" || got.State != "done" || got.CRC32 == "" {
		t.Errorf("record %+v", got)
	}
	got = FileOf(f, uploader.FileStatus{Name: "a.txt", Size: 3, State: uploader.StateDone, Result: &uploader.Result{Key: "pre/a.txt"}}, "")
	if got.Key != "pre/a.txt" {
		t.Errorf("the result's key %q, want pre/a.txt", got.Key)
	}
}
