package headless

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FailedPaths reads run reports, in order, and returns the absolute paths of
// the files whose last word was failed or canceled: what --retry-failed
// sends again. A report is the --json output of a run (JSON lines; the
// shards of one job concatenate into one) or the terminal UI's run report.
// A later done or skipped for a path, in the same or a later report, takes
// it off the list, so reports of a first run and of its reruns combine.
func FailedPaths(names []string) (map[string]bool, error) {
	failed := map[string]bool{}
	for _, name := range names {
		if err := readFailed(name, failed); err != nil {
			return nil, err
		}
	}
	return failed, nil
}

// reportLine is what a rerun needs of a JSON event or of a UI run report.
type reportLine struct {
	Event string `json:"event"`
	Path  string `json:"path"`
	Files []struct {
		Path  string `json:"path"`
		State string `json:"state"`
	} `json:"files"`
}

func readFailed(name string, failed map[string]bool) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("--retry-failed: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	seen := 0
	for {
		var l reportLine
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("--retry-failed: %s is not a run report (hoist --json output, or the report a terminal run writes): %v", name, err)
		}
		seen++
		mark(failed, l.Event, l.Path)
		for _, rf := range l.Files {
			mark(failed, rf.State, rf.Path)
		}
	}
	if seen == 0 {
		return fmt.Errorf("--retry-failed: %s is empty; give the --json output of a run", name)
	}
	return nil
}

// mark records one file's outcome: event names and UI states share the words.
func mark(failed map[string]bool, outcome, path string) {
	if path == "" {
		return
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	switch outcome {
	case "failed", "canceled":
		failed[path] = true
	case "done", "skipped":
		delete(failed, path)
	}
}
