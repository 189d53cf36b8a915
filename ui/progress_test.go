package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"hoist/fileset"
	"hoist/uploader"
)

func progressFiles(n int) []uploader.File {
	files := make([]uploader.File, n)
	for i := range files {
		name := fmt.Sprintf("scan-%04d.tiff", i)
		files[i] = uploader.File{Path: "/scans/" + name, Name: name, Key: name, Size: 10 << 20}
	}
	return files
}

// sampleAt is a snapshot in which file i has sent sent(i) bytes.
func sampleAt(files []uploader.File, at time.Time, state func(i int) uploader.State, sent func(i int) int64) progressSampledMsg {
	st := make([]uploader.FileStatus, len(files))
	for i, f := range files {
		st[i] = uploader.FileStatus{ID: i, Name: f.Name, Size: f.Size, State: state(i), Sent: sent(i), Attempt: 1, MaxAttempts: 6}
	}
	return progressSampledMsg{at: at, files: st, concurrency: 4}
}

func newTestProgress(n int) (progressModel, []uploader.File) {
	files := progressFiles(n)
	m := newProgress(newStyles(true), "http://127.0.0.1:9000/bucket/")
	m.SetSize(goldenWidth-2, goldenHeight-4)
	m.begin(fileset.ListOf(files), nil, fixedNow, 4)
	return m, files
}

func progressPress(m progressModel, keys ...string) (progressModel, []tea.Msg) {
	var msgs []tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(press(k))
		msgs = append(msgs, perform(cmd)...)
	}
	return m, msgs
}

func TestProgressSmoothsSpeedAndCounts(t *testing.T) {
	m, files := newTestProgress(3)
	uploading := func(int) uploader.State { return uploader.StateUploading }
	// 1 MiB a second for file 0, nothing for the others, for 5 seconds.
	for s := 1; s <= 50; s++ {
		at := fixedNow.Add(time.Duration(s) * sampleEvery)
		m, _ = m.Update(sampleAt(files, at, uploading, func(i int) int64 {
			if i == 0 {
				return int64(s) * (1 << 20) / 10
			}
			return 0
		}))
	}
	if sp := m.speedOf(0); sp < 0.85*(1<<20) || sp > 1<<20 {
		t.Errorf("file speed %.0f B/s, want close to 1 MiB/s", sp)
	}
	if m.speedOf(1) != 0 {
		t.Errorf("idle file speed %.0f", m.speedOf(1))
	}
	if m.speed < 0.75*(1<<20) || m.speed > 1<<20 {
		t.Errorf("pool speed %.0f B/s, want close to 1 MiB/s", m.speed)
	}
	if len(m.spark) != 5 {
		t.Errorf("sparkline has %d points after 5 s, want 5", len(m.spark))
	}
	if m.sent != 5<<20 || m.total != 30<<20 || m.counts[uploader.StateUploading] != 3 {
		t.Errorf("sent %d total %d counts %v", m.sent, m.total, m.counts)
	}
	// A retry gives the bytes back; speed must not go negative.
	m, _ = m.Update(sampleAt(files, fixedNow.Add(51*sampleEvery), uploading, func(int) int64 { return 0 }))
	if m.speedOf(0) < 0 || m.speed < 0 {
		t.Errorf("negative speed after a reset: %f %f", m.speedOf(0), m.speed)
	}
}

