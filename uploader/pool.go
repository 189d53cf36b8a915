package uploader

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"hoist/fileset"
)

// Options tune a Pool. The zero value of a field means its default, except
// Retries, where zero means "no retries".
type Options struct {
	Concurrency int // workers; default 4
	Retries     int // attempts after the first; negative is treated as 0

	Token    string // bearer token for sources that send it; never logged
	Metadata Metadata

	Client       *http.Client  // default: NewClient()
	StallTimeout time.Duration // no byte moved (or no answer after the last byte) for this long → retry; default 30s
	LimitRate    int64         // bytes per second over the whole pool; 0 = unlimited

	BackoffInitial time.Duration // default 500ms
	BackoffMax     time.Duration // default 30s

	MultipartThreshold int64    // files at or above go multipart when the source can; default 64 MiB
	PartSize           int64    // 0 = chosen per file (see PartSize)
	Journal            *Journal // where multipart uploads are remembered for a resume; nil = no resume

	// SkipExisting leaves alone a file whose object is already stored: a
	// source that can look (an Exister) is asked first, and a single PUT
	// carries If-None-Match: * so a store that supports it refuses to
	// overwrite (412), which is reported as skipped.
	SkipExisting bool

	// ForgetFinished is for a caller that reads events and Summary only
	// (headless): a finished file's record is dropped once its last event
	// is queued, and only its count and bytes are kept, so memory does not
	// grow with the number of files sent. Snapshot and Results then leave
	// finished files out, and Retry and Cancel cannot reach them.
	ForgetFinished bool
	// KeepFailed, with ForgetFinished, forgets only the files uploaded or
	// skipped: a failed or canceled file keeps its record, so Retry reaches
	// it (the terminal UI's r) and Snapshot shows it.
	KeepFailed bool
	// Origin is recorded in the journal with each multipart upload: how to
	// reach its destination again (for `hoist uploads --abort`). No secrets.
	Origin map[string]string
}

const (
	defaultConcurrency   = 4
	defaultStallTimeout  = 30 * time.Second
	defaultBackoffFirst  = 500 * time.Millisecond
	defaultBackoffMax    = 30 * time.Second
	defaultMultipartSize = 64 << 20
	maxConcurrency       = 64
)

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	o.Concurrency = min(o.Concurrency, maxConcurrency)
	o.Retries = max(o.Retries, 0)
	if o.Client == nil {
		o.Client = NewClient()
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = defaultStallTimeout
	}
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = defaultBackoffFirst
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = defaultBackoffMax
	}
	o.MultipartThreshold = o.threshold()
	return o
}

// threshold is the size from which a file goes multipart (when the source
// can).
func (o Options) threshold() int64 {
	if o.MultipartThreshold <= 0 {
		return defaultMultipartSize
	}
	return o.MultipartThreshold
}

// ErrCanceled is the cause of a file canceled by Cancel.
var ErrCanceled = errors.New("canceled")

// Pool uploads files with a bounded, adjustable number of workers. A unit of
// work is a whole file for a single PUT, or one part of a multipart upload.
type Pool struct {
	src     Source
	opts    Options
	limiter *rate.Limiter
	// turn is held by the one request under way to a destination that
	// takes one at a time (Capabilities.OneAtATime); nil for the others.
	turn    chan struct{}
	events  *eventQueue
	noToken sync.Map // host → struct{}: hosts that refused a bearer token beside the URL's signature
	// ownClient: the pool made its HTTP client, so closing its idle
	// connections is the pool's job.
	ownClient bool
	onEnd     func(Event) // OnEnd's

	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	idle *sync.Cond // signalled when running or queue change
	// files by id. A finished file's slot is cleared with ForgetFinished;
	// readers load slots without the lock, so they are atomic.
	files   []atomic.Pointer[fileTask]
	gone    Summary // counts and bytes of the files forgotten
	queue   []job
	running int
	// busy is how long workers have been at work, summed over the spans
	// with at least one (busyFrom: when the current one began).
	busy     time.Duration
	busyFrom time.Time
	limit    int
	closed   bool
	started  time.Time
	wg       sync.WaitGroup
	// feedEnd is one past the last id Feed will add; held are the Cancel and
	// Pause of files below it not added yet, each the cause to stop the file
	// with when it is, as if asked the moment it was queued.
	feedEnd int
	held    map[int]error
}

