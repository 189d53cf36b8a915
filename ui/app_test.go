package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"hoist/fileset"
	"hoist/internal/testproc"
	"hoist/runreport"
	"hoist/uploader"
)

// step feeds msg to the root model and then every message its commands
// produce, except ticks, until nothing is left or stop says so.
func step(t *testing.T, m model, msg tea.Msg, stop func(tea.Msg) bool) (model, []tea.Msg) {
	t.Helper()
	var seen []tea.Msg
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		msg, queue = queue[0], queue[1:]
		seen = append(seen, msg)
		if stop != nil && stop(msg) {
			break
		}
		switch msg.(type) {
		case tea.QuitMsg, progressSampledMsg, clockTickedMsg:
			continue // ticks would loop for ever; the program quits on QuitMsg
		}
		next, cmd := m.Update(msg)
		m = next.(model)
		queue = append(queue, perform(cmd)...)
	}
	return m, seen
}

func sized(m model, w, h int) model {
	next, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return next.(model)
}

func TestAppPickerView(t *testing.T) {
	dir := pickDir(t)
	m := sized(newModel(context.Background(), Options{StartDir: dir, NewPool: nil}), goldenWidth, goldenHeight)
	entries, err := listDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := m.Update(dirReadMsg{dir: dir, entries: entries, at: fixedNow})
	m = next.(model)
	m.picker.dir = "/work/pick" // the golden file must not hold the temp folder
	v := m.View()
	if !v.AltScreen || v.WindowTitle != "hoist · pick files" || v.ProgressBar != nil {
		t.Errorf("alt screen %v, title %q, progress bar %v", v.AltScreen, v.WindowTitle, v.ProgressBar)
	}
	if n := strings.Count(v.Content, "\n") + 1; n != goldenHeight {
		t.Errorf("view is %d lines, want %d", n, goldenHeight)
	}
	golden.RequireEqual(t, plain(v.Content))

	// ? shows every key, and takes room from the list rather than the screen.
	next, _ = m.Update(press("?"))
	m = next.(model)
	full := m.View().Content
	if n := strings.Count(full, "\n") + 1; n != goldenHeight || !strings.Contains(full, "select none") {
		t.Errorf("full help: %d lines\n%s", n, plain(full))
	}
}

func TestAppTooSmall(t *testing.T) {
	m := sized(newModel(context.Background(), Options{StartDir: "/"}), 50, 12)
	golden.RequireEqual(t, plain(m.View().Content))
	// Keys other than ctrl+c do nothing while the layout cannot be drawn.
	next, cmd := m.Update(press("q"))
	if cmd != nil || next.(model).screen != screenPicker {
		t.Error("q acted on a screen that cannot be seen")
	}
	_, cmd = m.Update(press("ctrl+c"))
	only[tea.QuitMsg](t, perform(cmd))
}

func TestAppFollowsBackground(t *testing.T) {
	m := newModel(context.Background(), Options{StartDir: "/"})
	if !m.st.IsDark {
		t.Fatal("dark is assumed until the terminal answers")
	}
	next, _ := m.Update(tea.BackgroundColorMsg{Color: color.White})
	m = next.(model)
	if m.st.IsDark || m.picker.st != m.st || m.progress.st != m.st || m.form.st != m.st {
		t.Error("a light background should give every screen light styles")
	}
	next, _ = m.Update(tea.BackgroundColorMsg{Color: color.Black})
	if !next.(model).st.IsDark {
		t.Error("a dark background should give dark styles")
	}
}

func TestAppSkipsWhatTheSourceFixes(t *testing.T) {
	files := []uploader.File{{Path: "/data/a.txt", Name: "a.txt", Key: "a.txt", Size: 3}}

	// The URLs sign no metadata: straight to review.
	m := newModel(context.Background(), Options{FixedFiles: fileset.ListOf(files), Required: []string{}, Target: "t"})
	if m.screen != screenReview {
		t.Fatalf("screen %d, want review", m.screen)
	}
	m = sized(m, goldenWidth, goldenHeight)
	m, _ = step(t, m, press("esc"), nil)
	if m.screen != screenReview {
		t.Error("back from review with nowhere to go changed the screen")
	}

	// The URLs sign the org id: ask only that, and esc leaves.
	m = sized(newModel(context.Background(), Options{FixedFiles: fileset.ListOf(files), Required: []string{uploader.HeaderOrgID}, Target: "t"}), goldenWidth, goldenHeight)
	if m.screen != screenForm || len(m.form.fields) != 1 {
		t.Fatalf("screen %d fields %d", m.screen, len(m.form.fields))
	}
	_, seen := step(t, m, press("esc"), nil)
	only[tea.QuitMsg](t, seen)
}