func TestProgressEventsChangeRows(t *testing.T) {
	m, _ := newTestProgress(3)
	for _, msg := range []tea.Msg{
		uploadStartedMsg{id: 0, attempt: 1, max: 6},
		retryScheduledMsg{id: 1, attempt: 2, max: 6, at: fixedNow.Add(3 * time.Second), reason: "HTTP 503: SlowDown"},
		uploadFailedMsg{id: 2, err: fmt.Errorf("scan-0002.tiff: 403 AccessDenied: check the URL"), code: "AccessDenied"},
	} {
		m, _ = m.Update(msg)
	}
	if got := m.stateText(1, fixedNow); got != "retry 2 of 5 in 3s: HTTP 503: SlowDown" {
		t.Errorf("retrying row reads %q", got)
	}
	// A multipart upload that resumes says so, and how much it need not send.
	m, _ = m.Update(uploadResumedMsg{id: 0, bytes: 48 << 20})
	m, _ = m.Update(uploadStartedMsg{id: 0, attempt: 1, max: 6})
	if got := m.stateText(0, fixedNow); got != "uploading (resuming: 48 MiB already on the server)" {
		t.Errorf("resumed row reads %q", got)
	}
	m, _ = m.Update(uploadStartedMsg{id: 0, attempt: 3, max: 6})
	if got := m.stateText(0, fixedNow); got != "uploading (resuming: 48 MiB already on the server, retry 2 of 5)" {
		t.Errorf("resumed row on its third attempt reads %q", got)
	}
	if got := m.stateText(2, fixedNow); got != "failed: 403 AccessDenied: check the URL" {
		t.Errorf("failed row: %q", got)
	}
	m, _ = m.Update(uploadDoneMsg{id: 0, result: &uploader.Result{ID: 0, Key: "scan-0000.tiff", Bytes: 10 << 20, CRC32: 0xdeadbeef}})
	if got := m.stateText(0, fixedNow); got != "done ✓ crc32 3q2+7w==" {
		t.Errorf("done row reads %q", got)
	}
	if m.finished || m.running() != 1 {
		t.Errorf("finished %v running %d", m.finished, m.running())
	}
	m, _ = m.Update(uploadCanceledMsg{id: 1, reason: "canceled"})
	if !m.finished {
		t.Error("all three are final: the run is finished")
	}
}

func TestProgressKeys(t *testing.T) {
	m, files := newTestProgress(4)
	m, _ = m.Update(sampleAt(files, fixedNow.Add(time.Second), func(i int) uploader.State {
		return []uploader.State{uploader.StateUploading, uploader.StateFailed, uploader.StateCanceled, uploader.StateDone}[i]
	}, func(int) int64 { return 0 }))

	// While following nothing is selected: x cancels nothing.
	_, msgs := progressPress(m, "x")
	if len(msgs) != 0 {
		t.Errorf("x while following did something: %v", msgs)
	}
	// The first step selects the followed row (file 0) in place.
	m, _ = progressPress(m, "up")
	_, msgs = progressPress(m, "x")
	if got := only[cancelRequestedMsg](t, msgs); got.id != 0 {
		t.Errorf("cancel id %d", got.id)
	}
	_, msgs = progressPress(m, "r")
	if len(msgs) != 0 {
		t.Errorf("r on an uploading file did something: %v", msgs)
	}
	m, msgs = progressPress(m, "down", "r")
	if got := only[retryRequestedMsg](t, msgs); len(got.ids) != 1 || got.ids[0] != 1 {
		t.Errorf("retry ids %v", got.ids)
	}
	_, msgs = progressPress(m, "R")
	if got := only[retryRequestedMsg](t, msgs); fmt.Sprint(got.ids) != "[1 2]" {
		t.Errorf("retry all ids %v", got.ids)
	}
	_, msgs = progressPress(m, "x")
	if len(msgs) != 0 {
		t.Errorf("x on a failed file did something: %v", msgs)
	}
	_, msgs = progressPress(m, "+")
	if got := only[concurrencyRequestedMsg](t, msgs); got.n != 5 {
		t.Errorf("+ asked for %d workers", got.n)
	}
	_, msgs = progressPress(m, "-")
	if got := only[concurrencyRequestedMsg](t, msgs); got.n != 3 {
		t.Errorf("- asked for %d workers", got.n)
	}

	// Quit asks first while something runs; n keeps going, y leaves.
	m, msgs = progressPress(m, "q")
	if len(msgs) != 0 || !m.confirming || !strings.Contains(plain(m.View()), "Quit? 1 upload in progress will be canceled") {
		t.Fatalf("q while uploading: msgs %v\n%s", msgs, plain(m.View()))
	}
	m, msgs = progressPress(m, "n")
	if len(msgs) != 0 || m.confirming {
		t.Fatal("n should keep uploading")
	}
	m, _ = progressPress(m, "q")
	_, msgs = progressPress(m, "y")
	only[quitRequestedMsg](t, msgs)
}

