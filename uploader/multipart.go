package uploader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
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

// PartsFor is how the engine sends a file of size bytes to src with opts:
// in that many parts, or in one PUT when it is 0. Multipart needs a source
// that can do it (--s3, --presign-url) and a file at or above the
// threshold. The engine decides with it, and the review says what it will
// do with it; one rule, so the two never disagree.
func PartsFor(src Source, opts Options, size int64) int {
	if _, ok := src.(MultipartSource); !ok || !src.Capabilities().Multipart || size < opts.threshold() {
		return 0
	}
	return partCount(size, PartSize(size, opts.PartSize))
}

// partCount is how many parts of partSize bytes make size bytes: at least
// one, so an empty file is one empty part.
func partCount(size, partSize int64) int {
	return max(int((size+partSize-1)/partSize), 1)
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
	// The parts share one handle of their own: runFile's closes when it
	// returns, and the parts run after that.
	f, _, err := fileset.Open(file.Path)
	if err != nil {
		p.finishFailed(t, err, "")
		return
	}
	m.f = f
	handedOver := false
	defer func() {
		if !handedOver {
			f.Close()
		}
	}()

	var resumed int64
	if p.opts.Journal != nil {
		if e, ok := p.opts.Journal.load(dest, file.Path, file.Key); ok {
			if why := e.mismatch(file, p.opts.Metadata); why != "" {
				// Its parts are another file's, or the object would carry
				// the interrupted run's metadata: start afresh.
				_ = abortQuietly(ctx, ms, Upload{Key: e.begin.Key, UploadID: e.begin.UploadID})
				p.opts.Journal.forget(dest, file.Path, file.Key)
				p.emit(t, Event{Kind: EventRestarted, Err: errors.New(why + "; starting a new upload and discarding that one")})
			} else {
				var err error
				if resumed, err = p.resume(ctx, m, e); err != nil {
					p.finishErr(ctx, t, err)
					return
				}
			}
		}
	}
	if m.upload.UploadID == "" {
		m.partSize = PartSize(file.Size, p.opts.PartSize)
		u, err := p.createMultipart(ctx, t, ms, file)
		if err != nil {
			p.finishErr(ctx, t, fmt.Errorf("starting the multipart upload: %w", err))
			return
		}
		m.upload = u
		if p.opts.Journal != nil {
			if jf, err := p.opts.Journal.begin(dest, file, u, m.partSize, p.opts.Metadata, p.opts.Origin); err == nil {
				m.journal = jf
			}
			// Without a journal the upload still works; it just cannot resume.
		}
	}
	// A resumed upload keeps the part size it began with.
	m.count = partCount(file.Size, m.partSize)
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
		jobs = append(jobs, job{file: t, run: func(ctx context.Context) { p.runPart(ctx, m, n) }, part: true})
	}
	if len(jobs) == 0 {
		p.completeMultipart(ctx, m)
		return
	}
	handedOver = true
	m.remaining = len(jobs)
	p.mu.Lock()
	p.pushFrontLocked(jobs...)
	p.mu.Unlock()
}

// createMultipart starts an upload, retrying like any call. An attempt
// whose answer was lost may still have created an upload on the server,
// which nobody would ever complete or abort: after such an attempt, the
// uploads for this key that began while this run was creating its own, and
// that are not the one it got, are aborted.
func (p *Pool) createMultipart(ctx context.Context, t *fileTask, ms MultipartSource, file File) (Upload, error) {
	began := time.Now()
	var u Upload
	lost := false
	err := p.call(ctx, t, p.controlTimeout(), func(ctx context.Context) error {
		var err error
		if u, err = ms.CreateMultipart(ctx, file, p.opts.Metadata); err != nil {
			lost = true
		}
		return err
	})
	if lost {
		p.abortStrays(ctx, ms, file, began, u.UploadID)
	}
	return u, err
}

// abortStrays aborts the uploads to file's key that began at or after began
// (the server keeps whole seconds) and are not keep. Others' uploads began
// before this run asked for its own, so they are left alone.
func (p *Pool) abortStrays(ctx context.Context, ms MultipartSource, file File, began time.Time, keep string) {
	l, ok := ms.(UploadLister)
	if !ok {
		return
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.controlTimeout())
	defer cancel()
	ups, err := l.ListUploads(lctx, file)
	if err != nil {
		return
	}
	since := began.Truncate(time.Second)
	for _, up := range ups {
		if up.UploadID == keep || up.Initiated.IsZero() || up.Initiated.Before(since) {
			continue
		}
		_ = abortQuietly(ctx, ms, up)
	}
}

// IsNoSuchUpload reports whether the server said the multipart upload does
// not exist (completed, aborted, expired), in any source's error form.
func IsNoSuchUpload(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code == "NoSuchUpload"
	}
	var coded interface{ ErrorCode() string }
	return errors.As(err, &coded) && coded.ErrorCode() == "NoSuchUpload"
}

