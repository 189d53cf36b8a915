// Package ui is hoist's terminal interface: pick files, fill in the metadata,
// review, watch the uploads, read the summary. It is the only package that
// imports charm.land modules; it drives an uploader.Pool through its
// Snapshot and events and never blocks the update loop.
package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"hoist/fileset"
	"hoist/runreport"
	"hoist/uploader"
)

// Preflight is one problem found before sending.
type Preflight struct {
	File    string
	Error   bool // false: a warning the person may well accept
	Message string
}

// Options is everything main hands the UI.
type Options struct {
	Paths      []string      // preselected (files or directories)
	StartDir   string        // picker's first directory ("" = cwd)
	FixedFiles *fileset.List // when the source fixes the files (--url/--manifest), the picker is skipped
	Metadata   uploader.Metadata
	// Remembered is what was used last time: the form marks a field "from
	// last time" while it still holds that value.
	Remembered uploader.Metadata
	Required   []string // header names the form must ask for (uploader.HeaderOrgID…); nil = all three
	FormIntro  string   // why the form asks what it asks, when the source says; "" = the default
	Target     string   // Source.Describe(), safe to print
	// Expires is when the given URLs stop working, shown on the review
	// screen; zero when unknown or when the source signs each file itself.
	Expires      time.Time
	Preflight    func(files *fileset.List, md uploader.Metadata) []Preflight // may be nil; runs in a Cmd
	NewPool      func(md uploader.Metadata) *uploader.Pool                   // built by main; the UI starts, feeds and closes it
	SaveMetadata func(uploader.Metadata)                                     // remember for next time; may be nil; runs in a Cmd
	ReportDir    string                                                      // where the JSON report goes; "" writes none
	// Settings are recorded in the report, for hoist history --retry.
	Settings map[string]string
	// PartsFor is how many parts the engine sends a file of this size in,
	// 0 for one PUT (uploader.PartsFor bound to the source and options); the
	// review shows it. nil: every file goes in one PUT.
	PartsFor func(size int64) int
	// OptionalMetadata: the source needs none (the local store), so the form
	// asks for all three and each may stay empty.
	OptionalMetadata bool
	// JobFiles keeps this run's share of the picked files when many runs
	// share one job (--shard, --retry-failed: main's jobFiles, the rule
	// headless runs use); JobFlags names those flags for the review. nil
	// keeps every file. FixedFiles come already kept.
	JobFiles func(*fileset.List) *fileset.List
	JobFlags string
	// WillSend is told how many files are about to be sent, before the pool
	// is made (main sizes the runtime for the run); may be nil.
	WillSend func(files int)
	// Done is called with each file's result as it is uploaded, on the
	// pool's goroutine that sent it (main saves and keeps the share links it
	// prints); may be nil. The UI itself keeps only what its screens show.
	Done func(*uploader.Result)

	notify notifyStyle // which desktop notification the terminal understands; set by Run
	// newSpool makes the spool of a run's results; set by Run, which removes
	// it at the end. nil: runreport.NewSpool, left to the system.
	newSpool func(n int) *runreport.Spool
}

// Run shows the UI in the alternate screen until the person leaves the
// summary or quits. The terminal is restored on every path, panics
// included. When ctx ends, running uploads are canceled, the report is
// written and Run returns with Interrupted set.
func Run(ctx context.Context, o Options) (Outcome, error) {
	return run(ctx, o)
}

// interruptGrace is how long an interrupted program may take to stop its
// uploads and write the report before it is killed.
const interruptGrace = 10 * time.Second

