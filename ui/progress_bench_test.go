package ui

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"hoist/fileset"
	"hoist/uploader"
)

// BenchmarkProgressRun plays a whole run of n small files through the root
// model as the program sees it: every file's queued, started, body-sent and
// done events in batches as waitForEvent hands them over, a snapshot every
// 100 ms (50 in the run, about what 10,000 × 1 KiB takes), and a frame
// drawn after each batch. Issue 15: the TUI must cost about what headless
// does, so this is O(events), not O(events × files).
//
//	go test ./ui/ -run '^$' -bench ProgressRun -benchtime 3x
//
// and read cpu-ms/run.
func BenchmarkProgressRun(b *testing.B) {
	for _, n := range []int{1000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) { benchmarkRun(b, n) })
	}
}

func benchmarkRun(b *testing.B, n int) {
	files := progressFiles(n)
	for i := range files {
		files[i].Size = 1 << 10
	}
	const samples = 50
	const concurrency = 16
	pool := uploader.New(storeSource{base: "http://127.0.0.1:1"}, uploader.Options{})
	defer pool.Close()
	snap := make([]uploader.FileStatus, 0, 16)
	b.ReportAllocs()
	var kept tea.Model
	cpu := cpuTime(b)
	for b.Loop() {
		m := newModel(b.Context(), Options{Target: "http://127.0.0.1:9000/bucket/"})
		m.width, m.height = 120, 40
		m.layout()
		m.screen = screenProgress
		m.files = fileset.ListOf(files)
		m.progress.begin(fileset.ListOf(files), nil, fixedNow, concurrency)
		m.pool = pool
		var tm tea.Model = m
		var batch []tea.Msg
		flush := func() {
			if len(batch) > 0 {
				tm, _ = tm.Update(eventsDrainedMsg{msgs: batch})
				_ = tm.View()
				batch = nil
			}
		}
		send := func(msg tea.Msg) {
			batch = append(batch, msg)
			if len(batch) == eventBatch {
				flush()
			}
		}
		for i := range n {
			send(uploadQueuedMsg{id: i})
		}
		flush()
		every := max(n/samples, 1)
		for i := range n {
			send(uploadStartedMsg{id: i, attempt: 1, max: 6})
			send(bodySentMsg{id: i})
			send(uploadDoneMsg{id: i, result: &uploader.Result{ID: i, Bytes: files[i].Size}})
			if (i+1)%every == 0 || i == n-1 {
				flush()
				// What the pool answers for the files in flight.
				snap = snap[:0]
				for j := i + 1; j < min(i+1+concurrency, n); j++ {
					snap = append(snap, uploader.FileStatus{ID: j, Name: files[j].Name, Size: files[j].Size, State: uploader.StateUploading, Sent: 512, Attempt: 1, MaxAttempts: 6})
				}
				at := fixedNow.Add(time.Duration(i/every+1) * sampleEvery)
				tm, _ = tm.Update(progressSampledMsg{at: at, files: snap, concurrency: concurrency})
				_ = tm.View()
			}
		}
		if f := tm.(model).progress; !f.finished {
			b.Fatalf("the run did not finish: counts %v", f.counts)
		}
		kept = tm
	}
	// What the screen keeps for the run, its per-file rows above all.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(kept)
	// Process CPU beside wall time: the build machine is shared.
	b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/run")
}
