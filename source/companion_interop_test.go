package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hoist/internal/companiontest"
	"hoist/internal/s3test"
	"hoist/uploader"
)

// These tests run the real Uppy Companion (standalone, as teams deploy it)
// in front of versitygw, with a proxy on each side that watches where the
// bearer token goes: to Companion on every request, to the store never.

const companionTestBucket = "companion-uploads"

// tokenWatch is a reverse proxy that counts the requests carrying the token
// anywhere in their headers or query.
type tokenWatch struct {
	URL   string
	token string

	mu        sync.Mutex
	requests  []string // "METHOD /path", in order
	withToken map[string]int
	without   []string
}

func watchTokens(t *testing.T, target, token string) *tokenWatch {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	w := &tokenWatch{token: token, withToken: map[string]int{}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(to)
			// The store checks signatures made for the host the URL names:
			// the proxy's.
			r.Out.Host = r.In.Host
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.note(r)
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

func (w *tokenWatch) note(r *http.Request) {
	carried := strings.Contains(r.URL.RawQuery, w.token)
	for _, vs := range r.Header {
		for _, v := range vs {
			carried = carried || strings.Contains(v, w.token)
		}
	}
	what := r.Method + " " + r.URL.Path
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests = append(w.requests, what)
	if carried {
		w.withToken[what]++
	} else {
		w.without = append(w.without, what)
	}
}

// counts returns how many requests came, how many carried the token, and
// the first few that did not.
func (w *tokenWatch) counts() (total, carried int, without []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.withToken {
		carried += n
	}
	return len(w.requests), carried, append([]string(nil), w.without[:min(len(w.without), 5)]...)
}

func (w *tokenWatch) seen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.requests...)
}

func (w *tokenWatch) sawRequest(method, pathPart string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.requests {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, pathPart) {
			return true
		}
	}
	return false
}

type companionStack struct {
	gw        *s3test.Server
	store     *tokenWatch // in front of versitygw: Companion's URLs point here
	front     *tokenWatch // in front of Companion: hoist talks to it here
	companion *companiontest.Server
	src       *Companion
	token     string
}

func startCompanionStack(t *testing.T) *companionStack {
	t.Helper()
	st := &companionStack{gw: s3test.Start(t), token: "hoist-companion-test-token-" + randomSuffix()}
	st.gw.CreateBucket(t, companionTestBucket)
	st.store = watchTokens(t, st.gw.Endpoint, st.token)
	st.companion = companiontest.Start(t, companiontest.Config{S3: st.gw, Endpoint: st.store.URL, Bucket: companionTestBucket})
	st.front = watchTokens(t, st.companion.URL, st.token)
	src, err := NewCompanion(CompanionConfig{Endpoint: st.front.URL + "/", Token: st.token, Multipart: true})
	if err != nil {
		t.Fatal(err)
	}
	st.src = src
	return st
}

func randomSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// checkTokens asserts that the token went with every request to Companion
// and with none to the store.
func (st *companionStack) checkTokens(t *testing.T) {
	t.Helper()
	total, carried, without := st.front.counts()
	if total == 0 || carried != total {
		t.Errorf("Companion got %d requests, %d with the bearer token; without it: %v", total, carried, without)
	}
	total, carried, _ = st.store.counts()
	if total == 0 {
		t.Error("the store got no request through the proxy: Companion's URLs bypassed it")
	}
	if carried != 0 {
		t.Errorf("the bearer token reached the S3 store in %d of %d requests", carried, total)
	}
}

// writeRandomFile writes size pseudo-random bytes (fast, and different in
// every part) and returns them.
func writeRandomFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	var seed [32]byte
	copy(seed[:], path)
	_, _ = rand.NewChaCha8(seed).Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// runPool uploads files through the real engine and returns its results and
// every event.
func runPool(t *testing.T, src uploader.Source, opts uploader.Options, files ...uploader.File) ([]uploader.Result, []uploader.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pool := uploader.New(src, opts)
	var events []uploader.Event
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for e := range pool.Events() {
			events = append(events, e)
		}
	}()
	pool.Start(ctx)
	pool.Add(files...)
	if err := pool.Wait(ctx); err != nil {
		t.Fatalf("waiting for the pool: %v", err)
	}
	pool.Close()
	<-drained
	return pool.Results(), events
}

