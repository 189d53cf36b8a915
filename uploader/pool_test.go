package uploader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hoist/internal/testproc"
)

const testToken = "tok-very-secret-4242"

func TestUploadSendsExactRequest(t *testing.T) {
	rec := newRecorder(t, nil)
	dir := t.TempDir()
	a, aBytes := writeFile(t, dir, "a.bin", 300_000)
	b, bBytes := writeFile(t, dir, "b.bin", 1)
	empty, _ := writeFile(t, dir, "empty.bin", 0)
	src := &testSource{base: rec.URL, sendToken: true}
	md := Metadata{OrgID: "org-7", UserID: "user-9", TTLHours: 48}
	events, p := run(t, src, Options{Token: testToken, Metadata: md}, a, b, empty)

	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	byPath := map[string]received{}
	for _, r := range reqs {
		byPath[r.Path] = r
	}
	for _, c := range []struct {
		file File
		body []byte
	}{{a, aBytes}, {b, bBytes}, {empty, nil}} {
		r, ok := byPath["/"+c.file.Key]
		if !ok {
			t.Fatalf("no request for %s", c.file.Key)
		}
		if r.Method != http.MethodPut {
			t.Errorf("%s: method %s", c.file.Key, r.Method)
		}
		if !bytes.Equal(r.Body, c.body) {
			t.Errorf("%s: body differs (%d bytes, want %d)", c.file.Key, len(r.Body), len(c.body))
		}
		if r.Length != int64(len(c.body)) {
			t.Errorf("%s: Content-Length %d, want %d", c.file.Key, r.Length, len(c.body))
		}
		if got := r.Header.Get("Content-Length"); got != fmt.Sprint(len(c.body)) {
			t.Errorf("%s: Content-Length header %q", c.file.Key, got)
		}
		if len(r.Header["Transfer-Encoding"]) > 0 {
			t.Errorf("%s: chunked body sent", c.file.Key)
		}
		want := map[string]string{
			"Authorization":              "Bearer " + testToken,
			"Content-Type":               "application/octet-stream",
			"X-Amz-Meta-Organization-Id": "org-7",
			"X-Amz-Meta-User-Id":         "user-9",
			"X-Amz-Meta-Ttl-Hours":       "48",
		}
		for k, v := range want {
			if got := r.Header.Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", c.file.Key, k, got, v)
			}
		}
	}
	results := p.Results()
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	if results[0].CRC32 != crc32.ChecksumIEEE(aBytes) || results[0].Bytes != a.Size {
		t.Errorf("result a: crc %08x bytes %d", results[0].CRC32, results[0].Bytes)
	}
	if !strings.HasPrefix(results[0].ETag, "etag-") {
		t.Errorf("etag %q: quotes not stripped or missing", results[0].ETag)
	}
	for id := range 3 {
		got := kinds(events, id)
		got = slices.DeleteFunc(got, func(k EventKind) bool { return k == EventAwaiting })
		if want := []EventKind{EventQueued, EventStarted, EventDone}; !slices.Equal(got, want) {
			t.Errorf("file %d events %v, want %v", id, got, want)
		}
	}
	s := p.Summary()
	if s.Uploaded != 3 || s.Failed != 0 || s.Bytes != a.Size+b.Size {
		t.Errorf("summary %+v", s)
	}
}

func TestNoTokenWhenSourceDoesNotSendIt(t *testing.T) {
	rec := newRecorder(t, nil)
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	run(t, &testSource{base: rec.URL}, Options{Token: testToken}, f)
	if got := rec.requests()[0].Header.Get("Authorization"); got != "" {
		t.Fatalf("Authorization sent to a source that did not ask for it: %q", got)
	}
}

