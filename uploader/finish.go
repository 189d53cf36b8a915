package uploader

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

func (p *Pool) finishDone(t *fileTask, r *Result) {
	r.ID, r.File, r.Path = t.id, t.file.Name, t.file.Path
	t.release()
	t.mu.Lock()
	t.result, t.reason, t.finished = r, "", time.Now()
	attempts := t.attempt
	t.mu.Unlock()
	t.state.Store(int32(StateDone))
	p.emit(t, Event{Kind: EventDone, Result: r, Attempt: attempts, MaxAttempts: p.opts.Retries + 1})
	p.forget(t)
}

func (p *Pool) finishFailed(t *fileTask, err error, code string) {
	t.release()
	t.mu.Lock()
	t.reason, t.finished = p.redact(err.Error()), time.Now()
	attempts := t.attempt
	t.mu.Unlock()
	t.state.Store(int32(StateFailed))
	p.emit(t, Event{Kind: EventFailed, Err: err, Code: code, Attempt: attempts, MaxAttempts: p.opts.Retries + 1})
	p.forget(t)
}

func (p *Pool) finishCanceled(t *fileTask, cause error) {
	if errors.Is(cause, errPaused) {
		p.finishPaused(t)
		return
	}
	reason := "canceled"
	if cause != nil && !errors.Is(cause, ErrCanceled) {
		reason = "interrupted"
	}
	p.finishWith(t, StateCanceled, EventCanceled, reason)
}

// finishSkipped ends a file whose object was already stored.
func (p *Pool) finishSkipped(t *fileTask, why string) {
	p.finishWith(t, StateSkipped, EventSkipped, why)
}

// finishWith ends t in state with reason, announced by kind.
func (p *Pool) finishWith(t *fileTask, state State, kind EventKind, reason string) {
	t.release()
	t.mu.Lock()
	t.reason, t.finished = reason, time.Now()
	t.mu.Unlock()
	t.state.Store(int32(state))
	p.emit(t, Event{Kind: kind, Err: errors.New(reason)})
	p.forget(t)
}

// finishPaused parks a file that Pause stopped, until Resume.
func (p *Pool) finishPaused(t *fileTask) {
	t.mu.Lock()
	t.reason = "paused"
	t.mu.Unlock()
	t.state.Store(int32(StatePaused))
	p.emit(t, Event{Kind: EventPaused})
}

// finishInterrupted ends a file the run's interrupt stopped, with why and
// what to do next (a multipart upload kept for a resume).
func (p *Pool) finishInterrupted(t *fileTask, why error) {
	t.mu.Lock()
	t.reason, t.finished = p.redact(why.Error()), time.Now()
	t.mu.Unlock()
	t.state.Store(int32(StateCanceled))
	p.emit(t, Event{Kind: EventCanceled, Err: why})
}

// finishErr ends a file with err: canceled when its context ended, failed
// otherwise.
func (p *Pool) finishErr(ctx context.Context, t *fileTask, err error) {
	if ctx.Err() != nil {
		p.finishCanceled(t, context.Cause(ctx))
		return
	}
	p.finishFailed(t, err, codeOf(err))
}

// explained is an error already phrased for a person, keeping the original
// for errors.Is/As.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explain phrases a final error: what happened and what to do next.
func explain(err error, tg Target, part int) error {
	if se := (*sourceError)(nil); errors.As(err, &se) {
		return se.err
	}
	var prefix string
	if part > 0 {
		prefix = fmt.Sprintf("part %d: ", part)
	}
	var se *ServerError
	var re *readError
	var pe *permanentError
	var msg string
	switch {
	case errors.As(err, &se):
		msg = explainServer(se, tg)
	case errors.Is(err, errFileChanged):
		msg = "the file changed while it was being uploaded; upload it again once nothing writes to it"
	case errors.As(err, &re):
		msg = re.Error() + "; check the file and its disk"
	case errors.As(err, &pe):
		msg = pe.Error()
	case errors.Is(err, errStalled):
		msg = err.Error() + "; the network or server stopped responding — check the connection and try again"
	default:
		msg = "network error: " + networkReason(err) + "; check the connection and that the server is reachable, then try again"
	}
	return &explained{msg: redactTarget(prefix+msg, tg), err: err}
}