// flowOptions uploads to s and keeps what SaveMetadata was given.
func flowOptions(t *testing.T, s *store, startDir string, saved *uploader.Metadata, mu *sync.Mutex) Options {
	return Options{
		StartDir:  startDir,
		Target:    s.URL + "/bucket/",
		NewPool:   newStorePool(s, 2),
		ReportDir: filepath.Join(t.TempDir(), "reports"),
		SaveMetadata: func(md uploader.Metadata) {
			mu.Lock()
			*saved = md
			mu.Unlock()
		},
		Preflight: func(files *fileset.List, md uploader.Metadata) []Preflight {
			return []Preflight{{File: files.At(0).Name, Message: "a warning the person accepts"}}
		},
	}
}

// sendFixed opens the TUI on files fixed by the source (as a manifest
// does), with the store's pool, goes past the review and presses enter:
// the model, and the messages the enter brought.
func sendFixed(t *testing.T, s *store, dir string, files []uploader.File) (model, []tea.Msg) {
	t.Helper()
	var saved uploader.Metadata
	var mu sync.Mutex
	o := flowOptions(t, s, dir, &saved, &mu)
	o.FixedFiles, o.Required = fileset.ListOf(files), []string{}
	m := sized(newModel(context.Background(), o), 120, 40)
	m, _ = step(t, m, preflightCheckedMsg{}, nil)
	m, _ = step(t, m, reviewArmedMsg{}, nil)
	return step(t, m, press("enter"), nil)
}

func TestAppQuitDuringUploadCancelsAndReports(t *testing.T) {
	s := newStore(t)
	s.hold = make(chan struct{})
	defer close(s.hold)
	dir := t.TempDir()
	files := []uploader.File{
		{Path: filepath.Join(dir, "a"), Name: "a", Key: "a", Size: 100},
		{Path: filepath.Join(dir, "b"), Name: "b", Key: "b", Size: 200},
		{Path: filepath.Join(dir, "c"), Name: "c", Key: "c", Size: 300},
	}
	for _, f := range files {
		writeFile(t, f.Path, int(f.Size))
	}
	m, _ := sendFixed(t, s, dir, files)
	if m.screen != screenProgress || m.pool == nil || len(m.progress.rows) != 3 {
		t.Fatalf("screen %d, pool %v", m.screen, m.pool)
	}
	defer m.pool.Close()
	v := m.View()
	if v.ProgressBar == nil || v.ProgressBar.State != tea.ProgressBarDefault || v.WindowTitle != "hoist · 0% uploaded" {
		t.Errorf("progress bar %+v title %q", v.ProgressBar, v.WindowTitle)
	}

	m, seen := step(t, m, press("q"), nil)
	if !m.progress.confirming || len(seen) != 1 {
		t.Fatalf("q should ask first: %v", seen)
	}
	m, seen = step(t, m, press("y"), nil)
	only[tea.QuitMsg](t, seen)
	fin := only[runFinishedMsg](t, seen)
	if !m.interrupted || !m.reported || m.outcome.Summary.Canceled != 3 {
		t.Errorf("interrupted %v reported %v summary %+v", m.interrupted, m.reported, m.outcome.Summary)
	}
	if fin.reportErr != nil || m.outcome.ReportPath == "" {
		t.Fatalf("report %q: %v", m.outcome.ReportPath, fin.reportErr)
	}
	data, err := os.ReadFile(m.outcome.ReportPath)
	if err != nil {
		t.Fatal(err)
	}
	var r runreport.Report
	if err := json.Unmarshal(data, &r); err != nil || !r.Interrupted || r.Summary.Canceled != 3 || r.Files[2].State != "canceled" {
		t.Errorf("report %s (%v)", data, err)
	}
	if bytes.Contains(data, []byte(secretSignature)) {
		t.Error("the report holds the URL's signature")
	}
}