// job is one unit of work; it runs on a worker slot.
type job struct {
	file *fileTask
	run  func(ctx context.Context)
	part bool // one part of a file already begun, not the file's start
}

// fileTask is the pool's record of one file. Counters are atomic so Snapshot
// never waits for a worker.
type fileTask struct {
	id    int
	file  File
	sent  atomic.Int64
	state atomic.Int32

	mu          sync.Mutex
	attempt     int
	maxAttempts int
	parts       int
	reason      string
	result      *Result
	started     time.Time
	finished    time.Time
	waited      time.Duration // waiting for turns (Capabilities.OneAtATime) since started
	ctx         context.Context
	cancel      context.CancelCauseFunc
}

// New makes a pool that sends files to src. Call Start, then Add.
func New(src Source, opts Options) *Pool {
	ownClient := opts.Client == nil
	opts = opts.withDefaults()
	p := &Pool{src: src, opts: opts, events: newEventQueue(), limit: opts.Concurrency, ownClient: ownClient}
	p.idle = sync.NewCond(&p.mu)
	p.limiter = rate.NewLimiter(rate.Inf, 0)
	p.SetRate(opts.LimitRate)
	if src.Capabilities().OneAtATime {
		p.turn = make(chan struct{}, 1)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// Start binds the pool to ctx: when ctx ends, every upload stops.
func (p *Pool) Start(ctx context.Context) {
	p.mu.Lock()
	p.started = time.Now()
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, p.cancel)
	go func() {
		<-p.ctx.Done()
		stop()
	}()
}

// Events delivers lifecycle events in order. Read it until it is closed
// (after Close); events are never dropped.
func (p *Pool) Events() <-chan Event { return p.events.out }

// Add queues files and returns their ids, in order.
func (p *Pool) Add(files ...File) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addLocked(files)
}

func (p *Pool) addLocked(files []File) []int {
	ids := make([]int, 0, len(files))
	for _, f := range files {
		t := &fileTask{id: len(p.files), file: f, maxAttempts: p.opts.Retries + 1}
		p.files = append(p.files, atomic.Pointer[fileTask]{})
		p.files[t.id].Store(t)
		ids = append(ids, t.id)
		p.enqueueFileLocked(t)
		if cause, ok := p.held[t.id]; ok {
			delete(p.held, t.id)
			t.cancel(cause)
		}
	}
	p.scheduleLocked()
	return ids
}

// hold keeps a Cancel (ErrCanceled) or Pause (errPaused) of a file Feed has
// not added yet, for when it does. A cancel is not undone by a pause.
func (p *Pool) hold(id int, cause error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id < len(p.files) || id >= p.feedEnd || p.closed {
		return false
	}
	if p.held == nil {
		p.held = map[int]error{}
	}
	if errors.Is(p.held[id], ErrCanceled) {
		return !errors.Is(cause, errPaused)
	}
	p.held[id] = cause
	return true
}

// finishedCtx and noCancel stand in for the context of a file that has
// finished, so a finished file holds neither a context nor its Done channel.
var (
	finishedCtx = func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}()
	noCancel context.CancelCauseFunc = func(error) {}
)

// release ends a finishing file's context. Left alone, it stayed registered
// among the pool's context's children, with its Done channel, until the pool
// closed: about 570 bytes a file, measured with TestHeapPerFile (issue 15).
// It is called before the file's state says finished, so a Retry that sees
// that state makes a context release cannot take away.
func (t *fileTask) release() {
	t.mu.Lock()
	cancel := t.cancel
	t.ctx, t.cancel = finishedCtx, noCancel
	t.mu.Unlock()
	if cancel != nil {
		cancel(nil)
	}
}

func (p *Pool) enqueueFileLocked(t *fileTask) {
	t.mu.Lock()
	t.ctx, t.cancel = context.WithCancelCause(p.ctx)
	t.mu.Unlock()
	t.state.Store(int32(StateQueued))
	p.emit(t, Event{Kind: EventQueued})
	p.queue = append(p.queue, job{file: t, run: func(ctx context.Context) { p.runFile(ctx, t) }})
}

// pushFrontLocked queues jobs ahead of everything else: the parts of a file
// already begun go before files not yet started, so files finish in order.
func (p *Pool) pushFrontLocked(jobs ...job) {
	p.queue = append(jobs, p.queue...)
	p.scheduleLocked()
}