// reasonOf is the short reason shown beside "retrying n/N".
func reasonOf(err error, tg Target, part int) string {
	var prefix string
	if part > 0 {
		prefix = fmt.Sprintf("part %d: ", part)
	}
	var se *ServerError
	switch {
	case errors.As(err, &se):
		return redactTarget(prefix+se.Error(), tg)
	case errors.Is(err, errStalled):
		return prefix + err.Error()
	}
	return redactTarget(prefix+networkReason(err), tg)
}

// networkReason names a network failure in a few words.
func networkReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EPIPE):
		return "connection closed by the server (broken pipe)"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, net.ErrClosed):
		// The reading side saw the connection die (a reset) and closed it
		// while the body was still being written.
		return "connection reset or closed while sending"
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr):
		return "cannot find the server's address (" + dnsErr.Name + " does not resolve)"
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &certErr):
		return "the server's TLS certificate is not trusted for this address"
	case errors.As(err, &recordErr):
		return "the server does not speak TLS at this address; check whether the URL should be http://"
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "server gave HTTP response to HTTPS client"):
		return "the server answered in plain HTTP to an https:// request"
	case strings.Contains(s, "malformed"), strings.Contains(s, "bogus"), strings.Contains(s, "invalid header"),
		strings.Contains(s, "unexpected content-length"), strings.Contains(s, "transport connection broken"),
		strings.Contains(s, "too many transfer encodings"), strings.Contains(s, "unsupported transfer encoding"):
		// net/http's parse errors ("malformed MIME header: missing colon")
		// say nothing a person can act on.
		return "the server's answer was not valid HTTP (is the URL an S3 endpoint, and is nothing in between rewriting it?)"
	case strings.Contains(s, "EOF"):
		return "connection closed by the server before it answered"
	}
	return s
}

// redactTarget blanks tg's own secrets in msg: the URL's signature, its
// credential and the access key id in it, and a session token. A server
// that echoes the request would otherwise put them in front of a person.
func redactTarget(msg string, tg Target) string {
	_, query, _ := strings.Cut(tg.URL, "?")
	var secrets []string
	for pair := range strings.SplitSeq(query, "&") {
		name, value, _ := strings.Cut(pair, "=")
		switch strings.ToLower(name) {
		case "x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "awsaccesskeyid":
		default:
			continue
		}
		secrets = append(secrets, value)
		if dec, err := url.QueryUnescape(value); err == nil {
			secrets = append(secrets, dec)
			if id, _, ok := strings.Cut(dec, "/"); ok {
				secrets = append(secrets, id) // the access key id of a credential
			}
		}
	}
	// A presigned POST form carries its signature and policy as fields.
	for _, f := range tg.Form {
		switch strings.ToLower(f.Name) {
		case "x-amz-signature", "x-amz-credential", "x-amz-security-token", "policy", "signature", "awsaccesskeyid":
			secrets = append(secrets, f.Value)
			if id, _, ok := strings.Cut(f.Value, "/"); ok && strings.EqualFold(f.Name, "x-amz-credential") {
				secrets = append(secrets, id)
			}
		}
	}
	return redactAll(msg, secrets...)
}

// minSecret is the shortest value treated as a secret, and the shortest
// remnant of one cut short by truncation that is blanked: below it, blanking
// would garble ordinary words and reveal next to nothing.
const minSecret = 4

// redactAll replaces each secret in s with [REDACTED], and the first part of
// one that a truncated message cut short ("…" right after it).
func redactAll(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) < minSecret {
			continue
		}
		s = strings.ReplaceAll(s, secret, "[REDACTED]")
		var b strings.Builder
		rest := s
		for {
			before, after, found := strings.Cut(rest, "…")
			if !found {
				b.WriteString(rest)
				break
			}
			for n := len(secret) - 1; n >= minSecret; n-- {
				if strings.HasSuffix(before, secret[:n]) {
					before = before[:len(before)-n] + "[REDACTED]"
					break
				}
			}
			b.WriteString(before)
			b.WriteString("…")
			rest = after
		}
		s = b.String()
	}
	return s
}

func codeOf(err error) string {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}
