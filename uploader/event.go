package uploader

import (
	"time"
)

// State is where one file is in its life.
type State int32

const (
	StateQueued State = iota
	StateHashing
	StateUploading
	StateAwaiting // body sent, waiting for the server's answer
	StateRetrying
	StateDone
	StateFailed
	StateCanceled
	// StateSkipped: with Options.SkipExisting, the object was already on the
	// server, so nothing was sent. It is never counted as uploaded.
	StateSkipped
	StatePaused // stopped by Pause until Resume; not finished
	// StateWaiting: ready to send, waiting for its turn at a destination
	// that takes one upload at a time (Capabilities.OneAtATime).
	StateWaiting
	// NumStates is the number of states, for tables indexed by State.
	NumStates
)

var stateNames = [NumStates]string{"queued", "hashing", "uploading", "awaiting response", "retrying", "done", "failed", "canceled", "skipped", "paused", "waiting"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// Finished reports whether the file will not move again unless retried by hand.
func (s State) Finished() bool {
	return s == StateDone || s == StateFailed || s == StateCanceled || s == StateSkipped
}

// EventKind names a lifecycle event; the strings are those of the JSON-lines output.
type EventKind string

const (
	EventQueued   EventKind = "queued"
	EventHashing  EventKind = "hashing"
	EventStarted  EventKind = "started"
	EventAwaiting EventKind = "awaiting"
	// EventWaiting: the file is ready and waits for its turn at a
	// destination that takes one upload at a time; EventStarted follows.
	EventWaiting  EventKind = "waiting"
	EventRetrying EventKind = "retrying"
	EventResumed  EventKind = "resumed"
	// EventRestarted: what was already sent is discarded and the file starts
	// over; Err says why (the interrupted upload is gone from the server, or
	// was made with other metadata; a paused single PUT).
	EventRestarted EventKind = "restarted"
	// EventPaused: Pause stopped the file; what was sent stays on the server
	// for a multipart upload (Resume continues at its next part), and is
	// discarded for a single PUT (Resume starts it from zero).
	EventPaused   EventKind = "paused"
	EventDone     EventKind = "done"
	EventFailed   EventKind = "failed"
	EventCanceled EventKind = "canceled"
	EventSkipped  EventKind = "skipped"
)

// Ends is the state an event of kind k leaves its file in when it ends the
// file (done, failed, canceled, skipped), and whether it does.
func (k EventKind) Ends() (State, bool) {
	switch k {
	case EventDone:
		return StateDone, true
	case EventFailed:
		return StateFailed, true
	case EventCanceled:
		return StateCanceled, true
	case EventSkipped:
		return StateSkipped, true
	}
	return StateQueued, false
}

// Event is one change in a file's life. Events are never dropped.
type Event struct {
	Kind EventKind
	ID   int    // the file's id in the pool
	File string // File.Name
	Path string // File.Path: what a rerun (--retry-failed) matches files by
	Time time.Time

	Attempt     int // 1-based attempt of this send (started, retrying); sends made (done, failed)
	MaxAttempts int
	Delay       time.Duration // retrying: how long until the next attempt

	// Err is why it is retrying or failed. Its text is one line and holds no
	// secret (the file is in File); Code is the S3 error code when there is one.
	Err  error
	Code string

	Result *Result // done

	// Resumed: bytes already on the server when a multipart upload was resumed.
	Resumed int64
}

// Result is what a finished upload produced.
type Result struct {
	ID       int
	File     string
	Path     string
	Key      string
	Bytes    int64
	CRC32    uint32
	ETag     string
	Location string        // where a person finds the object, when known
	Duration time.Duration // from the file's start to the server's answer, less its waits for a turn (Capabilities.OneAtATime)
	Parts    int           // 0 for a single PUT

	// ShareURL is the link a sharing source (Konfidant) made for the file: a
	// secret shown to its owner and printed on standard output, never logged,
	// journaled or written to a run report. ShareExpires is when it stops
	// working; zero when unknown.
	ShareURL     string
	ShareExpires time.Time
}

// FileStatus is one row of a Snapshot.
type FileStatus struct {
	ID          int
	Name        string
	Size        int64
	Sent        int64 // bytes handed to the connection in the current attempt(s)
	State       State
	Attempt     int
	MaxAttempts int
	Parts       int // multipart: number of parts, 0 for a single PUT
	Started     time.Time
	Finished    time.Time
	Reason      string // failed / retrying: one line
	Result      *Result
}

// Summary counts a whole run.
type Summary struct {
	Uploaded, Failed, Canceled, Pending int
	Skipped                             int   // already on the server (Options.SkipExisting)
	Bytes                               int64 // bytes of the uploaded files
	Elapsed                             time.Duration
	// Active is the time something was being sent: the spans with a worker
	// at work, so a summary left on screen before a retry, or a wait
	// before the first file, does not count.
	Active time.Duration
}
