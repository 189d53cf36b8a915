package ui

import (
	"path/filepath"
	"testing"
	"time"

	"hoist/uploader"
)

// The summary follows the event that ends the last file; it does not wait
// for the next sample of the pool's counters, up to sampleEvery later
// (issue 15: the TUI's wall time against headless). step never delivers a
// sample, so only the events can bring the summary here.
func TestAppSummaryFollowsTheLastFilesEvent(t *testing.T) {
	s := newStore(t)
	dir := t.TempDir()
	files := []uploader.File{
		{Path: filepath.Join(dir, "a"), Name: "a", Key: "a", Size: 100},
		{Path: filepath.Join(dir, "b"), Name: "b", Key: "b", Size: 200},
	}
	for _, f := range files {
		writeFile(t, f.Path, int(f.Size))
	}
	m, seen := sendFixed(t, s, dir, files)
	if m.pool != nil {
		defer m.pool.Close()
	}
	fin := only[runFinishedMsg](t, seen)
	if fin.summary.Uploaded != 2 || m.screen != screenSummary {
		t.Fatalf("summary %+v, screen %d; want both uploaded and the summary shown", fin.summary, m.screen)
	}
	// The sample that was on its way when the events ended the run finds
	// the summary shown: it must not write the report a second time.
	_, cmd := m.Update(progressSampledMsg{at: time.Now()})
	for _, msg := range perform(cmd) {
		if _, ok := msg.(runFinishedMsg); ok {
			t.Fatal("a late sample finished the run again")
		}
	}
}