func failures(events []uploader.Event) []string {
	var out []string
	for _, e := range events {
		if e.Kind == uploader.EventFailed {
			out = append(out, e.Err.Error())
		}
	}
	return out
}

// checkObject reads the object back from versitygw and compares its bytes
// and metadata.
func checkObject(t *testing.T, gw *s3test.Server, key string, want []byte, md uploader.Metadata) {
	t.Helper()
	got, meta := gw.Object(t, companionTestBucket, key)
	if !bytes.Equal(got, want) {
		t.Errorf("s3://%s/%s: %d bytes read back, want the %d uploaded (equal length: %v)", companionTestBucket, key, len(got), len(want), len(got) == len(want))
	}
	if wantMeta := md.Values(); !maps.Equal(meta, wantMeta) {
		t.Errorf("s3://%s/%s metadata = %v, want %v", companionTestBucket, key, meta, wantMeta)
	}
}

func TestCompanionInteropFormThroughEngine(t *testing.T) {
	st := startCompanionStack(t)
	path := filepath.Join(t.TempDir(), "notes", "report.bin")
	body := writeRandomFile(t, path, 300<<10+17)
	file := uploader.File{Path: path, Name: "notes/report.bin", Key: "notes/report.bin", Size: int64(len(body))}

	results, events := runPool(t, st.src, uploader.Options{Token: st.token, Metadata: testMeta, Retries: 1}, file)
	if len(results) != 1 {
		t.Fatalf("%d results, want 1; failures: %v", len(results), failures(events))
	}
	r := results[0]
	if r.Parts != 0 {
		t.Errorf("a %d-byte file went up in %d parts, want one POST", len(body), r.Parts)
	}
	// Companion's standalone keys are <uuid>-<filename>.
	if !strings.HasSuffix(r.Key, "-notes/report.bin") || len(r.Key) != 36+1+len("notes/report.bin") {
		t.Errorf("key %q, want <uuid>-notes/report.bin", r.Key)
	}
	checkObject(t, st.gw, r.Key, body, testMeta)
	if !st.store.sawRequest(http.MethodPost, "/"+companionTestBucket) {
		t.Errorf("no POST form reached the store; it saw %v", st.store.seen())
	}
	st.checkTokens(t)
}