// scheduleLocked starts queued jobs while worker slots are free.
func (p *Pool) scheduleLocked() {
	for !p.closed && p.running < p.limit && len(p.queue) > 0 {
		j := p.popLocked()
		if p.running == 0 {
			p.busyFrom = time.Now()
		}
		p.running++
		p.wg.Add(1)
		go p.work(j)
	}
	p.idle.Broadcast()
}

// popLocked takes the first queued job.
func (p *Pool) popLocked() job {
	j := p.queue[0]
	p.queue[0] = job{}
	p.queue = p.queue[1:]
	return j
}

// work runs j, then the next queued job while its slot is still one of the
// limit's. A worker that has sent a file has the stack sending takes; a new
// goroutine per file grew its own again, and copying stacks was 6% of
// hoist's CPU at 100,000 files of 1 KiB (issue 15).
func (p *Pool) work(j job) {
	defer p.wg.Done()
	for {
		j.file.mu.Lock()
		ctx := j.file.ctx
		j.file.mu.Unlock()
		j.run(ctx)
		p.mu.Lock()
		if p.closed || p.running > p.limit || len(p.queue) == 0 {
			break
		}
		j = p.popLocked()
		p.idle.Broadcast() // the queue is shorter: Feed may add more
		p.mu.Unlock()
	}
	p.running--
	if p.running == 0 {
		p.busy += time.Since(p.busyFrom)
	}
	p.scheduleLocked()
	p.mu.Unlock()
}

// SetConcurrency changes the number of workers while running. Fewer workers
// take effect as running units finish; nothing in flight is interrupted.
func (p *Pool) SetConcurrency(n int) int {
	n = min(max(n, 1), maxConcurrency)
	p.mu.Lock()
	p.limit = n
	p.scheduleLocked()
	p.mu.Unlock()
	return n
}

// SetRate changes the pool's bandwidth limit while running, in bytes per
// second over all transfers; 0 (or less) lifts it. Bodies in flight follow
// the new rate from their next read.
func (p *Pool) SetRate(bytesPerSecond int64) {
	if bytesPerSecond <= 0 {
		p.limiter.SetLimit(rate.Inf)
		return
	}
	// A tenth of a second's worth per wait keeps the rate smooth; never
	// below 32 KiB so a read is not cut into slivers.
	p.limiter.SetBurst(int(max(bytesPerSecond/10, 32<<10)))
	p.limiter.SetLimit(rate.Limit(bytesPerSecond))
}

// Rate is the current bandwidth limit in bytes per second; 0 means none.
func (p *Pool) Rate() int64 {
	if l := p.limiter.Limit(); l != rate.Inf {
		return int64(l)
	}
	return 0
}

// Concurrency is the current number of worker slots.
func (p *Pool) Concurrency() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit
}

// Cancel stops one file, queued or in flight.
func (p *Pool) Cancel(id int) {
	t := p.task(id)
	if t == nil {
		p.hold(id, ErrCanceled)
		return
	}
	t.mu.Lock()
	cancel := t.cancel
	t.mu.Unlock()
	if cancel != nil {
		cancel(ErrCanceled)
	}
}

// Retry queues a failed or canceled file again. It reports whether it did.
func (p *Pool) Retry(id int) bool {
	t := p.task(id)
	if t == nil || p.ctx.Err() != nil {
		return false
	}
	if s := State(t.state.Load()); s != StateFailed && s != StateCanceled {
		return false
	}
	t.mu.Lock()
	t.reason, t.result, t.attempt = "", nil, 0
	t.finished = time.Time{}
	t.mu.Unlock()
	t.sent.Store(0)
	p.mu.Lock()
	p.enqueueFileLocked(t)
	p.scheduleLocked()
	p.mu.Unlock()
	return true
}

// errPaused is the cause given to a file's work when Pause stops it.
var errPaused = errors.New("paused")

// Pause stops one file that is queued or under way until Resume. A
// multipart upload keeps its parts on the server (and in the journal) and
// Resume continues at its next part; a single PUT's bytes are discarded and
// Resume starts it from zero. It reports whether the file was paused; an
// EventPaused follows once its work has stopped.
func (p *Pool) Pause(id int) bool {
	t := p.task(id)
	if t == nil {
		return p.hold(id, errPaused)
	}
	if s := State(t.state.Load()); s.Finished() || s == StatePaused {
		return false
	}
	t.mu.Lock()
	cancel := t.cancel
	t.mu.Unlock()
	if cancel == nil {
		return false
	}
	cancel(errPaused)
	// A file still waiting in the queue is paused now, not when a worker
	// reaches it (behind a thousand others, that could be minutes of
	// "pausing…"). Once a worker has taken it, the worker pauses it.
	p.mu.Lock()
	i := slices.IndexFunc(p.queue, func(j job) bool { return j.file == t && !j.part })
	if i >= 0 && State(t.state.Load()) == StateQueued {
		p.queue = slices.Delete(p.queue, i, i+1)
		p.idle.Broadcast()
	} else {
		i = -1
	}
	p.mu.Unlock()
	if i >= 0 {
		p.finishPaused(t)
	}
	return true
}

