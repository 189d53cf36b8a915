package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"hoist/fileset"
	"hoist/inspect"
	"hoist/internal/human"
	"hoist/runreport"
	"hoist/uploader"
)

const (
	sampleEvery  = 100 * time.Millisecond
	fileSpeedTau = 2 * time.Second // smoothing of a file's speed
	poolSpeedTau = 3 * time.Second // smoothing of the total speed
	sparkPoints  = 120             // seconds of throughput history kept
	eventBatch   = 2048            // events handed over in one message at most
	// eventGather is how long waitForEvent keeps gathering after the first
	// event. The program draws the screen after every message, so an
	// event a message made 10,000 small files cost the TUI a frame each
	// (25% of its CPU, issue 15). At 50 ms, events and samples still made
	// 30 frames a second, each diffed against the terminal's screen (7% of
	// the TUI's CPU at 10,000 files); at the sample's own pace, and on the
	// same ticks of the clock, a file's end shows no later than its
	// progress does.
	eventGather = sampleEvery
)

type progressModel struct {
	st   *Styles
	keys progressKeys

	width, height int
	target        string
	ledger        // the run's files: rows, names, what they ended with
	win           window

	started, now, lastSample time.Time
	total, sent              int64
	speed                    float64 // meter.rate()
	meter                    rateMeter
	moved                    int64     // bytes moved since the start, for the meter
	spark                    []float64 // bytes per second, one point a second
	sparkMoved               int64     // moved at sparkFrom
	sparkFrom                time.Time
	counts                   [uploader.NumStates]int
	concurrency              int
	limit                    int64 // bandwidth limit, bytes per second; 0 = none
	finished                 bool  // every file reached done, failed or canceled
	confirming               bool  // "quit?" is being asked
	// follow keeps the files being sent in view. While it does, nothing is
	// selected: following scrolls, it never picks a row for x or r to act
	// on. The person's first move selects the row in view it starts from;
	// from then on the selection stays on that file whatever happens.
	follow bool

	bar progress.Model
	// Row bars drawn once per whole percent when the size or the colours
	// change: a row then costs a slice index, not a render.
	rowBars, failedBars [101]string
}

func newProgress(st *Styles, target string) progressModel {
	m := progressModel{st: st, keys: newProgressKeys(), target: target, follow: true, meter: newRateMeter(poolSpeedTau)}
	m.makeBars()
	return m
}

// begin shows the files the pool just queued: file i of the list has id i.
// spool keeps what each file ends with; nil keeps nothing.
func (m *progressModel) begin(files *fileset.List, spool *runreport.Spool, at time.Time, concurrency int) {
	m.ledger = newLedger(files, spool)
	m.started, m.now, m.lastSample, m.sparkFrom = at, at, at, at
	m.meter.start(at, m.moved)
	m.concurrency = concurrency
	m.win.setLen(len(m.rows))
	m.counts = [len(m.counts)]int{}
	m.total, m.sent = 0, 0
	for i := range m.rows {
		m.tally(i, 1)
	}
	m.finished = len(m.rows) > 0 && m.running() == 0 && m.unconfirmed == 0
}

func (m *progressModel) SetSize(w, h int) {
	m.width, m.height = w, h
	m.win.setHeight(m.listHeight())
	m.makeBars()
}

func (m *progressModel) setStyles(st *Styles) {
	m.st = st
	m.makeBars()
}

// The bars are static: ViewAs draws them from the sampled percentage and
// nothing animates, so no frame messages flood the program.
func (m *progressModel) makeBars() {
	chars := progress.WithFillCharacters('█', '░')
	m.bar = progress.New(progress.WithColors(m.st.BarFull), chars, progress.WithWidth(max(min(m.width/3, 40), 12)))
	m.bar.EmptyColor = m.st.BarEmpty
	row := progress.New(progress.WithColors(m.st.BarFull), chars, progress.WithWidth(m.cols().bar))
	failed := progress.New(progress.WithColors(m.st.BarFailed), chars, progress.WithWidth(m.cols().bar))
	row.EmptyColor, failed.EmptyColor = m.st.BarEmpty, m.st.BarEmpty
	for p := range m.rowBars {
		m.rowBars[p] = row.ViewAs(float64(p) / 100)
		m.failedBars[p] = failed.ViewAs(float64(p) / 100)
	}
}

const progressHeaderLines = 5

func (m progressModel) listHeight() int { return max(m.height-progressHeaderLines, 1) }

// running is how many files are not finished.
func (m progressModel) running() int {
	n := len(m.rows)
	for s, c := range m.counts {
		if uploader.State(s).Finished() {
			n -= c
		}
	}
	return n
}

// askQuit leaves at once when nothing is running, and asks first otherwise.
func (m progressModel) askQuit() (progressModel, tea.Cmd) {
	if m.running() == 0 {
		return m, func() tea.Msg { return quitRequestedMsg{} }
	}
	m.confirming = true
	return m, nil
}

