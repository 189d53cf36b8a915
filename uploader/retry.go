package uploader

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// errStalled is the cause when no byte moved, and no answer came, for the
// stall timeout.
var errStalled = errors.New("stalled")

// RetryPolicy is hoist's one rule for trying a call again: the context first,
// then the error's own say (Retryable), capped exponential backoff with
// jitter, a server's Retry-After honoured, and at most Retries attempts after
// the first (--retries). Every call hoist makes — a PUT, a multipart control
// call, a presign service's answer, an API call — goes through Do.
type RetryPolicy struct {
	Retries int           // attempts after the first; negative means none
	Initial time.Duration // first wait; default 500ms
	Max     time.Duration // longest wait; default 30s
}

// RetryNotice tells a caller that attempt N of Max failed and the next one
// starts after Delay.
type RetryNotice struct {
	Attempt, Max int
	Delay        time.Duration
	Err          error
}

// Do runs op until it succeeds, fails for good, or ctx ends. op gets the
// 1-based attempt number. notify, when not nil, hears of each retry before
// the wait. The error returned is op's last one (or the context's cause).
func (rp RetryPolicy) Do(ctx context.Context, op func(ctx context.Context, attempt int) error, notify func(RetryNotice)) error {
	bo := rp.backoff()
	max := max(rp.Retries, 0) + 1
	for attempt := 1; ; attempt++ {
		err := op(ctx, attempt)
		if err == nil {
			return nil
		}
		retry, after := Retryable(ctx, err)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if !retry || attempt >= max {
			return err
		}
		delay := nextDelay(bo, after)
		if notify != nil {
			notify(RetryNotice{Attempt: attempt, Max: max, Delay: delay, Err: err})
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

func (rp RetryPolicy) backoff() *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     rp.Initial,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         rp.Max,
	}
	if b.InitialInterval <= 0 {
		b.InitialInterval = defaultBackoffFirst
	}
	if b.MaxInterval <= 0 {
		b.MaxInterval = defaultBackoffMax
	}
	b.Reset()
	return b
}

// retrier is implemented by errors that know whether trying again can help
// (ServerError, a presign service's or an API's refusal).
type retrier interface {
	Retryable() bool
}

// retryAfterer is implemented by errors that carry a server's Retry-After.
type retryAfterer interface {
	RetryAfterDelay() time.Duration
}

// Retryable classifies err: whether another attempt may succeed, and how long
// the server asked to wait (0 when it did not say). The context comes first:
// a canceled call is never retried.
func Retryable(ctx context.Context, err error) (bool, time.Duration) {
	if err == nil || ctx.Err() != nil {
		return false, 0
	}
	var pe *permanentError
	var re *readError
	if errors.As(err, &pe) || errors.As(err, &re) || errors.Is(err, errFileChanged) ||
		errors.Is(err, context.Canceled) || errors.Is(err, ErrCanceled) {
		return false, 0
	}
	var r retrier
	if errors.As(err, &r) {
		var after time.Duration
		var ra retryAfterer
		if errors.As(err, &ra) {
			after = ra.RetryAfterDelay()
		}
		return r.Retryable(), after
	}
	// What is left came from the network: refused, reset, closed mid-body,
	// timed out, stalled. All worth another try.
	return true, 0
}

// permanentError marks an error a retry cannot fix (bad target, refused
// redirect, token over plain http, a request that cannot even be built).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one no retry can fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

func (p *Pool) retryPolicy() RetryPolicy {
	return RetryPolicy{Retries: p.opts.Retries, Initial: p.opts.BackoffInitial, Max: p.opts.BackoffMax}
}

// call runs one control call of file t (a multipart create, list, complete;
// a presign) under the retry policy, each attempt bounded by timeout so an
// answer that never comes cannot hold the file. Retries are told as events.
func (p *Pool) call(ctx context.Context, t *fileTask, timeout time.Duration, op func(ctx context.Context) error) error {
	return p.retryPolicy().Do(ctx, func(ctx context.Context, _ int) error {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		err := op(cctx)
		if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
			return errNoAnswer
		}
		return err
	}, func(n RetryNotice) { p.retrying(t, n, Target{}, 0) })
}

// errNoAnswer is a control call whose answer did not come in time.
var errNoAnswer = errors.New("no answer from the server in time")

// retrying records and announces that t waits for another attempt.
func (p *Pool) retrying(t *fileTask, n RetryNotice, tg Target, part int) {
	t.state.Store(int32(StateRetrying))
	reason := reasonOf(n.Err, tg, part)
	t.mu.Lock()
	t.reason = reason
	t.mu.Unlock()
	p.emit(t, Event{Kind: EventRetrying, Attempt: n.Attempt, MaxAttempts: n.Max, Delay: n.Delay, Err: errors.New(reason), Code: codeOf(n.Err)})
}

// nextDelay is the wait before the next attempt: the backoff, or longer when
// the server asked for it with Retry-After (capped at twice the backoff cap).
func nextDelay(b *backoff.ExponentialBackOff, retryAfter time.Duration) time.Duration {
	d := b.NextBackOff()
	if retryAfter > d {
		d = min(retryAfter, 2*b.MaxInterval)
	}
	return d
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