// Resume queues a paused file again. A multipart upload resumes at its next
// part (EventResumed says how much is already on the server); a single PUT
// starts from zero, and an EventRestarted says so. It reports whether it did.
func (p *Pool) Resume(id int) bool {
	t := p.task(id)
	if t == nil {
		return p.unholdPause(id)
	}
	if p.ctx.Err() != nil || State(t.state.Load()) != StatePaused {
		return false
	}
	t.mu.Lock()
	multipart, begun := t.parts > 0, t.attempt > 0
	t.reason, t.attempt, t.parts = "", 0, 0
	t.mu.Unlock()
	if !multipart && begun {
		p.emit(t, Event{Kind: EventRestarted, Err: errors.New("a paused single PUT starts again from zero")})
	}
	t.sent.Store(0)
	p.mu.Lock()
	p.enqueueFileLocked(t)
	p.scheduleLocked()
	p.mu.Unlock()
	return true
}

// unholdPause takes back a Pause of a file Feed has not added yet.
func (p *Pool) unholdPause(id int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil || !errors.Is(p.held[id], errPaused) {
		return false
	}
	delete(p.held, id)
	return true
}

func (p *Pool) task(id int) *fileTask {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id < 0 || id >= len(p.files) {
		return nil
	}
	return p.files[id].Load()
}

// feedAhead is how many files Feed keeps queued ahead of the workers.
const feedAhead = 1024

// Feed adds the files of a list a batch at a time as the workers take
// them, keeping at most feedAhead queued: a run of 100,000 files then never
// holds 100,000 queued records, jobs, queued events or Files at once (issue
// 15); each batch's Files are made from the compact list as it is added.
// It returns the number added, all of them unless ctx ended or the pool
// closed first. Cancel, Pause and Resume of a file not added yet are kept
// for when it is: the ids Feed will give are known, file i of a fresh pool
// has id i.
func (p *Pool) Feed(ctx context.Context, files *fileset.List) int {
	p.mu.Lock()
	p.feedEnd = len(p.files) + files.Len()
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.idle.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	batch := make([]File, 0, feedAhead/2)
	added := 0
	for added < files.Len() {
		batch = batch[:0]
		for i := added; i < min(files.Len(), added+feedAhead/2); i++ {
			batch = append(batch, files.At(i))
		}
		p.mu.Lock()
		for len(p.queue) > feedAhead/2 && !p.closed && ctx.Err() == nil {
			p.idle.Wait()
		}
		if p.closed || ctx.Err() != nil {
			p.mu.Unlock()
			break
		}
		// Added under the same lock as the check: never after Close.
		p.addLocked(batch)
		p.mu.Unlock()
		added += len(batch)
	}
	return added
}

// Wait blocks until nothing is queued or running, or ctx ends.
func (p *Pool) Wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.idle.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.running > 0 || (len(p.queue) > 0 && !p.closed) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.idle.Wait()
	}
	return nil
}

// Close stops everything still running, waits for the workers, marks what
// never finished as canceled and closes Events after the last event.
func (p *Pool) Close() {
	p.cancel()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	rest := p.queue
	p.queue = nil
	p.idle.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
	// Jobs that never got a worker run now with the canceled context: a file
	// is marked canceled, and a part lets its multipart upload be aborted.
	for _, j := range rest {
		j.run(p.ctx)
	}
	if p.ownClient {
		p.opts.Client.CloseIdleConnections()
	}
	p.events.close()
}

// Snapshot returns every file's status, reusing buf when it is big enough.
// It is cheap enough to call on every UI tick.
func (p *Pool) Snapshot(buf []FileStatus) []FileStatus {
	p.mu.Lock()
	files := p.files
	p.mu.Unlock()
	buf = buf[:0]
	for i := range files {
		if t := files[i].Load(); t != nil {
			buf = append(buf, p.status(t))
		}
	}
	return buf
}