func (m progressModel) Update(msg tea.Msg) (progressModel, tea.Cmd) {
	switch msg := msg.(type) {
	case progressSampledMsg:
		m.sample(msg)
		if m.follow {
			m.followActive()
		}
	case concurrencyChangedMsg:
		m.concurrency = msg.n
	case rateChangedMsg:
		m.limit = msg.bps
	case pauseAcceptedMsg:
		for _, id := range msg.ids {
			if r := m.row(id); r != nil && pausable(r) {
				r.pausing = true
			}
		}
	case uploadPausedMsg:
		m.setState(msg.id, uploader.StatePaused, "")
	case uploadRestartedMsg:
		if lr := m.live[msg.id]; lr != nil {
			lr.resumed = 0
		}
	case uploadQueuedMsg:
		m.setState(msg.id, uploader.StateQueued, "")
	case hashingStartedMsg:
		m.setState(msg.id, uploader.StateHashing, "")
	case turnAwaitedMsg:
		m.setState(msg.id, uploader.StateWaiting, "")
	case uploadStartedMsg:
		if r := m.row(msg.id); r != nil {
			r.attempt, r.maxAttempts = attempts(msg.attempt), attempts(msg.max)
		}
		m.setState(msg.id, uploader.StateUploading, "")
	case bodySentMsg:
		m.setState(msg.id, uploader.StateAwaiting, "")
	case retryScheduledMsg:
		if r := m.row(msg.id); r != nil {
			r.attempt, r.maxAttempts = attempts(msg.attempt), attempts(msg.max)
			m.liveOf(msg.id).retryAt = msg.at
		}
		m.setState(msg.id, uploader.StateRetrying, msg.reason)
	case uploadResumedMsg:
		if r := m.row(msg.id); r != nil {
			lr := m.liveOf(msg.id)
			lr.resumed = msg.bytes
			// Those bytes were sent by an earlier run: they count toward the
			// file's progress, not toward this run's speed.
			lr.lastSent = max(lr.lastSent, msg.bytes)
		}
	case uploadDoneMsg:
		if r := m.row(msg.id); r != nil && msg.result != nil {
			res := msg.result
			m.tally(msg.id, -1)
			r.sent, r.crc32, r.hasCRC = res.Bytes, res.CRC32, true
			if msg.attempt > 0 {
				r.attempt = attempts(msg.attempt)
			}
			m.tally(msg.id, 1)
			// A small file is often sent whole between two samples: its
			// bytes count toward the speed here, since no sample saw them.
			var lastSent int64
			if lr := m.live[msg.id]; lr != nil {
				lastSent = lr.lastSent
			}
			m.moved += max(res.Bytes-lastSent, 0)
			if res.ShareURL != "" {
				m.shares[msg.id] = shareLink{url: res.ShareURL, expires: res.ShareExpires}
			}
		}
		m.setState(msg.id, uploader.StateDone, "")
	case uploadFailedMsg:
		if r := m.row(msg.id); r != nil && msg.attempt > 0 {
			r.attempt = attempts(msg.attempt)
		}
		reason := ""
		if msg.err != nil {
			reason = msg.err.Error()
		}
		m.setState(msg.id, uploader.StateFailed, reason)
	case uploadCanceledMsg:
		m.setState(msg.id, uploader.StateCanceled, msg.reason)
	case uploadSkippedMsg:
		m.setState(msg.id, uploader.StateSkipped, msg.reason)
	case screenScrolledMsg:
		m.follow = false
		m.win.move(msg.delta)
	case screenClickedMsg:
		if i, ok := m.win.rowAt(msg.y, progressHeaderLines); ok && !m.confirming {
			m.follow = false
			m.win.moveTo(i)
		}
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	}
	return m, nil
}