func run(ctx context.Context, o Options, progOpts ...tea.ProgramOption) (Outcome, error) {
	if o.NewPool == nil {
		return Outcome{}, errors.New("ui: Options.NewPool is required")
	}
	if o.StartDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return Outcome{}, fmt.Errorf("finding the current folder: %w", err)
		}
		o.StartDir = wd
	} else if abs, err := filepath.Abs(o.StartDir); err == nil {
		o.StartDir = abs
	}

	o.notify = notifyStyleFor(os.Getenv)

	// Run, not the model, guarantees every pool is closed: the model's copy
	// is lost when the program dies of a panic.
	var pools poolSet
	newPool := o.NewPool
	o.NewPool = func(md uploader.Metadata) *uploader.Pool {
		p := newPool(md)
		pools.add(p)
		return p
	}
	o.newSpool = func(n int) *runreport.Spool {
		sp := runreport.NewSpool(n)
		pools.addSpool(sp)
		return sp
	}
	defer pools.close()

	// Signals are main's business: they reach the program through ctx.
	p := tea.NewProgram(newModel(ctx, o), append([]tea.ProgramOption{tea.WithoutSignalHandler()}, progOpts...)...)
	finished := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		p.Send(interruptedMsg{})
		select {
		case <-finished:
		case <-time.After(interruptGrace):
			p.Kill()
		}
	})
	// The picker's relative ages are worked out again now and then. A
	// ticker here, not a tea.Tick, so nothing is left waiting once Run
	// returns.
	go func() {
		t := time.NewTicker(agesEvery)
		defer t.Stop()
		for {
			select {
			case at := <-t.C:
				p.Send(agesTickedMsg{at: at})
			case <-finished:
				return
			}
		}
	}()
	final, err := p.Run()
	close(finished)
	stop()

	m, _ := final.(model)
	out := m.outcome
	out.Target = o.Target
	out.Interrupted = m.interrupted || ctx.Err() != nil
	if !m.reported {
		// The run did not reach its end (killed, or quit before uploads
		// finished starting): count from the pools themselves.
		pools.close()
		out.Summary, out.Files = pools.summary()
		s := out.Summary
		out.NotSent = s.Failed + s.Canceled + s.Pending
		out.Total = s.Uploaded + s.Skipped + out.NotSent
		out.Files = sortedForSummary(out.Files)
	}
	if err != nil {
		return out, fmt.Errorf("terminal UI: %w", err)
	}
	return out, nil
}

// poolSet remembers the pools handed out so Run can close them whatever
// happens.
type poolSet struct {
	mu     sync.Mutex
	pools  []*uploader.Pool
	spools []*runreport.Spool // the runs' spools, removed with the pools
}

func (s *poolSet) addSpool(sp *runreport.Spool) {
	s.mu.Lock()
	s.spools = append(s.spools, sp)
	s.mu.Unlock()
}

func (s *poolSet) add(p *uploader.Pool) {
	s.mu.Lock()
	s.pools = append(s.pools, p)
	s.mu.Unlock()
}

// close stops every pool and drains its events so its forwarding goroutine
// ends too. Closing twice is harmless.
func (s *poolSet) close() {
	s.mu.Lock()
	pools, spools := s.pools, s.spools
	s.spools = nil
	s.mu.Unlock()
	for _, p := range pools {
		p.Close()
		for range p.Events() {
		}
	}
	for _, sp := range spools {
		_ = sp.Close()
	}
}

func (s *poolSet) summary() (uploader.Summary, []uploader.FileStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum uploader.Summary
	var files []uploader.FileStatus
	for _, p := range s.pools {
		files = append(files, p.Snapshot(nil)...)
		ps := p.Summary()
		sum.Uploaded += ps.Uploaded
		sum.Failed += ps.Failed
		sum.Canceled += ps.Canceled
		sum.Pending += ps.Pending
		sum.Skipped += ps.Skipped
		sum.Bytes += ps.Bytes
		sum.Elapsed = max(sum.Elapsed, ps.Elapsed)
		sum.Active += ps.Active
	}
	return sum, files
}

// finishDue reports whether the files have all ended and their summary is
// neither on its way nor shown: the last event and a sample already on its
// way can both see the end (a retry goes back to the progress screen).
func (m model) finishDue() bool {
	return m.progress.finished && !m.finishing && !m.quitting && m.screen != screenSummary
}

type screen int

const (
	screenPicker screen = iota
	screenForm
	screenReview
	screenProgress
	screenSummary
)

var screenNames = [...]string{"Files", "Details", "Review", "Upload", "Summary"}

// The layout needs this much room; below it a message says so instead.
const (
	minWidth  = 64
	minHeight = 18
)

// model is the one tea.Model: it owns the screens, switches between them
// on their messages, and owns the pool.
type model struct {
	ctx  context.Context
	opts Options
	st   *Styles
	keys globalKeys
	help help.Model

	screen        screen
	width, height int

	picker   pickerModel
	form     formModel
	review   reviewModel
	progress progressModel
	summary  summaryModel

	blurred bool // the terminal said it lost focus: tell the person when done

	files      *fileset.List
	jobNote    *Preflight // what JobFiles did to the picked files, shown on the review
	md         uploader.Metadata
	pool       *uploader.Pool
	started    time.Time
	reportPath string

	starting    bool // startUploads is on its way
	sampling    bool // a sampleProgress is on its way
	finishing   bool // a finishRun is on its way
	stopped     bool // the pool was closed
	quitting    bool // leave as soon as the pool has stopped and the report is written
	interrupted bool
	reported    bool // outcome holds the final summary
	outcome     Outcome
}