func TestProgressScrollsThroughThousandFiles(t *testing.T) {
	m, _ := newTestProgress(1000)
	rows := m.listHeight()
	m, _ = progressPress(m, "end")
	if m.win.cursor != 999 || m.win.offset != 1000-rows {
		t.Errorf("end: cursor %d offset %d", m.win.cursor, m.win.offset)
	}
	v := plain(m.View())
	if !strings.Contains(v, "scan-0999.tiff") || strings.Contains(v, "scan-0000.tiff") {
		t.Errorf("end should show the last rows:\n%s", v)
	}
	if n := strings.Count(v, "\n") + 1; n != goldenHeight-4 {
		t.Errorf("view is %d lines, want %d", n, goldenHeight-4)
	}
	m, _ = progressPress(m, "g", "pgdown")
	if m.win.cursor != rows || m.win.offset != 1 {
		t.Errorf("pgdown from the top: cursor %d offset %d", m.win.cursor, m.win.offset)
	}
}

func TestProgressView(t *testing.T) {
	atGoldenWidths(t, func(t *testing.T, w int) string {
		m, files := newTestProgress(12)
		m.SetSize(w, goldenHeight-4)
		states := []uploader.State{
			uploader.StateDone, uploader.StateDone, uploader.StateUploading, uploader.StateUploading,
			uploader.StateAwaiting, uploader.StateRetrying, uploader.StateHashing, uploader.StateFailed,
			uploader.StateCanceled, uploader.StateQueued, uploader.StateQueued, uploader.StateQueued,
		}
		for s := 1; s <= 30; s++ {
			msg := sampleAt(files, fixedNow.Add(time.Duration(s)*sampleEvery), func(i int) uploader.State { return states[i] }, func(i int) int64 {
				switch states[i] {
				case uploader.StateDone, uploader.StateAwaiting:
					return min(int64(s)*(400<<10), 10<<20) // sent over the first 2.5 s
				case uploader.StateUploading:
					return int64(s) * int64(i) * (100 << 10)
				}
				return 0
			})
			msg.files[0].Result = &uploader.Result{CRC32: 0x1c291ca3}
			msg.files[1].Result = &uploader.Result{CRC32: 0xcbf43926}
			msg.files[5].Attempt, msg.files[5].Reason = 2, "HTTP 503 SlowDown: the server is busy"
			msg.files[7].Reason = "scan-0007.tiff: 403 AccessDenied: the URL's signature does not match; get a fresh URL"
			msg.files[8].Reason = "canceled"
			m, _ = m.Update(msg)
		}
		if from, to := m.win.visible(); from > 2 || to <= 2 {
			t.Errorf("the view should follow the first file still being sent: rows %d–%d", from, to)
		}
		// The first step selects file 2, the first still being sent; four
		// more go to file 6.
		m, _ = progressPress(m, "down", "down", "down", "down", "down")
		return m.View()
	})
}

func TestProgressFollowsUntilThePersonMoves(t *testing.T) {
	m, files := newTestProgress(1000)
	sample := func(done int, at time.Duration) {
		m, _ = m.Update(sampleAt(files, fixedNow.Add(at), func(i int) uploader.State {
			if i < done {
				return uploader.StateDone
			}
			return uploader.StateUploading
		}, func(int) int64 { return 0 }))
	}
	sample(500, time.Second)
	if from, to := m.win.visible(); from > 500 || to <= 500 {
		t.Fatalf("rows %d–%d: file 500 should be in view", from, to)
	}
	if strings.Contains(plain(m.View()), "›") {
		t.Error("following shows a selection")
	}
	// The first step selects the file following showed, by identity: later
	// samples scroll nothing and select nothing else.
	m, _ = progressPress(m, "up")
	sample(700, 2*time.Second)
	sample(900, 3*time.Second)
	if m.win.cursor != 500 || !strings.Contains(plain(m.View()), "› scan-0500.tiff") {
		t.Errorf("after the person chose file 500, the selection moved to %d", m.win.cursor)
	}
	_, msgs := progressPress(m, "x")
	if len(msgs) != 0 {
		t.Errorf("x on a finished file did something: %v", msgs)
	}
	m, _ = progressPress(m, "down")
	sample(950, 4*time.Second)
	_, msgs = progressPress(m, "x")
	if len(msgs) != 0 {
		t.Errorf("x on file 501, now finished, did something: %v", msgs)
	}
	if m.win.cursor != 501 {
		t.Errorf("selection at %d, want 501", m.win.cursor)
	}
	m, _ = progressPress(m, "f")
	if from, to := m.win.visible(); !m.follow || from > 950 || to <= 950 {
		t.Errorf("f should follow again: rows %d–%d", from, to)
	}
}