func (m progressModel) updateKey(msg tea.KeyPressMsg) (progressModel, tea.Cmd) {
	if m.confirming {
		switch {
		case key.Matches(msg, m.keys.Yes):
			m.confirming = false
			return m, func() tea.Msg { return quitRequestedMsg{} }
		case key.Matches(msg, m.keys.No):
			m.confirming = false
		}
		return m, nil
	}
	if m.follow && key.Matches(msg, m.keys.Up, m.keys.Down) {
		// The first step selects the row following showed at the top of
		// the action (the first file still being sent), and goes no further.
		m.follow = false
		return m, nil
	}
	if m.win.handleKey(msg, m.keys.listKeys) {
		m.follow = false
		return m, nil
	}
	switch {
	case key.Matches(msg, m.keys.Follow):
		m.follow = true
		m.followActive()
	case m.follow && key.Matches(msg, m.keys.Cancel, m.keys.Retry, m.keys.Pause):
		// Nothing is selected while following.
	case key.Matches(msg, m.keys.Cancel):
		if r := m.row(m.win.cursor); r != nil && !r.state.Finished() {
			id := m.win.cursor
			return m, func() tea.Msg { return cancelRequestedMsg{id: id} }
		}
	case key.Matches(msg, m.keys.Retry):
		if r := m.row(m.win.cursor); r != nil && retryable(r.state) {
			ids := []int{m.win.cursor}
			return m, func() tea.Msg { return retryRequestedMsg{ids: ids} }
		}
	case key.Matches(msg, m.keys.Pause):
		if r := m.row(m.win.cursor); r != nil {
			ids := []int{m.win.cursor}
			switch {
			case r.state == uploader.StatePaused:
				return m, func() tea.Msg { return resumeRequestedMsg{ids: ids} }
			case pausable(r):
				return m, func() tea.Msg { return pauseRequestedMsg{ids: ids} }
			}
		}
	case key.Matches(msg, m.keys.PauseAll):
		// P resumes only once every file left is paused: pressed again
		// while pauses are on their way, it must not undo the first ones.
		if m.allPaused() {
			ids := m.pausedIDs()
			return m, func() tea.Msg { return resumeRequestedMsg{ids: ids} }
		}
		if ids := m.pausableIDs(); len(ids) > 0 {
			return m, func() tea.Msg { return pauseRequestedMsg{ids: ids} }
		}
	case key.Matches(msg, m.keys.Slower):
		if bps, ok := slowerLimit(m.limit, m.speed); ok {
			return m, func() tea.Msg { return rateRequestedMsg{bps: bps} }
		}
	case key.Matches(msg, m.keys.Faster):
		if bps, ok := fasterLimit(m.limit); ok {
			return m, func() tea.Msg { return rateRequestedMsg{bps: bps} }
		}
	case key.Matches(msg, m.keys.NoLimit):
		if m.limit > 0 {
			return m, func() tea.Msg { return rateRequestedMsg{bps: 0} }
		}
	case key.Matches(msg, m.keys.RetryAll):
		if ids := m.retryableIDs(); len(ids) > 0 {
			return m, func() tea.Msg { return retryRequestedMsg{ids: ids} }
		}
	case key.Matches(msg, m.keys.More):
		n := m.concurrency + 1
		return m, func() tea.Msg { return concurrencyRequestedMsg{n: n} }
	case key.Matches(msg, m.keys.Fewer):
		if m.concurrency > 1 {
			n := m.concurrency - 1
			return m, func() tea.Msg { return concurrencyRequestedMsg{n: n} }
		}
	case key.Matches(msg, m.keys.Quit):
		return m.askQuit()
	}
	return m, nil
}

// followActive scrolls so the first file not yet finished is on screen,
// with a few finished ones above it for context.
func (m *progressModel) followActive() {
	for i := range m.rows {
		if !m.rows[i].state.Finished() {
			m.win.moveTo(i)
			m.win.offset = max(0, min(i-2, len(m.rows)-m.win.height))
			m.win.clamp()
			return
		}
	}
}

func retryable(s uploader.State) bool {
	return s == uploader.StateFailed || s == uploader.StateCanceled
}

// pausable: the file is queued or under way, and no pause is on its way.
func pausable(r *fileRow) bool {
	return !r.state.Finished() && r.state != uploader.StatePaused && !r.pausing
}

func (m progressModel) pausableIDs() []int {
	var ids []int
	for i := range m.rows {
		if pausable(&m.rows[i]) {
			ids = append(ids, i)
		}
	}
	return ids
}

// allPaused: files are left to send, and every one of them is paused.
func (m progressModel) allPaused() bool {
	n := m.counts[uploader.StatePaused]
	return n > 0 && n == m.running()
}

func (m progressModel) pausedIDs() []int {
	var ids []int
	for i := range m.rows {
		if m.rows[i].state == uploader.StatePaused {
			ids = append(ids, i)
		}
	}
	return ids
}

func (m progressModel) retryableIDs() []int {
	var ids []int
	for i := range m.rows {
		if retryable(m.rows[i].state) {
			ids = append(ids, i)
		}
	}
	return ids
}

func (m *progressModel) row(id int) *fileRow {
	if id < 0 || id >= len(m.rows) {
		return nil
	}
	return &m.rows[id]
}

func (m *progressModel) setState(id int, s uploader.State, reason string) {
	r := m.row(id)
	if r == nil {
		return
	}
	m.tally(id, -1)
	defer m.tallied(id)
	r.state = s
	if r.unconfirmed {
		// The event a sample ran ahead of (or a retry): it is in now.
		r.unconfirmed = false
		m.unconfirmed--
	}
	switch {
	case reason != "":
		m.notes[id] = m.note(reason)
	case s.Finished() || s == uploader.StateQueued:
		delete(m.notes, id)
	}
	if s == uploader.StateQueued {
		r.sent, r.hasCRC = 0, false
		delete(m.live, id)
		m.finished = false
	}
	if s == uploader.StateQueued || s == uploader.StatePaused || s.Finished() {
		r.pausing = false
	}
	switch {
	case s.Finished():
		delete(m.live, id) // what it ended with is in its row, its note and the spool
	case s != uploader.StateUploading && s != uploader.StateAwaiting:
		if lr := m.live[id]; lr != nil {
			lr.speed, lr.meter = 0, nil
		}
	}
}

