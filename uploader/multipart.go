package uploader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"hoist/fileset"
)

// S3's multipart limits.
const (
	minPartSize     = 5 << 20
	maxPartSize     = 5 << 30
	maxParts        = 10_000
	defaultPartSize = 16 << 20
	// abortTimeout bounds cleanup after a cancel: a person who pressed
	// Ctrl+C waits for it.
	abortTimeout = 1500 * time.Millisecond
)

// PartSize is the part size for a file of size bytes: want when set (raised
// if the file would need more than 10,000 parts), else 16 MiB or more.
func PartSize(size, want int64) int64 {
	ps := want
	if ps <= 0 {
		ps = defaultPartSize
	}
	ps = max(ps, minPartSize)
	if need := (size + maxParts - 1) / maxParts; ps < need {
		// Round up to a whole MiB so parts stay tidy.
		ps = (need + (1 << 20) - 1) &^ ((1 << 20) - 1)
	}
	return min(ps, maxPartSize)
}

// multipartUpload is one file going up in parts. Parts are jobs of their own
// on the pool's workers; the last part to finish completes (or aborts) it.
type multipartUpload struct {
	t        *fileTask
	ms       MultipartSource
	f        *os.File
	file     File
	upload   Upload
	partSize int64
	count    int
	journal  *journalFile
	start    time.Time

	mu        sync.Mutex
	done      map[int]Part
	remaining int   // part jobs not yet finished
	err       error // the first part's failure
	transient bool  // the failure was a network-class one: keep the upload for a resume
}

// runMultipart starts or resumes a multipart upload and queues its parts.
func (p *Pool) runMultipart(ctx context.Context, t *fileTask, ms MultipartSource, file File) {
	dest := p.src.Describe()
	m := &multipartUpload{t: t, ms: ms, file: file, start: time.Now(), done: map[int]Part{}}

	var resumed int64
	if p.opts.Journal != nil {
		if e, ok := p.opts.Journal.load(dest, file.Path, file.Key); ok {
			if e.matches(file) {
				resumed = p.resume(ctx, m, e)
			} else {
				// The file changed since: its parts are not this file's.
				_ = abortQuietly(ctx, ms, Upload{Key: e.begin.Key, UploadID: e.begin.UploadID})
				p.opts.Journal.forget(dest, file.Path, file.Key)
			}
		}
	}
	if m.upload.UploadID == "" {
		m.partSize = PartSize(file.Size, p.opts.PartSize)
		var u Upload
		err := p.call(ctx, t, p.controlTimeout(), func(ctx context.Context) (err error) {
			u, err = ms.CreateMultipart(ctx, file, p.opts.Metadata)
			return err
		})
		if err != nil {
			p.finishErr(ctx, t, fmt.Errorf("starting the multipart upload: %w", err))
			return
		}
		m.upload = u
		if p.opts.Journal != nil {
			if jf, err := p.opts.Journal.begin(dest, file, u, m.partSize); err == nil {
				m.journal = jf
			}
			// Without a journal the upload still works; it just cannot resume.
		}
	}
	m.count = int((file.Size + m.partSize - 1) / m.partSize)
	if m.count == 0 {
		m.count = 1
	}
	t.mu.Lock()
	t.parts = m.count
	t.mu.Unlock()

	if resumed > 0 {
		t.sent.Add(resumed)
		p.emit(t, Event{Kind: EventResumed, Resumed: resumed})
	}
	t.state.Store(int32(StateUploading))
	p.emit(t, Event{Kind: EventStarted, Attempt: 1, MaxAttempts: p.opts.Retries + 1})

	var jobs []job
	for n := 1; n <= m.count; n++ {
		if _, ok := m.done[n]; ok {
			continue
		}
		n := n
		jobs = append(jobs, job{file: t, run: func(ctx context.Context) { p.runPart(ctx, m, n) }})
	}
	if len(jobs) == 0 {
		p.completeMultipart(ctx, m)
		return
	}
	// The parts share one handle of their own: runFile's closes when it
	// returns, and the parts run after that.
	f, _, err := fileset.Open(file.Path)
	if err != nil {
		p.finishFailed(t, err, "")
		return
	}
	m.f = f
	m.remaining = len(jobs)
	p.mu.Lock()
	p.pushFrontLocked(jobs...)
	p.mu.Unlock()
}

// resume checks a journal's upload against the server's list of parts and
// keeps the parts both agree on. It returns the bytes already uploaded.
func (p *Pool) resume(ctx context.Context, m *multipartUpload, e journalEntry) int64 {
	u := Upload{Key: e.begin.Key, UploadID: e.begin.UploadID}
	lctx, cancel := context.WithTimeout(ctx, p.controlTimeout())
	listed, err := m.ms.ListParts(lctx, u)
	cancel()
	if err != nil {
		// The upload is gone (completed, aborted, expired): start over.
		p.opts.Journal.forget(p.src.Describe(), m.file.Path, m.file.Key)
		return 0
	}
	jf, err := p.opts.Journal.reopen(p.src.Describe(), m.file)
	if err != nil {
		return 0
	}
	m.upload, m.partSize, m.journal = u, e.begin.PartSize, jf
	var bytes int64
	for _, sp := range listed {
		jp, ok := e.parts[sp.Number]
		// A part counts only when the journal and the server agree on it:
		// the same ETag and size (and CRC32 when the server reports one).
		if !ok || trimETag(jp.ETag) != trimETag(sp.ETag) || jp.Size != sp.Size || (sp.CRC32 != 0 && sp.CRC32 != jp.CRC32) {
			continue
		}
		m.done[sp.Number] = jp
		bytes += jp.Size
	}
	return bytes
}

func trimETag(s string) string {
	for len(s) > 0 && s[0] == '"' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == '"' {
		s = s[:len(s)-1]
	}
	return s
}

