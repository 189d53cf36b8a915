package konfidant

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/knf1"
	"hoist/uploader"
)

func newTestClient(t *testing.T, f *fakeAPI) *Client {
	t.Helper()
	c, err := New(Config{APIURL: f.srv.URL, APIKey: f.key, KeySource: "KONFIDANT_API_KEY", Rate: 60 * 1000,
		Retry: uploader.RetryPolicy{Retries: 3, Initial: time.Millisecond, Max: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// put sends a body to a slot the way the engine does: exactly its headers.
func put(t *testing.T, rawURL string, headers map[string]string, body io.Reader, size int64) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, rawURL, body)
	req.ContentLength = size
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
}

func shareEncrypted(t *testing.T, f *fakeAPI, c *Client, name string, content []byte) string {
	t.Helper()
	ctx := context.Background()
	meta := knf1.Meta{Kind: knf1.KindFile, Name: name}
	size, err := knf1.Size(meta, int64(len(content)), 0)
	if err != nil {
		t.Fatal(err)
	}
	slot, err := c.CreateUpload(ctx, size, 8)
	if err != nil {
		t.Fatal(err)
	}
	if slot.Expires.IsZero() || time.Until(slot.Expires) < 59*time.Minute {
		t.Errorf("slot expiry %v, want an hour from now (upload_expires_in)", slot.Expires)
	}
	key := knf1.NewKey()
	enc, _ := knf1.NewEncryptor(bytes.NewReader(content), int64(len(content)), meta, key, knf1.NewNoncePrefix(), 0)
	put(t, slot.UploadURL, slot.Headers, enc, size)
	done, err := c.Complete(ctx, slot.FileKey)
	if err != nil {
		t.Fatal(err)
	}
	link, err := ShareLink(done.DownloadURL, key)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func TestEncryptedShareOpensOnceToIdenticalBytesAndTheKeyGoesToTheAPIOnly(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f)
	content := bytes.Repeat([]byte("secret payload "), 200_000) // 3 MiB: several chunks
	link := shareEncrypted(t, f, c, "q3 report.pdf", content)
	if !strings.Contains(link, "#t=") || !strings.Contains(link, "&k=") {
		t.Fatalf("link %q lacks its token or key", link)
	}

	dir := t.TempDir()
	got, err := Open(context.Background(), nil, link, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != filepath.Join(dir, "q3 report.pdf") {
		t.Errorf("saved as %s", got.Path)
	}
	b, _ := os.ReadFile(got.Path)
	if !bytes.Equal(b, content) {
		t.Fatalf("opened %d bytes, differ from the %d shared", len(b), len(content))
	}
	if _, err := Open(context.Background(), nil, link, dir, false); !errors.Is(err, ErrGone) {
		t.Fatalf("second open: err = %v, want ErrGone", err)
	}

	for _, route := range []string{"upload", "download"} {
		for _, a := range f.keysSent(route) {
			if a != "" {
				t.Errorf("the %s request carried Authorization %q", route, a)
			}
		}
	}
	for _, route := range []string{"create", "complete"} {
		sent := f.keysSent(route)
		if len(sent) == 0 || sent[0] != "Bearer "+f.key {
			t.Errorf("the %s call carried %q, want the API key", route, sent)
		}
	}
}

func TestPlainFlowPollsUntilComplete(t *testing.T) {
	defer func(d time.Duration) { PollInterval = d }(PollInterval)
	PollInterval = 5 * time.Millisecond
	f := newFakeAPI(t)
	c := newTestClient(t, f)
	content := []byte("plain bytes")
	slot, err := c.CreatePlainUpload(context.Background(), "a.txt", int64(len(content)), 8)
	if err != nil {
		t.Fatal(err)
	}
	if slot.Headers["x-amz-meta-ttl-hours"] != "8" {
		t.Fatalf("metadata headers %v", slot.Headers)
	}
	type result struct {
		s   Status
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := c.WaitComplete(context.Background(), slot.FileKey, int64(len(content)))
		done <- result{s, err}
	}()
	put(t, slot.UploadURL, slot.Headers, bytes.NewReader(content), int64(len(content)))
	r := <-done
	if r.err != nil || r.s.ShareURL == "" || r.s.ExpiresAt.IsZero() {
		t.Fatalf("WaitComplete = %+v, %v", r.s, r.err)
	}
	if PollTimeout(0) < 5*time.Minute || PollTimeout(10<<30) <= PollTimeout(0) {
		t.Errorf("poll timeout must be at least 5 min and grow with size: %v, %v", PollTimeout(0), PollTimeout(10<<30))
	}
}

func answer(status int, body string, header ...string) func(http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
		return true
	}
}

func TestEveryAnswerExplainedInOneLine(t *testing.T) {
	cases := []struct {
		name   string
		fail   func(http.ResponseWriter) bool
		create bool
		want   []string
	}{
		{"401", answer(401, `{"error":"invalid_api_key","message":"Invalid API key"}`), true, []string{"refused the API key", "KONFIDANT_API_KEY", "Invalid API key"}},
		{"403", answer(403, `{"error":"forbidden","message":"Missing scope"}`), true, []string{"files:create"}},
		{"400 ttl", answer(400, `{"error":"bad_request","message":"TTL above plan maximum (8 hours)"}`), true, []string{"maximum of 8 hours", "--ttl-hours 8"}},
		{"400 ttl, no limit", answer(400, `{"error":"bad_request","message":"TTL above plan maximum"}`), true, []string{"above what your plan allows"}},
		{"409", answer(409, `{"error":"upload_incomplete","message":"The upload has not completed"}`), false, []string{"did not fully arrive", "upload_incomplete"}},
		{"500 after retries", answer(500, `{"error":"internal","message":"boom"}`), true, []string{"API failed", "boom"}},
		{"multi-line message", answer(400, "{\"error\":\"bad\",\"message\":\"line one\\nline two\"}"), true, []string{"line one line two"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			c := newTestClient(t, f)
			var err error
			if tc.create {
				f.failNext(tc.fail, tc.fail, tc.fail, tc.fail)
				_, err = c.CreateUpload(context.Background(), 100, 1)
			} else {
				f.failNext(tc.fail)
				_, err = c.Complete(context.Background(), "fk1")
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("more than one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, f.key) {
				t.Errorf("the key is in the error: %q", msg)
			}
		})
	}
}

func TestServerErrorsAndRateLimitsAreRetried(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f)
	f.failNext(answer(503, `{"error":"unavailable","message":"try later"}`),
		answer(429, `{"error":"rate_limited","message":"slow down"}`, "Retry-After", "1"))
	start := time.Now()
	if _, err := c.CreateUpload(context.Background(), 100, 1); err != nil {
		t.Fatalf("not retried: %v", err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("Retry-After: 1 was not honoured (waited %v)", waited)
	}
	if n := len(f.keysSent("create")); n != 3 {
		t.Errorf("%d create calls, want 3", n)
	}
}

func TestCallsArePaced(t *testing.T) {
	f := newFakeAPI(t)
	c, err := New(Config{APIURL: f.srv.URL, APIKey: f.key, Rate: 120})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 3 {
		if _, err := c.CreateUpload(context.Background(), 100, 1); err != nil {
			t.Fatal(err)
		}
	}
	// 120 a minute is one every half second: the third waits a second.
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("three calls at 120/min took %v", d)
	}
}

func TestNetworkFailureExplained(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f)
	f.srv.Close()
	_, err := c.CreateUpload(context.Background(), 100, 1)
	if err == nil || !strings.Contains(err.Error(), "could not reach Konfidant's API") {
		t.Fatalf("err = %v", err)
	}
}

func TestAPIURLChecks(t *testing.T) {
	for _, ok := range []string{"https://www.konfidant.app", "http://127.0.0.1:8080/", "http://[::1]:9/api", "http://localhost:1"} {
		if _, err := CheckAPIURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for raw, want := range map[string]string{
		"ftp://x.example":             "not an http(s) URL",
		"konfidant.app":               "not an http(s) URL",
		"http://konfidant.example":    "plain http",
		"https://u:p@konfidant.app":   "user name or password",
		"https://konfidant.app/?k=v":  "query or fragment",
		"https://konfidant.app/#frag": "query or fragment",
	} {
		_, err := CheckAPIURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", raw, err, want)
		}
	}
	if _, err := New(Config{APIURL: "https://konfidant.app"}); err == nil || !strings.Contains(err.Error(), "KONFIDANT_API_KEY") {
		t.Errorf("missing key: %v", err)
	}
}

func TestShareLinkNeedsATokenFragment(t *testing.T) {
	k := knf1.NewKey()
	for _, bad := range []string{"https://k.example/d?t=abc", "https://k.example/#t=", "https://k.example/#x=1", "not a url"} {
		if _, err := ShareLink(bad, k); err == nil {
			t.Errorf("%q: made a link", bad)
		}
	}
	link, err := ShareLink("https://k.example/#t=abc", k)
	if err != nil || link != "https://k.example/#t=abc&k="+k.String() {
		t.Fatalf("link = %q, %v", link, err)
	}
	l, err := ParseLink(link)
	if err != nil || l.Origin != "https://k.example" || l.Token != "abc" || l.Key != k {
		t.Fatalf("ParseLink = %+v, %v", l, err)
	}
}

func TestParseLinkRefusesMalformedLinks(t *testing.T) {
	k := knf1.NewKey().String()
	for raw, want := range map[string]string{
		"https://k.example/#k=" + k:              "no #t=",
		"https://k.example/#t=abc":               "no k=",
		"https://k.example/#t=abc&k=short":       "key (k=) is malformed",
		"https://k.example/#t=abc&k=" + k + "AA": "key (k=) is malformed",
		"k.example/#t=abc&k=" + k:                "not an http(s) URL",
	} {
		_, err := ParseLink(raw)
		if !errors.Is(err, ErrBadLink) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", raw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), k) {
			t.Errorf("the key is in the error: %v", err)
		}
	}
}