func newModel(ctx context.Context, o Options) model {
	st := newStyles(true)
	h := help.New()
	h.Styles = st.Help
	m := model{
		ctx: ctx, opts: o, st: st, keys: newGlobalKeys(), help: h,
		picker:   newPicker(st, o.StartDir),
		form:     newForm(st, o.Metadata, o.Required),
		progress: newProgress(st, o.Target),
	}
	if len(o.Paths) > 0 {
		m.picker.resolving++ // Init resolves them
	}
	m.form.markRemembered(o.Remembered)
	m.form.optional = o.OptionalMetadata
	m.form.intro = o.FormIntro
	// With nothing to ask, nothing is sent: a header the URLs did not sign
	// would be refused.
	m.md = m.form.metadata()
	if o.FixedFiles.Len() > 0 {
		m.files = o.FixedFiles
		m.form.setAbout(m.about())
		m.screen = screenForm
		if m.form.empty() {
			m.screen = screenReview
			m.review = newReview(st, m.files, m.md, o.Target, o.Expires, time.Time{}, true)
			m.review.setParts(o.PartsFor)
		}
	}
	return m
}

func (m model) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor}
	switch m.screen {
	case screenPicker:
		cmds = append(cmds, m.picker.Init(m.opts.Paths))
	case screenReview:
		cmds = append(cmds, checkFiles(m.opts.Preflight, m.files, m.md), tickClockNow(), armReview())
	}
	return tea.Batch(cmds...)
}

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil

	case tea.BackgroundColorMsg:
		m.setStyles(newStyles(msg.IsDark()))
		return m, nil

	case tea.FocusMsg:
		m.blurred = false
		return m, nil

	case tea.BlurMsg:
		m.blurred = true
		return m, nil

	case interruptedMsg:
		m.interrupted = true
		return m.leave()

	case quitRequestedMsg:
		return m.leave()

	case tea.KeyPressMsg:
		if key.Matches(msg, m.keys.Interrupt) {
			if m.screen == screenProgress && m.progress.running() > 0 && !m.progress.confirming {
				var cmd tea.Cmd
				m.progress, cmd = m.progress.askQuit()
				return m, cmd
			}
			if m.pool == nil && !m.starting {
				// Nothing was sent: ctrl+c is an interruption (exit 130, as
				// gum does), where q is a choice to leave.
				m.interrupted = true
			}
			return m.leave()
		}
		if key.Matches(msg, m.keys.Help) && !m.capturesText() {
			m.help.ShowAll = !m.help.ShowAll
			m.layout()
			return m, nil
		}
		if m.tooSmall() {
			return m, nil
		}
		return m.updateScreen(msg)

	case tea.MouseWheelMsg:
		if m.tooSmall() {
			return m, nil
		}
		switch msg.Button {
		case tea.MouseWheelUp:
			return m.updateScreen(screenScrolledMsg{delta: -wheelStep})
		case tea.MouseWheelDown:
			return m.updateScreen(screenScrolledMsg{delta: wheelStep})
		}
		return m, nil

	case tea.MouseClickMsg:
		if m.tooSmall() || msg.Button != tea.MouseLeft {
			return m, nil
		}
		// The body starts after the header and a blank line, one column in.
		return m.updateScreen(screenClickedMsg{x: msg.X - 1, y: msg.Y - 2})

	// The screens' news.
	case filesPickedMsg:
		m.files, m.jobNote = m.opts.keepJobFiles(msg.files)
		m.form.setAbout(m.about())
		if m.form.empty() {
			return m.toReview()
		}
		m.screen = screenForm
		return m, nil

	case formCancelledMsg:
		if m.opts.FixedFiles.Len() > 0 {
			return m.leave()
		}
		m.screen = screenPicker
		return m, nil

	case metadataSubmittedMsg:
		m.md = msg.md
		model, cmd := m.toReview()
		return model, tea.Batch(cmd, saveMetadata(m.opts.SaveMetadata, mergeMetadata(m.opts.Metadata, msg.md)))

	case reviewCancelledMsg:
		switch {
		case !m.form.empty():
			m.screen = screenForm
		case m.opts.FixedFiles.Len() == 0:
			m.screen = screenPicker
		}
		return m, nil

	case uploadConfirmedMsg:
		if m.starting || m.pool != nil {
			return m, nil
		}
		m.starting = true
		m.screen = screenProgress
		return m, startUploads(m.ctx, m.opts, m.md, m.files)

	// The pool's news.
	case uploadsStartedMsg:
		m.starting = false
		m.pool, m.started = msg.pool, msg.at
		m.reportPath = runreport.PathFor(m.opts.ReportDir, msg.at)
		m.progress.begin(m.files, msg.spool, msg.at, msg.concurrency)
		m.progress.limit = msg.rate
		m.sampling = true
		cmds := []tea.Cmd{waitForEvent(m.pool.Events()), sampleProgress(m.pool, m.progress.activeIDs(), nil)}
		if m.quitting {
			m.stopped = true
			cmds = append(cmds, stopUploads(m.pool))
		}
		return m, tea.Batch(cmds...)

	case eventsDrainedMsg:
		for _, e := range msg.msgs {
			m.progress, _ = m.progress.Update(e)
		}
		var finish tea.Cmd
		if m.finishDue() && m.pool != nil {
			// The last file's event brings the summary: waiting for the
			// next sample cost up to sampleEvery (issue 15).
			m.finishing = true
			finish = finishRun(m.runInfo())
		}
		if msg.closed || m.pool == nil {
			return m, finish
		}
		return m, tea.Batch(finish, waitForEvent(m.pool.Events()))

	case progressSampledMsg:
		m.sampling = false
		m.progress, _ = m.progress.Update(msg)
		if m.finishDue() {
			m.finishing = true
			return m, finishRun(m.runInfo())
		}
		if m.progress.finished || m.stopped {
			return m, nil
		}
		m.sampling = true
		return m, sampleProgress(m.pool, m.progress.activeIDs(), msg.files)

	case cancelRequestedMsg:
		if m.pool == nil {
			return m, nil
		}
		return m, cancelUpload(m.pool, msg.id)

	case retryRequestedMsg:
		if m.pool == nil || m.stopped {
			return m, nil
		}
		return m, retryUploads(m.pool, msg.ids)

	case retriedMsg:
		if len(msg.ids) == 0 {
			return m, nil
		}
		for _, id := range msg.ids {
			m.progress, _ = m.progress.Update(uploadQueuedMsg{id: id})
		}
		m.screen = screenProgress
		if m.sampling {
			return m, nil
		}
		m.sampling = true
		return m, sampleProgress(m.pool, m.progress.activeIDs(), nil)

	case pauseRequestedMsg:
		if m.pool == nil || m.stopped {
			return m, nil
		}
		return m, pauseUploads(m.pool, msg.ids)

	case resumeRequestedMsg:
		if m.pool == nil || m.stopped {
			return m, nil
		}
		return m, resumeUploads(m.pool, msg.ids)

	case resumedMsg:
		for _, id := range msg.ids {
			m.progress, _ = m.progress.Update(uploadQueuedMsg{id: id})
		}
		return m, nil

	case rateRequestedMsg:
		if m.pool == nil {
			return m, nil
		}
		return m, setRate(m.pool, msg.bps)

	case concurrencyRequestedMsg:
		if m.pool == nil {
			return m, nil
		}
		return m, setConcurrency(m.pool, msg.n)

	case uploadsStoppedMsg:
		m.finishing = true
		return m, finishRun(m.runInfo())

	case runFinishedMsg:
		m.finishing = false
		m.reported = true
		m.outcome.Summary = msg.summary
		m.outcome.Total, m.outcome.NotSent, m.outcome.Files = outcomeFiles(msg.ledger)
		m.outcome.ReportPath, m.outcome.ReportErr = "", msg.reportErr
		if msg.reportErr == nil {
			m.outcome.ReportPath = msg.reportPath
		}
		if m.quitting {
			return m, tea.Quit
		}
		if m.progress.running() > 0 {
			return m, nil // files were retried while this was on its way
		}
		m.summary = newSummary(m.st, m.opts.Target, msg, !m.stopped)
		m.screen = screenSummary
		m.layout()
		if m.blurred {
			return m, notifyDone(m.opts.notify, doneText(msg.summary))
		}
		return m, nil
	}

	return m.updateScreen(msg)
}

