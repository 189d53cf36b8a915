package headless

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"hoist/uploader"
)

// How often Watch reports. A terminal gets a live line often enough to look
// alive; a log (CI, a file) gets a plain line every 10 s, often enough to
// show a long upload is moving without burying the results; --json gets a
// progress event every --progress-interval.
const (
	LiveEvery  = 500 * time.Millisecond
	PlainEvery = 10 * time.Second
)

// clearLine returns to the start of the row and erases it.
const clearLine = "\r\x1b[K"

// rateWindow is the time constant of the smoothed rate: long enough that
// one slow second does not swing the ETA, short enough to follow a change
// of link within a few samples.
const rateWindow = 5 * time.Second

// maxETA is the longest wait worth a number; past it the ETA says nothing.
const maxETA = 99 * time.Hour

// Progress is the run at one moment.
type Progress struct {
	Files, Done, Failed int
	Sent, Total         int64   // bytes: on their way or delivered, and all of them
	Rate                float64 // smoothed bytes per second; 0 before it is known
	Elapsed             time.Duration
}

// ETA is the time left at the smoothed rate; false when it cannot be known.
func (pr Progress) ETA() (time.Duration, bool) {
	left := pr.Total - pr.Sent
	if pr.Rate <= 0 || left < 0 {
		return 0, false
	}
	eta := time.Duration(float64(left) / pr.Rate * float64(time.Second))
	return eta, eta <= maxETA
}

type jsonStart struct {
	Event  string `json:"event"`
	Time   string `json:"time"`
	Files  int    `json:"files_total"`
	Bytes  int64  `json:"bytes"`
	Target string `json:"target"`
}

type jsonProgress struct {
	Event       string   `json:"event"`
	Time        string   `json:"time"`
	Files       int      `json:"files_total"`
	Done        int      `json:"done"`
	Failed      int      `json:"failed"`
	BytesSent   int64    `json:"bytes_sent"`
	BytesTotal  int64    `json:"bytes_total"`
	BytesPerSec float64  `json:"bytes_per_second"`
	ETASeconds  *float64 `json:"eta_seconds,omitempty"`
}

// Start says what the run is about to do: how many files, how many bytes,
// and where they go. Without it a person at a terminal sees nothing until
// the first file finishes.
func (p *Printer) Start(files int, total int64, target string) {
	p.lock()
	defer p.mu.Unlock()
	if p.JSON {
		p.writeJSON(jsonStart{Event: "start", Time: time.Now().UTC().Format(time.RFC3339Nano), Files: files, Bytes: total, Target: target})
		return
	}
	fmt.Fprintf(p.Err, "hoist: uploading %s (%s) to %s\n", count(files, "file", "files"), humanize.IBytes(uint64(total)), target)
}

// Watch reports pool's progress every interval until the returned stop is
// called: a live status line (Live), a plain line (a log), or a progress
// event (JSON). files and total are the run's file count and bytes: the pool
// forgets finished files, so they are counted from its Summary. stop returns
// once nothing more will be printed.
func (p *Printer) Watch(pool *uploader.Pool, every time.Duration, files int, total int64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		s := sampler{start: time.Now(), files: files, total: total}
		var buf []uploader.FileStatus
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				buf = pool.Snapshot(buf)
				p.Progress(s.sample(pool.Summary(), buf, now))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		p.mu.Lock()
		if p.status {
			fmt.Fprint(p.Err, clearLine)
			p.status = false
		}
		p.mu.Unlock()
	}
}

// sampler turns the pool's summary and the files still on their way into
// Progress with a smoothed rate.
type sampler struct {
	start    time.Time
	files    int
	total    int64
	last     time.Time
	lastSent int64
	rate     float64
}

func (s *sampler) sample(sum uploader.Summary, active []uploader.FileStatus, now time.Time) Progress {
	pr := Progress{Files: s.files, Total: s.total, Elapsed: now.Sub(s.start),
		Done: sum.Uploaded + sum.Skipped, Failed: sum.Failed + sum.Canceled, Sent: sum.Bytes}
	for _, f := range active {
		if !f.State.Finished() { // finished ones are in the summary, or about to be
			pr.Sent += min(f.Sent, f.Size)
		}
	}
	if !s.last.IsZero() {
		dt := now.Sub(s.last)
		moved := max(pr.Sent-s.lastSent, 0) // a retry gives bytes back; that is not a negative speed
		inst := float64(moved) / dt.Seconds()
		if s.rate == 0 {
			s.rate = inst
		} else {
			alpha := 1 - math.Exp(-dt.Seconds()/rateWindow.Seconds())
			s.rate += alpha * (inst - s.rate)
		}
	}
	s.last, s.lastSent = now, pr.Sent
	pr.Rate = s.rate
	return pr
}

// Progress prints one progress report in the printer's mode.
func (p *Printer) Progress(pr Progress) {
	p.lock()
	defer p.mu.Unlock()
	if p.JSON {
		j := jsonProgress{Event: "progress", Time: time.Now().UTC().Format(time.RFC3339Nano),
			Files: pr.Files, Done: pr.Done, Failed: pr.Failed,
			BytesSent: pr.Sent, BytesTotal: pr.Total, BytesPerSec: math.Round(pr.Rate)}
		if eta, ok := pr.ETA(); ok {
			secs := math.Round(eta.Seconds())
			j.ETASeconds = &secs
		}
		p.writeJSON(j)
		return
	}
	line := statusText(pr)
	if !p.Live {
		fmt.Fprintln(p.Err, "… "+line)
		return
	}
	if p.Width > 1 && len([]rune(line)) > p.Width-1 {
		line = string([]rune(line)[:p.Width-2]) + "…"
	}
	fmt.Fprint(p.Err, line)
	p.status = true
}

// statusText is one short line: files done, bytes, speed, time left.
func statusText(pr Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %s done", pr.Done, count(pr.Files, "file", "files"))
	if pr.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", pr.Failed)
	}
	fmt.Fprintf(&b, " · %s of %s", humanize.IBytes(uint64(pr.Sent)), humanize.IBytes(uint64(pr.Total)))
	if pr.Rate > 0 {
		fmt.Fprintf(&b, " · %s/s", humanize.IBytes(uint64(pr.Rate)))
	}
	if eta, ok := pr.ETA(); ok && pr.Sent < pr.Total {
		fmt.Fprintf(&b, " · %s left", eta.Round(time.Second))
	}
	return b.String()
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