// sample takes in a snapshot: per-file and total speeds go through a
// rateMeter (smoothed, never more than what moved), and the ETA follows them.
func (m *progressModel) sample(msg progressSampledMsg) {
	prev := m.lastSample
	m.now, m.lastSample = msg.at, msg.at
	if msg.concurrency > 0 {
		m.concurrency = msg.concurrency
	}
	var moved int64
	for _, s := range msg.files {
		r := m.row(s.ID)
		if r == nil {
			continue
		}
		if r.state.Finished() && !s.State.Finished() {
			// The snapshot was taken before the event that finished the
			// file was seen: events have the last word, and only a retry
			// (an uploadQueuedMsg) moves a finished file again.
			continue
		}
		m.tally(s.ID, -1)
		if s.State.Finished() && !r.state.Finished() {
			// Its event is on its way with the rest (what the report and
			// the summary read): the run is not over before it is in.
			r.unconfirmed = true
			m.unconfirmed++
		}
		if s.Result != nil {
			r.crc32, r.hasCRC = s.Result.CRC32, true
		}
		lr := m.liveOf(s.ID)
		delta := s.Sent - lr.lastSent // negative when an attempt gave its bytes back
		if delta > 0 {
			moved += delta
		}
		switch s.State {
		case uploader.StateUploading:
			if lr.meter == nil {
				lr.meter = &rateMeter{tau: fileSpeedTau}
				lr.meter.start(prev, lr.lastSent)
			}
			lr.meter.add(msg.at, s.Sent)
			lr.speed = lr.meter.rate()
		case uploader.StateAwaiting:
			// The body is out: the last speed stands until the answer.
		default:
			lr.speed, lr.meter = 0, nil
		}
		lr.lastSent, lr.parts = s.Sent, s.Parts
		r.sent, r.state = s.Sent, s.State
		r.attempt, r.maxAttempts = attempts(s.Attempt), attempts(s.MaxAttempts)
		if s.Reason != "" {
			m.notes[s.ID] = m.note(s.Reason)
		}
		m.tallied(s.ID)
	}
	m.moved += moved
	m.meter.add(msg.at, m.moved)
	m.speed = m.meter.rate()
	if span := m.now.Sub(m.sparkFrom); span >= time.Second {
		m.spark = append(m.spark, float64(m.moved-m.sparkMoved)/span.Seconds())
		if len(m.spark) > sparkPoints {
			m.spark = m.spark[len(m.spark)-sparkPoints:]
		}
		m.sparkMoved, m.sparkFrom = m.moved, m.now
	}
}

// attempts is a count of attempts as a row keeps it.
func attempts(n int) uint16 { return uint16(min(max(n, 0), 1<<16-1)) }

// tally adds a row to the totals View shows (sign 1), or takes it out (-1)
// before the row changes: an event or a sample then costs O(1), not a
// recount of every file (which made 10,000 files cost the TUI seconds,
// issue 15).
func (m *progressModel) tally(id, sign int) {
	r := &m.rows[id]
	if r.state >= 0 && int(r.state) < len(m.counts) {
		m.counts[r.state] += sign
	}
	if r.state == uploader.StateSkipped {
		return // already stored: not part of what this run sends
	}
	size := m.files.SizeAt(id)
	m.total += int64(sign) * size
	sent := min(r.sent, size)
	if r.state == uploader.StateDone {
		sent = size
	}
	m.sent += int64(sign) * sent
}

// tallied adds back a row tally took out, now changed.
func (m *progressModel) tallied(id int) {
	m.tally(id, 1)
	m.finished = len(m.rows) > 0 && m.running() == 0 && m.unconfirmed == 0
}

// activeIDs are the files a sample needs to look at: the ones being sent
// or waiting for a retry. The others change only by events.
func (m *progressModel) activeIDs() []int {
	var ids []int
	for i := range m.rows {
		switch m.rows[i].state {
		case uploader.StateHashing, uploader.StateUploading, uploader.StateAwaiting, uploader.StateRetrying:
			ids = append(ids, i)
		}
	}
	return ids
}

func (m progressModel) helpKeys() help.KeyMap {
	if m.confirming {
		return confirmKeys{Yes: m.keys.Yes, No: m.keys.No}
	}
	k := m.keys
	var cur *fileRow
	if m.win.cursor < len(m.rows) {
		cur = &m.rows[m.win.cursor]
	}
	if m.follow {
		cur = nil // nothing is selected while following
		k.Up.SetHelp("↑/↓", "select")
		k.Down.SetEnabled(false)
	}
	k.Cancel.SetEnabled(cur != nil && !cur.state.Finished())
	k.Retry.SetEnabled(cur != nil && retryable(cur.state))
	k.RetryAll.SetEnabled(m.counts[uploader.StateFailed]+m.counts[uploader.StateCanceled] > 0)
	k.Follow.SetEnabled(!m.follow && !m.finished)
	switch {
	case cur != nil && cur.state == uploader.StatePaused:
		k.Pause.SetHelp("p", "resume file")
	default:
		k.Pause.SetEnabled(cur != nil && pausable(cur))
	}
	switch {
	case m.allPaused():
		k.PauseAll.SetHelp("P", "resume all")
	case m.running() == 0:
		k.PauseAll.SetEnabled(false)
	}
	_, slower := slowerLimit(m.limit, m.speed)
	_, faster := fasterLimit(m.limit)
	k.Slower.SetEnabled(!m.finished && (slower || faster))
	k.Faster.SetEnabled(!m.finished && faster)
	k.NoLimit.SetEnabled(!m.finished && m.limit > 0)
	return k
}

