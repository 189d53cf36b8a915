package ui

import (
	"time"

	"hoist/fileset"
	"hoist/runreport"
	"hoist/uploader"
)

// ledger is every file of a run as the screens know it, kept small: a run
// of 100,000 files must fit in the memory of a headless one (issue 15). The
// names come from the run's compact list when a row is drawn; each file
// keeps a fixed row; what only some files have lives in maps by id (the
// few in flight, the ones that failed, the share links); and what a file
// ended with (key, ETag, where it landed) is in the spool, on disk, read
// back for the rows a summary shows and for the report.
//
// A ledger is copied with the model that holds it: its slices and maps are
// shared, and only the update loop writes them.
type ledger struct {
	files  *fileset.List
	rows   []fileRow         // by id: file i of the list is id i
	live   map[int]*liveRow  // files under way, waiting or paused
	notes  map[int]string    // why a file is retrying, failed, canceled or skipped
	shares map[int]shareLink // share links made (a sharing source)
	spool  *runreport.Spool  // the files' report records as they ended; nil in tests that keep none
	texts  map[string]string // one copy of each note's text
	// unconfirmed counts the rows whose end a sample saw before its event.
	unconfirmed int
}

// fileRow is what every file keeps: 24 bytes (its size is the list's).
type fileRow struct {
	sent        int64 // bytes handed to the connection in the current attempt(s)
	crc32       uint32
	attempt     uint16
	maxAttempts uint16
	state       uploader.State
	hasCRC      bool
	pausing     bool // the pool took a pause; the file's work has not stopped yet
	// unconfirmed: a sample saw the file end before its event came (which
	// spools what the report needs).
	unconfirmed bool
}

// liveRow is what a file under way (or paused) has besides its row.
type liveRow struct {
	speed    float64    // bytes per second, smoothed: meter.rate()
	meter    *rateMeter // while uploading only
	lastSent int64
	retryAt  time.Time // retrying: when the next attempt starts
	resumed  int64     // bytes already on the server when a multipart upload resumed
	parts    int       // multipart: number of parts
}

// shareLink is a link a sharing source made: a secret, kept in memory only.
type shareLink struct {
	url     string
	expires time.Time
}

func newLedger(files *fileset.List, spool *runreport.Spool) ledger {
	l := ledger{
		files: files, rows: make([]fileRow, files.Len()),
		live: map[int]*liveRow{}, notes: map[int]string{}, shares: map[int]shareLink{}, spool: spool,
	}
	for i := range l.rows {
		l.rows[i] = fileRow{state: uploader.StateQueued}
	}
	return l
}

// liveOf is file id's live part, made when first needed.
func (l *ledger) liveOf(id int) *liveRow {
	lr := l.live[id]
	if lr == nil {
		lr = &liveRow{}
		l.live[id] = lr
	}
	return lr
}

// speedOf is file id's smoothed speed, 0 when it is not under way.
func (l *ledger) speedOf(id int) float64 {
	if lr := l.live[id]; lr != nil {
		return lr.speed
	}
	return 0
}

// name is what a person calls file id.
func (l *ledger) name(id int) string {
	if l.files == nil || id >= l.files.Len() {
		return ""
	}
	return l.files.At(id).Name
}

// status is file id as a FileStatus, without a Result: what a row shows.
func (l *ledger) status(id int) uploader.FileStatus {
	r := &l.rows[id]
	s := uploader.FileStatus{
		ID: id, Name: l.name(id), Size: l.files.SizeAt(id), Sent: r.sent, State: r.state,
		Attempt: int(r.attempt), MaxAttempts: int(r.maxAttempts), Reason: l.notes[id],
	}
	if lr := l.live[id]; lr != nil {
		s.Parts = lr.parts
	}
	return s
}

// ended is status with, for a done file, a Result holding what its record
// says of where it went (Key, Location, ETag) and its share link: for the
// summary's rows and the outcome, read from the spool.
func (l *ledger) ended(id int) uploader.FileStatus {
	s := l.status(id)
	r := &l.rows[id]
	if r.state != uploader.StateDone {
		return s
	}
	res := &uploader.Result{ID: id, File: s.Name, Bytes: s.Size, CRC32: r.crc32}
	if l.spool != nil {
		if f, ok := l.spool.Get(id); ok {
			res.Key, res.ETag, res.Location, res.Parts = f.Key, f.ETag, f.Location, f.Parts
			res.Duration = time.Duration(f.Seconds * float64(time.Second))
			s.Parts = f.Parts
		}
	}
	if sh, ok := l.shares[id]; ok {
		res.ShareURL, res.ShareExpires = sh.url, sh.expires
	}
	s.Result = res
	return s
}

// record is file id's report record: the one spooled when it last ended,
// or, for a file that has not ended (paused, never handed to the pool) or
// whose record could not be kept, one made from its row.
func (l *ledger) record(id int) runreport.File {
	if l.rows[id].state != uploader.StatePaused && l.spool != nil {
		if f, ok := l.spool.Get(id); ok {
			return f
		}
	}
	return runreport.FileOf(l.files.At(id), l.ended(id), "")
}

// note is reason, one copy of each text: 100,000 files skipped "already on
// the server" keep one string.
func (l *ledger) note(reason string) string {
	if n, ok := l.texts[reason]; ok {
		return n
	}
	if l.texts == nil {
		l.texts = map[string]string{}
	}
	if len(l.texts) < 1024 {
		l.texts[reason] = reason
	}
	return reason
}

// spoolEvent keeps the report record of a file that just ended, before the
// update loop hears of it (waitForEvent): once every row has ended, every
// record is in the spool. It reads only the list, which no one writes.
func spoolEvent(spool *runreport.Spool, files *fileset.List, e uploader.Event) {
	if spool == nil || e.ID < 0 || e.ID >= files.Len() {
		return
	}
	st, ends := e.Kind.Ends()
	if !ends {
		return
	}
	f := files.At(e.ID)
	s := uploader.FileStatus{ID: e.ID, Name: f.Name, Size: f.Size, State: st, Attempt: e.Attempt, Result: e.Result}
	if e.Result != nil {
		s.Parts = e.Result.Parts
	}
	if e.Err != nil && s.State != uploader.StateDone {
		s.Reason = e.Err.Error()
	}
	_ = spool.Put(e.ID, runreport.FileOf(f, s, e.Code)) // a record not kept is made from the row
}