func TestProgressViewNarrow(t *testing.T) {
	m, files := newTestProgress(3)
	m.SetSize(minWidth-2, minHeight-4)
	m, _ = m.Update(sampleAt(files, fixedNow.Add(time.Second), func(int) uploader.State { return uploader.StateUploading }, func(int) int64 { return 1 << 20 }))
	golden.RequireEqual(t, plain(m.View()))
}

// BenchmarkProgressTick is one sample through the root model: Update with
// the snapshot, then View, as the program does every 100 ms. With 1,000
// files it must stay under 2 ms, and close to the cost of 10.
func BenchmarkProgressTick(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) { benchmarkTick(b, n) })
	}
}

func benchmarkTick(b *testing.B, n int) {
	files := progressFiles(n)
	m := newModel(b.Context(), Options{Target: "http://127.0.0.1:9000/bucket/"})
	m.width, m.height = 120, 40
	m.layout()
	m.screen = screenProgress
	m.files = fileset.ListOf(files)
	m.progress.begin(fileset.ListOf(files), nil, fixedNow, 8)
	pool := uploader.New(storeSource{base: "http://127.0.0.1:1"}, uploader.Options{})
	defer pool.Close()
	m.pool = pool
	states := []uploader.State{uploader.StateDone, uploader.StateUploading, uploader.StateQueued, uploader.StateRetrying}
	msgs := make([]progressSampledMsg, 64)
	for s := range msgs {
		msgs[s] = sampleAt(files, fixedNow.Add(time.Duration(s+1)*sampleEvery), func(i int) uploader.State { return states[i%len(states)] },
			func(i int) int64 { return int64(s*i) % (10 << 20) })
	}
	var tm tea.Model = m
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		msg := msgs[i%len(msgs)]
		msg.at = fixedNow.Add(time.Duration(i+1) * sampleEvery)
		tm, _ = tm.Update(msg)
		_ = tm.View()
	}
}

// The first bytes land in socket buffers at memory speed: the shown speed
// must never be more than what moved (here, 8 MiB in the first 100 ms, then
// 1 MiB a second), it settles on the real rate, and the ETA follows it.
func TestProgressSpeedNeverShowsMoreThanMoved(t *testing.T) {
	m, files := newTestProgress(1)
	files[0].Size = 100 << 20
	m.begin(fileset.ListOf(files), nil, fixedNow, 4)
	sent := func(at time.Duration) int64 {
		if at <= sampleEvery {
			return 8 << 20
		}
		return 8<<20 + int64((at-sampleEvery).Seconds()*(1<<20))
	}
	for s := 1; s <= 100; s++ {
		at := time.Duration(s) * sampleEvery
		n := sent(at)
		m, _ = m.Update(sampleAt(files, fixedNow.Add(at), func(int) uploader.State { return uploader.StateUploading }, func(int) int64 { return n }))
		// Over the last 5 s (at least 1 s), what moved per second.
		from := max(at-5*time.Second, 0)
		moved := float64(n-sent(from)) / max(at-from, time.Second).Seconds()
		if from == 0 {
			moved = float64(n) / max(at, time.Second).Seconds()
		}
		if m.speed > moved*1.0001 || m.speedOf(0) > moved*1.0001 {
			t.Fatalf("at %v: shown %.0f B/s (file %.0f), but %.0f B/s moved", at, m.speed, m.speedOf(0), moved)
		}
	}
	if m.speed < 0.9*(1<<20) || m.speed > 1.1*(1<<20) {
		t.Errorf("after 10 s at 1 MiB/s the speed reads %.0f B/s", m.speed)
	}
	// 100 MiB - 8 MiB - 9.9 MiB left at 1 MiB/s: about 82 s.
	if eta := m.eta(); eta != "1m22s" && eta != "1m21s" && eta != "1m23s" && eta != "1m24s" && eta != "1m20s" {
		t.Errorf("ETA %s, want about 1m22s", eta)
	}
	if got := formatETA(1<<40, 1); got != ">24h" {
		t.Errorf("a far ETA reads %q, want it capped at >24h", got)
	}
}

