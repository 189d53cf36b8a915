package ui

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"hoist/uploader"
)

// report is the JSON file written at the end of a run. It holds no URL, no
// token and no signature: only what was sent, where it landed and why
// something did not.
type report struct {
	Version     int            `json:"version"`
	Started     time.Time      `json:"started"`
	Finished    time.Time      `json:"finished"`
	Target      string         `json:"target"`
	Metadata    reportMetadata `json:"metadata"`
	Interrupted bool           `json:"interrupted"`
	Summary     reportSummary  `json:"summary"`
	Files       []reportFile   `json:"files"`
}

type reportMetadata struct {
	OrgID    string `json:"organization_id,omitempty"`
	UserID   string `json:"user_id,omitempty"`
	TTLHours int    `json:"ttl_hours,omitempty"`
}

type reportSummary struct {
	Uploaded       int     `json:"uploaded"`
	Failed         int     `json:"failed"`
	Canceled       int     `json:"canceled"`
	Pending        int     `json:"pending"`
	Bytes          int64   `json:"bytes"`
	Seconds        float64 `json:"seconds"`
	BytesPerSecond float64 `json:"bytes_per_second"`
}

type reportFile struct {
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

// runInfo is what finishRun needs, copied out of the model.
type runInfo struct {
	pool        *uploader.Pool
	files       map[int]uploader.File // by id in the pool
	codes       map[int]string        // S3 error codes of failed files
	target      string
	md          uploader.Metadata
	started     time.Time
	reportPath  string // "" writes no report
	interrupted bool
}

// finishRun takes the pool's final counts and writes the report.
func finishRun(ri runInfo) tea.Cmd {
	ri.files = maps.Clone(ri.files)
	ri.codes = maps.Clone(ri.codes)
	return func() tea.Msg {
		sum := ri.pool.Summary()
		files := ri.pool.Snapshot(nil)
		msg := runFinishedMsg{summary: sum, files: files}
		if ri.reportPath != "" {
			msg.reportPath = ri.reportPath
			msg.reportErr = writeReport(ri.reportPath, buildReport(ri, sum, files, time.Now()))
		}
		return msg
	}
}

func buildReport(ri runInfo, sum uploader.Summary, files []uploader.FileStatus, now time.Time) report {
	r := report{
		Version: 1, Started: ri.started, Finished: now, Target: ri.target,
		Metadata:    reportMetadata{OrgID: ri.md.OrgID, UserID: ri.md.UserID, TTLHours: ri.md.TTLHours},
		Interrupted: ri.interrupted,
		Summary: reportSummary{
			Uploaded: sum.Uploaded, Failed: sum.Failed, Canceled: sum.Canceled, Pending: sum.Pending,
			Bytes: sum.Bytes, Seconds: sum.Elapsed.Seconds(), BytesPerSecond: averageSpeed(sum, files),
		},
		Files: make([]reportFile, 0, len(files)),
	}
	for _, s := range files {
		f := ri.files[s.ID]
		rf := reportFile{
			File: s.Name, Path: f.Path, Key: f.Key, Size: s.Size, State: s.State.String(),
			Attempts: s.Attempt, Parts: s.Parts,
		}
		switch s.State {
		case uploader.StateDone:
			if res := s.Result; res != nil {
				rf.Key, rf.ETag, rf.Location = res.Key, res.ETag, res.Location
				rf.CRC32 = crc32Base64(res.CRC32)
				rf.Seconds = res.Duration.Seconds()
				rf.Path = res.Path
				if res.ShareURL != "" {
					rf.LinkMade = true
					if !res.ShareExpires.IsZero() {
						exp := res.ShareExpires.UTC()
						rf.LinkExpires = &exp
					}
				}
			}
		case uploader.StateFailed, uploader.StateCanceled:
			rf.Error = oneLine(s.Reason)
			rf.Code = ri.codes[s.ID]
		}
		r.Files = append(r.Files, rf)
	}
	return r
}

// averageSpeed is the bytes uploaded over the time something was being
// sent: the union of the files' active spans, so the time a summary sat on
// screen before a retry, or a wait before the first file, does not count.
// Without per-file times it falls back to the run's elapsed time.
func averageSpeed(sum uploader.Summary, files []uploader.FileStatus) float64 {
	d := activeTime(files)
	if d <= 0 {
		d = sum.Elapsed
	}
	if d <= 0 {
		return 0
	}
	return float64(sum.Bytes) / d.Seconds()
}

// activeTime is the length of the union of the files' [Started, Finished]
// spans.
func activeTime(files []uploader.FileStatus) time.Duration {
	type span struct{ from, to time.Time }
	spans := make([]span, 0, len(files))
	for _, f := range files {
		if !f.Started.IsZero() && f.Finished.After(f.Started) {
			spans = append(spans, span{f.Started, f.Finished})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur span
	for i, s := range spans {
		switch {
		case i == 0:
			cur = s
		case !s.from.After(cur.to):
			if s.to.After(cur.to) {
				cur.to = s.to
			}
		default:
			total += cur.to.Sub(cur.from)
			cur = s
		}
	}
	if len(spans) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

func crc32Base64(c uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, c))
}

// writeReport writes the report whole or not at all: a temporary file in
// the same folder, renamed into place. It is readable by its owner only.
func writeReport(path string, r report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the report folder %s: %w; check its permissions", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".hoist-report-*")
	if err != nil {
		return fmt.Errorf("writing the report in %s: %w; check its permissions", dir, err)
	}
	_, err = tmp.Write(append(data, '\n'))
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

// reportPathFor names the report of a run that started at t.
func reportPathFor(dir string, t time.Time) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "hoist-"+t.Format("20060102-150405.000")+".json")
}