// updateScreen hands a message to the screen on show.
func (m model) updateScreen(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch m.screen {
	case screenPicker:
		m.picker, cmd = m.picker.Update(msg)
	case screenForm:
		m.form, cmd = m.form.Update(msg)
	case screenReview:
		m.review, cmd = m.review.Update(msg)
	case screenProgress:
		m.progress, cmd = m.progress.Update(msg)
	case screenSummary:
		m.summary, cmd = m.summary.Update(msg)
	}
	// Messages for the picker arrive after it has been left (a folder still
	// being counted), and must not be lost.
	if m.screen != screenPicker {
		switch msg.(type) {
		case dirReadMsg, dirWalkedMsg, pathsResolvedMsg, agesTickedMsg:
			m.picker, cmd = m.picker.Update(msg)
		}
	}
	return m, cmd
}

func (m model) toReview() (tea.Model, tea.Cmd) {
	m.review = newReview(m.st, m.files, m.md, m.opts.Target, m.opts.Expires, time.Time{}, true)
	m.review.setParts(m.opts.PartsFor)
	m.screen = screenReview
	m.layout()
	preflight := m.opts.Preflight
	if note := m.jobNote; note != nil {
		check, note := preflight, *note
		preflight = func(files *fileset.List, md uploader.Metadata) []Preflight {
			out := []Preflight{note}
			if check != nil {
				out = append(out, check(files, md)...)
			}
			return out
		}
	}
	return m, tea.Batch(checkFiles(preflight, m.files, m.md), tickClockNow(), armReview())
}