// SnapshotOf is Snapshot of the files ids only (unknown or forgotten ones
// left out): a screen of 100,000 files samples the few in flight, not every
// row (issue 15).
func (p *Pool) SnapshotOf(ids []int, buf []FileStatus) []FileStatus {
	buf = buf[:0]
	for _, id := range ids {
		if t := p.task(id); t != nil {
			buf = append(buf, p.status(t))
		}
	}
	return buf
}

func (p *Pool) status(t *fileTask) FileStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	state := State(t.state.Load())
	reason := t.reason
	if !state.Finished() {
		// A retry's reason; a final one was redacted when it was set.
		reason = p.redact(reason)
	}
	return FileStatus{
		ID: t.id, Name: t.file.Name, Size: t.file.Size,
		Sent: t.sent.Load(), State: state,
		Attempt: t.attempt, MaxAttempts: t.maxAttempts, Parts: t.parts,
		Started: t.started, Finished: t.finished, Reason: reason, Result: t.result,
	}
}

// Summary counts the files so far.
func (p *Pool) Summary() Summary {
	p.mu.Lock()
	files := p.files
	started := p.started
	s := p.gone
	s.Active = p.busy
	if p.running > 0 {
		s.Active += time.Since(p.busyFrom)
	}
	p.mu.Unlock()
	for i := range files {
		t := files[i].Load()
		if t == nil {
			continue
		}
		switch State(t.state.Load()) {
		case StateDone:
			s.Uploaded++
			t.mu.Lock()
			if t.result != nil {
				s.Bytes += t.result.Bytes
			}
			t.mu.Unlock()
		case StateFailed:
			s.Failed++
		case StateCanceled:
			s.Canceled++
		case StateSkipped:
			s.Skipped++
		default:
			s.Pending++
		}
	}
	if !started.IsZero() {
		s.Elapsed = time.Since(started)
	}
	return s
}

// Len is how many files the pool has been given: ids below it are its.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.files)
}

// Results returns the results of the uploaded files, in id order.
func (p *Pool) Results() []Result {
	p.mu.Lock()
	files := p.files
	p.mu.Unlock()
	var out []Result
	for i := range files {
		t := files[i].Load()
		if t == nil {
			continue
		}
		t.mu.Lock()
		if t.result != nil {
			out = append(out, *t.result)
		}
		t.mu.Unlock()
	}
	return out
}

// forget drops a finished file's record (ForgetFinished), keeping its count.
func (p *Pool) forget(t *fileTask) {
	if !p.opts.ForgetFinished {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.files[t.id].Load() != t {
		return
	}
	switch State(t.state.Load()) {
	case StateDone:
		p.gone.Uploaded++
		t.mu.Lock()
		if t.result != nil {
			p.gone.Bytes += t.result.Bytes
		}
		t.mu.Unlock()
	case StateFailed:
		if p.opts.KeepFailed {
			return
		}
		p.gone.Failed++
	case StateCanceled:
		if p.opts.KeepFailed {
			return
		}
		p.gone.Canceled++
	case StateSkipped:
		p.gone.Skipped++
	default:
		return
	}
	p.files[t.id].Store(nil)
}

func (p *Pool) emit(t *fileTask, e Event) {
	e.ID, e.File, e.Path = t.id, t.file.Name, t.file.Path
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Err != nil {
		if msg := e.Err.Error(); p.redact(msg) != msg {
			e.Err = &explained{msg: p.redact(msg), err: e.Err}
		}
	}
	if _, ends := e.Kind.Ends(); ends && p.onEnd != nil {
		p.onEnd(e)
	}
	p.events.push(e)
}

// OnEnd has fn called with the event of each file that ends (done, failed,
// canceled, skipped), on the goroutine that ended it, before the event is
// queued and before a finished file is forgotten (ForgetFinished): what fn
// keeps is kept by the time anyone hears of the end, and by the time Close
// returns. fn must be quick and safe for concurrent use. Call it before
// Start.
func (p *Pool) OnEnd(fn func(Event)) { p.onEnd = fn }

// redact blanks the bearer token, and anything that looks like a signature
// or credential, in text a person will read: a server may echo the request
// in its errors, and an SDK's error may carry that echo.
func (p *Pool) redact(s string) string {
	if s == "" {
		return s
	}
	return redactAll(scrubSigning(s), p.opts.Token)
}
