package uploader

import (
	"context"
	"testing"
	"time"
)

// TestOwnPacingIsNotAStall (issue 14 item 4): at a low --limit-rate one
// burst of the rate budget takes longer than the stall timeout to come.
// That wait is hoist's own, not a dead connection: no retry.
func TestOwnPacingIsNotAStall(t *testing.T) {
	rec := newRecorder(t, nil)
	f, _ := writeFile(t, t.TempDir(), "paced.bin", 128<<10)
	// 32 KiB bursts at 48 KiB/s: about 0.67 s between bursts, more than
	// twice the stall timeout.
	events, _ := run(t, &testSource{base: rec.URL}, Options{Retries: 2, StallTimeout: 300 * time.Millisecond, LimitRate: 48 << 10}, f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last event %v: %v", last.Kind, last.Err)
	}
	for _, e := range events {
		if e.Kind == EventRetrying {
			t.Errorf("retried (%v): the client's own pacing was taken for a stall", e.Err)
		}
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// TestSetRateWhileRunning (issue 14 item 14, engine side): SetRate limits an
// unlimited pool, and SetRate(0) lifts the limit from an upload under way.
func TestSetRateWhileRunning(t *testing.T) {
	rec := newRecorder(t, nil)
	dir := t.TempDir()

	slow, _ := writeFile(t, dir, "slow.bin", 160<<10)
	p := New(&testSource{base: rec.URL}, Options{})
	if p.Rate() != 0 {
		t.Errorf("rate %d, want 0 (unlimited)", p.Rate())
	}
	p.SetRate(64 << 10)
	if p.Rate() != 64<<10 {
		t.Errorf("rate %d after SetRate(64 KiB)", p.Rate())
	}
	start := time.Now()
	p.Start(context.Background())
	log := collectEvents(p)
	p.Add(slow)
	_ = p.Wait(context.Background())
	p.Close()
	log.wait()
	// 160 KiB at 64 KiB/s with a 32 KiB burst: at least 2 s.
	if took := time.Since(start); took < 1800*time.Millisecond {
		t.Errorf("160 KiB at 64 KiB/s took %v", took)
	}

	big, _ := writeFile(t, dir, "big.bin", 4<<20)
	p = New(&testSource{base: rec.URL}, Options{LimitRate: 64 << 10, StallTimeout: 5 * time.Second})
	p.Start(context.Background())
	log = collectEvents(p)
	p.Add(big)
	waitFor := time.Now().Add(10 * time.Second)
	for p.Snapshot(nil)[0].Sent == 0 && time.Now().Before(waitFor) {
		time.Sleep(5 * time.Millisecond)
	}
	lifted := time.Now()
	p.SetRate(0)
	_ = p.Wait(context.Background())
	p.Close()
	if last := lastOf(log.wait(), 0); last.Kind != EventDone {
		t.Fatalf("last event %v: %v", last.Kind, last.Err)
	}
	// 4 MiB at 64 KiB/s would take a minute.
	if took := time.Since(lifted); took > 15*time.Second {
		t.Errorf("after SetRate(0) the upload still took %v", took)
	}
}