// columns of a file row, worked out from the width.
type progressCols struct {
	name, bar, bytes, speed, eta, state int
	wide                                bool
}

func (m progressModel) cols() progressCols {
	c := progressCols{bar: 16, bytes: 17, wide: m.width >= 90}
	fixed := 2 + c.bar + 1 + c.bytes + 1 + 1
	if c.wide {
		c.speed, c.eta = 10, 6
		if m.width >= 120 {
			c.bar = 22
		}
		fixed = 2 + c.bar + 1 + c.bytes + 1 + c.speed + 1 + c.eta + 1 + 1
	}
	rest := max(m.width-fixed, 24)
	c.name = max(rest*2/5, 12)
	c.state = max(rest-c.name, 10)
	return c
}

func (m progressModel) View() string {
	var b strings.Builder
	b.Grow(m.width * (m.height + 1) * 2)
	m.headerView(&b)
	c := m.cols()
	from, to := m.win.visible()
	for i := from; i < to; i++ {
		b.WriteByte('\n')
		m.rowView(&b, i, i == m.win.cursor && !m.follow, c)
	}
	return b.String()
}

func (m progressModel) headerView(b *strings.Builder) {
	st := m.st
	w := m.width
	title := "Uploading " + plural(len(m.rows), "file", "files")
	switch {
	case len(m.rows) == 0:
		title = "Starting the uploads…"
	case m.finished:
		title = "Uploaded " + plural(m.counts[uploader.StateDone], "file", "files") + " of " + fmt.Sprint(len(m.rows))
	}
	workers := fmt.Sprintf("workers %d (+/-)", m.concurrency)
	if m.limit > 0 {
		// No limit says nothing: the help line offers [ to set one.
		workers = "limit " + human.Rate(float64(m.limit)) + " · " + workers
	}
	left := st.Title.Render(title) + st.Subtle.Render(cut(" → "+m.target, max(w-len(title)-len(workers)-2, 4)))
	b.WriteString(left + strings.Repeat(" ", max(w-ansi.StringWidth(left)-len(workers), 1)) + st.Subtle.Render(workers) + "\n")

	var pct float64
	if m.total > 0 {
		pct = float64(m.sent) / float64(m.total)
	} else if m.finished {
		pct = 1
	}
	// When the line is narrow, elapsed time gives way first, then the
	// speed: what is left to wait for (ETA) is the last to go.
	room := max(w-m.bar.Width(), 1)
	sent := fmt.Sprintf("  %s / %s", formatBytes(m.sent), formatBytes(m.total))
	speed, elapsed, eta := " · "+formatSpeed(m.speed), " · elapsed "+formatDuration(m.now.Sub(m.started)), " · ETA "+m.eta()
	stats := sent + speed + elapsed + eta
	for _, shorter := range []string{sent + speed + eta, sent + eta} {
		if ansi.StringWidth(stats) <= room {
			break
		}
		stats = shorter
	}
	b.WriteString(m.bar.ViewAs(pct) + st.Text.Render(cut(stats, room)) + "\n")

	sparkW := max(min(w-40, 60), 10)
	peak := 0.0
	for _, v := range m.spark {
		peak = max(peak, v)
	}
	b.WriteString(st.Subtle.Render("throughput ") + st.Spark.Render(sparkline(m.spark, sparkW)) +
		st.Subtle.Render(cut("  peak "+formatSpeed(peak), max(w-sparkW-11, 1))) + "\n")

	b.WriteString(m.countsView() + "\n")
	switch {
	case m.confirming:
		b.WriteString(st.Prompt.Render(cut("Quit? "+m.quitWhat()+"  y: quit · n: keep uploading", w)))
	case m.win.cursor < len(m.rows) && m.rows[m.win.cursor].state == uploader.StatePaused:
		s := m.status(m.win.cursor)
		b.WriteString(st.Retrying.Render(cut(uploader.DisplayName(s.Name)+": "+pausedNote(&s), w)))
	case m.win.cursor < len(m.rows) && m.notes[m.win.cursor] != "":
		// The state column is narrow; the whole reason of the file under
		// the cursor goes here.
		s := m.status(m.win.cursor)
		if reason := reasonOf(&s); reason != "" && s.State != uploader.StateCanceled && s.State != uploader.StateSkipped {
			style := st.Retrying
			if s.State == uploader.StateFailed {
				style = st.Failed
			}
			b.WriteString(style.Render(cut(uploader.DisplayName(s.Name)+": "+uploader.DisplayName(reason), w)))
		}
	}
}