func TestCompanionInteropMultipart100MiB(t *testing.T) {
	st := startCompanionStack(t)
	const size = 100 << 20
	path := filepath.Join(t.TempDir(), "big.bin")
	body := writeRandomFile(t, path, size)
	file := uploader.File{Path: path, Name: "big.bin", Key: "video/big.bin", Size: size}

	t.Run("source", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		u, err := st.src.CreateMultipart(ctx, file, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(u.Key, "-video/big.bin") || u.UploadID == "" {
			t.Fatalf("upload %+v, want a key <uuid>-video/big.bin and an upload id", u)
		}
		const partSize = 16 << 20
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var parts []uploader.Part
		for n, off := 1, int64(0); off < size; n, off = n+1, off+partSize {
			n64 := min(partSize, size-off)
			tg, err := st.src.PartTarget(ctx, u, n, n64, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Method != http.MethodPut || tg.SendToken || tg.Expires.IsZero() {
				t.Fatalf("part %d target: method %s, SendToken %v, expires %v; want a PUT without the token that expires", n, tg.Method, tg.SendToken, tg.Expires)
			}
			etag := putSection(t, tg, io.NewSectionReader(f, off, n64), n64)
			parts = append(parts, uploader.Part{Number: n, Size: n64, ETag: etag})

			if n == 2 { // what a resume sees
				listed, err := st.src.ListParts(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				if len(listed) != 2 || listed[0].Number != 1 || listed[1].Number != 2 ||
					listed[0].Size != partSize || strings.Trim(listed[1].ETag, `"`) != strings.Trim(etag, `"`) {
					t.Fatalf("listed parts %+v, want parts 1 and 2 of %d bytes, part 2 with ETag %s", listed, partSize, etag)
				}
			}
		}
		if len(parts) != 7 {
			t.Fatalf("%d parts, want 7", len(parts))
		}
		// Out of order on purpose: the source sorts them.
		parts[0], parts[6] = parts[6], parts[0]
		if _, err := st.src.CompleteMultipart(ctx, u, parts); err != nil {
			t.Fatal(err)
		}
		checkObject(t, st.gw, u.Key, body, testMeta)
		if !st.store.sawRequest(http.MethodPut, "/"+companionTestBucket+"/") {
			t.Errorf("no part PUT went through the proxy in front of the store; it saw %v", st.store.seen())
		}
	})

	t.Run("engine", func(t *testing.T) {
		results, events := runPool(t, st.src, uploader.Options{Token: st.token, Metadata: testMeta, Retries: 1, Concurrency: 4}, file)
		if len(results) != 1 {
			t.Fatalf("%d results, want 1; failures: %v", len(results), failures(events))
		}
		r := results[0]
		if r.Parts != 7 { // 16 MiB parts for a 100 MiB file
			t.Errorf("went up in %d parts, want 7", r.Parts)
		}
		checkObject(t, st.gw, r.Key, body, testMeta)
	})

	t.Run("abort", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		u, err := st.src.CreateMultipart(ctx, file, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.src.AbortMultipart(ctx, u); err != nil {
			t.Fatal(err)
		}
		// The upload is gone: listing it is Companion passing on S3's
		// NoSuchUpload, in one line.
		_, err = st.src.ListParts(ctx, u)
		checkOneLine(t, err, st, "GET "+st.front.URL+"/s3/multipart/", "NoSuchUpload", "upload the file again")
	})

	st.checkTokens(t)
}

// putSection sends one part as the engine would: the target's method, URL
// and headers, an exact Content-Length, no token.
func putSection(t *testing.T, tg uploader.Target, r io.Reader, size int64) string {
	t.Helper()
	req, err := http.NewRequest(tg.Method, tg.URL, r)
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	req.ContentLength = size
	for k, vs := range tg.Header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT part: %d %s", resp.StatusCode, uploader.ParseServerError(resp.StatusCode, resp.Header, b))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("PUT part: no ETag in the answer")
	}
	return etag
}

// checkOneLine asserts err is one line that names what it should and holds
// no secret and no query string.
func checkOneLine(t *testing.T, err error, st *companionStack, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	for _, secret := range []string{st.token, st.gw.SecretKey, st.gw.AccessKey, "?", "X-Amz-Signature", "X-Amz-Credential", "Bearer"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q holds %q", msg, secret)
		}
	}
	var ce *CompanionError
	if !errors.As(err, &ce) {
		t.Errorf("error %q is not a *CompanionError", msg)
	}
}

func TestCompanionInteropErrors(t *testing.T) {
	st := startCompanionStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "small.txt")
	writeRandomFile(t, path, 1000)
	file := uploader.File{Path: path, Name: "small.txt", Key: "small.txt", Size: 1000}

	t.Run("not Companion's base URL", func(t *testing.T) {
		// A path Companion does not serve: its own 404 JSON.
		src, err := NewCompanion(CompanionConfig{Endpoint: st.front.URL + "/uploads/", Token: st.token})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Target(ctx, file, testMeta)
		checkOneLine(t, err, st, "GET "+st.front.URL+"/uploads/s3/params", "404", "--presign-url is Companion's base URL")

		// Through the engine, the file fails with that line.
		_, events := runPool(t, src, uploader.Options{Token: st.token, Metadata: testMeta}, file)
		failed := failures(events)
		if len(failed) != 1 || !strings.Contains(failed[0], "/uploads/s3/params") || strings.Contains(failed[0], "\n") ||
			strings.Contains(failed[0], st.token) {
			t.Errorf("engine failures %q, want one line naming /uploads/s3/params", failed)
		}
	})

	t.Run("bucket missing", func(t *testing.T) {
		// A Companion set up for a bucket that does not exist: S3's
		// NoSuchBucket comes back through Companion's error handler.
		other := companiontest.Start(t, companiontest.Config{S3: st.gw, Bucket: "no-such-bucket"})
		src, err := NewCompanion(CompanionConfig{Endpoint: other.URL, Token: st.token, Multipart: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.CreateMultipart(ctx, file, testMeta)
		checkOneLine(t, err, st, "POST "+other.URL+"/s3/multipart", "NoSuchBucket", "COMPANION_AWS_BUCKET")
	})
}