func TestRunEndsCleanlyWhenTheContextEnds(t *testing.T) {
	s := newStore(t)
	s.hold = make(chan struct{})
	defer close(s.hold)
	dir := t.TempDir()
	files := []uploader.File{{Path: filepath.Join(dir, "a"), Name: "a", Key: "a", Size: 10}}
	writeFile(t, files[0].Path, 10)
	var saved uploader.Metadata
	var mu sync.Mutex
	o := flowOptions(t, s, dir, &saved, &mu)
	o.FixedFiles, o.Required = fileset.ListOf(files), []string{}

	in, keys := io.Pipe()
	defer keys.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var screen testproc.Output
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := run(ctx, o, tea.WithInput(in), tea.WithOutput(&screen), tea.WithWindowSize(120, 40))
		done <- result{out, err}
	}()
	// Let the checks finish, confirm, and wait for the upload to hang.
	// Press enter, as a person would, until the review takes it and the
	// upload starts (and hangs): enter does nothing until the checks are
	// done and the review is armed, and nothing on the upload screen. (The
	// screen's bytes are diffs: "enter send" may be drawn as "nter send".)
	testproc.WaitFor(t, "the upload to start", func() bool {
		if _, err := keys.Write([]byte("\r")); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.requests > 0
	})
	cancel()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if !r.out.Interrupted || r.out.Summary.Canceled != 1 || r.out.Summary.Uploaded != 0 {
			t.Errorf("outcome %+v", r.out)
		}
		if r.out.ReportPath == "" {
			t.Error("no report after an interrupted run")
		}
	case <-time.After(interruptGrace):
		t.Fatal("Run did not return after the context ended")
	}
}

func TestRunHonoursNoColor(t *testing.T) {
	render := func(env []string) string {
		var out testproc.Output
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		in, keys := io.Pipe()
		defer keys.Close()
		go func() {
			defer close(done)
			_, _ = run(ctx, Options{StartDir: t.TempDir(), NewPool: func(uploader.Metadata) *uploader.Pool { return nil }},
				tea.WithInput(in), tea.WithOutput(&out), tea.WithWindowSize(100, 30), tea.WithEnvironment(env))
		}()
		testproc.WaitFor(t, "the empty-folder notice", func() bool { return strings.Contains(out.String(), "empty folder") })
		cancel()
		<-done
		return out.String()
	}
	colored := render([]string{"TERM=xterm-256color", "TTY_FORCE=1"})
	plain := render([]string{"TERM=xterm-256color", "TTY_FORCE=1", "NO_COLOR=1"})
	if !strings.Contains(colored, "\x1b[38;") {
		t.Fatal("no colour even without NO_COLOR: the test proves nothing")
	}
	if strings.Contains(plain, "\x1b[38;") || strings.Contains(plain, "\x1b[48;") {
		t.Errorf("colours under NO_COLOR: %q", plain)
	}
}