// Bytes a resumed upload finds on the server count toward its progress but
// not toward the speed: they did not move in this run.
func TestProgressResumedBytesAreNotSpeed(t *testing.T) {
	m, files := newTestProgress(1)
	files[0].Size = 100 << 20
	m.begin(fileset.ListOf(files), nil, fixedNow, 4)
	m, _ = m.Update(uploadResumedMsg{id: 0, bytes: 48 << 20})
	for s := 1; s <= 20; s++ {
		n := int64(48<<20) + int64(s)*(100<<10) // 1 MiB/s on top
		m, _ = m.Update(sampleAt(files, fixedNow.Add(time.Duration(s)*sampleEvery), func(int) uploader.State { return uploader.StateUploading }, func(int) int64 { return n }))
	}
	if m.speed > 1.01*(1<<20) || m.speedOf(0) > 1.01*(1<<20) {
		t.Errorf("speed %.0f B/s (file %.0f) counts the resumed bytes", m.speed, m.speedOf(0))
	}
	if m.sent < 48<<20 {
		t.Errorf("progress %d leaves out the bytes already on the server", m.sent)
	}
}

// TestProgressWaitingForItsTurn (issue 14 item 4): at a destination that
// takes one upload at a time, the files behind the one being sent say
// "waiting", with no speed or time left, and the counts line says how many.
func TestProgressWaitingForItsTurn(t *testing.T) {
	m, files := newTestProgress(3)
	m, _ = m.Update(eventMsg(uploader.Event{Kind: uploader.EventStarted, ID: 0, Attempt: 1, MaxAttempts: 6}))
	for _, id := range []int{1, 2} {
		m, _ = m.Update(eventMsg(uploader.Event{Kind: uploader.EventWaiting, ID: id}))
	}
	state := func(i int) uploader.State {
		if i == 0 {
			return uploader.StateUploading
		}
		return uploader.StateWaiting
	}
	for s := 1; s <= 20; s++ {
		m, _ = m.Update(sampleAt(files, fixedNow.Add(time.Duration(s)*sampleEvery), state, func(i int) int64 {
			if i == 0 {
				return int64(s) << 18
			}
			return 0
		}))
	}
	if got := m.stateText(1, fixedNow); got != "waiting" {
		t.Errorf("a file waiting for its turn reads %q", got)
	}
	if got := m.countsView(); !strings.Contains(got, "1 uploading") || !strings.Contains(got, "2 waiting") {
		t.Errorf("counts line %q, want 1 uploading and 2 waiting", got)
	}
	view := m.View()
	for _, line := range strings.Split(view, "\n") {
		if !strings.Contains(line, "scan-0002.tiff") {
			continue
		}
		if strings.Contains(line, "uploading") || strings.Contains(line, "/s") {
			t.Errorf("waiting row shows a transfer: %q", line)
		}
		if !strings.Contains(line, "waiting") {
			t.Errorf("waiting row does not say so: %q", line)
		}
	}
	if m.running() != 3 || m.finished {
		t.Errorf("running %d finished %v: waiting files are not finished", m.running(), m.finished)
	}
}

