package konfidantemu

import (
	"sync"
	"time"
)

// limiter allows at most n requests per key in any window: a sliding log,
// the strictest reading of "60 requests per minute", so a client that
// paces itself passes whatever the real service's algorithm is, and one
// that bursts is refused. A request leaves the window a tenth of the even
// spacing (window/n) early, so a client spacing its calls exactly
// window/n apart is not refused for a millisecond of network jitter.
type limiter struct {
	n      int
	window time.Duration // as counted, less the slack

	mu   sync.Mutex
	seen map[string][]time.Time // key → times of the allowed requests in the window, oldest first
}

func newLimiter(n int, window time.Duration) *limiter {
	slack := window / time.Duration(n) / 10
	return &limiter{n: n, window: window - slack, seen: map[string][]time.Time{}}
}

// allow counts a request by key at now; when the window is full it counts
// nothing and says how long until a request would be allowed.
func (l *limiter) allow(key string, now time.Time) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	times := l.seen[key]
	cut := 0
	for cut < len(times) && !times[cut].After(now.Add(-l.window)) {
		cut++
	}
	times = times[cut:]
	if len(times) >= l.n {
		l.seen[key] = times
		return times[0].Add(l.window).Sub(now), false
	}
	l.seen[key] = append(times, now)
	return 0, true
}