// TestAppFitsEverySize: whatever the screen and the size, the frame has
// exactly the terminal's height and no line wider than it, so nothing
// scrolls or wraps into garbage.
func TestAppFitsEverySize(t *testing.T) {
	dir := pickDir(t)
	entries, err := listDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := newModel(context.Background(), Options{StartDir: dir, Target: "http://127.0.0.1:9000/a-rather-long-bucket-name/with/a/prefix/"})
	next, _ := base.Update(dirReadMsg{dir: dir, entries: entries, at: fixedNow})
	base = next.(model)

	files := progressFiles(300)
	screens := map[string]func(m model) model{
		"picker": func(m model) model { return m },
		"form": func(m model) model {
			next, _ := m.Update(filesPickedMsg{files: fileset.ListOf(files)})
			return next.(model)
		},
		"review": func(m model) model {
			m.files = fileset.ListOf(files)
			next, _ := m.toReview()
			m = next.(model)
			next, _ = m.Update(preflightCheckedMsg{problems: []Preflight{{File: "x", Error: true, Message: strings.Repeat("a long explanation ", 20)}}})
			return next.(model)
		},
		"progress": func(m model) model {
			m.screen, m.files = screenProgress, fileset.ListOf(files)
			m.progress.begin(fileset.ListOf(files), nil, fixedNow, 4)
			m.progress, _ = m.progress.Update(sampleAt(files, fixedNow.Add(time.Second), func(i int) uploader.State { return uploader.State(i % 8) }, func(i int) int64 { return int64(i) << 12 }))
			return m
		},
		"summary": func(m model) model {
			m.summary = newSummary(m.st, m.opts.Target, finishedRun(), true)
			m.screen = screenSummary
			return m
		},
	}
	for name, setup := range screens {
		for _, size := range [][2]int{{minWidth, minHeight}, {80, 24}, {100, 30}, {203, 61}, {40, 10}} {
			for _, full := range []bool{false, true} {
				m := setup(base)
				m.help.ShowAll = full
				m = sized(m, size[0], size[1])
				content := m.View().Content
				lines := strings.Split(content, "\n")
				if len(lines) != size[1] {
					t.Errorf("%s at %dx%d (full help %v): %d lines", name, size[0], size[1], full, len(lines))
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("%s at %dx%d (full help %v): line %d is %d wide: %q", name, size[0], size[1], full, i, w, ansi.Strip(l))
					}
				}
			}
		}
	}
}