func TestRetriesTransientAnswers(t *testing.T) {
	answers := []struct {
		status int
		body   string
		header string
	}{
		{503, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`, "1"},
		{500, `<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`, ""},
		{429, ``, ""},
		{408, ``, ""},
		{400, `<Error><Code>RequestTimeout</Code><Message>idle</Message></Error>`, ""},
	}
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n >= len(answers) {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		if answers[n].header != "" {
			w.Header().Set("Retry-After", answers[n].header)
		}
		w.WriteHeader(answers[n].status)
		_, _ = io.WriteString(w, answers[n].body)
		return true
	})
	f, data := writeFile(t, t.TempDir(), "a", 70_000)
	start := time.Now()
	events, p := run(t, &testSource{base: rec.URL}, Options{Retries: 5, BackoffMax: time.Second}, f)
	last := lastOf(events, 0)
	if last.Kind != EventDone {
		t.Fatalf("last event %v (%v), want done", last.Kind, last.Err)
	}
	// The done event says how many sends it took, for the per-file
	// "N retries" of headless lines and summaries.
	if last.Attempt != len(answers)+1 || last.MaxAttempts != 6 {
		t.Errorf("done after attempt %d of %d, want %d of 6", last.Attempt, last.MaxAttempts, len(answers)+1)
	}
	var retrying []Event
	for _, e := range events {
		if e.Kind == EventRetrying {
			retrying = append(retrying, e)
		}
	}
	if len(retrying) != len(answers) {
		t.Fatalf("%d retrying events, want %d", len(retrying), len(answers))
	}
	if retrying[0].Code != "SlowDown" || !strings.Contains(retrying[0].Err.Error(), "503 SlowDown") {
		t.Errorf("first retry reason %q code %q", retrying[0].Err, retrying[0].Code)
	}
	if retrying[0].Delay < time.Second || time.Since(start) < time.Second {
		t.Errorf("Retry-After: 1 not honoured: delay %v", retrying[0].Delay)
	}
	if retrying[2].Attempt != 3 || retrying[2].MaxAttempts != 6 {
		t.Errorf("attempt numbering %d/%d", retrying[2].Attempt, retrying[2].MaxAttempts)
	}
	reqs := rec.requests()
	if got := reqs[len(reqs)-1].Body; !bytes.Equal(got, data) {
		t.Errorf("final body differs")
	}
	if st := p.Snapshot(nil)[0]; st.Sent != f.Size {
		t.Errorf("sent counter %d after retries, want exactly %d", st.Sent, f.Size)
	}
}

func TestPermanentErrorsAreExplainedNotRetried(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		code       string
		want       []string
	}{
		{"expired", `<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`, 403, "AccessDenied",
			[]string{"expired", "ask for a new URL"}},
		{"signature", `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>`, 403, "SignatureDoesNotMatch",
			[]string{"signature", "--org-id"}},
		{"unsigned", `<Error><Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message></Error>`, 403, "AccessDenied",
			[]string{"did not sign", "hoist inspect"}},
		{"baddigest", `<Error><Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message></Error>`, 400, "BadDigest",
			[]string{"checksum", "upload it again"}},
		{"toolarge", `<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed object size.</Message></Error>`, 400, "EntityTooLarge",
			[]string{"5 GiB", "--s3"}},
		{"plain404", `not xml at all`, 404, "", []string{"404"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
				return true
			})
			f, _ := writeFile(t, t.TempDir(), "photo.jpg", 1000)
			events, p := run(t, &testSource{base: rec.URL, sendToken: true}, Options{Retries: 3, Token: testToken}, f)
			last := lastOf(events, 0)
			if last.Kind != EventFailed {
				t.Fatalf("last event %v, want failed", last.Kind)
			}
			if n := len(rec.requests()); n != 1 {
				t.Errorf("%d requests for a permanent error, want 1", n)
			}
			if last.Code != c.code {
				t.Errorf("code %q, want %q", last.Code, c.code)
			}
			msg := last.Err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			assertNoSecrets(t, msg)
			if s := p.Summary(); s.Uploaded != 0 || s.Failed != 1 {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testToken, "deadbeefsig", "AKIDSECRETCRED", "X-Amz-Signature", "X-Amz-Credential"} {
		if strings.Contains(s, secret) {
			t.Errorf("output leaks %q: %s", secret, s)
		}
	}
}

func TestAuthConflictRetriesWithoutToken(t *testing.T) {
	for _, refusal := range []struct{ server, body string }{
		{"AWS", `<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>`},
		{"MinIO", `<Error><Code>InvalidRequest</Code><Message>Invalid Request (request has multiple authentication types, please use one)</Message></Error>`},
	} {
		t.Run(refusal.server, func(t *testing.T) {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
				if r.Header.Get("Authorization") == "" {
					return false
				}
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, refusal.body)
				return true
			})
			dir := t.TempDir()
			a, _ := writeFile(t, dir, "a", 100)
			b, _ := writeFile(t, dir, "b", 100)
			events, p := run(t, &testSource{base: rec.URL, sendToken: true}, Options{Token: testToken, Retries: 0, Concurrency: 1}, a, b)
			if s := p.Summary(); s.Uploaded != 2 {
				t.Fatalf("summary %+v; events %v", s, events)
			}
			reqs := rec.requests()
			// a: with token (refused), then without; b: without from the start.
			if len(reqs) != 3 {
				t.Fatalf("%d requests, want 3", len(reqs))
			}
			if reqs[0].Header.Get("Authorization") == "" || reqs[1].Header.Get("Authorization") != "" || reqs[2].Header.Get("Authorization") != "" {
				t.Errorf("Authorization per request: %q %q %q", reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"), reqs[2].Header.Get("Authorization"))
			}
			// Said once, naming the host, never the token.
			var said []string
			for _, e := range events {
				if e.Kind == EventRetrying {
					said = append(said, e.Err.Error())
				}
			}
			host := strings.TrimPrefix(rec.URL, "http://")
			if len(said) != 1 || !strings.Contains(said[0], host) || !strings.Contains(said[0], "without it") {
				t.Errorf("retrying events %q; want one naming %s and saying the token is dropped", said, host)
			}
			assertNoSecrets(t, strings.Join(said, "\n"))
		})
	}
}

// resetAfter answers the first n requests by closing the connection once
// some of the body has arrived.
func resetAfter(n int, after int64) func(w http.ResponseWriter, r *http.Request, i int) bool {
	return func(w http.ResponseWriter, r *http.Request, i int) bool {
		if i >= n {
			return false
		}
		_, _ = io.CopyN(io.Discard, r.Body, after)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN
		}
		_ = conn.Close()
		return true
	}
}

func TestConnectionResetMidBodyIsRetriedAndProgressNeverLies(t *testing.T) {
	const size = 8 << 20
	rec := newRecorder(t, resetAfter(2, 1<<20))
	f, data := writeFile(t, t.TempDir(), "big", size)
	p := New(&testSource{base: rec.URL}, Options{Retries: 3, BackoffInitial: 5 * time.Millisecond, BackoffMax: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.Start(ctx)
	log := collectEvents(p)
	var over atomic.Int64
	stop := sampleSnapshots(p, func(buf []FileStatus) {
		for _, s := range buf {
			if s.Sent > s.Size || s.Sent < 0 {
				over.Store(s.Sent)
			}
		}
	})
	p.Add(f)
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	stop()
	p.Close()
	events := log.wait()
	if v := over.Load(); v != 0 {
		t.Fatalf("snapshot showed %d sent of %d", v, size)
	}
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last event %v: %v", last.Kind, last.Err)
	}
	var retries int
	for _, e := range events {
		if e.Kind == EventRetrying {
			retries++
			if msg := e.Err.Error(); !strings.Contains(msg, "reset") && !strings.Contains(msg, "closed") && !strings.Contains(msg, "broken pipe") {
				t.Errorf("retry reason %q does not name the network failure", msg)
			}
		}
	}
	if retries != 2 {
		t.Errorf("%d retries, want 2", retries)
	}
	// Requests are listed as their handlers start, which under load need
	// not be the order they were sent in: the one that carried the whole
	// file is the upload that was stored.
	if !slices.ContainsFunc(rec.requests(), func(r received) bool { return bytes.Equal(r.Body, data) }) {
		t.Error("uploaded body differs")
	}
}

func TestStalledUploadIsRetried(t *testing.T) {
	var stalls atomic.Int32
	release := make(chan struct{})
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n > 0 {
			return false
		}
		stalls.Add(1)
		_, _ = io.CopyN(io.Discard, r.Body, 1000)
		select { // neither read nor answer: the client must give up on its own
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	defer close(release)
	f, _ := writeFile(t, t.TempDir(), "a", 4<<20)
	start := time.Now()
	// One second: short enough to see the watchdog act, long enough that
	// the healthy second attempt is not itself taken for a stall on a busy
	// machine (300 ms failed there: a slow retry stalled too).
	events, _ := run(t, &testSource{base: rec.URL}, Options{Retries: 5, StallTimeout: time.Second}, f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last event %v: %v", last.Kind, last.Err)
	}
	var reason string
	for _, e := range events {
		if e.Kind == EventRetrying {
			reason = e.Err.Error()
		}
	}
	if !strings.Contains(reason, "stalled") {
		t.Errorf("retry reason %q, want stalled", reason)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("stall detection took %v", d)
	}
}

func TestStallAwaitingAnswerIsRetried(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n > 0 {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body) // all bytes taken, no answer
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	f, _ := writeFile(t, t.TempDir(), "a", 1000)
	events, _ := run(t, &testSource{base: rec.URL}, Options{Retries: 1, StallTimeout: 300 * time.Millisecond}, f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last event %v: %v", last.Kind, last.Err)
	}
}

func TestRetriesRunOut(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(503)
		return true
	})
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	events, _ := run(t, &testSource{base: rec.URL}, Options{Retries: 2}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "503") {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	if n := len(rec.requests()); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

func TestConnectionRefusedExplained(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	events, _ := run(t, &testSource{base: "http://" + addr}, Options{Retries: 1}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed {
		t.Fatalf("last %v", last.Kind)
	}
	msg := last.Err.Error()
	if !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "check the connection") {
		t.Errorf("message %q", msg)
	}
	assertNoSecrets(t, msg)
}

func TestConcurrencyIsBoundedAndAdjustable(t *testing.T) {
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		cur := inFlight.Add(1)
		for {
			old := peak.Load()
			if cur <= old || peak.CompareAndSwap(old, cur) {
				break
			}
		}
		<-gate
		inFlight.Add(-1)
		return false
	})
	dir := t.TempDir()
	var files []File
	for i := range 12 {
		f, _ := writeFile(t, dir, fmt.Sprintf("f%02d", i), 100)
		files = append(files, f)
	}
	p := New(&testSource{base: rec.URL}, Options{Concurrency: 3})
	ctx := context.Background()
	p.Start(ctx)
	go func() {
		for range p.Events() {
		}
	}()
	p.Add(files...)
	testproc.WaitFor(t, "3 uploads in flight", func() bool { return inFlight.Load() == 3 })
	time.Sleep(50 * time.Millisecond)
	if got := inFlight.Load(); got != 3 {
		t.Fatalf("%d in flight with concurrency 3", got)
	}
	p.SetConcurrency(6)
	testproc.WaitFor(t, "6 uploads in flight", func() bool { return inFlight.Load() == 6 })
	close(gate)
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if got := peak.Load(); got != 6 {
		t.Errorf("peak %d in flight, want 6", got)
	}
	if s := p.Summary(); s.Uploaded != 12 {
		t.Errorf("summary %+v", s)
	}
}

func TestCancelOneFileAndRetryIt(t *testing.T) {
	hold := make(chan struct{})
	var once sync.Once
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.URL.Path != "/slow" {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-hold:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
		}
		return true
	})
	dir := t.TempDir()
	slow, _ := writeFile(t, dir, "slow", 1000)
	fast, _ := writeFile(t, dir, "fast", 1000)
	p := New(&testSource{base: rec.URL}, Options{Concurrency: 2})
	ctx := context.Background()
	p.Start(ctx)
	var mu sync.Mutex
	var events []Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range p.Events() {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	}()
	ids := p.Add(slow, fast)
	testproc.WaitFor(t, "the file awaiting its answer", func() bool { return State(p.Snapshot(nil)[ids[0]].State) == StateAwaiting })
	p.Cancel(ids[0])
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Snapshot(nil)
	if st[ids[0]].State != StateCanceled || st[ids[1]].State != StateDone {
		t.Fatalf("states %v %v", st[ids[0]].State, st[ids[1]].State)
	}
	once.Do(func() { close(hold) })
	if !p.Retry(ids[0]) {
		t.Fatal("Retry refused a canceled file")
	}
	if p.Retry(ids[1]) {
		t.Error("Retry accepted a file that is done")
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Snapshot(nil)[ids[0]]; s.State != StateDone || s.Sent != 1000 {
		t.Errorf("after retry: %v sent %d", s.State, s.Sent)
	}
	p.Close()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got := kinds(events, ids[0]); !slices.Contains(got, EventCanceled) {
		t.Errorf("no canceled event: %v", got)
	}
}

func TestInterruptStopsInFlightQuickly(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		_, _ = io.Copy(io.Discard, r.Body) // takes the body, never answers
		<-r.Context().Done()
		return true
	})
	dir := t.TempDir()
	var files []File
	for i := range 6 {
		f, _ := writeFile(t, dir, fmt.Sprintf("f%d", i), 1<<20)
		files = append(files, f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := New(&testSource{base: rec.URL}, Options{Concurrency: 4})
	p.Start(ctx)
	log := collectEvents(p)
	p.Add(files...)
	testproc.WaitFor(t, "4 requests", func() bool { return len(rec.requests()) == 4 })
	start := time.Now()
	cancel()
	p.Close()
	events := log.wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopping took %v, want < 2s", d)
	}
	s := p.Summary()
	if s.Canceled != 6 || s.Uploaded != 0 || s.Pending != 0 {
		t.Errorf("summary after interrupt %+v", s)
	}
	for i := range 6 {
		if last := lastOf(events, i); last.Kind != EventCanceled {
			t.Errorf("file %d last event %v", i, last.Kind)
		}
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool { hits.Add(1); return false })
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		http.Redirect(w, r, other.URL+"/x?X-Amz-Signature=leak", http.StatusTemporaryRedirect)
		return true
	})
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	events, _ := run(t, &testSource{base: rec.URL, sendToken: true}, Options{Token: testToken, Retries: 2}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "redirected") {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	assertNoSecrets(t, last.Err.Error())
	if strings.Contains(last.Err.Error(), "leak") {
		t.Errorf("redirect query leaked: %s", last.Err)
	}
	if hits.Load() != 0 {
		t.Error("redirect was followed")
	}
}

func TestTokenNeverSentOverPlainHTTPToRemoteHost(t *testing.T) {
	p := New(&testSource{}, Options{Token: testToken})
	defer p.Close()
	for _, c := range []struct {
		url  string
		want bool
		err  bool
	}{
		{"https://uploads.example.com/k", true, false},
		{"http://uploads.example.com/k", false, true},
		{"http://127.0.0.1:9/k", true, false},
		{"http://[::1]:9/k", true, false},
		{"http://localhost:9/k", true, false},
	} {
		req, _ := http.NewRequest(http.MethodPut, c.url, nil)
		ok, err := p.tokenAllowed(Target{URL: c.url, SendToken: true}, req.URL)
		if ok != c.want || (err != nil) != c.err {
			t.Errorf("%s: allowed=%v err=%v", c.url, ok, err)
		}
		if err != nil {
			assertNoSecrets(t, err.Error())
		}
	}
}

func TestExpiredURLIsResignedWhenSourceCan(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if !strings.Contains(r.URL.RawQuery, "n=1") {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(403)
		_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		return true
	})
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	src := &testSource{base: rec.URL, caps: Capabilities{Resign: true}}
	events, _ := run(t, src, Options{Retries: 0}, f)
	if last := lastOf(events, 0); last.Kind != EventDone {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	if src.targets != 2 {
		t.Errorf("Target called %d times, want 2", src.targets)
	}
}

func TestNearlyExpiredURLIsResignedBeforeSending(t *testing.T) {
	rec := newRecorder(t, nil)
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	src := &testSource{base: rec.URL, caps: Capabilities{Resign: true}, expires: time.Now().Add(5 * time.Second)}
	run(t, src, Options{}, f)
	if src.targets != 2 {
		t.Errorf("Target called %d times, want 2 (re-signed before sending)", src.targets)
	}
}

func TestSpecialAndMissingFilesFail(t *testing.T) {
	rec := newRecorder(t, nil)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	files := []File{
		{Path: filepath.Join(dir, "missing"), Name: "missing", Key: "missing"},
		{Path: dir, Name: "dir", Key: "dir"},
		{Path: fifo, Name: "fifo", Key: "fifo"},
	}
	events, _ := run(t, &testSource{base: rec.URL}, Options{}, files...)
	wants := []string{"no such file", "a directory", "a named pipe (FIFO)"}
	for i, w := range wants {
		last := lastOf(events, i)
		if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), w) {
			t.Errorf("%s: %v %v, want failed with %q", files[i].Name, last.Kind, last.Err, w)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests sent for files that cannot be read", n)
	}
}

func TestFileShrinkingDuringUploadFails(t *testing.T) {
	dir := t.TempDir()
	f, _ := writeFile(t, dir, "log", 4<<20)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		_, _ = io.CopyN(io.Discard, r.Body, 1<<20)
		if err := os.Truncate(f.Path, 2<<20); err != nil {
			panic(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(200)
		return true
	})
	events, p := run(t, &testSource{base: rec.URL}, Options{Retries: 3}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "changed") {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
	if s := p.Summary(); s.Uploaded != 0 {
		t.Errorf("a file that changed was reported uploaded")
	}
}

func TestFileOverSinglePutLimitRefused(t *testing.T) {
	rec := newRecorder(t, nil)
	f, _ := writeFile(t, t.TempDir(), "a", 2000)
	events, _ := run(t, &testSource{base: rec.URL, caps: Capabilities{MaxSinglePut: 1000}}, Options{}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "--s3") || last.Code != "EntityTooLarge" {
		t.Fatalf("last %v %v %q", last.Kind, last.Err, last.Code)
	}
	if len(rec.requests()) != 0 {
		t.Error("sent a file over the single-PUT limit")
	}
}

func TestChecksumComputedFirstWhenSourceWantsIt(t *testing.T) {
	rec := newRecorder(t, nil)
	f, data := writeFile(t, t.TempDir(), "a", 123_456)
	src := &crcSource{testSource: testSource{base: rec.URL}}
	events, _ := run(t, src, Options{}, f)
	if got := kinds(events, 0); !slices.Contains(got, EventHashing) {
		t.Errorf("no hashing event: %v", got)
	}
	if src.seen != crc32.ChecksumIEEE(data) || !src.had {
		t.Errorf("Target saw crc %08x (had=%v), want %08x", src.seen, src.had, crc32.ChecksumIEEE(data))
	}
}

type crcSource struct {
	testSource
	seen uint32
	had  bool
}

func (s *crcSource) WantsChecksum(File) bool { return true }
func (s *crcSource) Target(ctx context.Context, f File, md Metadata) (Target, error) {
	s.seen, s.had = f.CRC32, f.HasCRC32
	return s.testSource.Target(ctx, f, md)
}

func TestTargetErrorFailsFile(t *testing.T) {
	f, _ := writeFile(t, t.TempDir(), "a", 10)
	events, _ := run(t, &errSource{}, Options{}, f)
	last := lastOf(events, 0)
	if last.Kind != EventFailed || !strings.Contains(last.Err.Error(), "no URL for") {
		t.Fatalf("last %v %v", last.Kind, last.Err)
	}
}

type errSource struct{ testSource }

func (*errSource) Target(context.Context, File, Metadata) (Target, error) {
	return Target{}, errors.New("no URL for this file")
}

func TestRateLimit(t *testing.T) {
	rec := newRecorder(t, nil)
	f, _ := writeFile(t, t.TempDir(), "a", 600<<10)
	start := time.Now()
	run(t, &testSource{base: rec.URL}, Options{LimitRate: 1 << 20}, f)
	// 600 KiB at 1 MiB/s with a 100 KiB burst: at least ~0.45 s.
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("600 KiB at 1 MiB/s took %v", d)
	}
}
