package uploader

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// errFileChanged is the cause when a file's size differs from what was planned.
var errFileChanged = errors.New("the file changed while it was being uploaded")

// readError marks a failure to read the local file, so it is never mistaken
// for a network error and retried.
type readError struct{ err error }

func (e *readError) Error() string { return "reading the file: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// body streams size bytes of a file section to the connection, counting what
// moves into a shared per-file counter and hashing as it goes. It never holds
// more than the transport's buffer of the file in memory.
type body struct {
	ctx     context.Context
	src     io.ReaderAt
	off     int64 // where the section starts in the file
	size    int64
	pos     int64
	crc     uint32
	counter *atomic.Int64 // the file's counter, shared by parts
	moved   *atomic.Int64 // unix nanos of the last byte moved, read by the stall watchdog
	limiter *rate.Limiter
	onEOF   func()

	// The transport may still read after Do returns; once detached, a body
	// neither reads nor counts, so a retry's progress is never inflated.
	mu       sync.Mutex
	detached bool
}

var errDetached = errors.New("upload attempt is over")

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return 0, errDetached
	}
	if b.pos >= b.size {
		b.eof()
		return 0, io.EOF
	}
	if rest := b.size - b.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	if b.limiter != nil && b.limiter.Limit() != rate.Inf {
		n, err := b.pace(len(p))
		if err != nil {
			return 0, err
		}
		p = p[:n]
	}
	n, err := b.src.ReadAt(p, b.off+b.pos)
	if n > 0 {
		b.crc = crc32.Update(b.crc, crc32.IEEETable, p[:n])
		b.pos += int64(n)
		b.counter.Add(int64(n))
		b.moved.Store(time.Now().UnixNano())
	}
	switch {
	case err == io.EOF && b.pos < b.size:
		return n, &readError{fmt.Errorf("%w: it ended after %d of %d bytes", errFileChanged, b.pos, b.size)}
	case err == io.EOF:
		err = nil
	case err != nil:
		return n, &readError{err}
	}
	if b.pos >= b.size {
		b.eof()
		return n, io.EOF
	}
	return n, nil
}

// paceGrant is the most of the rate budget one read is given. Reservations
// are served in the order asked, one outstanding per body, so bodies take
// turns a grant each; grants of one size make the turns equal in bytes,
// whatever a body's reads: net/http reads 32 KiB over TLS, 64 KiB over plain
// http (bodyChunk), and a plain body would otherwise get twice the share.
const paceGrant = 32 << 10

// pace waits until up to n bytes of the rate budget are this body's and
// returns how many (at most a grant). The wait is the client's own pacing,
// not a stall: the watchdog is told that bytes move at its end, so a low
// --limit-rate never reads as a dead connection.
func (b *body) pace(n int) (int, error) {
	for {
		n = min(n, paceGrant, max(b.limiter.Burst(), 1))
		r := b.limiter.ReserveN(time.Now(), n)
		if !r.OK() { // the rate changed between Burst and ReserveN
			continue
		}
		d := r.Delay()
		if d <= 0 {
			return n, nil
		}
		b.moved.Store(time.Now().Add(d).UnixNano())
		t := time.NewTimer(d)
		select {
		case <-b.ctx.Done():
			t.Stop()
			r.Cancel()
			return 0, context.Cause(b.ctx)
		case <-t.C:
			return n, nil
		}
	}
}

func (b *body) eof() {
	if b.onEOF != nil {
		b.onEOF()
		b.onEOF = nil
	}
}

// detach ends the body's attempt. With takeBack, the bytes it counted are
// subtracted from the file's counter, so a retried attempt starts the file's
// progress from where it really is.
func (b *body) detach(takeBack bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return
	}
	b.detached = true
	if takeBack {
		b.counter.Add(-b.pos)
	}
}

// load reads the whole section into memory, for a body small enough to
// leave in the transport's one write with the request's headers: net/http
// writes the headers first and the body after for any body it does not know
// to be in memory, two writes per small file, and two segments for the
// server to take in. Nothing counts as sent until written.
func (b *body) load() ([]byte, error) {
	buf := make([]byte, b.size)
	n, err := b.src.ReadAt(buf, b.off)
	if n < len(buf) {
		return nil, cmp.Or(err, io.ErrUnexpectedEOF)
	}
	b.mu.Lock()
	b.crc = crc32.Update(b.crc, crc32.IEEETable, buf)
	b.mu.Unlock()
	return buf, nil
}

// written counts a loaded body as sent, once the transport has written it.
func (b *body) written() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached || b.pos == b.size {
		return
	}
	b.pos = b.size
	b.counter.Add(b.size)
	b.moved.Store(time.Now().UnixNano())
	b.eof()
}

// sum returns the CRC32 and length of what was read.
func (b *body) sum() (uint32, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.crc, b.pos
}

// Close implements io.Closer; the file is closed by its owner.
func (b *body) Close() error { return nil }