// quitWhat says what quitting does to the files not finished: the ones
// under way and queued are canceled; paused ones stay paused (a multipart
// upload keeps its parts for the next run).
func (m progressModel) quitWhat() string {
	queued := m.counts[uploader.StateQueued] + m.counts[uploader.StateWaiting]
	paused := m.counts[uploader.StatePaused]
	var parts []string
	if active := m.running() - queued - paused; active > 0 {
		parts = append(parts, plural(active, "upload", "uploads")+" in progress")
	}
	if queued > 0 {
		parts = append(parts, fmt.Sprintf("%d queued", queued))
	}
	what := ""
	if len(parts) > 0 {
		what = strings.Join(parts, " and ") + " will be canceled"
	}
	if paused > 0 {
		if what != "" {
			what += "; "
		}
		what += plural(paused, "paused file stays", "paused files stay") + " paused"
	}
	return what + "."
}

// reasonOf is why a file failed or is retrying, without the file name the
// engine puts in front (the row already shows it).
func reasonOf(s *uploader.FileStatus) string {
	return oneLine(strings.TrimPrefix(s.Reason, s.Name+": "))
}

func (m progressModel) eta() string {
	if m.finished {
		return "0s"
	}
	return formatETA(m.total-m.sent, m.speed)
}

func (m progressModel) countsView() string {
	st := m.st
	type part struct {
		n     int
		label string
		style func(...string) string
	}
	active := m.counts[uploader.StateHashing] + m.counts[uploader.StateUploading] + m.counts[uploader.StateAwaiting]
	parts := []part{
		{m.counts[uploader.StateDone], "done", st.Done.Render},
		{m.counts[uploader.StateFailed], "failed", st.Failed.Render},
		{m.counts[uploader.StateCanceled], "canceled", st.Canceled.Render},
		{m.counts[uploader.StateSkipped], "skipped", st.Subtle.Render},
		{m.counts[uploader.StateRetrying], "retrying", st.Retrying.Render},
		{m.counts[uploader.StatePaused], "paused", st.Retrying.Render},
		{active, "uploading", st.Active.Render},
		{m.counts[uploader.StateWaiting], "waiting", st.Queued.Render},
		{m.counts[uploader.StateQueued], "queued", st.Queued.Render},
	}
	var out []string
	for _, p := range parts {
		if p.n > 0 {
			out = append(out, p.style(fmt.Sprintf("%d %s", p.n, p.label)))
		}
	}
	return cut(strings.Join(out, st.Faint.Render(" · ")), m.width)
}

func (m progressModel) rowView(b *strings.Builder, id int, isCursor bool, c progressCols) {
	st := m.st
	r := &m.rows[id]
	lr := m.live[id]
	s := &uploader.FileStatus{Name: m.name(id), Size: m.files.SizeAt(id), Sent: r.sent, State: r.state}
	if isCursor {
		b.WriteString(st.Cursor.Render("› "))
	} else {
		b.WriteString("  ")
	}
	nameStyle := st.Text
	if isCursor {
		nameStyle = st.Current
	}
	b.WriteString(nameStyle.Render(fitName(uploader.DisplayName(s.Name), c.name)))
	b.WriteByte(' ')

	pct := 0
	switch {
	case s.State == uploader.StateDone:
		pct = 100
	case s.Size > 0:
		pct = int(min(s.Sent, s.Size) * 100 / s.Size)
	}
	if s.State == uploader.StateFailed {
		b.WriteString(m.failedBars[pct])
	} else {
		b.WriteString(m.rowBars[pct])
	}
	b.WriteByte(' ')

	sent := s.Sent
	if s.State == uploader.StateDone {
		sent = s.Size
	}
	numbers := fitRight(formatBytes(sent)+" / "+formatBytes(s.Size), c.bytes)
	if c.wide {
		speed, eta := "", ""
		if s.State == uploader.StateUploading && lr != nil {
			speed, eta = formatSpeed(lr.speed), formatETA(s.Size-s.Sent, lr.speed)
		}
		numbers += " " + fitRight(speed, c.speed) + " " + fitRight(eta, c.eta)
	}
	b.WriteString(st.Subtle.Render(numbers))
	b.WriteString("  ")
	text, style := m.stateText(id, m.now), st.Queued
	switch s.State {
	case uploader.StateHashing, uploader.StateUploading, uploader.StateAwaiting:
		style = st.Active
	case uploader.StateRetrying, uploader.StatePaused:
		style = st.Retrying
	case uploader.StateDone:
		style = st.Done
	case uploader.StateFailed:
		style = st.Failed
	case uploader.StateCanceled:
		style = st.Canceled
	case uploader.StateSkipped:
		style = st.Subtle
	}
	b.WriteString(style.Render(cut(text, c.state)))
}

