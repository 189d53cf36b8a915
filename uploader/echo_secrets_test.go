package uploader

import (
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// A server that echoes the request in its error messages (some S3 clones
// do; a proxy or WAF page may) must not make hoist show the URL's signature
// or credential, or the bearer token — not whole, and not the first part of
// one cut short where a long message is truncated.
func TestServerEchoNeverLeaksSecrets(t *testing.T) {
	const token = "tok_live_0123456789abcdefXYZ"
	filler := strings.Repeat("x", 290)
	answers := map[string]struct {
		status int
		code   string
		msg    func(r *http.Request) string
	}{
		// The whole query and the Authorization header, as XML escapes them.
		"echo": {403, "SignatureDoesNotMatch", func(r *http.Request) string {
			return "signature mismatch for " + r.URL.RawQuery + " auth " + r.Header.Get("Authorization")
		}},
		// The token alone, cut in two by the 300-character truncation.
		"cut-token": {403, "AccessDenied", func(r *http.Request) string {
			return filler + " " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + " was refused"
		}},
		// The signature alone, cut likewise, on an answer that is retried.
		"cut-signature": {503, "SlowDown", func(r *http.Request) string {
			return filler + " " + r.URL.Query().Get("X-Amz-Signature") + " is busy"
		}},
		// The credential as the SigV4 Authorization header spells it.
		"credential": {400, "InvalidRequest", func(r *http.Request) string {
			cred, _ := url.QueryUnescape(r.URL.Query().Get("X-Amz-Credential"))
			return "bad header Credential=" + cred + ", Signature=" + r.URL.Query().Get("X-Amz-Signature")
		}},
	}
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		_, _ = io.Copy(io.Discard, r.Body)
		a := answers[strings.TrimPrefix(r.URL.Path, "/")]
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, "<Error><Code>"+a.code+"</Code><Message>"+html.EscapeString(a.msg(r))+"</Message></Error>")
		return true
	})
	dir := t.TempDir()
	var files []File
	for name := range answers {
		f, _ := writeFile(t, dir, name, 1000)
		files = append(files, f)
	}
	src := &testSource{base: rec.URL, sendToken: true}
	events, p := run(t, src, Options{Token: token, Retries: 1}, files...)

	secrets := []string{token, "deadbeefsig", "AKIDSECRETCRED", "tok_live_", "deadbee", "AKIDSEC"}
	check := func(what, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q: %s", what, secret, s)
			}
		}
	}
	var failed, retried int
	for _, e := range events {
		if e.Err != nil {
			check(string(e.Kind)+" event of "+e.File, e.Err.Error())
		}
		switch e.Kind {
		case EventFailed:
			failed++
		case EventRetrying:
			retried++
		}
	}
	for _, st := range p.Snapshot(nil) {
		check("snapshot reason of "+st.Name, st.Reason)
	}
	if failed != len(files) || retried != 1 {
		t.Errorf("%d failed, %d retried; want %d and 1", failed, retried, len(files))
	}
}

// The reason shown beside a retry names what happened to the connection
// in words, not as the socket error's dump of addresses.
func TestNetworkReasonIsPlain(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}
	cases := map[error]string{
		// What net/http returns when the server resets the connection
		// while the body is still going out.
		&url.Error{Op: "Put", URL: "http://127.0.0.1:9/k?X-Amz-Signature=deadbeefsig", Err: &net.OpError{Op: "readfrom", Net: "tcp", Source: addr, Addr: addr,
			Err: &net.OpError{Op: "write", Net: "tcp", Source: addr, Addr: addr, Err: net.ErrClosed}}}: "connection",
		&url.Error{Op: "Put", URL: "http://127.0.0.1:9/k", Err: &net.OpError{Op: "write", Net: "tcp", Source: addr, Addr: addr,
			Err: &os.SyscallError{Syscall: "write", Err: syscall.ECONNRESET}}}: "connection reset",
		&url.Error{Op: "Put", URL: "http://127.0.0.1:9/k", Err: io.ErrUnexpectedEOF}: "connection closed",
	}
	for err, want := range cases {
		got := networkReason(stripURL(err))
		if !strings.Contains(got, want) || strings.Contains(got, "127.0.0.1") || strings.Contains(got, "tcp") {
			t.Errorf("networkReason(%v) = %q, want plain words with %q", errors.Unwrap(err), got, want)
		}
		assertNoSecrets(t, got)
	}
}

