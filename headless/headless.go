// Package headless prints an upload's progress without a terminal UI: one
// human line per finished file and a summary, or JSON lines for scripts.
package headless

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"hoist/inspect"
	"hoist/internal/human"
	"hoist/uploader"
)

// Printer writes events as they arrive. Out gets the results (human lines or
// JSON); Err gets retries and warnings in human mode.
type Printer struct {
	Out, Err io.Writer
	JSON     bool
	// Redact removes any secret that could have slipped into a message.
	Redact func(string) string
	// Live: Err is a terminal, so Watch keeps one status line at its bottom,
	// redrawn in place; Width (columns, 0 = unknown) keeps it on one row.
	Live  bool
	Width int

	mu     sync.Mutex // one writer at a time: events and the status ticker
	status bool       // a live status line is on the screen
}

// lock takes the printer for one write, first clearing a live status line
// so the line printed does not land on top of it.
func (p *Printer) lock() {
	p.mu.Lock()
	if p.status {
		fmt.Fprint(p.Err, clearLine)
		p.status = false
	}
}

func (p *Printer) redact(s string) string {
	if p.Redact == nil {
		return s
	}
	return p.Redact(s)
}

// jsonEvent is one line of --json output, with the fields DESIGN.md lists.
type jsonEvent struct {
	Event   string `json:"event"`
	File    string `json:"file,omitempty"`
	Path    string `json:"path,omitempty"` // finished files: what --retry-failed matches
	Time    string `json:"time"`
	Attempt int    `json:"attempt,omitempty"`
	Max     int    `json:"max_attempts,omitempty"`
	DelayMS int64  `json:"delay_ms,omitempty"`
	Resumed int64  `json:"resumed_bytes,omitempty"`

	// done
	Bytes    *int64 `json:"bytes,omitempty"`
	CRC32    string `json:"crc32,omitempty"`
	ETag     string `json:"etag,omitempty"`
	Key      string `json:"key,omitempty"`
	Location string `json:"location,omitempty"`
	// A sharing source's link (a secret for its owner) and its expiry.
	ShareURL  string `json:"share_url,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`

	// failed, retrying
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
}