// stateText is the last column of file id: one line, the state and why.
func (m progressModel) stateText(id int, now time.Time) string {
	r := &m.rows[id]
	s := m.status(id)
	lr := m.live[id]
	if lr == nil {
		lr = &liveRow{}
	}
	if r.pausing && s.State != uploader.StatePaused && !s.State.Finished() {
		return "pausing…"
	}
	switch s.State {
	case uploader.StatePaused:
		// 24 columns at most: the state column's width at 80.
		switch {
		case s.Parts > 0:
			return "paused (parts kept)"
		case s.Attempt > 0:
			return "paused (will start over)"
		}
		return "paused"
	case uploader.StateUploading:
		var notes []string
		if lr.resumed > 0 {
			notes = append(notes, "resuming: "+formatBytes(lr.resumed)+" already on the server")
		}
		if s.Attempt > 1 {
			notes = append(notes, human.Retry(s.Attempt-1, s.MaxAttempts))
		}
		if s.Parts > 0 && lr.resumed == 0 {
			notes = append(notes, fmt.Sprintf("%d parts", s.Parts))
		}
		if len(notes) > 0 {
			return "uploading (" + strings.Join(notes, ", ") + ")"
		}
		return "uploading"
	case uploader.StateRetrying:
		t := human.Retry(s.Attempt, s.MaxAttempts)
		if wait := lr.retryAt.Sub(now); wait > 0 && !now.IsZero() {
			t += " in " + formatDuration(wait)
		}
		if s.Reason != "" {
			t += ": " + reasonOf(&s)
		}
		return t
	case uploader.StateDone:
		if r.hasCRC {
			return "done ✓ crc32 " + inspect.EncodeCRC32(r.crc32)
		}
		return "done ✓"
	case uploader.StateFailed:
		if s.Reason != "" {
			return "failed: " + reasonOf(&s)
		}
		return "failed"
	case uploader.StateSkipped:
		if s.Reason != "" {
			return "skipped: " + oneLine(s.Reason)
		}
		return "skipped"
	case uploader.StateCanceled:
		if s.Reason != "" && s.Reason != "canceled" {
			return "canceled (" + oneLine(s.Reason) + ")"
		}
		return "canceled"
	}
	return s.State.String()
}

// pausedNote says, for the file under the cursor, what resuming will do, in
// a line that fits 80 columns after a short name: the engine keeps a
// multipart upload's parts and goes on at its next part, while a single PUT
// cannot continue and is sent again from zero.
func pausedNote(s *uploader.FileStatus) string {
	switch {
	case s.Parts > 0:
		return "paused; p resumes it at its next part (parts sent are kept)"
	case s.Attempt > 0:
		return "paused; p sends it again from zero: a single PUT cannot resume"
	}
	return "paused before sending anything; p resumes it"
}

// Commands that drive the pool. Each copies what it needs; none touches the
// model.

// startUploads builds the pool, binds it to ctx and feeds it the files a
// step at a time, as headless does: 100,000 files are never all queued at
// once (issue 15). The fresh pool gives file i the id i, so every file has
// its row from the start, and a stop asked of one not handed over yet is
// kept by the pool for when it is. Feed ends when the pool closes. The
// spool that keeps what each file ends with is made here too, and filled
// by the pool as each file ends (Pool.OnEnd): before the screen hears of
// the end, and before Close returns.
func startUploads(ctx context.Context, o Options, md uploader.Metadata, files *fileset.List) tea.Cmd {
	newSpool := o.newSpool
	if newSpool == nil {
		newSpool = runreport.NewSpool
	}
	return func() tea.Msg {
		if o.WillSend != nil {
			o.WillSend(files.Len())
		}
		spool := newSpool(files.Len())
		p := o.NewPool(md)
		ended := eventSink{files: files, spool: spool, done: o.Done}
		p.OnEnd(ended.take)
		p.Start(ctx)
		go p.Feed(ctx, files)
		return uploadsStartedMsg{pool: p, spool: spool, at: time.Now(), concurrency: p.Concurrency(), rate: p.Rate()}
	}
}

// waitForEvent blocks for the next event, then gathers what else comes
// within eventGather into the same message; the root re-arms it until the
// channel closes.
func waitForEvent(events <-chan uploader.Event) tea.Cmd {
	return func() tea.Msg {
		e, ok := <-events
		if !ok {
			return eventsDrainedMsg{closed: true}
		}
		msgs := []tea.Msg{eventMsg(e)}
		// Gathering ends at the clock's next eventGather, as sampleProgress's
		// wait does: the program draws after each message, and the terminal
		// is written at most once a frame, so two messages at one moment
		// cost one write of the screen, not two.
		now := time.Now()
		gather := time.NewTimer(now.Truncate(eventGather).Add(eventGather).Sub(now))
		defer gather.Stop()
		for len(msgs) < eventBatch {
			select {
			case e, ok := <-events:
				if !ok {
					return eventsDrainedMsg{msgs: msgs, closed: true}
				}
				msgs = append(msgs, eventMsg(e))
			case <-gather.C:
				return eventsDrainedMsg{msgs: msgs}
			}
		}
		return eventsDrainedMsg{msgs: msgs}
	}
}