// keepJobFiles applies JobFiles to the picked files, and says on the review
// what it left out: an error when nothing is left to send.
func (o Options) keepJobFiles(picked *fileset.List) (*fileset.List, *Preflight) {
	if o.JobFiles == nil {
		return picked, nil
	}
	kept := o.JobFiles(picked)
	switch {
	case kept.Len() == 0:
		return kept, &Preflight{Error: true, Message: fmt.Sprintf("none of the %s picked is this run's share (%s): pick others, or run without %s",
			plural(picked.Len(), "file", "files"), o.JobFlags, o.JobFlags)}
	case kept.Len() < picked.Len():
		return kept, &Preflight{Message: fmt.Sprintf("sending %d of the %d files picked: the others are not this run's share (%s)", kept.Len(), picked.Len(), o.JobFlags)}
	}
	return kept, nil
}

// leave quits, first stopping the uploads and writing the report when there
// are any.
func (m model) leave() (tea.Model, tea.Cmd) {
	switch {
	case m.quitting:
		return m, nil // already on the way out
	case m.starting:
		m.quitting = true // stop the pool as soon as it exists
		if m.progress.running() > 0 || m.files.Len() > 0 {
			m.interrupted = true
		}
		return m, nil
	case m.pool == nil:
		return m, tea.Quit
	case m.reported && m.progress.running() == 0:
		return m, tea.Quit // Run closes the pool
	}
	m.quitting = true
	if m.progress.running() > 0 {
		m.interrupted = true
	}
	if m.stopped {
		return m, nil
	}
	m.stopped = true
	return m, stopUploads(m.pool)
}

func (m model) runInfo() runInfo {
	return runInfo{
		pool: m.pool, ledger: m.progress.ledger.frozen(), target: m.opts.Target, md: m.md, settings: m.opts.Settings,
		started: m.started, reportPath: m.reportPath, interrupted: m.interrupted,
	}
}

func (m model) about() string {
	return plural(m.files.Len(), "file", "files") + " · " + formatBytes(m.files.Total()) + " → " + m.opts.Target
}

func (m model) capturesText() bool {
	switch m.screen {
	case screenPicker:
		return m.picker.capturesText()
	case screenForm:
		return m.form.capturesText()
	}
	return false
}

func (m *model) setStyles(st *Styles) {
	m.st = st
	m.help.Styles = st.Help
	m.picker.setStyles(st)
	m.form.setStyles(st)
	m.review.setStyles(st)
	m.progress.setStyles(st)
	m.summary.setStyles(st)
}

// layout gives every screen the room left by the header and the help bar.
func (m *model) layout() {
	w, h := m.contentSize()
	m.picker.SetSize(w, h)
	m.form.SetSize(w, h)
	m.review.SetSize(w, h)
	m.progress.SetSize(w, h)
	m.summary.SetSize(w, h)
}

