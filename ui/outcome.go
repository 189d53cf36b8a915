package ui

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"hoist/internal/human"
	"hoist/uploader"
)

// Outcome is how a run ended, with what main prints once the alternate
// screen has closed (Print), so the result stays on the terminal.
type Outcome struct {
	Summary uploader.Summary
	// Interrupted is true when the context ended the run, the person pressed
	// ctrl+c before anything was sent, or quit while uploads were running.
	Interrupted bool
	ReportPath  string // "" when no report was written
	ReportErr   error  // why the report could not be written, if it could not
	Target      string // where the files went, safe to print
	// Total is how many files the run had; none when nothing was sent.
	Total int
	// NotSent is how many of them did not reach the server (failed,
	// canceled, paused, never sent); skipped ones are not counted.
	NotSent int
	// Files are the ones Print shows, in the summary's order (failed first,
	// then canceled, then the rest): every file when there are few, else
	// the first of those not sent and every file with a share link. A done
	// file's Result says where it went.
	Files []uploader.FileStatus
}

// Printed summaries list each uploaded file only when there are few, and
// at most this many problems; the report has the rest.
const (
	printDoneMax     = 10
	printProblemsMax = 20
)

// Print writes the short summary a person reads after the TUI has ended:
// uploaded N of M and where, each failure with its reason, share links,
// and the report's path. Paths and locations are terminal hyperlinks.
// redact, when not nil, takes out any secret that slipped into a reason.
func (o Outcome) Print(out io.Writer, redact func(string) string) {
	w := &redactingWriter{w: out, redact: redact}
	if o.Total == 0 {
		if o.Interrupted {
			fmt.Fprintln(w, "hoist: interrupted; nothing was sent")
		}
		return
	}
	s := o.Summary
	total := o.Total
	head := fmt.Sprintf("hoist: uploaded %d of %s (%s) to %s", s.Uploaded, plural(total, "file", "files"), human.Bytes(s.Bytes), o.Target)
	if s.Skipped > 0 {
		head += fmt.Sprintf(" · %d skipped (already on the server)", s.Skipped)
	}
	if o.Interrupted {
		head += " · interrupted"
	}
	fmt.Fprintln(w, head)

	problems := 0
	for i := range o.Files {
		f := &o.Files[i]
		retries := ""
		if r := human.Retries(f.Attempt); r != "" {
			retries = " (" + r + ")"
		}
		switch f.State {
		case uploader.StateSkipped:
			continue // counted in the head line; nothing happened to it
		case uploader.StateDone:
			share := f.Result != nil && f.Result.ShareURL != ""
			if total > printDoneMax && !share {
				continue
			}
			line := "  ✓ " + f.Name
			if where := landedAt(f); where != "" {
				line += " → " + hyperlink(uploader.DisplayName(where), linkTarget(where))
			}
			fmt.Fprintln(w, line+retries)
			if share {
				link := "    share link: " + f.Result.ShareURL
				if !f.Result.ShareExpires.IsZero() {
					link += " (expires " + formatExpiry(f.Result.ShareExpires) + ")"
				}
				// The link is its owner's to keep: written as made, not
				// through redact, which would break it.
				fmt.Fprintln(out, link)
			}
		default:
			problems++
			if problems > printProblemsMax {
				continue
			}
			fmt.Fprintln(w, "  "+notSentLine(f)+retries)
		}
	}
	if more := o.NotSent - min(problems, printProblemsMax); more > 0 {
		fmt.Fprintf(w, "  … and %d more not uploaded; the report lists them\n", more)
	}
	switch {
	case o.ReportPath != "":
		fmt.Fprintln(w, "Report: "+hyperlink(o.ReportPath, linkTarget(o.ReportPath)))
	case o.ReportErr != nil:
		fmt.Fprintln(w, "Report not written: "+oneLine(o.ReportErr.Error()))
	}
}