// runPart sends one part, then, if it was the last one, completes or aborts
// the upload.
func (p *Pool) runPart(ctx context.Context, m *multipartUpload, n int) {
	part, err := p.sendPart(ctx, m, n)
	m.mu.Lock()
	switch {
	case err == nil:
		m.done[n] = part
	case ctx.Err() == nil && m.err == nil:
		// A part failed on its own (not canceled): that fails the file,
		// so its other parts stop.
		m.err = err
		m.transient, _ = Retryable(ctx, errors.Unwrap(err))
		m.t.mu.Lock()
		cancel := m.t.cancel
		m.t.mu.Unlock()
		cancel(errPartFailed)
	}
	m.remaining--
	last := m.remaining == 0
	m.mu.Unlock()
	if err == nil && m.journal != nil {
		_ = m.journal.part(part)
	}
	if last {
		m.f.Close()
		p.completeMultipart(ctx, m)
	}
}

// errPartFailed is the cause given to a file's other parts when one fails.
var errPartFailed = errors.New("another part failed")

func (p *Pool) sendPart(ctx context.Context, m *multipartUpload, n int) (Part, error) {
	if err := ctx.Err(); err != nil {
		return Part{}, context.Cause(ctx)
	}
	off := int64(n-1) * m.partSize
	size := min(m.partSize, m.file.Size-off)
	var crc uint32
	if m.ms.WantsChecksum(m.file) {
		var err error
		if crc, err = hashSection(ctx, m.f, off, size); err != nil {
			return Part{}, err
		}
	}
	target := func(ctx context.Context) (Target, error) { return m.ms.PartTarget(ctx, m.upload, n, size, crc) }
	out, err := p.sendWithRetries(ctx, m.t, unit{f: m.f, off: off, size: size, part: n, target: target, resign: true})
	if err != nil {
		return Part{}, err
	}
	return Part{Number: n, Size: size, ETag: out.etag, CRC32: out.crc}, nil
}

// completeMultipart ends the upload once every part job has finished: the
// object is assembled when all parts made it; otherwise the upload is aborted
// (canceled, or refused for good) or kept for a resume (the network gave out).
func (p *Pool) completeMultipart(ctx context.Context, m *multipartUpload) {
	t := m.t
	dest := p.src.Describe()
	m.mu.Lock()
	failure, transient := m.err, m.transient
	parts := make([]Part, 0, len(m.done))
	for _, part := range m.done {
		parts = append(parts, part)
	}
	m.mu.Unlock()
	if m.journal != nil {
		m.journal.close()
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })

	switch {
	case failure != nil && transient && m.journal != nil && p.ctx.Err() == nil:
		// The network gave out: keep the parts that made it, so running
		// hoist again resumes instead of starting over.
		p.finishFailed(t, fmt.Errorf("%w; %d of %d parts are on the server — run hoist again on this file to resume", failure, len(parts), m.count), codeOf(failure))
		return
	case failure != nil:
		p.abort(ctx, m)
		p.finishFailed(t, failure, codeOf(failure))
		return
	case ctx.Err() != nil || len(parts) != m.count:
		p.abort(ctx, m)
		p.finishCanceled(t, context.Cause(ctx))
		return
	}

	etag, err := p.completeWithRetries(ctx, m, parts)
	if err != nil {
		p.abort(ctx, m)
		p.finishErr(ctx, t, fmt.Errorf("joining the %d parts: %w", m.count, err))
		return
	}
	if p.opts.Journal != nil {
		p.opts.Journal.forget(dest, m.file.Path, m.file.Key)
	}
	if err := unchangedPath(m.file); err != nil {
		p.finishFailed(t, fmt.Errorf("%w; the copy on the server may not match — upload it again once nothing writes to it", err), "")
		return
	}
	var crc uint32
	for _, part := range parts {
		crc = crc32Combine(crc, part.CRC32, part.Size)
	}
	p.finishDone(t, &Result{
		Key: m.upload.Key, Bytes: m.file.Size, CRC32: crc, ETag: trimETag(etag),
		Duration: time.Since(m.start), Parts: m.count,
	})
}

// completeWithRetries joins the parts under the pool's retry policy. S3 may
// take minutes to join a big upload, but an answer that never comes must not
// hold the file forever.
func (p *Pool) completeWithRetries(ctx context.Context, m *multipartUpload, parts []Part) (etag string, err error) {
	err = p.call(ctx, m.t, 4*p.controlTimeout(), func(ctx context.Context) (err error) {
		etag, err = m.ms.CompleteMultipart(ctx, m.upload, parts)
		return err
	})
	return etag, err
}

// controlTimeout bounds a multipart control call (create, list parts): they
// carry no body, so a stalled network shows only as an answer that never
// comes.
func (p *Pool) controlTimeout() time.Duration {
	return 2 * p.opts.StallTimeout
}

// abort discards the upload's parts on the server, so nothing is left
// orphaned (and billed), and forgets its journal.
func (p *Pool) abort(ctx context.Context, m *multipartUpload) {
	if err := abortQuietly(ctx, m.ms, m.upload); err == nil && p.opts.Journal != nil {
		p.opts.Journal.forget(p.src.Describe(), m.file.Path, m.file.Key)
	}
}

// abortQuietly aborts with a fresh, short context: the upload's own context
// is usually what was canceled.
func abortQuietly(ctx context.Context, ms MultipartSource, u Upload) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	return ms.AbortMultipart(actx, u)
}

func unchangedPath(file File) error {
	st, err := os.Stat(file.Path)
	if err != nil {
		return &readError{err}
	}
	if st.Size() != file.Size || !st.ModTime().Equal(file.ModTime) {
		return errFileChanged
	}
	return nil
}