func (m model) contentSize() (int, int) {
	helpLines := lipgloss.Height(m.helpView())
	return max(m.width-2, 1), max(m.height-3-helpLines, 1)
}

func (m model) tooSmall() bool { return m.width < minWidth || m.height < minHeight }

func (m model) helpKeys() help.KeyMap {
	switch m.screen {
	case screenPicker:
		return m.picker.helpKeys()
	case screenForm:
		return m.form.keys
	case screenReview:
		return m.review.helpKeys()
	case screenProgress:
		return m.progress.helpKeys()
	}
	return m.summary.helpKeys()
}

func (m model) helpView() string {
	h := m.help
	w := max(m.width-2, 1)
	h.SetWidth(w)
	var view string
	if h.ShowAll {
		view = h.View(m.helpKeys())
	} else {
		view = fitShortHelp(h, m.helpKeys().ShortHelp(), w)
	}
	// help.Model keeps an item that leaves no room for its "…": cut what
	// still overflows.
	lines := strings.Split(view, "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines, "\n")
}

// fitShortHelp draws the bindings on one line of width w, dropping the
// least important first: from the end, but never quit or "more keys",
// which a person must always be able to find.
func fitShortHelp(h help.Model, bindings []key.Binding, w int) string {
	h.SetWidth(0) // measured here, not cut by help
	keep := func(b key.Binding) bool {
		d := b.Help().Desc
		return d == "quit" || d == "more keys"
	}
	for {
		view := h.ShortHelpView(bindings)
		if lipgloss.Width(view) <= w {
			return view
		}
		drop := -1
		for i := len(bindings) - 1; i >= 0; i-- {
			if bindings[i].Enabled() && !keep(bindings[i]) {
				drop = i
				break
			}
		}
		if drop < 0 {
			return view
		}
		bindings = slices.Delete(slices.Clone(bindings), drop, drop+1)
	}
}

func (m model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	// Clicks and the wheel; shift+drag still selects text in most terminals.
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = m.windowTitle()
	v.ReportFocus = true // to know when to notify
	if m.screen == screenProgress && len(m.progress.rows) > 0 {
		v.ProgressBar = tea.NewProgressBar(m.progressState(), m.percent())
	}
	v.ProgramStatus = m.programStatus()
	v.SetContent(m.render())
	return v
}

// progressState is the terminal's progress indicator: an error once a file
// failed, a warning while one waits to retry, busy-without-a-figure while
// files are only being hashed.
func (m model) progressState() tea.ProgressBarState {
	c := m.progress.counts
	switch {
	case c[uploader.StateFailed] > 0:
		return tea.ProgressBarError
	case c[uploader.StateRetrying] > 0:
		return tea.ProgressBarWarning
	case m.progress.allPaused():
		return tea.ProgressBarWarning // OSC 9;4's state 4: paused
	case c[uploader.StateHashing] > 0 && c[uploader.StateUploading]+c[uploader.StateAwaiting] == 0:
		return tea.ProgressBarIndeterminate
	}
	return tea.ProgressBarDefault
}

// programStatus is the report of the Program Status Protocol (OSC 7501, the
// published spec Bubble Tea's View.ProgramStatus follows; terminals that do
// not know it ignore it): working with the percentage while files go up,
// blocked while everything is paused or the quit question waits, done or
// error when the run has ended (that report stays after hoist exits, as the
// protocol intends), idle on the screens that wait for the person.
func (m model) programStatus() *tea.ProgramStatus {
	ps := &tea.ProgramStatus{App: "hoist", Title: "hoist", State: tea.ProgramStateIdle}
	c := m.progress.counts
	switch {
	case m.screen == screenSummary && m.reported:
		s := m.outcome.Summary
		ps.State, ps.Message = tea.ProgramStateDone, doneText(s)
		if s.Failed+s.Canceled+s.Pending > 0 {
			ps.State = tea.ProgramStateError
		}
	case m.screen != screenProgress:
		ps.Message = strings.TrimPrefix(m.windowTitle(), "hoist · ")
	case m.progress.confirming:
		ps.State, ps.Kind = tea.ProgramStateBlocked, tea.ProgramStatusKindPermission
		ps.Message = "quit? the uploads in progress will be canceled"
	case m.progress.finished:
		// The summary is on its way.
		ps.State = tea.ProgramStateDone
		if c[uploader.StateDone] < len(m.progress.rows) {
			ps.State = tea.ProgramStateError
		}
		ps.Message = fmt.Sprintf("%d of %d uploaded", c[uploader.StateDone], len(m.progress.rows))
	case m.progress.allPaused():
		ps.State = tea.ProgramStateBlocked
		ps.Message = plural(c[uploader.StatePaused], "file", "files") + " paused: P resumes"
	default:
		ps.State = tea.ProgramStateWorking
		ps.Message = fmt.Sprintf("%d of %d uploaded", c[uploader.StateDone], len(m.progress.rows))
		if len(m.progress.rows) > 0 && m.progressState() != tea.ProgressBarIndeterminate {
			ps.Progress, ps.HasProgress = m.percent(), true
		}
	}
	return ps
}

// doneText is the notification's line: how the run ended.
func doneText(s uploader.Summary) string {
	total := s.Uploaded + s.Failed + s.Canceled + s.Pending
	if s.Uploaded == total {
		return "all " + plural(total, "file", "files") + " uploaded"
	}
	return fmt.Sprintf("%d of %d uploaded, %d failed", s.Uploaded, total, s.Failed+s.Canceled+s.Pending)
}

func (m model) percent() int {
	if m.progress.total == 0 {
		if m.progress.finished {
			return 100
		}
		return 0
	}
	return int(m.progress.sent * 100 / m.progress.total)
}

func (m model) windowTitle() string {
	switch m.screen {
	case screenPicker:
		return "hoist · pick files"
	case screenForm:
		return "hoist · upload details"
	case screenReview:
		return "hoist · review"
	case screenProgress:
		return fmt.Sprintf("hoist · %d%% uploaded", m.percent())
	}
	return "hoist · done"
}

func (m model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.tooSmall() {
		msg := fmt.Sprintf("hoist needs a terminal of at least %d×%d; this one is %d×%d.\nMake the window larger, or press ctrl+c to quit.",
			minWidth, minHeight, m.width, m.height)
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center,
			m.st.Text.Render(lipgloss.Wrap(msg, m.width, "")))
	}
	var body string
	switch m.screen {
	case screenPicker:
		body = m.picker.View()
	case screenForm:
		body = m.form.View()
	case screenReview:
		body = m.review.View()
	case screenProgress:
		body = m.progress.View()
	case screenSummary:
		body = m.summary.View()
	}
	helpView := m.helpView()
	h := max(m.height-3-lipgloss.Height(helpView), 1)
	var b strings.Builder
	b.Grow(len(body) + len(helpView) + 4*m.width)
	b.WriteString(" " + m.headerView() + "\n\n")
	writeBlock(&b, body, h)
	b.WriteString("\n")
	writeBlock(&b, helpView, lipgloss.Height(helpView))
	return strings.TrimSuffix(b.String(), "\n")
}