// redactingWriter passes each write through redact.
type redactingWriter struct {
	w      io.Writer
	redact func(string) string
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	if r.redact == nil {
		return r.w.Write(p)
	}
	if _, err := io.WriteString(r.w, r.redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// notSentLine is a file that was not uploaded, and why.
func notSentLine(f *uploader.FileStatus) string {
	switch f.State {
	case uploader.StateFailed:
		return "✗ " + f.Name + ": " + reasonOf(f)
	case uploader.StateCanceled:
		if f.Reason != "" && f.Reason != "canceled" {
			return "⊘ " + f.Name + ": canceled (" + oneLine(f.Reason) + ")"
		}
		return "⊘ " + f.Name + ": canceled"
	case uploader.StatePaused:
		// Left paused: a multipart upload keeps its parts and its journal
		// entry, so the next run of the same command goes on from them.
		if f.Parts > 0 {
			return "‖ " + f.Name + ": paused, its parts kept on the server; run the same command again to resume, or `hoist uploads --abort` to discard it"
		}
		return "‖ " + f.Name + ": paused, not sent"
	}
	return "• " + f.Name + ": not sent"
}

// summaryRank orders the summary: failed files first, then canceled, then
// the rest, then the ones uploaded.
func summaryRank(s uploader.State) int {
	switch s {
	case uploader.StateFailed:
		return 0
	case uploader.StateCanceled:
		return 1
	case uploader.StateDone:
		return 3
	}
	return 2
}

// sortedForSummary puts failed files first, then canceled, then the rest,
// each in id order.
func sortedForSummary(in []uploader.FileStatus) []uploader.FileStatus {
	files := slices.Clone(in)
	slices.SortStableFunc(files, func(a, b uploader.FileStatus) int {
		if d := summaryRank(a.State) - summaryRank(b.State); d != 0 {
			return d
		}
		return a.ID - b.ID
	})
	return files
}

// summaryOrder is the ids of l's files in the summary's order, each rank in
// id order: four passes, no sort, 4 bytes a file.
func summaryOrder(l *ledger) []int32 {
	order := make([]int32, 0, len(l.rows))
	for rank := range 4 {
		for id := range l.rows {
			if summaryRank(l.rows[id].state) == rank {
				order = append(order, int32(id))
			}
		}
	}
	return order
}

// outcomeFiles is what Print needs of a finished run's ledger: how many
// files, how many not sent, and the files it shows.
func outcomeFiles(l ledger) (total, notSent int, files []uploader.FileStatus) {
	total = len(l.rows)
	for _, id := range summaryOrder(&l) {
		id := int(id)
		switch l.rows[id].state {
		case uploader.StateSkipped:
		case uploader.StateDone:
			if _, share := l.shares[id]; share || total <= printDoneMax {
				files = append(files, l.ended(id))
			}
		default:
			notSent++
			if notSent <= printProblemsMax {
				files = append(files, l.status(id))
			}
		}
	}
	return total, notSent, files
}

// linkTarget is what a place opens when clicked: a local path as a file://
// URL, a web address without its query (a presigned URL's query is a
// credential), or "" when it is neither.
func linkTarget(where string) string {
	switch {
	case filepath.IsAbs(where):
		return (&url.URL{Scheme: "file", Path: where}).String()
	case strings.HasPrefix(where, "http://"), strings.HasPrefix(where, "https://"):
		u, err := url.Parse(where)
		if err != nil {
			return ""
		}
		u.RawQuery, u.Fragment, u.User = "", "", nil
		return u.String()
	}
	return ""
}

// hyperlink makes text a terminal hyperlink (OSC 8) to target; terminals
// without them show the text alone.
func hyperlink(text, target string) string {
	if target == "" {
		return text
	}
	return ansi.SetHyperlink(target) + text + ansi.ResetHyperlink()
}

// formatExpiry is a moment with its date and time zone.
func formatExpiry(t time.Time) string { return t.Local().Format("2006-01-02 15:04 MST") }
