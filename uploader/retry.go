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

// attemptError is the outcome of one failed attempt, classified.
type attemptError struct {
	err        error
	retryable  bool
	retryAfter time.Duration
	server     *ServerError // nil for network and local errors
}

// classify decides whether an attempt's error is worth another try. The
// context comes first: a canceled upload is never retried.
func classify(ctx context.Context, err error) attemptError {
	a := attemptError{err: err}
	if ctx.Err() != nil {
		return a
	}
	var se *ServerError
	var re *readError
	var pe *permanentError
	switch {
	case errors.As(err, &pe), errors.As(err, &re), errors.Is(err, errFileChanged):
		return a
	case errors.As(err, &se):
		a.server = se
		a.retryable = se.retryable()
		a.retryAfter = se.RetryAfter
		return a
	case errors.Is(err, errStalled):
		a.retryable = true
		return a
	}
	// What is left came from the network: refused, reset, closed mid-body,
	// timed out. All worth another try.
	a.retryable = true
	return a
}

// permanentError marks an error a retry cannot fix (bad target, refused
// redirect, token over plain http).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// newBackoff makes the capped exponential backoff with jitter used between
// attempts of one file or part.
func (p *Pool) newBackoff() *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     p.opts.BackoffInitial,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         p.opts.BackoffMax,
	}
	b.Reset()
	return b
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
