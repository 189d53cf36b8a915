package konfidantemu

import (
	"testing"
	"time"
)

// A client spacing its calls exactly window/n apart passes even when the
// network delays one call and hurries another; one that bursts does not.
func TestLimiterToleratesJitterNotBursts(t *testing.T) {
	l := newLimiter(60, time.Minute)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		// A minute's calls arrive 4 ms late, the next minute's 4 ms
		// early: call 60 comes 59.992 s after call 0.
		jitter := 4 * time.Millisecond
		if (i/60)%2 == 1 {
			jitter = -jitter
		}
		at := start.Add(time.Duration(i)*time.Second + jitter)
		if wait, ok := l.allow("k", at); !ok {
			t.Fatalf("call %d, paced at 60 a minute, refused (wait %v)", i, wait)
		}
	}
	burst := start.Add(time.Hour)
	for i := range 61 {
		_, ok := l.allow("b", burst)
		if ok != (i < 60) {
			t.Fatalf("burst call %d: allowed=%v", i+1, ok)
		}
	}
	if wait, _ := l.allow("b", burst.Add(30*time.Second)); wait != 30*time.Second-100*time.Millisecond {
		t.Fatalf("wait %v, want the window less a tenth of a second's spacing, from the burst", wait)
	}
}
