// Package runreport is the JSON report of one run, written at its end by the
// terminal UI and the headless printer alike, and read back by hoist history.
// A report holds no URL query, no token, no signature and no share link: only
// what was sent, where it landed, why something did not, and the settings a
// rerun of the failed files needs.
package runreport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hoist/inspect"
	"hoist/uploader"
)

// Report is the JSON file written at the end of a run.
type Report struct {
	Version  int       `json:"version"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Target   string    `json:"target"`
	// Settings are the run's settings that were not at their defaults, as
	// flag name → flag value, so hoist history --retry can run them again.
	// Secrets are never settings; a presigned URL is left out.
	Settings    map[string]string `json:"settings,omitempty"`
	Metadata    Metadata          `json:"metadata"`
	Interrupted bool              `json:"interrupted"`
	Summary     Summary           `json:"summary"`
	Files       []File            `json:"files"`
}

// Metadata is what the files were sent with.
type Metadata struct {
	OrgID    string `json:"organization_id,omitempty"`
	UserID   string `json:"user_id,omitempty"`
	TTLHours int    `json:"ttl_hours,omitempty"`
}

// Summary counts the run.
type Summary struct {
	Uploaded       int     `json:"uploaded"`
	Failed         int     `json:"failed"`
	Canceled       int     `json:"canceled"`
	Pending        int     `json:"pending"`
	Bytes          int64   `json:"bytes"`
	Seconds        float64 `json:"seconds"`
	BytesPerSecond float64 `json:"bytes_per_second"`
}

// File is one file of the run.
type File struct {
	File     string  `json:"file"`
	Path     string  `json:"path"`
	Key      string  `json:"key"`
	Size     int64   `json:"size"`
	State    string  `json:"state"`
	Attempts int     `json:"attempts,omitempty"`
	CRC32    string  `json:"crc32,omitempty"` // base64 of the big-endian CRC32, as S3 writes x-amz-checksum-crc32
	ETag     string  `json:"etag,omitempty"`
	Location string  `json:"location,omitempty"`
	Seconds  float64 `json:"seconds,omitempty"`
	Parts    int     `json:"parts,omitempty"`
	// LinkMade says a share link was made for the file; the link itself is a
	// secret and never goes into a report.
	LinkMade    bool       `json:"link_made,omitempty"`
	LinkExpires *time.Time `json:"link_expires,omitempty"`
	Error       string     `json:"error,omitempty"`
	Code        string     `json:"code,omitempty"`
}

// Sent reports whether the file reached the server whole.
func (f File) Sent() bool { return f.State == uploader.StateDone.String() }

// Run is what a report is built from besides the pool's final counts.
type Run struct {
	Files       map[int]uploader.File // by id in the pool
	Codes       map[int]string        // S3 error codes of failed files, by id
	Target      string
	Settings    map[string]string
	Metadata    uploader.Metadata
	Started     time.Time
	Interrupted bool
}

// Build makes the report of a finished run from the pool's final summary and
// snapshot.
func Build(run Run, sum uploader.Summary, files []uploader.FileStatus, now time.Time) Report {
	r := Report{
		Version: 1, Started: run.Started, Finished: now, Target: run.Target, Settings: run.Settings,
		Metadata:    Metadata{OrgID: run.Metadata.OrgID, UserID: run.Metadata.UserID, TTLHours: run.Metadata.TTLHours},
		Interrupted: run.Interrupted,
		Summary: Summary{
			Uploaded: sum.Uploaded, Failed: sum.Failed, Canceled: sum.Canceled, Pending: sum.Pending,
			Bytes: sum.Bytes, Seconds: sum.Elapsed.Seconds(), BytesPerSecond: AverageSpeed(sum),
		},
		Files: make([]File, 0, len(files)),
	}
	for _, s := range files {
		r.Files = append(r.Files, FileOf(run.Files[s.ID], s, run.Codes[s.ID]))
	}
	return r
}

// FileOf is the report's record of file f, from its last status s and the
// S3 error code of its failure ("" when none).
func FileOf(f uploader.File, s uploader.FileStatus, code string) File {
	rf := File{
		File: s.Name, Path: absPath(f.Path), Key: f.Key, Size: s.Size, State: s.State.String(),
		Attempts: s.Attempt, Parts: s.Parts,
	}
	switch s.State {
	case uploader.StateDone:
		if res := s.Result; res != nil {
			rf.ETag, rf.Location = res.ETag, res.Location
			if res.Key != "" { // a result known only in part (the TUI's, when its record was lost) keeps the file's key
				rf.Key = res.Key
			}
			rf.CRC32 = inspect.EncodeCRC32(res.CRC32)
			rf.Seconds = res.Duration.Seconds()
			if res.Path != "" {
				rf.Path = absPath(res.Path)
			}
			if res.ShareURL != "" {
				rf.LinkMade = true
				if !res.ShareExpires.IsZero() {
					exp := res.ShareExpires.UTC()
					rf.LinkExpires = &exp
				}
			}
		}
	case uploader.StateFailed, uploader.StateCanceled:
		rf.Error = strings.Join(strings.Fields(s.Reason), " ")
		rf.Code = code
	}
	return rf
}

// absPath is p made absolute, so a rerun from another folder finds the file.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil && p != "" {
		return abs
	}
	return p
}

// AverageSpeed is the bytes uploaded over the time something was being
// sent (Summary.Active), so the time a summary sat on screen before a
// retry, or a wait before the first file, does not count; without it, over
// the run's elapsed time.
func AverageSpeed(sum uploader.Summary) float64 {
	d := sum.Active
	if d <= 0 {
		d = sum.Elapsed
	}
	if d <= 0 {
		return 0
	}
	return float64(sum.Bytes) / d.Seconds()
}

// Write writes the report whole or not at all: a temporary file in the same
// folder, renamed into place. It is readable by its owner only.
func Write(path string, r Report) error {
	files := r.Files
	return WriteEach(path, r, len(files), func(i int) ([]byte, error) { return json.Marshal(files[i]) })
}

// WriteEach is Write with the report's files given one at a time: record(i)
// is the JSON of file i (json.Marshal of a File, or a Spool's record) for i
// below n; r.Files is not read. A run of 100,000 files is then never a
// list of 100,000 records in memory (issue 15).
func WriteEach(path string, r Report, n int, record func(i int) ([]byte, error)) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the report folder %s: %w; check its permissions", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".hoist-report-*")
	if err != nil {
		return fmt.Errorf("writing the report in %s: %w; check its permissions", dir, err)
	}
	buf := bufio.NewWriter(tmp)
	err = encode(buf, r, n, record)
	if err == nil {
		err = buf.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing the report %s: %w; check free space and permissions", path, err)
	}
	return nil
}

// encode writes r with its n files as json.MarshalIndent(r, "", "  ") would,
// and a newline, one file at a time: the report of 100,000 files is then
// never a single buffer of tens of megabytes, encoded and indented again
// (issue 15).
func encode(w io.Writer, r Report, n int, record func(i int) ([]byte, error)) error {
	r.Files = []File{}
	head, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	if n == 0 {
		_, err = w.Write(append(head, '\n'))
		return err
	}
	// head ends with the empty list and the closing brace: "[]\n}".
	head = bytes.TrimSuffix(head, []byte("[]\n}"))
	if _, err := w.Write(append(head, "[\n"...)); err != nil {
		return err
	}
	const indent = "    "
	var out bytes.Buffer
	for i := range n {
		data, err := record(i)
		if err != nil {
			return fmt.Errorf("encoding the report's file %d: %w", i+1, err)
		}
		out.Reset()
		out.WriteString(indent)
		if err := json.Indent(&out, data, indent, "  "); err != nil {
			return fmt.Errorf("encoding the report's file %d: %w", i+1, err)
		}
		if i == n-1 {
			out.WriteString("\n")
		} else {
			out.WriteString(",\n")
		}
		if _, err := w.Write(out.Bytes()); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "  ]\n}\n")
	return err
}

const namePrefix, nameSuffix = "hoist-", ".json"

// PathFor names the report of a run that started at t; "" when dir is "".
func PathFor(dir string, t time.Time) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, namePrefix+t.Format("20060102-150405.000")+nameSuffix)
}

// Read reads one report.
func Read(path string) (Report, error) {
	var r Report
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("reading the report %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("the report %s is not a hoist report (%v); move it out of %s", path, err, filepath.Dir(path))
	}
	return r, nil
}

// Entry is one report found in a folder.
type Entry struct {
	Path   string
	Report Report
}

// List reads every report in dir, newest first. A folder that does not exist
// yet holds no reports; a file that cannot be read is skipped and counted in
// skipped, so one bad file does not hide the others.
func List(dir string) (entries []Entry, skipped int, err error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the reports in %s: %w", dir, err)
	}
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || !strings.HasPrefix(name, namePrefix) || !strings.HasSuffix(name, nameSuffix) {
			continue
		}
		p := filepath.Join(dir, name)
		r, err := Read(p)
		if err != nil {
			skipped++
			continue
		}
		entries = append(entries, Entry{Path: p, Report: r})
	}
	slices.SortStableFunc(entries, func(a, b Entry) int { return b.Report.Started.Compare(a.Report.Started) })
	return entries, skipped, nil
}
