package konfidantemu_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/goleak"

	"hoist/internal/konfidantemu"
	"hoist/internal/s3test"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const bucket = "konfidant"

// world is the emulator over versitygw with a Recorder in front of the
// gateway, and a plain HTTP client doing the calls by hand.
type world struct {
	gw    *s3test.Server
	rec   *konfidantemu.Recorder
	emu   *konfidantemu.Server
	key   konfidantemu.Key
	http  *http.Client
	clock *clock
}

func newWorld(t *testing.T, tune func(*konfidantemu.Options)) *world {
	t.Helper()
	gw := s3test.Start(t)
	gw.CreateBucket(t, bucket)
	rec, err := konfidantemu.NewRecorder(gw.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close() })
	w := &world{gw: gw, rec: rec, key: konfidantemu.NewKey(), clock: &clock{now: time.Now()}}
	o := konfidantemu.Options{
		Store: konfidantemu.Store{Endpoint: rec.URL, Direct: gw.Endpoint, Region: gw.Region,
			Bucket: bucket, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey},
		Keys: []konfidantemu.Key{w.key},
		Now:  w.clock.Now,
	}
	if tune != nil {
		tune(&o)
	}
	w.emu, err = konfidantemu.Start(o, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.emu.Close() })
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	w.http = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	return w
}

// clock is a settable clock for expiry and the rate limit.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %q", a.status, a.body)
	}
	return m
}

// errorIs checks an error answer's status and code.
func (a answer) errorIs(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	m := a.json(t)
	if m["error"] != code || m["message"] == "" || m["message"] == nil {
		t.Fatalf("error body %s, want error %q and a message", a.body, code)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	return m
}

func (w *world) do(t *testing.T, method, rawURL, auth string, body io.Reader, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// api calls the emulator with the world's key, as the SDKs do.
func (w *world) api(t *testing.T, method, path string, payload any) answer {
	t.Helper()
	return w.apiAs(t, "Bearer "+w.key.Secret, method, path, payload)
}

func (w *world) apiAs(t *testing.T, auth, method, path string, payload any) answer {
	t.Helper()
	var body io.Reader
	h := map[string]string{"Accept": "application/json"}
	switch p := payload.(type) {
	case nil:
	case string:
		body = strings.NewReader(p)
		h["Content-Type"] = "application/json"
	default:
		b, _ := json.Marshal(p)
		body = bytes.NewReader(b)
		h["Content-Type"] = "application/json"
	}
	return w.do(t, method, w.emu.URL+path, auth, body, h)
}

func completePath(fileKey string) string {
	return "/api/v1/files/" + url.PathEscape(fileKey) + "/complete"
}

func statusPath(fileKey string) string {
	return "/api/v1/files/" + url.PathEscape(fileKey) + "/status"
}

// put sends body to an upload URL with exactly the given headers and no
// Authorization, as the SDKs do.
func (w *world) put(t *testing.T, uploadURL string, header map[string]string, body []byte) answer {
	t.Helper()
	return w.do(t, http.MethodPut, uploadURL, "", bytes.NewReader(body), header)
}

// openLink posts a link's token to its origin's /api/download, as
// OpenShare does: no API key, the token unescaped from the fragment.
func (w *world) openLink(t *testing.T, link string) answer {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	frag, err := url.ParseQuery(u.EscapedFragment())
	if err != nil || frag.Get("t") == "" {
		t.Fatalf("link has no #t= fragment: %v", err)
	}
	b, _ := json.Marshal(map[string]string{"t": frag.Get("t")})
	return w.do(t, http.MethodPost, u.Scheme+"://"+u.Host+"/api/download", "", bytes.NewReader(b),
		map[string]string{"Content-Type": "application/json", "Accept": "application/octet-stream"})
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func stringMap(t *testing.T, v any) map[string]string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	out := map[string]string{}
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s: %v is not a string", k, v)
		}
		out[k] = s
	}
	return out
}