// eventSink is what is done with each file's end as the pool ends it
// (Pool.OnEnd): its record spooled, its result handed to Options.Done. The
// list is never written, and the spool and Done are safe for concurrent use.
type eventSink struct {
	files *fileset.List
	spool *runreport.Spool
	done  func(*uploader.Result)
}

func (k eventSink) take(e uploader.Event) {
	spoolEvent(k.spool, k.files, e)
	if e.Kind == uploader.EventDone && e.Result != nil && k.done != nil {
		k.done(e.Result)
	}
}

// eventMsg turns an engine event into the message for its kind.
func eventMsg(e uploader.Event) tea.Msg {
	reason := ""
	if e.Err != nil {
		reason = e.Err.Error()
	}
	switch e.Kind {
	case uploader.EventQueued:
		return uploadQueuedMsg{id: e.ID}
	case uploader.EventHashing:
		return hashingStartedMsg{id: e.ID}
	case uploader.EventWaiting:
		return turnAwaitedMsg{id: e.ID}
	case uploader.EventStarted:
		return uploadStartedMsg{id: e.ID, attempt: e.Attempt, max: e.MaxAttempts}
	case uploader.EventAwaiting:
		return bodySentMsg{id: e.ID}
	case uploader.EventRetrying:
		return retryScheduledMsg{id: e.ID, attempt: e.Attempt, max: e.MaxAttempts, at: e.Time.Add(e.Delay), reason: reason}
	case uploader.EventResumed:
		return uploadResumedMsg{id: e.ID, bytes: e.Resumed}
	case uploader.EventPaused:
		return uploadPausedMsg{id: e.ID}
	case uploader.EventRestarted:
		return uploadRestartedMsg{id: e.ID, reason: reason}
	case uploader.EventDone:
		r := e.Result
		if r == nil {
			r = &uploader.Result{ID: e.ID}
		}
		return uploadDoneMsg{id: e.ID, attempt: e.Attempt, result: r}
	case uploader.EventFailed:
		return uploadFailedMsg{id: e.ID, attempt: e.Attempt, err: e.Err, code: e.Code}
	case uploader.EventCanceled:
		return uploadCanceledMsg{id: e.ID, reason: reason}
	case uploader.EventSkipped:
		return uploadSkippedMsg{id: e.ID, reason: reason}
	}
	return nil
}

// sampleProgress reads the counters of the files ids (the model's
// activeIDs, a slice it no longer looks at) at the next tick of the clock's
// sampleEvery, when waitForEvent's gathering ends too: the two messages
// make one frame. buf is a slice the model no longer looks at either; the
// snapshot is written into it.
func sampleProgress(p *uploader.Pool, ids []int, buf []uploader.FileStatus) tea.Cmd {
	return tea.Every(sampleEvery, func(t time.Time) tea.Msg {
		return progressSampledMsg{at: t, files: p.SnapshotOf(ids, buf), concurrency: p.Concurrency()}
	})
}

func cancelUpload(p *uploader.Pool, id int) tea.Cmd {
	return func() tea.Msg {
		p.Cancel(id)
		return nil
	}
}

func retryUploads(p *uploader.Pool, ids []int) tea.Cmd {
	ids = slices.Clone(ids)
	return func() tea.Msg {
		var queued []int
		for _, id := range ids {
			if p.Retry(id) {
				queued = append(queued, id)
			}
		}
		return retriedMsg{ids: queued}
	}
}

// pauseUploads asks the pool to pause ids; each pause it took shows as
// "pausing…" until the file's work has stopped.
func pauseUploads(p *uploader.Pool, ids []int) tea.Cmd {
	ids = slices.Clone(ids)
	return func() tea.Msg {
		var taken []int
		for _, id := range ids {
			if p.Pause(id) {
				taken = append(taken, id)
			}
		}
		return pauseAcceptedMsg{ids: taken}
	}
}

func resumeUploads(p *uploader.Pool, ids []int) tea.Cmd {
	ids = slices.Clone(ids)
	return func() tea.Msg {
		var queued []int
		for _, id := range ids {
			if p.Resume(id) {
				queued = append(queued, id)
			}
		}
		return resumedMsg{ids: queued}
	}
}

func setRate(p *uploader.Pool, bps int64) tea.Cmd {
	return func() tea.Msg {
		p.SetRate(bps)
		return rateChangedMsg{bps: p.Rate()}
	}
}

func setConcurrency(p *uploader.Pool, n int) tea.Cmd {
	return func() tea.Msg { return concurrencyChangedMsg{n: p.SetConcurrency(n)} }
}

// stopUploads cancels whatever is running and waits for the workers.
func stopUploads(p *uploader.Pool) tea.Cmd {
	return func() tea.Msg {
		p.Close()
		return uploadsStoppedMsg{}
	}
}