type jsonSummary struct {
	Event    string  `json:"event"`
	Time     string  `json:"time"`
	Uploaded int     `json:"uploaded"`
	Failed   int     `json:"failed"`
	Canceled int     `json:"canceled"`
	Skipped  int     `json:"skipped"`
	Bytes    int64   `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	Report   string  `json:"report,omitempty"` // the run report's path
}

// Event prints one event.
func (p *Printer) Event(e uploader.Event) {
	p.lock()
	defer p.mu.Unlock()
	if p.JSON {
		p.jsonEvent(e)
		return
	}
	name := uploader.DisplayName(e.File)
	switch e.Kind {
	case uploader.EventDone:
		r := e.Result
		if r.ShareURL != "" {
			fmt.Fprintf(p.Out, "✓ %s → %s (%s%s)\n", e.File, r.ShareURL, human.Bytes(r.Bytes), expiry(r.ShareExpires))
			return
		}
		where := r.Key
		if r.Location != "" {
			where = r.Location
		}
		parts := ""
		if r.Parts > 0 {
			parts = fmt.Sprintf(", %d parts", r.Parts)
		}
		speed := ""
		if r.Duration >= minRated {
			speed = ", " + rate(r.Bytes, r.Duration)
		}
		retries := ""
		if n := human.Retries(e.Attempt); n != "" {
			retries = ", " + n
		}
		fmt.Fprintf(p.Out, "✓ %s → %s (%s%s, crc32 %s%s%s)\n", name, uploader.DisplayName(where),
			human.Bytes(r.Bytes), parts, inspect.EncodeCRC32(r.CRC32), speed, retries)
	case uploader.EventFailed:
		retries := ""
		if n := human.Retries(e.Attempt); n != "" {
			retries = " (" + n + ")"
		}
		fmt.Fprintf(p.Out, "✗ %s: %s%s\n", name, uploader.DisplayName(p.redact(errText(e.Err))), retries)
	case uploader.EventCanceled:
		fmt.Fprintf(p.Out, "– %s: %s\n", name, uploader.DisplayName(errText(e.Err)))
	case uploader.EventSkipped:
		fmt.Fprintf(p.Out, "↷ %s: skipped, %s\n", name, uploader.DisplayName(errText(e.Err)))
	case uploader.EventRetrying:
		fmt.Fprintf(p.Err, "… %s: %s in %s: %s\n", name, human.Retry(e.Attempt, e.MaxAttempts),
			e.Delay.Round(10*time.Millisecond), uploader.DisplayName(p.redact(errText(e.Err))))
	case uploader.EventResumed:
		fmt.Fprintf(p.Err, "… %s: resuming, %s already on the server\n", name, human.Bytes(e.Resumed))
	case uploader.EventRestarted:
		fmt.Fprintf(p.Err, "… %s: %s\n", name, uploader.DisplayName(p.redact(errText(e.Err))))
	}
}

func (p *Printer) jsonEvent(e uploader.Event) {
	if e.Kind == uploader.EventAwaiting {
		return // a state for the UI, not one of the documented events
	}
	j := jsonEvent{Event: string(e.Kind), File: e.File, Time: e.Time.UTC().Format(time.RFC3339Nano)}
	switch e.Kind {
	case uploader.EventStarted:
		j.Attempt, j.Max = e.Attempt, e.MaxAttempts
	case uploader.EventRetrying:
		j.Attempt, j.Max, j.DelayMS = e.Attempt, e.MaxAttempts, e.Delay.Milliseconds()
		j.Error, j.Code = p.redact(errText(e.Err)), e.Code
	case uploader.EventResumed:
		j.Resumed = e.Resumed
	case uploader.EventDone:
		r := e.Result
		j.Attempt, j.Max = e.Attempt, e.MaxAttempts
		j.Bytes = &r.Bytes
		j.CRC32 = inspect.EncodeCRC32(r.CRC32) // S3's form, as x-amz-checksum-crc32 shows it
		j.ETag, j.Key, j.Location = r.ETag, r.Key, r.Location
		j.ShareURL = r.ShareURL
		if !r.ShareExpires.IsZero() {
			j.ExpiresAt = r.ShareExpires.UTC().Format(time.RFC3339)
		}
	case uploader.EventFailed:
		j.Attempt, j.Max = e.Attempt, e.MaxAttempts
		j.Error, j.Code = p.redact(errText(e.Err)), e.Code
	case uploader.EventCanceled, uploader.EventRestarted:
		j.Error = p.redact(errText(e.Err))
	case uploader.EventSkipped:
		j.Error = errText(e.Err)
	}
	switch e.Kind {
	case uploader.EventDone, uploader.EventFailed, uploader.EventCanceled, uploader.EventSkipped:
		j.Path = e.Path
	}
	p.writeJSON(j)
}

// Summary prints the run's totals and where its report is ("" when none
// was written).
func (p *Printer) Summary(s uploader.Summary, interrupted bool, report string) {
	p.lock()
	defer p.mu.Unlock()
	if p.JSON {
		p.writeJSON(jsonSummary{
			Event: "summary", Time: time.Now().UTC().Format(time.RFC3339Nano),
			Uploaded: s.Uploaded, Failed: s.Failed, Canceled: s.Canceled + s.Pending, Skipped: s.Skipped,
			Bytes: s.Bytes, Seconds: s.Elapsed.Seconds(), Report: report,
		})
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d uploaded", s.Uploaded)
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped (already on the server)", s.Skipped)
	}
	if s.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", s.Failed)
	}
	if n := s.Canceled + s.Pending; n > 0 {
		fmt.Fprintf(&b, ", %d canceled", n)
	}
	fmt.Fprintf(&b, " · %s in %s (%s)", human.Bytes(s.Bytes), s.Elapsed.Round(10*time.Millisecond), rate(s.Bytes, s.Elapsed))
	if interrupted {
		b.WriteString(" · interrupted")
	}
	fmt.Fprintln(p.Out, b.String())
	if report != "" {
		fmt.Fprintln(p.Out, "Report:", report)
	}
}

// jsonProblem is a warning or an error found before or beside the run: in
// JSON mode every line hoist writes is an event, these included.
type jsonProblem struct {
	Event   string `json:"event"` // "warning" or "error"
	File    string `json:"file,omitempty"`
	Time    string `json:"time"`
	Message string `json:"message"`
}

// Warn prints a problem that does not stop the run; file may be "".
func (p *Printer) Warn(file, msg string) { p.problem("warning", file, msg) }

// Error prints a problem that stops the run before anything is sent (exit 2);
// file may be "".
func (p *Printer) Error(file, msg string) { p.problem("error", file, msg) }

func (p *Printer) problem(kind, file, msg string) {
	p.lock()
	defer p.mu.Unlock()
	msg = p.redact(msg)
	if p.JSON {
		p.writeJSON(jsonProblem{Event: kind, File: file, Time: time.Now().UTC().Format(time.RFC3339Nano), Message: msg})
		return
	}
	if file != "" {
		msg = file + ": " + msg
	}
	if kind == "warning" {
		msg = "warning: " + msg
	}
	// A name is text from outside: escaped, so it cannot recolour the
	// terminal or break the line.
	fmt.Fprintln(p.Err, "hoist: "+uploader.DisplayName(msg))
}

func (p *Printer) writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return // only plain strings and numbers go in; this cannot happen
	}
	b = append(b, '\n')
	_, _ = p.Out.Write(b)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// minRated is the shortest upload whose speed means something: below it,
// the figure is the round trip, not the link ("17 B at 12 KiB/s").
const minRated = 250 * time.Millisecond

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return human.Rate(0)
	}
	return human.Rate(float64(n) / d.Seconds())
}

// expiry says when a link stops working, for the human line.
func expiry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ", expires " + t.UTC().Format(time.RFC3339)
}