// assertAPIShape checks an upload URL has the API page's query, exactly.
func assertAPIShape(t *testing.T, uploadURL, signedHeaders string) {
	t.Helper()
	u, err := url.Parse(uploadURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"X-Amz-Algorithm":              "AWS4-HMAC-SHA256",
		"X-Amz-Content-Sha256":         "UNSIGNED-PAYLOAD",
		"X-Amz-Expires":                "900",
		"X-Amz-SignedHeaders":          signedHeaders,
		"x-amz-checksum-crc32":         "AAAAAA==",
		"x-amz-sdk-checksum-algorithm": "CRC32",
		"x-id":                         "PutObject",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("upload URL %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature"} {
		if q.Get(k) == "" {
			t.Errorf("upload URL has no %s", k)
		}
	}
	if !strings.HasSuffix(q.Get("X-Amz-Credential"), "/auto/s3/aws4_request") {
		t.Error("upload URL is not signed for region auto")
	}
	if len(q) != len(want)+3 {
		t.Errorf("upload URL has %d query parameters, want %d", len(q), len(want)+3)
	}
	if !strings.Contains(u.RawQuery, "x-amz-checksum-crc32=AAAAAA%3D%3D") {
		t.Error("upload URL does not pin x-amz-checksum-crc32=AAAAAA%3D%3D")
	}
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
			t.Errorf("metadata %s hoisted into the query", k)
		}
	}
}

// assertNoKeyOutsideAPI checks, at the servers, that the API key went to
// the API only: never to the store, never to the download endpoint.
func (w *world) assertNoKeyOutsideAPI(t *testing.T) {
	t.Helper()
	if n := w.rec.Carrying(w.key.Secret); n != 0 {
		t.Errorf("%d requests to the upload URL carried the API key", n)
	}
	for _, r := range w.rec.Requests() {
		if r.Authorization {
			t.Errorf("request to the store carried Authorization: %v", r)
		}
	}
	for _, r := range w.emu.Requests() {
		if r.Path == "/api/download" && (r.Authorization || r.APIKey) {
			t.Errorf("download request carried an API key: %v", r)
		}
	}
}