// writeBlock writes exactly h lines of s, each indented by one column, so
// a screen can never push the help bar off the terminal. Screens cut their
// lines to the width they were given.
func writeBlock(b *strings.Builder, s string, h int) {
	for range h {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		if line != "" {
			b.WriteByte(' ')
			b.WriteString(line)
		}
		b.WriteByte('\n')
	}
}

func (m model) headerView() string {
	st := m.st
	parts := make([]string, len(screenNames))
	for i, name := range screenNames {
		switch {
		case screen(i) == m.screen:
			parts[i] = st.StepActive.Render(fmt.Sprintf("%d %s", i+1, name))
		default:
			parts[i] = st.Step.Render(fmt.Sprintf("%d %s", i+1, name))
		}
	}
	return st.Badge.Render("hoist") + "  " + strings.Join(parts, st.Faint.Render(" › "))
}

// mergeMetadata is what to remember: the fields asked this time replace
// the ones given, the others stay as they were.
func mergeMetadata(prefill, asked uploader.Metadata) uploader.Metadata {
	out := prefill
	if asked.OrgID != "" {
		out.OrgID = asked.OrgID
	}
	if asked.UserID != "" {
		out.UserID = asked.UserID
	}
	if asked.TTLHours > 0 {
		out.TTLHours = asked.TTLHours
	}
	return out
}

func saveMetadata(save func(uploader.Metadata), md uploader.Metadata) tea.Cmd {
	if save == nil {
		return nil
	}
	return func() tea.Msg {
		save(md)
		return nil
	}
}

// tickClockNow starts the review screen's clock at once.
func tickClockNow() tea.Cmd {
	return func() tea.Msg { return clockTickedMsg{at: time.Now()} }
}