func TestOpenRemovesPartialOutputOnTampering(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f)
	content := bytes.Repeat([]byte("x"), 3<<20)
	link := shareEncrypted(t, f, c, "big.bin", content)
	f.mu.Lock()
	for _, ff := range f.files {
		ff.body[len(ff.body)-100] ^= 1 // in the final chunk: the first ones were already written
	}
	f.mu.Unlock()
	dir := t.TempDir()
	_, err := Open(context.Background(), nil, link, dir, false)
	if !errors.Is(err, knf1.ErrAuth) || !strings.Contains(err.Error(), "nothing was kept") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestOpenNeverOverwritesWithoutForce(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f)
	dir := t.TempDir()
	existing := filepath.Join(dir, "a.txt")
	os.WriteFile(existing, []byte("mine"), 0o644)

	got, err := Open(context.Background(), nil, shareEncrypted(t, f, c, "a.txt", []byte("theirs")), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "mine" {
		t.Fatalf("existing file overwritten: %q", b)
	}
	if !got.Renamed || got.Path != filepath.Join(dir, "a (2).txt") {
		t.Fatalf("saved as %s (renamed %v)", got.Path, got.Renamed)
	}
	if _, err := Open(context.Background(), nil, shareEncrypted(t, f, c, "a.txt", []byte("forced")), dir, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "forced" {
		t.Fatalf("--force did not replace: %q", b)
	}
}

func TestOpenSavesUnderASafeName(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f)
	dir := t.TempDir()
	got, err := Open(context.Background(), nil, shareEncrypted(t, f, c, "../../etc/\x1bpasswd", []byte("x")), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != filepath.Join(dir, "passwd") {
		t.Fatalf("saved as %s", got.Path)
	}
	for in, want := range map[string]string{"..": "", "a\\b": "b", "x/..": "", " \u0085n\u200b ": "n\u200b", strings.Repeat("é", 200): strings.Repeat("é", 127)} {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
}