func TestEncryptedFlowEndToEnd(t *testing.T) {
	w := newWorld(t, nil)
	ciphertext := randomBytes(t, 300_001) // stands for KNF1 bytes: the API never looks inside

	a := w.api(t, http.MethodPost, "/api/v1/files", map[string]any{"ciphertext_size": len(ciphertext), "ttl_hours": 6})
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	slot := a.json(t)
	uploadURL, fileKey := slot["upload_url"].(string), slot["file_key"].(string)
	if slot["upload_expires_in"] != float64(900) || !strings.HasPrefix(fileKey, w.key.OrgID+"/") {
		t.Fatalf("create answered %s", a.body)
	}
	headers := stringMap(t, slot["upload_headers"])
	if len(headers) != 2 || headers["Content-Type"] != "application/octet-stream" ||
		headers["x-amz-meta-organization-id"] != w.key.OrgID {
		t.Fatalf("upload_headers %v", headers)
	}
	assertAPIShape(t, uploadURL, "content-type;host;x-amz-meta-organization-id")
	if !strings.HasPrefix(uploadURL, w.rec.URL+"/"+bucket+"/") {
		t.Fatal("upload URL does not point at the store")
	}

	// Complete before the bytes arrived, and after a wrong-sized PUT.
	w.api(t, http.MethodPost, completePath(fileKey), nil).errorIs(t, http.StatusConflict, "upload_incomplete")
	if p := w.put(t, uploadURL, headers, ciphertext[:1000]); p.status != http.StatusOK {
		t.Fatalf("short PUT: %d %s", p.status, p.body)
	}
	w.api(t, http.MethodPost, completePath(fileKey), nil).errorIs(t, http.StatusConflict, "upload_incomplete")

	// The store checks the signature: every upload header must be sent as
	// handed out. (Small bodies: versitygw answers 403 before reading the
	// body and closes, and a big body still being written through the
	// recording proxy then ends as a 502 instead.)
	noType := map[string]string{"x-amz-meta-organization-id": w.key.OrgID}
	if p := w.put(t, uploadURL, noType, ciphertext[:1000]); p.status != http.StatusForbidden {
		t.Fatalf("PUT without Content-Type: %d, want 403 from the store", p.status)
	}
	otherType := map[string]string{"Content-Type": "text/plain", "x-amz-meta-organization-id": w.key.OrgID}
	if p := w.put(t, uploadURL, otherType, ciphertext[:1000]); p.status != http.StatusForbidden {
		t.Fatalf("PUT with another Content-Type: %d, want 403 from the store", p.status)
	}

	if p := w.put(t, uploadURL, headers, ciphertext); p.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", p.status, p.body)
	}
	before := w.clock.Now()
	a = w.api(t, http.MethodPost, completePath(fileKey), nil)
	if a.status != http.StatusCreated {
		t.Fatalf("complete: %d %s", a.status, a.body)
	}
	done := a.json(t)
	link, _ := done["download_url"].(string)
	if !strings.HasPrefix(link, w.emu.URL+"/#t=emu.") || !strings.Contains(link, "%3D") {
		t.Fatalf("download_url %q is not <origin>/#t=<escaped token>", link)
	}
	expires, err := time.Parse(time.RFC3339, done["expires_at"].(string))
	if err != nil || expires.Sub(before) < 6*time.Hour-time.Second || expires.Sub(before) > 6*time.Hour+time.Second {
		t.Fatalf("expires_at %v (%v), want 6 h after %v", done["expires_at"], err, before)
	}
	if done["verified_burn"] != true || !strings.HasPrefix(done["file_id"].(string), "file_") {
		t.Fatalf("complete answered %s", a.body)
	}
	if again := w.api(t, http.MethodPost, completePath(fileKey), nil); again.status != http.StatusCreated ||
		again.json(t)["download_url"] != link {
		t.Fatalf("a second complete gave another answer: %d", again.status)
	}

	for _, l := range []string{link, link + "&k=AAAA"} {
		if k, ok := w.emu.FileKeyOf(l); !ok || k != fileKey {
			t.Errorf("FileKeyOf gives %q, %v; want the upload's file_key", k, ok)
		}
	}
	if _, ok := w.emu.FileKeyOf(w.emu.URL + "/#t=emu.other"); ok {
		t.Error("FileKeyOf knows a token the emulator never made")
	}

	stored, _ := w.gw.Object(t, bucket, fileKey)
	if !bytes.Equal(stored, ciphertext) {
		t.Fatal("the store holds other bytes than were PUT")
	}

	got := w.openLink(t, link)
	if got.status != http.StatusOK || !bytes.Equal(got.body, ciphertext) {
		t.Fatalf("download: %d, %d bytes, equal=%v", got.status, len(got.body), bytes.Equal(got.body, ciphertext))
	}
	if ct := got.header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("download Content-Type %q", ct)
	}
	m := w.openLink(t, link).errorIs(t, http.StatusGone, "gone")
	if m["message"] != "This link has already been used or has expired." {
		t.Errorf("410 message %q", m["message"])
	}
	_, err = w.gw.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(fileKey)})
	if err == nil {
		t.Error("the object is still in the store after its one download")
	}
	w.assertNoKeyOutsideAPI(t)
}

