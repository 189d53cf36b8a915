package ui

import (
	"math"
	"time"
)

// rateMeter turns a byte counter sampled on a tick into a speed a person
// can trust, the way rclone does it: an exponentially weighted average of
// the per-sample rates (smooth), read no higher than what moved over the
// last few seconds (honest). The first bytes of an upload land in socket
// buffers at memory speed; taking them as the rate made the header read
// 67 MB/s while 42 MB/s moved.
type rateMeter struct {
	tau    time.Duration
	ewma   float64
	seeded bool
	last   point
	// hist holds points at least rateStep apart, the oldest first, so the
	// window rate covers rateWindow with a fixed, small memory.
	hist [rateWindow/rateStep + 1]point
	n    int
}

type point struct {
	at    time.Time
	total int64
}

const (
	rateWindow = 5 * time.Second
	rateStep   = 500 * time.Millisecond
	// rateMinSpan is the shortest span a rate is taken over: a first sample
	// 100 ms after the start is not a second's worth of evidence.
	rateMinSpan = time.Second
)

func newRateMeter(tau time.Duration) rateMeter { return rateMeter{tau: tau} }

// start sets the zero point: nothing has moved at t.
func (r *rateMeter) start(t time.Time, total int64) {
	*r = rateMeter{tau: r.tau, last: point{t, total}}
	r.hist[0], r.n = r.last, 1
}

// add records that total bytes had moved by t. A total lower than the last
// (an attempt gave its bytes back) restarts the window from there.
func (r *rateMeter) add(t time.Time, total int64) {
	if r.n == 0 || total < r.last.total {
		ewma, seeded := r.ewma, r.seeded
		r.start(t, total)
		r.ewma, r.seeded = ewma, seeded
		return
	}
	dt := t.Sub(r.last.at)
	if dt <= 0 {
		return
	}
	inst := float64(total-r.last.total) / dt.Seconds()
	r.last = point{t, total}
	if t.Sub(r.hist[r.n-1].at) >= rateStep {
		if r.n == len(r.hist) {
			copy(r.hist[:], r.hist[1:])
			r.n--
		}
		r.hist[r.n] = r.last
		r.n++
	}
	if !r.seeded {
		// The average starts from the first full second, instead of from a
		// burst into the socket buffers or from zero.
		if t.Sub(r.hist[0].at) >= rateMinSpan {
			r.ewma, r.seeded = r.window(), true
		}
		return
	}
	r.ewma += (1 - math.Exp(-dt.Seconds()/r.tau.Seconds())) * (inst - r.ewma)
}

// window is what moved over the last rateWindow (at least rateMinSpan) per
// second.
func (r *rateMeter) window() float64 {
	if r.n == 0 {
		return 0
	}
	from := r.hist[0]
	for i := 0; i < r.n; i++ {
		if r.last.at.Sub(r.hist[i].at) <= rateWindow {
			from = r.hist[i]
			break
		}
	}
	span := max(r.last.at.Sub(from.at), rateMinSpan)
	return float64(r.last.total-from.total) / span.Seconds()
}

// rate is the speed to show: smoothed, and never more than what moved.
// Before a full second has been seen it is the window's cautious figure.
func (r *rateMeter) rate() float64 {
	if !r.seeded {
		return r.window()
	}
	return max(min(r.ewma, r.window()), 0)
}

// The bandwidth limit set with [ and ] moves along the powers of two from
// 64 KiB/s to 1 GiB/s: each step halves or doubles it, the header then
// reads a round figure (8.0 MiB/s, never 4.77 MiB/s), and ] undoes [
// exactly. A --limit-rate off the ladder joins it at the next step.
const (
	lowestLimit  = 64 << 10
	highestLimit = 1 << 30
)

// slowerLimit is the limit [ sets: the step below the current limit. With
// no limit it is the step below the speed measured now, so the limit bites
// at once; with nothing measured yet there is nothing to go from (false).
func slowerLimit(limit int64, speed float64) (int64, bool) {
	from := limit
	if from <= 0 {
		from = int64(speed)
	}
	if from <= 0 {
		return 0, false
	}
	l := int64(highestLimit)
	for l >= from && l > lowestLimit {
		l /= 2
	}
	return l, l != limit
}

// fasterLimit is the limit ] sets: the step above the current one, and no
// limit at all past the highest. With no limit there is nothing to raise.
func fasterLimit(limit int64) (int64, bool) {
	if limit <= 0 {
		return 0, false
	}
	l := int64(lowestLimit)
	for l <= limit {
		l *= 2
	}
	if l > highestLimit {
		return 0, true
	}
	return l, true
}