// p pauses and resumes the file the person chose (by identity), P all of
// them; a paused row says what resuming will do.
func TestProgressPauseKeys(t *testing.T) {
	m, files := newTestProgress(4)
	sample := func(at time.Duration, states ...uploader.State) {
		msg := sampleAt(files, fixedNow.Add(at), func(i int) uploader.State { return states[i] }, func(int) int64 { return 3 << 20 })
		msg.files[1].Parts = 3 // a multipart upload
		m, _ = m.Update(msg)
	}
	up, q := uploader.StateUploading, uploader.StateQueued
	sample(time.Second, up, up, q, uploader.StateDone)

	// While following nothing is selected: p pauses nothing.
	if _, msgs := progressPress(m, "p"); len(msgs) != 0 {
		t.Errorf("p while following did something: %v", msgs)
	}
	m, _ = progressPress(m, "up", "down") // select file 1, the multipart one
	_, msgs := progressPress(m, "p")
	if got := only[pauseRequestedMsg](t, msgs); fmt.Sprint(got.ids) != "[1]" {
		t.Fatalf("p asked to pause %v, want [1]", got.ids)
	}
	m, _ = m.Update(pauseAcceptedMsg{ids: []int{1}})
	if got := m.stateText(1, fixedNow); got != "pausing…" {
		t.Errorf("a pause on its way reads %q", got)
	}
	if _, msgs := progressPress(m, "p"); len(msgs) != 0 {
		t.Errorf("p on a file already pausing did something: %v", msgs)
	}
	m, _ = m.Update(uploadPausedMsg{id: 1})
	sample(2*time.Second, up, uploader.StatePaused, q, uploader.StateDone)
	if got := m.stateText(1, fixedNow); got != "paused (parts kept)" {
		t.Errorf("a paused multipart upload reads %q", got)
	}
	v := plain(m.View())
	for _, want := range []string{"scan-0001.tiff: paused; p resumes it at its next part (parts sent are kept)", "1 paused"} {
		if !strings.Contains(v, want) {
			t.Errorf("the view lacks %q:\n%s", want, v)
		}
	}
	if h := helpText(m.helpKeys()); !strings.Contains(h, "p resume file") || !strings.Contains(h, "P pause all") {
		t.Errorf("help: %s", h)
	}
	// Quitting cancels what is under way or queued; a paused file stays
	// paused (a multipart upload keeps its parts), and the prompt says so.
	if q, _ := progressPress(m, "q"); !strings.Contains(plain(q.View()), "Quit? 1 upload in progress and 1 queued will be canceled; 1 paused file stays paused.") {
		t.Errorf("quit prompt with a file paused:\n%s", plain(q.View()))
	}
	_, msgs = progressPress(m, "p")
	if got := only[resumeRequestedMsg](t, msgs); fmt.Sprint(got.ids) != "[1]" {
		t.Errorf("p on a paused file asked to resume %v", got.ids)
	}

	// A later sample never moves the selection: p still acts on file 1.
	sample(3*time.Second, uploader.StateDone, uploader.StatePaused, up, uploader.StateDone)
	if _, msgs = progressPress(m, "p"); fmt.Sprint(only[resumeRequestedMsg](t, msgs).ids) != "[1]" {
		t.Errorf("after a sample p resumed %v", msgs)
	}

	// P pauses every file not finished and not paused; once all are paused
	// it resumes them all.
	_, msgs = progressPress(m, "P")
	if got := only[pauseRequestedMsg](t, msgs); fmt.Sprint(got.ids) != "[2]" {
		t.Errorf("P asked to pause %v, want [2]", got.ids)
	}
	// Pressed again while that pause is on its way, P undoes nothing.
	m, _ = m.Update(pauseAcceptedMsg{ids: []int{2}})
	if _, msgs = progressPress(m, "P"); len(msgs) != 0 {
		t.Errorf("P while a pause is on its way did something: %v", msgs)
	}
	m, _ = m.Update(uploadPausedMsg{id: 2})
	m.rows[2].attempt = 1 // a single PUT that had begun
	if got := m.stateText(2, fixedNow); got != "paused (will start over)" {
		t.Errorf("a paused single PUT reads %q", got)
	}
	if h := helpText(m.helpKeys()); !strings.Contains(h, "P resume all") {
		t.Errorf("all paused, help: %s", h)
	}
	_, msgs = progressPress(m, "P")
	if got := only[resumeRequestedMsg](t, msgs); fmt.Sprint(got.ids) != "[1 2]" {
		t.Errorf("P asked to resume %v, want [1 2]", got.ids)
	}
	// The single PUT starts again from zero: the restart, then queued.
	m, _ = m.Update(uploadRestartedMsg{id: 2, reason: "a paused single PUT starts again from zero"})
	m, _ = m.Update(uploadQueuedMsg{id: 2})
	if m.rows[2].state != uploader.StateQueued || m.rows[2].sent != 0 {
		t.Errorf("resumed single PUT: %+v", m.rows[2])
	}
}

// helpText is the full help as one line of "key desc" pairs, enabled
// bindings only.
func helpText(k interface{ FullHelp() [][]key.Binding }) string {
	var out []string
	for _, col := range k.FullHelp() {
		for _, b := range col {
			if b.Enabled() {
				out = append(out, b.Help().Key+" "+b.Help().Desc)
			}
		}
	}
	return strings.Join(out, " · ")
}

