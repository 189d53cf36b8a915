package uploader

import "sync"

// eventQueue hands events to one reader without ever dropping one and without
// ever making a worker wait for the reader: workers append to a slice and a
// single goroutine forwards to the channel.
type eventQueue struct {
	mu     sync.Mutex
	buf    []Event
	closed bool
	wake   chan struct{}
	out    chan Event
}

// maxKeptEvents is the largest batch buffer the forwarder keeps for reuse.
const maxKeptEvents = 1024

func newEventQueue() *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1), out: make(chan Event, 64)}
	go q.forward()
	return q
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.buf = append(q.buf, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close lets the forwarder deliver what is queued, then close the channel.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) forward() {
	var batch []Event
	for {
		q.mu.Lock()
		batch, q.buf = q.buf, batch[:0]
		closed := q.closed
		q.mu.Unlock()
		for _, e := range batch {
			q.out <- e
		}
		clear(batch)
		if cap(batch) > maxKeptEvents {
			// A burst (a queued event per file of a 100,000-line
			// manifest) is not kept for the rest of the run.
			batch = nil
		}
		if closed && len(batch) == 0 {
			// The queue was empty when seen closed, and push refuses
			// anything after close: all has been delivered.
			close(q.out)
			return
		}
		if len(batch) == 0 {
			<-q.wake
		}
	}
}