// TestRunRestoresTheTerminalAfterAPanic: a panic in a command (here main's
// preflight) ends Run with an error, after the alternate screen was left.
func TestRunRestoresTheTerminalAfterAPanic(t *testing.T) {
	var out testproc.Output
	in, keys := io.Pipe()
	defer keys.Close()
	o := Options{
		StartDir:   t.TempDir(),
		FixedFiles: fileset.ListOf([]uploader.File{{Path: "/x/a", Name: "a", Key: "a", Size: 1}}),
		Required:   []string{},
		NewPool:    func(uploader.Metadata) *uploader.Pool { return nil },
		Preflight: func(*fileset.List, uploader.Metadata) []Preflight {
			time.Sleep(200 * time.Millisecond) // after the first frame
			panic("preflight exploded")
		},
	}
	done := make(chan error, 1)
	go func() {
		_, err := run(context.Background(), o, tea.WithInput(in), tea.WithOutput(&out), tea.WithWindowSize(100, 30))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, tea.ErrProgramPanic) {
			t.Errorf("err %v, want a panic reported", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after a panic")
	}
	s := out.String()
	if enter, leave := strings.Index(s, "\x1b[?1049h"), strings.LastIndex(s, "\x1b[?1049l"); enter < 0 || leave < enter {
		t.Errorf("the alternate screen was not left: %q", s)
	}
}

// At 80 columns the help bar drops the least important keys first and keeps
// quit and "? more keys" on every screen.
func TestHelpKeepsQuitAndMoreKeysAt80(t *testing.T) {
	files := progressFiles(30)
	m := sized(newModel(context.Background(), Options{StartDir: t.TempDir(), Target: "http://127.0.0.1:9000/bucket/"}), 80, 24)
	check := func(name string) {
		t.Helper()
		lines := strings.Split(plain(m.View().Content), "\n")
		last := lines[len(lines)-1]
		if !strings.Contains(last, "quit") || !strings.Contains(last, "? more keys") {
			t.Errorf("%s: the help bar at 80 columns lost quit or more keys: %q", name, last)
		}
		if strings.Count(last, "continue") > 1 {
			t.Errorf("%s: continue offered twice: %q", name, last)
		}
	}
	check("picker")
	m.screen = screenProgress
	m.progress.begin(fileset.ListOf(files), nil, fixedNow, 4)
	m.progress, _ = m.progress.Update(sampleAt(files, fixedNow.Add(time.Second), func(int) uploader.State { return uploader.StateFailed }, func(int) int64 { return 0 }))
	m.progress, _ = progressPress(m.progress, "up")
	check("progress")
	m.summary = newSummary(m.st, "t", finishedRun(), true)
	m.screen = screenSummary
	m.layout()
	check("summary")
}

// The wheel scrolls lists, a click moves the cursor, a click on a box ticks
// it; the program asks the terminal for mouse events.
func TestMouseScrollsClicksAndTicks(t *testing.T) {
	dir := pickDir(t)
	m := sized(newModel(context.Background(), Options{StartDir: dir}), 120, 40)
	entries, err := listDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = step(t, m, dirReadMsg{dir: dir, entries: entries, at: fixedNow}, nil)
	if m.View().MouseMode != tea.MouseModeCellMotion {
		t.Error("mouse events are not asked for")
	}
	// Screen lines: header, blank, folder, filter, then rows from line 4
	// ("..", docs, a.txt, …), one column of margin.
	row := func(name string) int { return 4 + indexOf(t, m.picker, name) }
	m, _ = step(t, m, tea.MouseClickMsg{X: 10, Y: row("b.bin"), Button: tea.MouseLeft}, nil)
	if cur, _ := m.picker.current(); cur.name != "b.bin" || m.picker.files != 0 {
		t.Errorf("a click on the name should move the cursor only: on %q, %d files", cur.name, m.picker.files)
	}
	m, _ = step(t, m, tea.MouseClickMsg{X: 4, Y: row("a.txt"), Button: tea.MouseLeft}, nil)
	if m.picker.files != 1 || !strings.Contains(plain(m.View().Content), "[x] a.txt") {
		t.Errorf("a click on the box should tick a.txt: %d files", m.picker.files)
	}
	before := m.picker.win.cursor
	m, _ = step(t, m, tea.MouseWheelMsg{Button: tea.MouseWheelDown}, nil)
	if m.picker.win.cursor != before+wheelStep {
		t.Errorf("the wheel moved the cursor from %d to %d", before, m.picker.win.cursor)
	}

	// On the upload screen a click selects a file and stops following.
	files := progressFiles(30)
	m.screen = screenProgress
	m.progress.begin(fileset.ListOf(files), nil, fixedNow, 4)
	m.layout()
	m, _ = step(t, m, tea.MouseClickMsg{X: 10, Y: 2 + progressHeaderLines + 7, Button: tea.MouseLeft}, nil)
	if m.progress.follow || m.progress.win.cursor != 7 {
		t.Errorf("click on the 8th row: follow %v cursor %d", m.progress.follow, m.progress.win.cursor)
	}
}

// The upload screen as a person sees it with one multipart upload paused
// (selected), a single PUT paused and a bandwidth limit: the rows, the
// header, and the help line with its keys, short and full (?).
func TestAppUploadPausedAndLimited(t *testing.T) {
	for _, w := range goldenWidths {
		files := progressFiles(6)
		m := sized(newModel(context.Background(), Options{StartDir: t.TempDir(), Target: "http://127.0.0.1:9000/bucket/"}), w, 24)
		m.screen = screenProgress
		m.progress.begin(fileset.ListOf(files), nil, fixedNow, 4)
		m.progress.limit = 8 << 20
		states := []uploader.State{uploader.StateDone, uploader.StateUploading, uploader.StatePaused, uploader.StatePaused, uploader.StateQueued, uploader.StateQueued}
		for s := 1; s <= 30; s++ {
			msg := sampleAt(files, fixedNow.Add(time.Duration(s)*sampleEvery), func(i int) uploader.State { return states[i] }, func(i int) int64 {
				switch states[i] {
				case uploader.StateDone:
					return 10 << 20
				case uploader.StateUploading:
					return int64(s) * (200 << 10)
				case uploader.StatePaused:
					return 5 << 20
				}
				return 0
			})
			msg.files[0].Result = &uploader.Result{CRC32: 0x1c291ca3}
			msg.files[2].Parts = 2 // multipart, paused
			msg.files[3].Attempt = 1
			msg.files[3].Parts = 0 // a single PUT, paused
			m.progress, _ = m.progress.Update(msg)
		}
		m.progress, _ = progressPress(m.progress, "down", "down") // select scan-0002, the paused multipart upload
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			golden.RequireEqual(t, plain(m.View().Content))
		})
		next, _ := m.Update(press("?"))
		m = next.(model)
		t.Run(fmt.Sprintf("w%d_help", w), func(t *testing.T) {
			golden.RequireEqual(t, plain(m.View().Content))
		})
	}
}