// [ halves the limit along powers of two (from no limit: the step below the
// speed measured now), ] doubles it and past 1 GiB/s lifts it, 0 lifts it;
// the header shows the limit.
func TestProgressRateKeys(t *testing.T) {
	m, files := newTestProgress(2)
	// 3 MiB a second for 5 seconds.
	for s := 1; s <= 50; s++ {
		m, _ = m.Update(sampleAt(files, fixedNow.Add(time.Duration(s)*sampleEvery), func(int) uploader.State { return uploader.StateUploading },
			func(i int) int64 { return int64(s) * (3 << 20) / 20 }))
	}
	if strings.Contains(plain(m.View()), "limit") {
		t.Errorf("no limit, yet the header speaks of one:\n%s", plain(m.View()))
	}
	if _, msgs := progressPress(m, "]"); len(msgs) != 0 {
		t.Errorf("] with no limit did something: %v", msgs)
	}
	if _, msgs := progressPress(m, "0"); len(msgs) != 0 {
		t.Errorf("0 with no limit did something: %v", msgs)
	}
	_, msgs := progressPress(m, "[")
	if got := only[rateRequestedMsg](t, msgs); got.bps != 2<<20 {
		t.Fatalf("[ at 3 MiB/s with no limit asked for %d B/s, want 2 MiB/s", got.bps)
	}
	m, _ = m.Update(rateChangedMsg{bps: 2 << 20})
	if v := plain(m.View()); !strings.Contains(v, "limit 2.0 MiB/s · workers 4 (+/-)") {
		t.Errorf("the header does not show the limit:\n%s", v)
	}
	for _, c := range []struct {
		key       string
		from, bps int64
	}{
		{"[", 2 << 20, 1 << 20},
		{"]", 2 << 20, 4 << 20},
		{"[", 64 << 10, 64 << 10}, // the lowest step: nothing lower
		{"]", 10_000_000, 16 << 20},
		{"[", 10_000_000, 8 << 20},
		{"]", 1 << 30, 0}, // past the highest: no limit
		{"0", 8 << 20, 0},
	} {
		m, _ = m.Update(rateChangedMsg{bps: c.from})
		_, msgs := progressPress(m, c.key)
		if c.key == "[" && c.from == c.bps {
			if len(msgs) != 0 {
				t.Errorf("[ at the lowest step did something: %v", msgs)
			}
			continue
		}
		if got := only[rateRequestedMsg](t, msgs); got.bps != c.bps {
			t.Errorf("%s from %d B/s asked for %d, want %d", c.key, c.from, got.bps, c.bps)
		}
	}
}

// A snapshot taken before a file's done event, read after it, must not put
// the file back in flight: the run would then never end on that sample.
func TestProgressStaleSampleKeepsAFinishedFile(t *testing.T) {
	m, files := newTestProgress(2)
	m, _ = m.Update(uploadStartedMsg{id: 0, attempt: 1, max: 6})
	m, _ = m.Update(uploadDoneMsg{id: 0, result: &uploader.Result{ID: 0, Bytes: files[0].Size}})
	m, _ = m.Update(uploadDoneMsg{id: 1, result: &uploader.Result{ID: 1, Bytes: files[1].Size}})
	stale := sampleAt(files, fixedNow.Add(sampleEvery), func(int) uploader.State { return uploader.StateUploading }, func(int) int64 { return 1 << 20 })
	m, _ = m.Update(stale)
	if m.rows[0].state != uploader.StateDone || !m.finished || m.counts[uploader.StateDone] != 2 {
		t.Errorf("after a stale sample: row 0 %v, finished %v, counts %v", m.rows[0].state, m.finished, m.counts)
	}
	if m.sent != m.total {
		t.Errorf("sent %d of %d after every file is done", m.sent, m.total)
	}
}