func TestPlainFlowEndToEnd(t *testing.T) {
	w := newWorld(t, nil)
	file := randomBytes(t, 70_000)

	a := w.api(t, http.MethodPost, "/api/v1/files", map[string]any{"filename": "report.pdf", "file_size": len(file), "ttl_hours": 4})
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	slot := a.json(t)
	uploadURL, fileKey := slot["upload_url"].(string), slot["file_key"].(string)
	meta := stringMap(t, slot["metadata_headers"])
	want := map[string]string{"x-amz-meta-user-id": w.key.UserID, "x-amz-meta-ttl-hours": "4", "x-amz-meta-organization-id": w.key.OrgID}
	if len(meta) != 3 {
		t.Fatalf("metadata_headers %v", meta)
	}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("metadata_headers[%s] = %q, want %q", k, meta[k], v)
		}
	}
	if slot["poll_url"] != w.emu.URL+statusPath(fileKey) {
		t.Errorf("poll_url %v", slot["poll_url"])
	}
	assertAPIShape(t, uploadURL, "host;x-amz-meta-organization-id;x-amz-meta-ttl-hours;x-amz-meta-user-id")

	status := func() map[string]any {
		t.Helper()
		a := w.api(t, http.MethodGet, statusPath(fileKey), nil)
		if a.status != http.StatusOK {
			t.Fatalf("status: %d %s", a.status, a.body)
		}
		return a.json(t)
	}
	if s := status(); s["status"] != "processing" || s["message"] == "" {
		t.Fatalf("status before the PUT: %v", s)
	}

	// Bytes that arrived without the metadata (here through the store's own
	// client) do not complete the share.
	if _, err := w.gw.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(fileKey), Body: bytes.NewReader(file),
	}); err != nil {
		t.Fatal(err)
	}
	if s := status(); s["status"] != "processing" || !strings.Contains(s["message"].(string), "metadata") {
		t.Fatalf("status with bytes but no metadata: %v", s)
	}

	h := map[string]string{"Content-Type": "application/pdf"}
	for k, v := range meta {
		h[k] = v
	}
	if p := w.put(t, uploadURL, h, file); p.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", p.status, p.body)
	}
	s := status()
	if s["status"] != "complete" || s["file_name"] != "report.pdf" || s["verified_burn"] != true || s["file_id"] == "" {
		t.Fatalf("status after the PUT: %v", s)
	}
	if _, err := time.Parse(time.RFC3339, s["expires_at"].(string)); err != nil {
		t.Errorf("expires_at: %v", err)
	}
	link := s["share_url"].(string)
	if got := w.openLink(t, link); got.status != http.StatusOK || !bytes.Equal(got.body, file) {
		t.Fatalf("download: %d, equal=%v", got.status, bytes.Equal(got.body, file))
	}
	w.openLink(t, link).errorIs(t, http.StatusGone, "gone")
	w.assertNoKeyOutsideAPI(t)
}

func TestProcessingPollsBeforeComplete(t *testing.T) {
	w := newWorld(t, func(o *konfidantemu.Options) { o.ProcessingPolls = 2 })
	a := w.api(t, http.MethodPost, "/api/v1/files", map[string]any{"filename": "a", "file_size": 3})
	slot := a.json(t)
	meta := stringMap(t, slot["metadata_headers"])
	if meta["x-amz-meta-ttl-hours"] != "8" {
		t.Errorf("omitted ttl_hours became %q, want the plan's 8", meta["x-amz-meta-ttl-hours"])
	}
	if p := w.put(t, slot["upload_url"].(string), meta, []byte("abc")); p.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", p.status, p.body)
	}
	var got []string
	for range 3 {
		got = append(got, w.api(t, http.MethodGet, statusPath(slot["file_key"].(string)), nil).json(t)["status"].(string))
	}
	if strings.Join(got, ",") != "processing,processing,complete" {
		t.Fatalf("statuses %v", got)
	}
}