// The terminal hears how the run goes through OSC 7501 (Program Status
// Protocol) beside the OSC 9;4 progress bar: working with the percentage,
// blocked while all is paused or quit is asked, error or done at the end.
func TestAppReportsProgramStatus(t *testing.T) {
	files := progressFiles(4)
	m := sized(newModel(context.Background(), Options{StartDir: t.TempDir(), Target: "http://127.0.0.1:9000/bucket/"}), 120, 30)
	if ps := m.View().ProgramStatus; ps == nil || ps.State != tea.ProgramStateIdle || ps.App != "hoist" {
		t.Errorf("picker: %+v, want idle", ps)
	}
	m.screen = screenProgress
	m.progress.begin(fileset.ListOf(files), nil, fixedNow, 4)
	sample := func(states ...uploader.State) tea.View {
		t.Helper()
		m.progress, _ = m.progress.Update(sampleAt(files, fixedNow.Add(time.Second), func(i int) uploader.State { return states[i] }, func(i int) int64 {
			if states[i] == uploader.StateDone {
				return 10 << 20
			}
			return 0
		}))
		// The pool's events of the files that ended, which have the last word.
		for i, st := range states {
			switch st {
			case uploader.StateDone:
				m.progress, _ = m.progress.Update(uploadDoneMsg{id: i, result: &uploader.Result{ID: i, Bytes: 10 << 20}})
			case uploader.StateFailed:
				m.progress, _ = m.progress.Update(uploadFailedMsg{id: i, err: errors.New("boom")})
			}
		}
		return m.View()
	}
	up, done, paused, hashing := uploader.StateUploading, uploader.StateDone, uploader.StatePaused, uploader.StateHashing

	v := sample(done, up, up, hashing)
	if seq := ansi.SetProgramStatus(*v.ProgramStatus); !strings.HasPrefix(seq, "\x1b]7501;state=working:progress=25:app=hoist") {
		t.Errorf("uploading: %q", seq)
	}
	if v = sample(hashing, hashing, hashing, hashing); v.ProgramStatus.HasProgress || v.ProgressBar.State != tea.ProgressBarIndeterminate {
		t.Errorf("only hashing: %+v, bar %+v; want no figure", v.ProgramStatus, v.ProgressBar)
	}
	v = sample(done, paused, paused, paused)
	if v.ProgramStatus.State != tea.ProgramStateBlocked || v.ProgressBar.State != tea.ProgressBarWarning || !strings.Contains(v.ProgramStatus.Message, "3 files paused") {
		t.Errorf("all paused: %+v, bar %+v", v.ProgramStatus, v.ProgressBar)
	}
	if v = sample(done, paused, up, paused); v.ProgramStatus.State != tea.ProgramStateWorking || v.ProgressBar.State != tea.ProgressBarDefault {
		t.Errorf("one still going: %+v, bar %+v", v.ProgramStatus, v.ProgressBar)
	}
	m.progress, _ = progressPress(m.progress, "q")
	if ps := m.View().ProgramStatus; ps.State != tea.ProgramStateBlocked || ps.Kind != tea.ProgramStatusKindPermission {
		t.Errorf("quit asked: %+v", ps)
	}
	m.progress, _ = progressPress(m.progress, "n")
	if v = sample(done, done, uploader.StateFailed, done); v.ProgramStatus.State != tea.ProgramStateError || v.ProgramStatus.Message != "3 of 4 uploaded" {
		t.Errorf("ended with a failure: %+v", v.ProgramStatus)
	}
	m.screen, m.reported = screenSummary, true
	m.outcome.Summary = uploader.Summary{Uploaded: 4}
	if ps := m.programStatus(); ps.State != tea.ProgramStateDone || ps.Message != "all 4 files uploaded" {
		t.Errorf("summary of a full run: %+v", ps)
	}
}

