package runreport

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A spool gives back each file's last record, keeps none for a file that
// has not ended, and leaves no file behind; where the temporary folder
// cannot be written it keeps its records in memory.
func TestSpoolKeepsTheLastRecordOfEachFile(t *testing.T) {
	for _, tmp := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		t.Setenv("TMPDIR", tmp)
		s := NewSpool(2)
		if err := s.Put(0, File{File: "a", State: "failed", Error: "403 AccessDenied"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(5, File{File: "f", State: "done", ETag: `"e"`}); err != nil { // past n: grows
			t.Fatal(err)
		}
		if err := s.Put(0, File{File: "a", State: "done", Location: "http://127.0.0.1/b/a"}); err != nil { // retried
			t.Fatal(err)
		}
		if f, ok := s.Get(0); !ok || f.State != "done" || f.Location != "http://127.0.0.1/b/a" || f.Error != "" {
			t.Errorf("TMPDIR %s: file 0 = %+v, %v; want its second record", tmp, f, ok)
		}
		data, err := s.Record(5)
		var f File
		if err != nil || json.Unmarshal(data, &f) != nil || f.ETag != `"e"` {
			t.Errorf("TMPDIR %s: record 5 %q, %v", tmp, data, err)
		}
		if _, ok := s.Get(1); ok {
			t.Error("a file that never ended has a record")
		}
		if data, err := s.Record(99); data != nil || err != nil {
			t.Errorf("record of an unknown id: %q, %v", data, err)
		}
		// Enough records to be written out several times, each read back
		// whether it is on disk or still gathered.
		for id := 10; id < 3000; id++ {
			if err := s.Put(id, File{File: fmt.Sprintf("f%d", id), State: "done", Location: strings.Repeat("x", id%97)}); err != nil {
				t.Fatal(err)
			}
		}
		for id := 10; id < 3000; id++ {
			if f, ok := s.Get(id); !ok || f.File != fmt.Sprintf("f%d", id) || len(f.Location) != id%97 {
				t.Fatalf("TMPDIR %s: file %d = %+v, %v", tmp, id, f, ok)
			}
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("TMPDIR %s holds %d entries after Close", tmp, len(entries))
		}
	}
}
