package uploader

import (
	"testing"
	"time"
)

// TestSlowUploadIsNotAStall: the stall watchdog is one timer per request,
// re-armed while bytes keep moving. An upload that takes several stall
// timeouts in all, but never goes a whole one without moving a byte, must
// go through in one attempt.
func TestSlowUploadIsNotAStall(t *testing.T) {
	rec := newRecorder(t, nil)
	f, _ := writeFile(t, t.TempDir(), "slow.bin", 384<<10)
	const stall = 300 * time.Millisecond
	start := time.Now()
	// 256 KiB/s hands out 32 KiB about every 125 ms: well inside the stall
	// timeout each time, about 1.4 s in all.
	events, _ := run(t, &testSource{base: rec.URL}, Options{Retries: 2, StallTimeout: stall, LimitRate: 256 << 10}, f)
	took := time.Since(start)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last event %v: %v", last.Kind, last.Err)
	}
	for _, e := range events {
		if e.Kind == EventRetrying {
			t.Errorf("retried (%v) although bytes never stopped moving", e.Err)
		}
	}
	if took < 3*stall {
		t.Errorf("the upload took %v; the test needs it to outlast several stall timeouts (%v)", took, stall)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}