// A small file goes up whole between two samples, which then only ever see
// files in flight: its bytes still count toward the speed.
func TestProgressCountsFilesSentBetweenSamples(t *testing.T) {
	m, files := newTestProgress(20)
	for i := range files {
		m, _ = m.Update(uploadStartedMsg{id: i, attempt: 1, max: 6})
		m, _ = m.Update(uploadDoneMsg{id: i, result: &uploader.Result{ID: i, Bytes: files[i].Size}})
	}
	m, _ = m.Update(progressSampledMsg{at: fixedNow.Add(2 * time.Second), concurrency: 4})
	if want := int64(20 * (10 << 20)); m.moved != want || m.speed <= 0 {
		t.Errorf("moved %d (want %d), speed %.0f B/s", m.moved, want, m.speed)
	}
}

// The totals are kept as rows change, not recounted: after any mix of
// events and samples they are what a recount gives.
func TestProgressTotalsFollowEveryChange(t *testing.T) {
	m, files := newTestProgress(6)
	msgs := []tea.Msg{
		uploadStartedMsg{id: 0, attempt: 1, max: 6},
		sampleAt(files[:2], fixedNow.Add(sampleEvery), func(int) uploader.State { return uploader.StateUploading }, func(int) int64 { return 3 << 20 }),
		bodySentMsg{id: 0},
		uploadDoneMsg{id: 0, result: &uploader.Result{ID: 0, Bytes: files[0].Size}},
		retryScheduledMsg{id: 1, attempt: 2, max: 6, at: fixedNow.Add(time.Second), reason: "HTTP 503"},
		uploadFailedMsg{id: 2, err: fmt.Errorf("403")},
		uploadSkippedMsg{id: 3, reason: "already on the server"},
		uploadCanceledMsg{id: 4, reason: "canceled"},
		uploadQueuedMsg{id: 4},
		uploadStartedMsg{id: 5, attempt: 1, max: 6},
	}
	for i, msg := range msgs {
		m, _ = m.Update(msg)
		var counts [len(m.counts)]int
		var total, sent int64
		for id, r := range m.rows {
			counts[r.state]++
			if r.state == uploader.StateSkipped {
				continue
			}
			size := m.files.SizeAt(id)
			total += size
			if r.state == uploader.StateDone {
				sent += size
			} else {
				sent += min(r.sent, size)
			}
		}
		if counts != m.counts || total != m.total || sent != m.sent {
			t.Fatalf("after message %d (%T): counts %v total %d sent %d; a recount gives %v %d %d", i, msg, m.counts, m.total, m.sent, counts, total, sent)
		}
	}
}

// --skip-existing in the terminal UI: a file already stored ends as
// skipped, says so, and the run finishes when the rest are done.
func TestProgressSkippedFileFinishes(t *testing.T) {
	m, files := newTestProgress(2)
	m, _ = m.Update(eventMsg(uploader.Event{Kind: uploader.EventSkipped, ID: 0, File: files[0].Name, Err: fmt.Errorf("already on the server")}))
	m, _ = m.Update(uploadDoneMsg{id: 1, result: &uploader.Result{ID: 1, Bytes: files[1].Size}})
	if !m.finished || m.counts[uploader.StateSkipped] != 1 {
		t.Fatalf("finished %v counts %v", m.finished, m.counts)
	}
	if got := m.stateText(0, fixedNow); got != "skipped: already on the server" {
		t.Errorf("skipped row reads %q", got)
	}
	if !strings.Contains(ansi.Strip(m.View()), "1 skipped") {
		t.Errorf("the counts line leaves out the skipped file:\n%s", ansi.Strip(m.View()))
	}
	// The bytes of this run are the ones it sends: the stored file is not
	// still to go.
	if m.total != files[1].Size || m.sent != m.total {
		t.Errorf("sent %d of %d", m.sent, m.total)
	}
}

// The program draws a frame after every message: events that come within
// a frame or two of each other go in one message, not one each.
func TestWaitForEventGathersAFramesEvents(t *testing.T) {
	events := make(chan uploader.Event)
	go func() {
		defer close(events)
		for id := range 3 {
			events <- uploader.Event{Kind: uploader.EventStarted, ID: id}
			// An engine sending small files: the next event a few ms later.
			time.Sleep(5 * time.Millisecond)
		}
	}()
	msg := waitForEvent(events)().(eventsDrainedMsg)
	if len(msg.msgs) != 3 || !msg.closed {
		t.Errorf("one message carried %d events (closed %v); want the 3 sent within %v", len(msg.msgs), msg.closed, eventGather)
	}
}