func TestErrorAnswers(t *testing.T) {
	w := newWorld(t, func(o *konfidantemu.Options) {
		o.MaxSize = 1 << 20
	})
	noScope := konfidantemu.NewKey(konfidantemu.ScopeTextsCreate)
	other := konfidantemu.NewKey()
	// A second emulator over the same store for the keys this world lacks.
	w2, err := konfidantemu.Start(konfidantemu.Options{
		Store: konfidantemu.Store{Endpoint: w.gw.Endpoint, Region: w.gw.Region,
			Bucket: bucket, AccessKey: w.gw.AccessKey, SecretKey: w.gw.SecretKey},
		Keys: []konfidantemu.Key{w.key, noScope, other},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	enc := map[string]any{"ciphertext_size": 100}

	t.Run("401 no key", func(t *testing.T) {
		w.apiAs(t, "", http.MethodPost, "/api/v1/files", enc).errorIs(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("401 wrong key", func(t *testing.T) {
		w.apiAs(t, "Bearer kfd_wrong", http.MethodPost, "/api/v1/files", enc).errorIs(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("401 not bearer", func(t *testing.T) {
		w.apiAs(t, w.key.Secret, http.MethodPost, "/api/v1/files", enc).errorIs(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("403 missing files:create", func(t *testing.T) {
		m := w.do(t, http.MethodPost, w2.URL+"/api/v1/files", "Bearer "+noScope.Secret,
			strings.NewReader(`{"ciphertext_size":100}`), map[string]string{"Content-Type": "application/json"}).
			errorIs(t, http.StatusForbidden, "insufficient_scope")
		if !strings.Contains(m["message"].(string), "files:create") {
			t.Errorf("403 message %q does not name the scope", m["message"])
		}
	})
	bad := map[string]any{
		"not JSON":                    "{",
		"two objects":                 `{"ciphertext_size":1}{}`,
		"name next to ciphertext":     map[string]any{"ciphertext_size": 100, "filename": "secret-plans.pdf"},
		"unknown field":               map[string]any{"ciphertext_size": 100, "colour": "red"},
		"no size":                     map[string]any{"ttl_hours": 2},
		"plain without size":          map[string]any{"filename": "a"},
		"fractional size":             map[string]any{"ciphertext_size": 1.5},
		"size as string":              map[string]any{"ciphertext_size": "100"},
		"zero size":                   map[string]any{"ciphertext_size": 0},
		"negative size":               map[string]any{"ciphertext_size": -1},
		"empty name":                  map[string]any{"filename": "", "file_size": 1},
		"zero ttl":                    map[string]any{"ciphertext_size": 100, "ttl_hours": 0},
		"ttl above the plan":          map[string]any{"ciphertext_size": 100, "ttl_hours": 9},
		"plain ttl above the plan":    map[string]any{"filename": "a", "file_size": 1, "ttl_hours": 48},
		"encrypted and plain at once": map[string]any{"ciphertext_size": 100, "filename": "a", "file_size": 1},
	}
	for name, body := range bad {
		t.Run("400 "+name, func(t *testing.T) {
			a := w.api(t, http.MethodPost, "/api/v1/files", body)
			if a.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			m := a.json(t)
			if strings.Contains(name, "ttl above") {
				if m["error"] != "invalid_ttl" || m["message"] != "TTL above plan maximum (8 hours)" {
					t.Fatalf("TTL answer %s", a.body)
				}
			}
			if m["message"] == nil || m["error"] == nil {
				t.Fatalf("error body %s", a.body)
			}
		})
	}
	t.Run("413 over the size limit", func(t *testing.T) {
		w.api(t, http.MethodPost, "/api/v1/files", map[string]any{"ciphertext_size": 1<<20 + 1}).
			errorIs(t, http.StatusRequestEntityTooLarge, "file_too_large")
	})
	t.Run("404 unknown file_key", func(t *testing.T) {
		w.api(t, http.MethodPost, completePath(w.key.OrgID+"/nope.knf"), nil).errorIs(t, http.StatusNotFound, "not_found")
		w.api(t, http.MethodGet, statusPath(w.key.OrgID+"/nope"), nil).errorIs(t, http.StatusNotFound, "not_found")
	})
	t.Run("404 unescaped file_key", func(t *testing.T) {
		// The key holds a slash; the SDKs path-escape it.
		a := w.api(t, http.MethodPost, "/api/v1/files", enc).json(t)
		w.api(t, http.MethodPost, "/api/v1/files/"+a["file_key"].(string)+"/complete", nil).errorIs(t, http.StatusNotFound, "not_found")
		w.api(t, http.MethodPost, completePath(a["file_key"].(string)), nil).errorIs(t, http.StatusConflict, "upload_incomplete")
	})
	t.Run("404 another organization's upload", func(t *testing.T) {
		created := w.do(t, http.MethodPost, w2.URL+"/api/v1/files", "Bearer "+w.key.Secret,
			strings.NewReader(`{"ciphertext_size":100}`), nil).json(t)
		w.do(t, http.MethodPost, w2.URL+completePath(created["file_key"].(string)), "Bearer "+other.Secret, nil, nil).
			errorIs(t, http.StatusNotFound, "not_found")
	})
	t.Run("404 the other flow's endpoint", func(t *testing.T) {
		a := w.api(t, http.MethodPost, "/api/v1/files", enc).json(t)
		w.api(t, http.MethodGet, statusPath(a["file_key"].(string)), nil).errorIs(t, http.StatusNotFound, "not_found")
	})
	t.Run("404 unknown endpoint", func(t *testing.T) {
		w.api(t, http.MethodGet, "/api/v1/nothing", nil).errorIs(t, http.StatusNotFound, "not_found")
	})
	t.Run("400 complete with a body", func(t *testing.T) {
		a := w.api(t, http.MethodPost, "/api/v1/files", enc).json(t)
		w.api(t, http.MethodPost, completePath(a["file_key"].(string)), map[string]any{"x": 1}).errorIs(t, http.StatusBadRequest, "invalid_request")
	})
	t.Run("410 unknown token", func(t *testing.T) {
		w.openLink(t, w.emu.URL+"/#t=emu.nothing%3D%3D").errorIs(t, http.StatusGone, "gone")
	})
	t.Run("400 download with an API key", func(t *testing.T) {
		w.do(t, http.MethodPost, w.emu.URL+"/api/download", "Bearer "+w.key.Secret, strings.NewReader(`{"t":"x"}`), nil).
			errorIs(t, http.StatusBadRequest, "invalid_request")
		reqs := w.emu.Requests()
		if last := reqs[len(reqs)-1]; !last.Authorization || !last.APIKey {
			t.Errorf("the request log did not see the key on %v", last)
		}
	})
}

func TestRateLimitWithRetryAfter(t *testing.T) {
	w := newWorld(t, func(o *konfidantemu.Options) { o.Rate = 3 })
	path := statusPath(w.key.OrgID + "/nope")
	for i := range 3 {
		w.api(t, http.MethodGet, path, nil).errorIs(t, http.StatusNotFound, "not_found")
		if i == 0 {
			w.clock.advance(10 * time.Second)
		}
	}
	a := w.api(t, http.MethodGet, path, nil)
	a.errorIs(t, http.StatusTooManyRequests, "rate_limited")
	// The first request leaves the window after 60 s less a tenth of the
	// spacing (20 s): at 58 s, 48 s from now.
	if ra := a.header.Get("Retry-After"); ra != "48" {
		t.Fatalf("Retry-After %q, want 48 (the first request leaves the window in 48 s)", ra)
	}
	// A refused request does not count; the window slides.
	w.clock.advance(47 * time.Second)
	if ra := w.api(t, http.MethodGet, path, nil).header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q one second before the window slides, want 1", ra)
	}
	w.clock.advance(time.Second)
	w.api(t, http.MethodGet, path, nil).errorIs(t, http.StatusNotFound, "not_found")
	a = w.api(t, http.MethodGet, path, nil)
	a.errorIs(t, http.StatusTooManyRequests, "rate_limited")
	if ra, _ := strconv.Atoi(a.header.Get("Retry-After")); ra != 10 {
		t.Fatalf("Retry-After %d, want 10", ra)
	}
	// Bad keys are refused before they are counted, and the limit is per key.
	w.apiAs(t, "Bearer kfd_wrong", http.MethodGet, path, nil).errorIs(t, http.StatusUnauthorized, "unauthorized")
}

func TestRateLimitIsPerKey(t *testing.T) {
	w := newWorld(t, func(o *konfidantemu.Options) { o.Rate = 1 })
	path := statusPath("x/y")
	second := konfidantemu.NewKey()
	w.apiAs(t, "Bearer "+second.Secret, http.MethodGet, path, nil).errorIs(t, http.StatusUnauthorized, "unauthorized")
	if err := w.emu.AddKey(second); err != nil {
		t.Fatal(err)
	}
	w.api(t, http.MethodGet, path, nil).errorIs(t, http.StatusNotFound, "not_found")
	w.api(t, http.MethodGet, path, nil).errorIs(t, http.StatusTooManyRequests, "rate_limited")
	w.apiAs(t, "Bearer "+second.Secret, http.MethodGet, path, nil).errorIs(t, http.StatusNotFound, "not_found")
}

func TestLinkExpires(t *testing.T) {
	w := newWorld(t, nil)
	body := []byte("expiring")
	slot := w.api(t, http.MethodPost, "/api/v1/files", map[string]any{"ciphertext_size": len(body), "ttl_hours": 1}).json(t)
	if p := w.put(t, slot["upload_url"].(string), stringMap(t, slot["upload_headers"]), body); p.status != http.StatusOK {
		t.Fatalf("PUT: %d", p.status)
	}
	link := w.api(t, http.MethodPost, completePath(slot["file_key"].(string)), nil).json(t)["download_url"].(string)
	w.clock.advance(time.Hour + time.Second)
	w.openLink(t, link).errorIs(t, http.StatusGone, "gone")
}

func TestRateWindow(t *testing.T) {
	w := newWorld(t, func(o *konfidantemu.Options) {
		o.Rate = 2
		o.RateWindow = 10 * time.Second
	})
	path := statusPath("x/y")
	w.api(t, http.MethodGet, path, nil)
	w.clock.advance(3 * time.Second)
	w.api(t, http.MethodGet, path, nil)
	a := w.api(t, http.MethodGet, path, nil)
	m := a.errorIs(t, http.StatusTooManyRequests, "rate_limited")
	if a.header.Get("Retry-After") != "7" || !strings.Contains(m["message"].(string), "2 requests per 10s") {
		t.Fatalf("Retry-After %q, message %q", a.header.Get("Retry-After"), m["message"])
	}
	reqs := w.emu.Requests()
	if got := reqs[1].At.Sub(reqs[0].At); got != 3*time.Second {
		t.Errorf("the log's times are %v apart, want the clock's 3s", got)
	}
	w.clock.advance(7 * time.Second)
	w.api(t, http.MethodGet, path, nil).errorIs(t, http.StatusNotFound, "not_found")
}

// shareBytes makes a completed encrypted share of body and returns its link.
func (w *world) shareBytes(t *testing.T, body []byte) string {
	t.Helper()
	slot := w.api(t, http.MethodPost, "/api/v1/files", map[string]any{"ciphertext_size": len(body)}).json(t)
	if p := w.put(t, slot["upload_url"].(string), stringMap(t, slot["upload_headers"]), body); p.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", p.status, p.body)
	}
	a := w.api(t, http.MethodPost, completePath(slot["file_key"].(string)), nil)
	if a.status != http.StatusCreated {
		t.Fatalf("complete: %d %s", a.status, a.body)
	}
	return a.json(t)["download_url"].(string)
}

func TestListShares(t *testing.T) {
	w := newWorld(t, nil)
	first := w.shareBytes(t, []byte("first"))
	w.clock.advance(time.Second)
	w.shareBytes(t, []byte("second, longer"))
	if got := w.openLink(t, first); got.status != http.StatusOK {
		t.Fatalf("download: %d", got.status)
	}

	list := func(query string) map[string]any {
		t.Helper()
		a := w.api(t, http.MethodGet, "/api/v1/shares"+query, nil)
		if a.status != http.StatusOK {
			t.Fatalf("list %q: %d %s", query, a.status, a.body)
		}
		return a.json(t)
	}
	all := list("")
	shares := all["shares"].([]any)
	if len(shares) != 2 || all["pagination"].(map[string]any)["total"] != float64(2) {
		t.Fatalf("list: %v", all)
	}
	newest := shares[0].(map[string]any)
	if newest["file_size_bytes"] != float64(len("second, longer")) || newest["accessed_at"] != nil ||
		newest["type"] != "file" || newest["created_by"] != w.key.UserID {
		t.Errorf("newest share %v", newest)
	}
	if _, named := newest["file_name"]; named {
		t.Error("the list names a file: names are encrypted")
	}
	accessed := list("?status=accessed")["shares"].([]any)
	if len(accessed) != 1 || accessed[0].(map[string]any)["accessed_at"] == nil {
		t.Errorf("accessed shares %v", accessed)
	}
	if n := len(list("?status=active")["shares"].([]any)); n != 1 {
		t.Errorf("%d active shares, want 1", n)
	}
	if n := len(list("?type=text")["shares"].([]any)); n != 0 {
		t.Errorf("%d text shares, want 0", n)
	}
	page := list("?limit=1&offset=1")
	p := page["pagination"].(map[string]any)
	if len(page["shares"].([]any)) != 1 || p["has_more"] != false || p["offset"] != float64(1) {
		t.Errorf("second page %v", page)
	}
	if list("?limit=1")["pagination"].(map[string]any)["has_more"] != true {
		t.Error("first page of one says there is no more")
	}
	w.api(t, http.MethodGet, "/api/v1/shares?limit=0", nil).errorIs(t, http.StatusBadRequest, "invalid_request")
	w.api(t, http.MethodGet, "/api/v1/shares?status=gone", nil).errorIs(t, http.StatusBadRequest, "invalid_request")

	uploadOnly := konfidantemu.NewKey(konfidantemu.ScopeFilesCreate)
	other := konfidantemu.NewKey()
	for _, k := range []konfidantemu.Key{uploadOnly, other} {
		if err := w.emu.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	w.apiAs(t, "Bearer "+uploadOnly.Secret, http.MethodGet, "/api/v1/shares", nil).errorIs(t, http.StatusForbidden, "insufficient_scope")
	if a := w.apiAs(t, "Bearer "+other.Secret, http.MethodGet, "/api/v1/shares", nil); a.status != http.StatusOK ||
		len(a.json(t)["shares"].([]any)) != 0 {
		t.Errorf("another organization sees %s", a.body)
	}
}

// The recorder is what proves no upload carried the key: it must see one
// that does, in a header or in the URL.
func TestRecorderSeesALeakedKey(t *testing.T) {
	w := newWorld(t, nil)
	slot := w.api(t, http.MethodPost, "/api/v1/files", map[string]any{"ciphertext_size": 3}).json(t)
	uploadURL := slot["upload_url"].(string)
	h := stringMap(t, slot["upload_headers"])
	h["Authorization"] = "Bearer " + w.key.Secret
	w.put(t, uploadURL, h, []byte("abc"))
	delete(h, "Authorization")
	w.put(t, uploadURL+"&api_key="+url.QueryEscape(w.key.Secret), h, []byte("abc"))
	w.put(t, uploadURL, h, []byte("abc"))
	if n := w.rec.Carrying(w.key.Secret); n != 2 {
		t.Errorf("the recorder saw the key in %d requests, want 2", n)
	}
	reqs := w.rec.Requests()
	if len(reqs) != 3 || !reqs[0].Authorization || reqs[1].Authorization || reqs[2].Status != http.StatusOK {
		t.Errorf("recorded %v", reqs)
	}
}