// assertEchoScrubbed fails when s, text built from a server's answer, holds
// a signature, credential or bearer token that was not blanked.
func assertEchoScrubbed(t *testing.T, s string) {
	t.Helper()
	blanked := func(v string) bool { return strings.HasPrefix("[REDACTED]", strings.TrimSuffix(v, "…")) }
	if m := secretParam.FindString(s); m != "" {
		t.Fatalf("%q is shown in %q", m, s)
	}
	for _, m := range bearerToken.FindAllString(s, -1) {
		if _, v, _ := strings.Cut(m, " "); !blanked(strings.TrimSpace(v)) {
			t.Fatalf("%q is shown in %q", m, s)
		}
	}
	if m := accessKeyID.FindString(s); m != "" {
		t.Fatalf("access key id %q is shown in %q", m, s)
	}
}

// hoist's own messages go through the same redaction untouched: it blanks
// echoed secrets, not the words that talk about them.
func TestRedactLeavesOwnMessagesAlone(t *testing.T) {
	p := New(&testSource{}, Options{Token: testToken})
	defer p.Close()
	for _, msg := range []string{
		"refusing to send the bearer token over plain http to uploads.example; use an https URL",
		"the query has no X-Amz-Signature; the URL was cut short or is not presigned; copy the whole URL",
		"X-Amz-Credential is not of the form <access key>/<yyyymmdd>/<region>/<service>/aws4_request; ask for a new URL",
		"the server rejected the signature: a signed header was sent with a different value than the URL was signed with (403 SignatureDoesNotMatch)",
	} {
		if got := p.redact(msg); got != msg {
			t.Errorf("redact changed\n%q\nto\n%q", msg, got)
		}
	}
}

// A pool that made its own HTTP client leaves no connection (and no
// goroutine reading one) behind once closed: main may run several pools, and
// goleak checks an interrupted run.
func TestCloseLeavesNoIdleConnections(t *testing.T) {
	rec := newRecorder(t, nil)
	dir := t.TempDir()
	a, _ := writeFile(t, dir, "a", 1000)
	b, _ := writeFile(t, dir, "b", 1000)
	ignore := goleak.IgnoreCurrent()
	run(t, &testSource{base: rec.URL}, Options{Concurrency: 2}, a, b)
	goleak.VerifyNone(t, ignore)
}

// A presigned POST form (Companion) carries its secrets as fields, not in
// the URL: an echo of them is blanked all the same.
func TestRedactTargetBlanksFormSecrets(t *testing.T) {
	tg := Target{URL: "https://bucket.s3.example/", Form: []FormField{
		{Name: "key", Value: "uploads/a.bin"},
		{Name: "X-Amz-Credential", Value: "AKIAFORMCRED0001/20261124/auto/s3/aws4_request"},
		{Name: "Policy", Value: "eyJleHBpcmF0aW9uIjoiMjAyNi0xMS0yNFQxODowMDowMFoifQ=="},
		{Name: "X-Amz-Signature", Value: "0123456789abcdef0123456789abcdef"},
	}}
	msg := "403 AccessDenied: policy eyJleHBpcmF0aW9uIjoiMjAyNi0xMS0yNFQxODowMDowMFoifQ== sig 0123456789abcdef0123456789abcdef by AKIAFORMCRED0001 for uploads/a.bin"
	got := redactTarget(msg, tg)
	for _, secret := range []string{"eyJleHBpcmF0aW9u", "0123456789abcdef", "AKIAFORMCRED0001"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q survives in %q", secret, got)
		}
	}
	if !strings.Contains(got, "uploads/a.bin") {
		t.Errorf("the key, which is no secret, was blanked: %q", got)
	}
}