// resume checks a journal's upload against the server's list of parts and
// keeps the parts both agree on and whose bytes are still the file's. It
// returns the bytes already uploaded. The journal is dropped only when the
// server says the upload is gone; a list that failed otherwise fails the
// file and keeps the journal for the next run.
func (p *Pool) resume(ctx context.Context, m *multipartUpload, e journalEntry) (int64, error) {
	u := Upload{Key: e.begin.Key, UploadID: e.begin.UploadID}
	var listed []Part
	err := p.call(ctx, m.t, p.controlTimeout(), func(ctx context.Context) error {
		var err error
		listed, err = m.ms.ListParts(ctx, u)
		return err
	})
	switch {
	case err != nil && IsNoSuchUpload(err):
		p.opts.Journal.forget(p.src.Describe(), m.file.Path, m.file.Key)
		p.emit(m.t, Event{Kind: EventRestarted, Err: errors.New("the interrupted upload is gone from the server (NoSuchUpload: completed, aborted or expired); starting over")})
		return 0, nil
	case err != nil && ctx.Err() != nil:
		return 0, context.Cause(ctx)
	case err != nil:
		return 0, fmt.Errorf("listing the parts already on the server: %w; the resume journal is kept — run hoist again to resume", err)
	}
	jf, err := p.opts.Journal.reopen(p.src.Describe(), m.file)
	if err != nil {
		return 0, nil
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
		// Size and mtime can be put back: the part's bytes on disk must
		// still be the ones sent, or it goes again.
		crc, err := hashSection(ctx, m.f, int64(sp.Number-1)*m.partSize, jp.Size)
		if err != nil {
			return 0, err
		}
		if crc != jp.CRC32 {
			continue
		}
		m.done[sp.Number] = jp
		bytes += jp.Size
	}
	return bytes, nil
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
	if m.ms.WantsChecksum(m.file) && out.crc != crc {
		return Part{}, fmt.Errorf("part %d: %w: the bytes sent do not match the CRC32 computed just before", n, errFileChanged)
	}
	return Part{Number: n, Size: size, ETag: out.etag, CRC32: out.crc}, nil
}

// completeMultipart ends the upload once every part job has finished: the
// object is assembled when all parts made it and the file did not change;
// otherwise the upload is aborted (canceled, or refused for good) or kept
// for a resume (the network gave out, or the run was interrupted).
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
		p.stopped(ctx, m, len(parts))
		return
	}
	// A file changed between parts would be joined into a mix of old and
	// new bytes, replacing whatever good object the key held: check first.
	if err := unchangedPath(m.file); err != nil {
		p.abort(ctx, m)
		p.finishFailed(t, fmt.Errorf("%w; nothing was joined and the upload was discarded, so the object at %s, if there was one, is untouched — upload it again once nothing writes to it", err, m.upload.Key), "")
		return
	}

	etag, err := p.completeWithRetries(ctx, m, parts)
	if err != nil && ctx.Err() != nil {
		// The answer may have been lost to the interrupt after the server
		// joined the parts: ask it.
		var ok bool
		if etag, ok = p.completedAnyway(ctx, m); !ok {
			p.stopped(ctx, m, len(parts))
			return
		}
		err = nil
	}
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

// stopped ends an upload whose file was canceled or whose run was
// interrupted. Canceling a file discards its upload. Interrupting the run
// (Ctrl+C, SIGTERM, SIGHUP, quitting) keeps it, parts and journal, for the
// next run of the same command to resume.
func (p *Pool) stopped(ctx context.Context, m *multipartUpload, have int) {
	cause := context.Cause(ctx)
	if errors.Is(cause, errPaused) {
		// Kept, parts and journal, for Resume to continue at the next part
		// (without a journal it cannot, so it starts again).
		if m.journal == nil {
			p.abort(ctx, m)
		}
		p.finishPaused(m.t)
		return
	}
	if errors.Is(cause, ErrCanceled) || m.journal == nil {
		p.abort(ctx, m)
		p.finishCanceled(m.t, cause)
		return
	}
	p.finishInterrupted(m.t, fmt.Errorf("interrupted; %d of %d parts are on the server — run the same command again to resume, or `hoist uploads --abort` to discard it", have, m.count))
}

// multipartETag is S3's ETag of an object joined from parts: the MD5 of
// the parts' MD5s, a dash, and the number of parts.
var multipartETag = regexp.MustCompile(`^[0-9a-fA-F]{32}-(\d+)$`)

// completedAnyway asks the server whether a CompleteMultipart whose answer
// was lost joined the parts: the upload is gone (NoSuchUpload) and an
// object of the file's size (and, when the ETag says so, part count) is at
// the key. It returns the object's ETag.
func (p *Pool) completedAnyway(ctx context.Context, m *multipartUpload) (string, bool) {
	st, ok := m.ms.(ObjectStatter)
	if !ok {
		return "", false
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if _, err := m.ms.ListParts(actx, m.upload); !IsNoSuchUpload(err) {
		return "", false
	}
	size, etag, err := st.StatObject(actx, m.upload.Key)
	if err != nil || size != m.file.Size {
		return "", false
	}
	if mm := multipartETag.FindStringSubmatch(trimETag(etag)); mm != nil && mm[1] != strconv.Itoa(m.count) {
		return "", false // another multipart upload's object
	}
	if p.opts.Journal != nil {
		p.opts.Journal.forget(p.src.Describe(), m.file.Path, m.file.Key)
	}
	return etag, true
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