// --shard and --retry-failed in the terminal UI: the picked files are cut
// to this run's share by main's rule (JobFiles), and the review says how
// many were left out, or refuses to send when none is left.
func TestAppSendsOnlyTheJobsShareOfThePick(t *testing.T) {
	var picked []uploader.File
	for i := range 4 {
		name := fmt.Sprintf("f%d.bin", i)
		picked = append(picked, uploader.File{Path: "/data/" + name, Name: name, Key: name, Size: 10})
	}
	even := func(files *fileset.List) *fileset.List {
		var kept []uploader.File
		for i := range files.Len() {
			if i%2 == 0 {
				kept = append(kept, files.At(i))
			}
		}
		return fileset.ListOf(kept)
	}
	opts := Options{Target: "t", Required: []string{}, JobFiles: even, JobFlags: "--shard 0/2"}
	m := sized(newModel(context.Background(), opts), goldenWidth, goldenHeight)
	m, _ = step(t, m, filesPickedMsg{files: fileset.ListOf(picked)}, func(msg tea.Msg) bool { _, ok := msg.(reviewArmedMsg); return ok })
	if m.screen != screenReview || m.files.Len() != 2 || m.files.At(1).Name != "f2.bin" {
		t.Fatalf("screen %d, files %v: want the review of f0 and f2", m.screen, m.files)
	}
	if len(m.review.problems) == 0 || m.review.problems[0].Error || !strings.Contains(m.review.problems[0].Message, "sending 2 of the 4 files picked") ||
		!strings.Contains(m.review.problems[0].Message, "--shard 0/2") {
		t.Errorf("review problems %+v: want a note on the files left out", m.review.problems)
	}

	none := func(*fileset.List) *fileset.List { return fileset.ListOf(nil) }
	opts.JobFiles = none
	m = sized(newModel(context.Background(), opts), goldenWidth, goldenHeight)
	m, _ = step(t, m, filesPickedMsg{files: fileset.ListOf(picked[:1])}, func(msg tea.Msg) bool { _, ok := msg.(reviewArmedMsg); return ok })
	if m.files.Len() != 0 || !m.review.hasErrors() {
		t.Errorf("files %v, problems %+v: nothing to send must be an error on the review", m.files, m.review.problems)
	}
}

// The pool is fed a step at a time (issue 15): every file has its row from
// the start though the pool holds only the first ones, a cancel of a file
// not handed over yet is kept, and a run stopped before the rest were
// handed over counts and lists them canceled.
func TestAppFeedsThePoolAndCountsFilesNeverHandedOver(t *testing.T) {
	s := newStore(t)
	s.hold = make(chan struct{})
	defer close(s.hold)
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	writeFile(t, path, 10)
	const n = 3000
	files := make([]uploader.File, n)
	for i := range files {
		name := fmt.Sprintf("f%04d", i)
		files[i] = uploader.File{Path: path, Name: name, Key: name, Size: 10}
	}
	m, _ := sendFixed(t, s, dir, files)
	if m.screen != screenProgress || m.pool == nil || len(m.progress.rows) != n {
		t.Fatalf("screen %d, pool %v, %d rows", m.screen, m.pool, len(m.progress.rows))
	}
	pool := m.pool
	defer func() {
		pool.Close()
		for range pool.Events() { // the events of 3,000 files no screen read
		}
	}()
	if got := len(pool.Snapshot(nil)); got >= n {
		t.Errorf("the pool was handed all %d files at once", got)
	}
	if r := m.progress.status(n - 1); r.State != uploader.StateQueued || r.Name != files[n-1].Name {
		t.Errorf("last row %+v, want it queued", r)
	}
	step(t, m, cancelRequestedMsg{id: n - 1}, nil)
	m, _ = step(t, m, press("q"), nil)
	m, seen := step(t, m, press("y"), nil)
	fin := only[runFinishedMsg](t, seen)
	if fin.summary.Canceled != n || len(fin.ledger.rows) != n {
		t.Fatalf("summary %+v, %d files listed; want all %d canceled", fin.summary, len(fin.ledger.rows), n)
	}
	if f := fin.ledger.status(n - 1); f.ID != n-1 || f.Name != files[n-1].Name || f.State != uploader.StateCanceled {
		t.Errorf("last file %+v", f)
	}
	if m.outcome.Summary.Canceled != n {
		t.Errorf("outcome %+v", m.outcome.Summary)
	}
}
