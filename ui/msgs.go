package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"hoist/fileset"
	"hoist/runreport"
	"hoist/uploader"
)

// Messages are named for what happened. Those about one file carry its id in
// the pool.

// Picker.

type dirReadMsg struct {
	dir     string
	entries []dirEntry
	err     error
	at      time.Time // when it was read: ages are shown against it
}

type dirWalkedMsg struct {
	path    string
	files   *fileset.List
	skipped int // entries that cannot be uploaded: special files, unreadable folders, linked folders
	err     error
}

type pathsResolvedMsg struct {
	picks    []pick
	problems []string // one line each: a path that could not be used, and why
}

type filesPickedMsg struct{ files *fileset.List }

// agesTickedMsg: time to work out the entries' ages again.
type agesTickedMsg struct{ at time.Time }

// Form.

type metadataSubmittedMsg struct{ md uploader.Metadata }

type formCancelledMsg struct{}

// Review.

type preflightCheckedMsg struct{ problems []Preflight }

type uploadConfirmedMsg struct{}

// reviewArmedMsg: the review has been on show long enough for enter to
// mean "send".
type reviewArmedMsg struct{}

type reviewCancelledMsg struct{}

type clockTickedMsg struct{ at time.Time }

// Uploads.

type uploadsStartedMsg struct {
	pool        *uploader.Pool
	spool       *runreport.Spool
	at          time.Time
	concurrency int
	rate        int64 // the pool's bandwidth limit, bytes per second; 0 = none
}

// eventsDrainedMsg carries every event that was waiting, translated into the
// per-file messages below, so a burst (1,000 files queued at once) costs one
// render instead of a thousand.
type eventsDrainedMsg struct {
	msgs   []tea.Msg
	closed bool // the pool closed its event channel: stop waiting
}

type uploadQueuedMsg struct{ id int }

type hashingStartedMsg struct{ id int }

// turnAwaitedMsg: the file is ready and waits for its turn at a destination
// that takes one upload at a time.
type turnAwaitedMsg struct{ id int }

type uploadStartedMsg struct {
	id           int
	attempt, max int
}

// bodySentMsg: the whole body is sent; the server has not answered yet.
type bodySentMsg struct{ id int }

type retryScheduledMsg struct {
	id           int
	attempt, max int
	at           time.Time // when the next attempt starts
	reason       string
}

type uploadResumedMsg struct {
	id    int
	bytes int64
}

// uploadPausedMsg: the file's work has stopped after a pause.
type uploadPausedMsg struct{ id int }

// uploadRestartedMsg: what was sent is discarded and the file starts over
// (a paused single PUT, a resume that could not continue).
type uploadRestartedMsg struct {
	id     int
	reason string
}

type uploadDoneMsg struct {
	id      int
	attempt int
	// result is read for the row's few fields and let go: what the summary
	// and report need of it is in the spool (issue 15).
	result *uploader.Result
}

type uploadFailedMsg struct {
	id      int
	attempt int
	err     error
	code    string
}

type uploadCanceledMsg struct {
	id     int
	reason string
}

// uploadSkippedMsg: --skip-existing found the file's object already stored.
type uploadSkippedMsg struct {
	id     int
	reason string
}

type progressSampledMsg struct {
	at          time.Time
	files       []uploader.FileStatus
	concurrency int
}

type cancelRequestedMsg struct{ id int }

type retryRequestedMsg struct{ ids []int }

type retriedMsg struct{ ids []int } // the pool queued these again

type pauseRequestedMsg struct{ ids []int }

// pauseAcceptedMsg: the pool took the pause of these files; each says
// "pausing…" until its uploadPausedMsg comes.
type pauseAcceptedMsg struct{ ids []int }

type resumeRequestedMsg struct{ ids []int }

type resumedMsg struct{ ids []int } // the pool queued these again

// rateRequestedMsg asks for a bandwidth limit in bytes per second; 0 lifts it.
type rateRequestedMsg struct{ bps int64 }

type rateChangedMsg struct{ bps int64 }

type concurrencyRequestedMsg struct{ n int }

type concurrencyChangedMsg struct{ n int }

// quitRequestedMsg: the person asked to leave, and confirmed if that cancels
// uploads.
type quitRequestedMsg struct{}

type uploadsStoppedMsg struct{}

type runFinishedMsg struct {
	summary    uploader.Summary
	ledger     ledger // frozen, with the files never handed to the pool canceled
	reportPath string
	reportErr  error
}

// interruptedMsg: the context given to Run ended (SIGINT, SIGTERM).
type interruptedMsg struct{}

// Mouse, in the screen's own coordinates (the root takes off its header
// and margin): a click at column x of line y, or the wheel turned by delta
// rows (negative: up).

type screenClickedMsg struct{ x, y int }

type screenScrolledMsg struct{ delta int }
