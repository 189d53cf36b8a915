package uploader

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A header value no HTTP request can carry is the caller's mistake, not the
// network's: one attempt, a permanent error naming the header.
func TestUnbuildableRequestIsNotRetried(t *testing.T) {
	rec := newRecorder(t, nil)
	src := &testSource{base: rec.URL, header: http.Header{"X-Amz-Meta-Organization-Id": {"acme\nx"}}}
	f, _ := writeFile(t, t.TempDir(), "a.txt", 10)
	events, _ := run(t, src, Options{Retries: 3, BackoffInitial: time.Millisecond}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed {
		t.Fatalf("last event %s, want failed", last.Kind)
	}
	if !strings.Contains(last.Err.Error(), "x-amz-meta-organization-id") || !strings.Contains(last.Err.Error(), "line break") {
		t.Errorf("error %q does not name the header and the problem", last.Err)
	}
	for _, e := range events {
		if e.Kind == EventRetrying {
			t.Errorf("retried: %v", e.Err)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// Retries of a control call follow --retries exactly, honour the error's
// own verdict and stop with the context.
func TestRetryPolicyAttempts(t *testing.T) {
	ctx := context.Background()
	fast := RetryPolicy{Retries: 2, Initial: time.Millisecond, Max: time.Millisecond}
	calls := 0
	busy := &ServerError{Status: 503, Code: "SlowDown"}
	err := fast.Do(ctx, func(context.Context, int) error { calls++; return busy }, nil)
	if calls != 3 || !errors.Is(err, busy) {
		t.Errorf("503 each time: %d calls (want 3), error %v", calls, err)
	}
	calls = 0
	denied := &ServerError{Status: 403, Code: "AccessDenied"}
	if err := fast.Do(ctx, func(context.Context, int) error { calls++; return denied }, nil); calls != 1 || err != denied {
		t.Errorf("403: %d calls (want 1), error %v", calls, err)
	}
	calls = 0
	if err := fast.Do(ctx, func(context.Context, int) error { calls++; return Permanent(errors.New("no")) }, nil); calls != 1 || err == nil {
		t.Errorf("permanent: %d calls (want 1)", calls)
	}
	var notices []RetryNotice
	calls = 0
	_ = fast.Do(ctx, func(context.Context, int) error { calls++; return errors.New("connection reset") }, func(n RetryNotice) { notices = append(notices, n) })
	if len(notices) != 2 || notices[0].Attempt != 1 || notices[1].Max != 3 {
		t.Errorf("notices %+v, want attempts 1 and 2 of 3", notices)
	}

	// Retry-After is honoured over a shorter backoff.
	slow := &ServerError{Status: 429, RetryAfter: 80 * time.Millisecond}
	start := time.Now()
	calls = 0
	_ = RetryPolicy{Retries: 1, Initial: time.Millisecond, Max: time.Second}.Do(ctx, func(context.Context, int) error { calls++; return slow }, nil)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("waited %v, want the 80ms Retry-After", d)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	if err := fast.Do(cctx, func(context.Context, int) error { calls++; return busy }, nil); calls != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %d calls, error %v", calls, err)
	}
}
