package source

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hoist/uploader"
)

// fakeCompanion speaks Companion's S3 protocol (as its controllers/s3.js
// does) and hands out URLs to fakeStore, which checks what reaches it.
type fakeCompanion struct {
	t     *testing.T
	srv   *httptest.Server
	store *fakeStore
	base  string // the path Companion is mounted under ("" or "/companion")

	// putParams makes /s3/params answer a PUT with headers, as a custom
	// server may, instead of Companion's POST form.
	putParams bool

	mu       sync.Mutex
	calls    []fakeCall
	failures []fakeFailure
	nextID   int
}

type fakeCall struct {
	Method, Path, RawQuery, Auth string
	Body                         []byte
}

// fakeFailure answers the next Times requests to Route (method and path
// after the base, e.g. "GET /s3/params") with Status, Header and Body.
type fakeFailure struct {
	Route  string
	Times  int
	Status int
	Header http.Header
	Body   string
}

// fakeKeyPrefix stands for the UUID standalone Companion puts before file names.
const fakeKeyPrefix = "0f8fad5b-d9cb-469f-a165-70867728950e-"

// fakeUploadID needs escaping in a path: the source must escape it.
const fakeUploadID = "up/1+2 x"

func newFakeCompanion(t *testing.T, base string) *fakeCompanion {
	t.Helper()
	f := &fakeCompanion{t: t, store: newFakeStore(t), base: base}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /s3/params", f.params)
	mux.HandleFunc("POST /s3/multipart", f.create)
	mux.HandleFunc("GET /s3/multipart/{id}/batch", f.batch)
	mux.HandleFunc("GET /s3/multipart/{id}", f.list)
	mux.HandleFunc("POST /s3/multipart/{id}/complete", f.complete)
	mux.HandleFunc("DELETE /s3/multipart/{id}", f.abort)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		route, ok := strings.CutPrefix(r.URL.EscapedPath(), f.base)
		f.mu.Lock()
		f.calls = append(f.calls, fakeCall{Method: r.Method, Path: route, RawQuery: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Body: body})
		for i := range f.failures {
			fl := &f.failures[i]
			if fl.Times > 0 && fl.Route == r.Method+" "+route {
				fl.Times--
				f.mu.Unlock()
				maps.Copy(w.Header(), fl.Header)
				w.WriteHeader(fl.Status)
				_, _ = io.WriteString(w, fl.Body)
				return
			}
		}
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, f.base)
		r2.URL.RawPath = ""
		if r.URL.RawPath != "" {
			r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, f.base)
		}
		mux.ServeHTTP(w, r2)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// endpoint is the URL hoist is given: Companion's base.
func (f *fakeCompanion) endpoint() string { return f.srv.URL + f.base + "/" }

func (f *fakeCompanion) fail(fl fakeFailure) {
	f.mu.Lock()
	f.failures = append(f.failures, fl)
	f.mu.Unlock()
}

func (f *fakeCompanion) callsTo(route string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Method+" "+c.Path == route || (strings.HasSuffix(route, "*") && strings.HasPrefix(c.Method+" "+c.Path, strings.TrimSuffix(route, "*"))) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeCompanion) allCalls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// metadataOf reads metadata[k]=v from a query, as Express's qs parser does.
func metadataOf(q url.Values) map[string]string {
	md := map[string]string{}
	for k, vs := range q {
		if name, ok := strings.CutPrefix(k, "metadata["); ok && strings.HasSuffix(name, "]") {
			md[strings.TrimSuffix(name, "]")] = vs[0]
		}
	}
	return md
}

// fakeSignature stands for a signature: tests check it never shows.
const fakeSignature = "f4k3519n4tur3f4k3519n4tur3f4k3519n4tur3f4k3519n4tur3f4k3519n4tu"

func (f *fakeCompanion) params(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filename := q.Get("filename")
	if filename == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `s3: the "filename" query parameter is required and must be a non-empty string`})
		return
	}
	key := fakeKeyPrefix + filename
	md := metadataOf(q)
	if f.putParams {
		h := map[string]string{"content-type": q.Get("type")}
		for k, v := range md {
			h["x-amz-meta-"+k] = v
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"method":  "PUT",
			"url":     f.store.objectURL(key, url.Values{"X-Amz-Signature": {fakeSignature}, "x-amz-checksum-crc32": {"AAAAAA=="}}),
			"headers": h,
		})
		return
	}
	// Written by hand to keep the order createPresignedPost gives.
	var b bytes.Buffer
	field := func(name, value string) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		n, _ := json.Marshal(name)
		v, _ := json.Marshal(value)
		b.Write(n)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('{')
	field("success_action_status", "201")
	field("content-type", q.Get("type"))
	for _, k := range slices.Sorted(maps.Keys(md)) {
		field("x-amz-meta-"+k, md[k])
	}
	field("bucket", "uploads")
	field("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	field("X-Amz-Credential", "AKIAFAKEFAKEFAKE/20260101/auto/s3/aws4_request")
	field("X-Amz-Date", "20260101T000000Z")
	field("key", key)
	field("Policy", "eyJmYWtlIjoicG9saWN5In0=")
	field("X-Amz-Signature", fakeSignature)
	b.WriteByte('}')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, `{"method":"POST","url":%q,"fields":%s,"expires":800}`, f.store.srv.URL+"/uploads", b.String())
}

func (f *fakeCompanion) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Filename string            `json:"filename"`
		Type     *string           `json:"type"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Filename == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `s3: the "filename" field is required and must be a non-empty string`})
		return
	}
	if in.Type == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "s3: content type must be a string"})
		return
	}
	key := fakeKeyPrefix + in.Filename
	f.mu.Lock()
	f.nextID++
	id := fakeUploadID
	if f.nextID > 1 {
		id += strconv.Itoa(f.nextID)
	}
	f.mu.Unlock()
	f.store.begin(id, key, in.Metadata)
	writeJSON(w, http.StatusOK, map[string]string{"key": key, "uploadId": id, "bucket": "uploads"})
}

func (f *fakeCompanion) batch(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.URL.Query().Get("key")
	numbers := r.URL.Query().Get("partNumbers")
	if key == "" || numbers == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "s3: the object key must be passed as a query parameter"})
		return
	}
	urls := map[string]string{}
	for n := range strings.SplitSeq(numbers, ",") {
		q := url.Values{
			"partNumber": {n}, "uploadId": {id},
			"X-Amz-Algorithm": {"AWS4-HMAC-SHA256"}, "X-Amz-Date": {time.Now().UTC().Format("20060102T150405Z")},
			"X-Amz-Expires": {"800"}, "X-Amz-SignedHeaders": {"host"}, "X-Amz-Signature": {fakeSignature},
			"x-amz-checksum-crc32": {"AAAAAA=="}, "x-amz-sdk-checksum-algorithm": {"CRC32"}, "x-id": {"UploadPart"},
		}
		urls[n] = f.store.objectURL(key, q)
	}
	writeJSON(w, http.StatusOK, map[string]any{"presignedUrls": urls})
}

func (f *fakeCompanion) list(w http.ResponseWriter, r *http.Request) {
	parts, ok := f.store.parts(r.PathValue("id"))
	if !ok {
		f.noSuchUpload(w)
		return
	}
	writeJSON(w, http.StatusOK, parts)
}

// noSuchUpload is how Companion (outside production) passes S3's error on.
func (f *fakeCompanion) noSuchUpload(w http.ResponseWriter) {
	writeJSON(w, http.StatusInternalServerError, map[string]any{
		"message":   "The specified multipart upload does not exist.",
		"error":     map[string]any{"name": "NoSuchUpload", "Code": "NoSuchUpload", "$fault": "client"},
		"requestId": "req-42",
	})
}

func (f *fakeCompanion) complete(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Parts []struct {
			PartNumber *int    `json:"PartNumber"`
			ETag       *string `json:"ETag"`
		} `json:"parts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "s3: `parts` must be an array of {ETag, PartNumber} objects."})
		return
	}
	var numbers []int
	etags := map[int]string{}
	for _, p := range in.Parts {
		if p.PartNumber == nil || p.ETag == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "s3: `parts` must be an array of {ETag, PartNumber} objects."})
			return
		}
		numbers = append(numbers, *p.PartNumber)
		etags[*p.PartNumber] = *p.ETag
	}
	key, err := f.store.finish(r.PathValue("id"), numbers, etags)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": err.Error(), "error": map[string]string{"Code": "InvalidPart"}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"location": f.store.srv.URL + "/uploads/" + key, "key": key, "bucket": "uploads"})
}

func (f *fakeCompanion) abort(w http.ResponseWriter, r *http.Request) {
	if !f.store.drop(r.PathValue("id")) {
		f.noSuchUpload(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

// fakeStore is the S3 side: a presigned POST form, single PUTs and part
// PUTs, each checked for what hoist must get right.
type fakeStore struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	objects  map[string]fakeObject
	uploads  map[string]*fakeUpload
	requests []fakeStoreRequest
}

type fakeObject struct {
	Body []byte
	Meta map[string]string
}

type fakeUpload struct {
	key   string
	meta  map[string]string
	parts map[int][]byte
}

type fakeStoreRequest struct {
	Method        string
	Auth          string
	ContentLength int64
	Chunked       bool
	FormFields    []string // a POST form's part names, in order
	Error         string   // what the store refused, if anything
}

func newFakeStore(t *testing.T) *fakeStore {
	s := &fakeStore{t: t, objects: map[string]fakeObject{}, uploads: map[string]*fakeUpload{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fakeStore) objectURL(key string, q url.Values) string {
	u := url.URL{Path: "/uploads/" + key}
	return s.srv.URL + u.EscapedPath() + "?" + q.Encode()
}

func (s *fakeStore) serve(w http.ResponseWriter, r *http.Request) {
	rec := fakeStoreRequest{Method: r.Method, Auth: r.Header.Get("Authorization"), ContentLength: r.ContentLength,
		Chunked: slices.Contains(r.TransferEncoding, "chunked")}
	status, etag := s.handle(r, &rec)
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	if rec.Error != "" {
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>InvalidRequest</Code><Message>%s</Message></Error>", rec.Error)
		return
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(status)
}

func (s *fakeStore) handle(r *http.Request, rec *fakeStoreRequest) (int, string) {
	if r.ContentLength < 0 || rec.Chunked {
		rec.Error = "chunked body"
		return http.StatusLengthRequired, ""
	}
	key := strings.TrimPrefix(r.URL.Path, "/uploads/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/uploads":
		return s.postForm(r, rec)
	case r.Method == http.MethodPut && r.URL.Query().Has("partNumber"):
		body, err := io.ReadAll(r.Body)
		if err != nil || int64(len(body)) != r.ContentLength {
			rec.Error = "short body"
			return http.StatusBadRequest, ""
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("partNumber"))
		s.mu.Lock()
		defer s.mu.Unlock()
		u := s.uploads[r.URL.Query().Get("uploadId")]
		if u == nil || u.key != key {
			rec.Error = "no such upload"
			return http.StatusNotFound, ""
		}
		u.parts[n] = body
		return http.StatusOK, md5ETag(body)
	case r.Method == http.MethodPut:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			rec.Error = "short body"
			return http.StatusBadRequest, ""
		}
		meta := map[string]string{}
		for k := range r.Header {
			if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok {
				meta["x-amz-meta-"+name] = r.Header.Get(k)
			}
		}
		s.mu.Lock()
		s.objects[key] = fakeObject{Body: body, Meta: meta}
		s.mu.Unlock()
		return http.StatusOK, md5ETag(body)
	}
	rec.Error = "unexpected request"
	return http.StatusBadRequest, ""
}

// postForm takes a presigned POST as S3 does: fields, then the file, which
// must be the last part.
func (s *fakeStore) postForm(r *http.Request, rec *fakeStoreRequest) (int, string) {
	mr, err := r.MultipartReader()
	if err != nil {
		rec.Error = "not multipart/form-data"
		return http.StatusBadRequest, ""
	}
	fields := map[string]string{}
	var body []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			rec.Error = "malformed form"
			return http.StatusBadRequest, ""
		}
		rec.FormFields = append(rec.FormFields, p.FormName())
		b, _ := io.ReadAll(p)
		if body != nil {
			rec.Error = "a field after the file"
			return http.StatusBadRequest, ""
		}
		if p.FormName() == "file" {
			body = b
			continue
		}
		fields[p.FormName()] = string(b)
	}
	if body == nil {
		rec.Error = "no file"
		return http.StatusBadRequest, ""
	}
	if fields["X-Amz-Signature"] != fakeSignature || fields["Policy"] == "" || fields["key"] == "" {
		rec.Error = "the form's signature fields are missing or changed"
		return http.StatusForbidden, ""
	}
	meta := map[string]string{}
	for k, v := range fields {
		if strings.HasPrefix(k, "x-amz-meta-") {
			meta[k] = v
		}
	}
	s.mu.Lock()
	s.objects[fields["key"]] = fakeObject{Body: body, Meta: meta}
	s.mu.Unlock()
	return http.StatusCreated, md5ETag(body)
}

func md5ETag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (s *fakeStore) begin(id, key string, meta map[string]string) {
	m := map[string]string{}
	for k, v := range meta {
		m["x-amz-meta-"+k] = v
	}
	s.mu.Lock()
	s.uploads[id] = &fakeUpload{key: key, meta: m, parts: map[int][]byte{}}
	s.mu.Unlock()
}

type listedPart struct {
	PartNumber int
	Size       int64
	ETag       string
}

func (s *fakeStore) parts(id string) ([]listedPart, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	if u == nil {
		return nil, false
	}
	var out []listedPart
	for n, b := range u.parts {
		out = append(out, listedPart{PartNumber: n, Size: int64(len(b)), ETag: md5ETag(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PartNumber < out[j].PartNumber })
	return out, true
}

func (s *fakeStore) finish(id string, numbers []int, etags map[int]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	if u == nil {
		return "", errors.New("no such upload")
	}
	if !slices.IsSorted(numbers) || len(numbers) != len(u.parts) {
		return "", fmt.Errorf("parts %v are not the %d uploaded, in order", numbers, len(u.parts))
	}
	var body []byte
	for _, n := range numbers {
		b := u.parts[n]
		if strings.Trim(etags[n], `"`) != strings.Trim(md5ETag(b), `"`) {
			return "", fmt.Errorf("part %d: ETag %s does not match", n, etags[n])
		}
		body = append(body, b...)
	}
	s.objects[u.key] = fakeObject{Body: body, Meta: u.meta}
	delete(s.uploads, id)
	return u.key, nil
}

func (s *fakeStore) drop(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.uploads[id]
	delete(s.uploads, id)
	return ok
}

func (s *fakeStore) object(key string) (fakeObject, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	return o, ok
}

func (s *fakeStore) seen() []fakeStoreRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

const fakeToken = "s3cr3t-b3ar3r-t0k3n"

func newTestCompanion(t *testing.T, f *fakeCompanion) *Companion {
	t.Helper()
	src, err := NewCompanion(CompanionConfig{Endpoint: f.endpoint(), Token: fakeToken, Multipart: true})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestNewCompanionChecksEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, token string
		want                  string // "" means accepted; else a part of the error
	}{
		{"https", "https://companion.example/", fakeToken, ""},
		{"https with a path", "https://example.com/companion", fakeToken, ""},
		{"http to loopback", "http://127.0.0.1:3020/", fakeToken, ""},
		{"http to localhost", "http://localhost:3020", fakeToken, ""},
		{"http to ::1", "http://[::1]:3020/", fakeToken, ""},
		{"http without a token", "http://companion.internal:3020/", "", ""},
		{"http with a token", "http://companion.example/", fakeToken, "plain http to companion.example"},
		{"empty", "  ", "", "is empty"},
		{"no scheme", "companion.example", "", "not an http(s) URL"},
		{"ftp", "ftp://companion.example/", "", "not an http(s) URL"},
		{"no host", "https:///s3", "", "not an http(s) URL"},
		{"user info", "https://me:hunter2@companion.example/", "", "user name or password"},
		{"query", "https://companion.example/?token=hunter2", "", "query or fragment"},
		{"fragment", "https://companion.example/#hunter2", "", "query or fragment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewCompanion(CompanionConfig{Endpoint: tc.endpoint, Token: tc.token})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; Describe %q", src.Describe())
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			for _, secret := range []string{"hunter2", fakeToken} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows the secret %q", msg, secret)
				}
			}
		})
	}
}

func TestCompanionDescribeAndCapabilities(t *testing.T) {
	for endpoint, want := range map[string]string{
		"https://companion.example":             "https://companion.example/",
		"https://companion.example/":            "https://companion.example/",
		"https://example.com:8443/companion/":   "https://example.com:8443/companion/",
		" http://127.0.0.1:3020/a%20b/ ":        "http://127.0.0.1:3020/a%20b/",
		"https://example.com/companion?":        "", // refused: a query, even an empty one
		"https://example.com/companion/#anchor": "",
	} {
		src, err := NewCompanion(CompanionConfig{Endpoint: endpoint, Token: fakeToken, Multipart: true})
		if want == "" {
			if err == nil {
				t.Errorf("%q accepted", endpoint)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", endpoint, err)
			continue
		}
		if got := src.Describe(); got != want {
			t.Errorf("Describe of %q = %q, want %q", endpoint, got, want)
		}
	}
	src, err := NewCompanion(CompanionConfig{Endpoint: "https://companion.example/", Token: fakeToken, Multipart: true})
	if err != nil {
		t.Fatal(err)
	}
	want := uploader.Capabilities{Resign: true, Multipart: true, MaxSinglePut: 5 << 30}
	if got := src.Capabilities(); got != want {
		t.Errorf("Capabilities = %+v, want %+v", got, want)
	}
	if src.WantsChecksum(uploader.File{Size: 10}) {
		t.Error("WantsChecksum is true; Companion signs no checksum")
	}
	single, _ := NewCompanion(CompanionConfig{Endpoint: "https://companion.example/"})
	if single.Capabilities().Multipart {
		t.Error("Multipart offered when the config says no")
	}
}

func TestCompanionTargetIsCompanionsPostForm(t *testing.T) {
	f := newFakeCompanion(t, "/companion")
	src := newTestCompanion(t, f)
	before := time.Now()
	file := uploader.File{Path: "/tmp/x/a b&c+d.bin", Name: "x/a b&c+d.bin", Key: "x/a b&c+d.bin", Size: 5}
	tg, err := src.Target(context.Background(), file, testMeta)
	if err != nil {
		t.Fatal(err)
	}

	calls := f.callsTo("GET /s3/params")
	if len(calls) != 1 {
		t.Fatalf("%d calls to /s3/params, want 1", len(calls))
	}
	if calls[0].Auth != "Bearer "+fakeToken {
		t.Errorf("Authorization %q, want the bearer token", calls[0].Auth)
	}
	q, _ := url.ParseQuery(calls[0].RawQuery)
	wantQuery := url.Values{
		"filename": {"x/a b&c+d.bin"}, "type": {"application/octet-stream"},
		"metadata[organization-id]": {"org-42"}, "metadata[user-id]": {"user-7"}, "metadata[ttl-hours]": {"48"},
	}
	if !maps.EqualFunc(q, wantQuery, slices.Equal) {
		t.Errorf("query %v, want %v", q, wantQuery)
	}

	if tg.Method != http.MethodPost || tg.URL != f.store.srv.URL+"/uploads" || tg.SendToken {
		t.Errorf("target %s %s SendToken=%v, want POST %s/uploads without the token", tg.Method, tg.URL, tg.SendToken, f.store.srv.URL)
	}
	if want := fakeKeyPrefix + "x/a b&c+d.bin"; tg.Key != want {
		t.Errorf("Key %q, want Companion's %q", tg.Key, want)
	}
	var names []string
	for _, field := range tg.Form {
		names = append(names, field.Name)
	}
	wantNames := []string{"success_action_status", "content-type", "x-amz-meta-organization-id", "x-amz-meta-ttl-hours",
		"x-amz-meta-user-id", "bucket", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "key", "Policy", "X-Amz-Signature"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("form fields %v, want Companion's order %v", names, wantNames)
	}
	if v := (formFields(tg.Form)).get("x-amz-meta-ttl-hours"); v != "48" {
		t.Errorf("x-amz-meta-ttl-hours field %q, want 48", v)
	}
	if tg.Expires.Before(before.Add(799*time.Second)) || tg.Expires.After(time.Now().Add(800*time.Second)) {
		t.Errorf("Expires %v, want 800s after the request", tg.Expires)
	}
	if len(tg.Header) != 0 {
		t.Errorf("headers %v on a POST form; the form carries everything", tg.Header)
	}
}

func TestCompanionTargetAcceptsPutAnswer(t *testing.T) {
	f := newFakeCompanion(t, "")
	f.putParams = true
	src := newTestCompanion(t, f)
	tg, err := src.Target(context.Background(), uploader.File{Path: "/tmp/r.bin", Name: "r.bin", Key: "r.bin", Size: 3}, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Method != http.MethodPut || tg.Form != nil || tg.SendToken {
		t.Errorf("target %s, form %v, SendToken %v; want a PUT without form or token", tg.Method, tg.Form, tg.SendToken)
	}
	if got := tg.Header.Get("X-Amz-Meta-User-Id"); got != "user-7" {
		t.Errorf("x-amz-meta-user-id header %q, want user-7", got)
	}
	if tg.Key != fakeKeyPrefix+"r.bin" || tg.PinnedCRC32 != "AAAAAA==" {
		t.Errorf("Key %q PinnedCRC32 %q, want the URL's key and pinned checksum", tg.Key, tg.PinnedCRC32)
	}
}

func TestCompanionMultipartFollowsTheProtocol(t *testing.T) {
	f := newFakeCompanion(t, "")
	src := newTestCompanion(t, f)
	ctx := context.Background()
	file := uploader.File{Path: "/tmp/v/big file.bin", Name: "v/big file.bin", Key: "v/big file.bin", Size: 11}

	u, err := src.CreateMultipart(ctx, file, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if u.Key != fakeKeyPrefix+"v/big file.bin" || u.UploadID != fakeUploadID {
		t.Fatalf("upload %+v, want Companion's key and id", u)
	}
	var created struct {
		Filename string            `json:"filename"`
		Type     string            `json:"type"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(f.callsTo("POST /s3/multipart")[0].Body, &created); err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{"organization-id": "org-42", "user-id": "user-7", "ttl-hours": "48"}
	if created.Filename != "v/big file.bin" || created.Type != "application/octet-stream" || !maps.Equal(created.Metadata, wantMeta) {
		t.Errorf("create body %+v, want filename, type and metadata %v", created, wantMeta)
	}

	bodies := [][]byte{[]byte("hello "), []byte("world")}
	var parts []uploader.Part
	for i, b := range bodies {
		tg, err := src.PartTarget(ctx, u, i+1, int64(len(b)), 0)
		if err != nil {
			t.Fatal(err)
		}
		if tg.Method != http.MethodPut || tg.SendToken || tg.Key != u.Key || tg.PinnedCRC32 != "AAAAAA==" {
			t.Errorf("part %d target %s SendToken=%v Key=%q Pinned=%q", i+1, tg.Method, tg.SendToken, tg.Key, tg.PinnedCRC32)
		}
		if d := time.Until(tg.Expires); d < 790*time.Second || d > 800*time.Second {
			t.Errorf("part %d expires in %v, want about 800s (from the URL)", i+1, d)
		}
		parts = append(parts, uploader.Part{Number: i + 1, Size: int64(len(b)), ETag: putSection(t, tg, bytes.NewReader(b), int64(len(b)))})
	}
	batch := f.callsTo("GET /s3/multipart/*")
	if len(batch) != 2 || batch[0].Path != "/s3/multipart/up%2F1+2%20x/batch" {
		t.Fatalf("batch calls %+v, want two to /s3/multipart/up%%2F1+2%%20x/batch", batch)
	}
	if q, _ := url.ParseQuery(batch[1].RawQuery); q.Get("key") != u.Key || q.Get("partNumbers") != "2" {
		t.Errorf("batch query %v, want key=%q partNumbers=2", q, u.Key)
	}

	listed, err := src.ListParts(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[1].Number != 2 || listed[1].Size != 5 || listed[1].ETag != parts[1].ETag {
		t.Errorf("listed %+v, want the two parts sent", listed)
	}

	slices.Reverse(parts)
	etag, err := src.CompleteMultipart(ctx, u, parts)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		t.Errorf("ETag %q; Companion's answer has none", etag)
	}
	obj, ok := f.store.object(u.Key)
	if !ok || string(obj.Body) != "hello world" || !maps.Equal(obj.Meta, testMeta.Values()) {
		t.Errorf("object %q meta %v, want %q with %v", obj.Body, obj.Meta, "hello world", testMeta.Values())
	}

	u2, err := src.CreateMultipart(ctx, file, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.AbortMultipart(ctx, u2); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.store.parts(u2.UploadID); ok {
		t.Error("the aborted upload is still there")
	}
	for _, c := range f.allCalls() {
		if c.Auth != "Bearer "+fakeToken {
			t.Errorf("%s %s went without the bearer token", c.Method, c.Path)
		}
	}
	for _, r := range f.store.seen() {
		if r.Auth != "" {
			t.Errorf("the store got Authorization %q on a %s", r.Auth, r.Method)
		}
	}
}

func TestCompanionErrorsAreOneLine(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html"}}
	for _, tc := range []struct {
		name    string
		failure fakeFailure
		call    func(*Companion) error
		want    []string
	}{
		{
			name:    "error body",
			failure: fakeFailure{Route: "GET /s3/params", Status: 400, Body: `{"error":"s3: the \"filename\" query parameter is required"}`},
			want:    []string{"GET BASE/s3/params", "400", `s3: the "filename" query parameter is required`},
		},
		{
			name:    "no S3 on this Companion",
			failure: fakeFailure{Route: "GET /s3/params", Status: 400, Body: `{"error":"This Companion server does not support uploading to S3"}`},
			want:    []string{"does not support uploading to S3", "set COMPANION_AWS_BUCKET"},
		},
		{
			name:    "S3 error passed on",
			failure: fakeFailure{Route: "POST /s3/multipart", Status: 500, Body: `{"message":"The specified bucket does not exist","error":{"name":"NoSuchBucket","Code":"NoSuchBucket"},"requestId":"r-9"}`},
			call: func(c *Companion) error {
				_, err := c.CreateMultipart(context.Background(), uploader.File{Key: "a"}, testMeta)
				return err
			},
			want: []string{"POST BASE/s3/multipart", "500 NoSuchBucket", "bucket does not exist", "request id r-9", "COMPANION_AWS_BUCKET"},
		},
		{
			name:    "production error",
			failure: fakeFailure{Route: "GET /s3/params", Status: 500, Body: `{"message":"Something went wrong","requestId":"r-7"}`},
			want:    []string{"500 Internal Server Error: Something went wrong", "request id r-7", "Companion's log"},
		},
		{
			name:    "proxy page",
			failure: fakeFailure{Route: "GET /s3/params", Times: 3, Status: 502, Header: html, Body: "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>"},
			want:    []string{"502 Bad Gateway", "Companion's log"},
		},
		{
			name:    "not JSON",
			failure: fakeFailure{Route: "GET /s3/params", Status: 200, Header: html, Body: "<html><body>Welcome</body></html>"},
			want:    []string{"answered 200 with text/html, not JSON", "Companion's base URL"},
		},
		{
			name:    "token refused and echoed",
			failure: fakeFailure{Route: "GET /s3/params", Status: 401, Body: `{"error":"token ` + fakeToken + ` is not valid"}`},
			want:    []string{"401", "token [REDACTED] is not valid", "HOIST_TOKEN"},
		},
		{
			name:    "redirect",
			failure: fakeFailure{Route: "GET /s3/params", Status: 302, Header: http.Header{"Location": {"https://elsewhere.example/s3/params?x=1"}}},
			want:    []string{"redirected to elsewhere.example (302)", "use that address as --presign-url"},
		},
		{
			name:    "not found",
			failure: fakeFailure{Route: "GET /s3/params", Status: 404, Body: `{"message":"Not Found"}`},
			want:    []string{"404 Not Found;", "the part before /s3/"},
		},
		{
			name:    "no upload URL",
			failure: fakeFailure{Route: "GET /s3/params", Status: 200, Body: `{"method":"POST","fields":{"key":"k"}}`},
			want:    []string{"an upload URL that is missing"},
		},
		{
			name:    "upload gone",
			failure: fakeFailure{Route: "GET /s3/multipart/gone", Status: 500, Body: `{"message":"The specified multipart upload does not exist.","error":{"Code":"NoSuchUpload"}}`},
			call: func(c *Companion) error {
				_, err := c.ListParts(context.Background(), uploader.Upload{Key: "k", UploadID: "gone"})
				return err
			},
			want: []string{"GET BASE/s3/multipart/gone:", "NoSuchUpload", "upload the file again"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCompanion(t, "/c")
			if tc.failure.Times == 0 {
				tc.failure.Times = 1
			}
			f.fail(tc.failure)
			src := newTestCompanion(t, f)
			call := tc.call
			if call == nil {
				call = func(c *Companion) error {
					_, err := c.Target(context.Background(), uploader.File{Key: "a.txt", Size: 1}, testMeta)
					return err
				}
			}
			err := call(src)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "BASE", f.srv.URL+"/c")
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			checkCompanionErrorLine(t, err)
		})
	}

	t.Run("no answer", func(t *testing.T) {
		f := newFakeCompanion(t, "")
		src := newTestCompanion(t, f)
		f.srv.Close()
		_, err := src.Target(context.Background(), uploader.File{Key: "a.txt", Size: 1}, testMeta)
		if err == nil || !strings.Contains(err.Error(), "no answer from Companion") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("error %v, want no answer from Companion: connection refused", err)
		}
		checkCompanionErrorLine(t, err)
	})
}

// checkCompanionErrorLine asserts err is one *CompanionError line with no
// query, token or signature in it.
func checkCompanionErrorLine(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	for _, bad := range []string{"?", fakeToken, fakeSignature, "AKIAFAKE", "Bearer"} {
		if strings.Contains(msg, bad) {
			t.Errorf("error %q shows %q", msg, bad)
		}
	}
	var ce *CompanionError
	if !errors.As(err, &ce) {
		t.Errorf("error %q is not a *CompanionError", msg)
	}
}

// Companion's answers say whether trying again can help; the engine's one
// retry policy does the trying.
func TestCompanionRetriesOnlyWhatIsSafe(t *testing.T) {
	f := newFakeCompanion(t, "")
	src := newTestCompanion(t, f)
	policy := uploader.RetryPolicy{Retries: 2, Initial: time.Millisecond, Max: time.Millisecond}
	ctx := context.Background()
	f.fail(fakeFailure{Route: "GET /s3/params", Times: 2, Status: 503, Body: "busy"})
	if err := policy.Do(ctx, func(ctx context.Context, _ int) error {
		_, err := src.Target(ctx, uploader.File{Key: "a.txt", Size: 1}, testMeta)
		return err
	}, nil); err != nil {
		t.Fatalf("two 503s then an answer: %v", err)
	}
	if n := len(f.callsTo("GET /s3/params")); n != 3 {
		t.Errorf("%d calls to /s3/params, want 3", n)
	}

	// Creating an upload is not repeated: a retry could leave an orphan
	// that Companion's protocol gives no way to find.
	f.fail(fakeFailure{Route: "POST /s3/multipart", Times: 1, Status: 503, Body: "busy"})
	err := policy.Do(ctx, func(ctx context.Context, _ int) error {
		_, err := src.CreateMultipart(ctx, uploader.File{Key: "a.txt", Size: 1}, testMeta)
		return err
	}, nil)
	if err == nil {
		t.Error("a 503 on create succeeded")
	}
	if n := len(f.callsTo("POST /s3/multipart")); n != 1 {
		t.Errorf("%d calls to create, want 1", n)
	}

	// A permanent refusal is not repeated either.
	f.fail(fakeFailure{Route: "GET /s3/params", Times: 5, Status: 400, Body: `{"error":"no"}`})
	before := len(f.callsTo("GET /s3/params"))
	if err := policy.Do(ctx, func(ctx context.Context, _ int) error {
		_, err := src.Target(ctx, uploader.File{Key: "a.txt", Size: 1}, testMeta)
		return err
	}, nil); err == nil {
		t.Error("a 400 succeeded")
	}
	if n := len(f.callsTo("GET /s3/params")) - before; n != 1 {
		t.Errorf("a 400 was sent %d times, want 1", n)
	}
}

func TestCompanionStopsWithTheContext(t *testing.T) {
	f := newFakeCompanion(t, "")
	src := newTestCompanion(t, f)
	f.fail(fakeFailure{Route: "GET /s3/params", Times: 10, Status: 503, Body: "busy"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := uploader.RetryPolicy{Retries: 10}.Do(ctx, func(ctx context.Context, _ int) error {
		_, err := src.Target(ctx, uploader.File{Key: "a.txt", Size: 1}, testMeta)
		return err
	}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v after the context ended", d)
	}
}

func TestFormFieldsKeepOrder(t *testing.T) {
	var f formFields
	if err := json.Unmarshal([]byte(`{"z":"1","a":"2","n":201,"b":true,"skip":null,"m":"x\"y"}`), &f); err != nil {
		t.Fatal(err)
	}
	want := formFields{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}, {Name: "n", Value: "201"}, {Name: "b", Value: "true"}, {Name: "m", Value: `x"y`}}
	if !slices.Equal(f, want) {
		t.Errorf("fields %v, want %v", f, want)
	}
	if err := json.Unmarshal([]byte(`{"a":{"b":"c"}}`), &f); err == nil {
		t.Error("an object as a field value was accepted")
	}
	if err := json.Unmarshal([]byte(`["a"]`), &f); err == nil {
		t.Error("an array as the fields was accepted")
	}
}

// TestCompanionThroughEngine runs the real engine against the fakes: a small
// file as Companion's POST form (fields first in Companion's order, the file
// last, an exact Content-Length), a larger one in parts, and the token only
// ever to Companion.
func TestCompanionThroughEngine(t *testing.T) {
	f := newFakeCompanion(t, "/companion")
	src := newTestCompanion(t, f)
	dir := t.TempDir()
	small := writeRandomFile(t, filepath.Join(dir, "small.bin"), 70_001)
	big := writeRandomFile(t, filepath.Join(dir, "big.bin"), 12<<20+3)
	files := []uploader.File{
		{Path: filepath.Join(dir, "small.bin"), Name: "small.bin", Key: "small.bin", Size: int64(len(small))},
		{Path: filepath.Join(dir, "big.bin"), Name: "big.bin", Key: "big.bin", Size: int64(len(big))},
	}
	results, events := runPool(t, src, uploader.Options{
		Token: fakeToken, Metadata: testMeta, Retries: 1,
		MultipartThreshold: 8 << 20, PartSize: 5 << 20,
	}, files...)
	if len(results) != 2 {
		t.Fatalf("%d results, want 2; failures: %v", len(results), failures(events))
	}
	for i, want := range [][]byte{small, big} {
		r := results[i]
		obj, ok := f.store.object(r.Key)
		if !ok || !bytes.Equal(obj.Body, want) {
			t.Errorf("%s: stored %d bytes under %q, want the %d sent", r.File, len(obj.Body), r.Key, len(want))
		}
		if !maps.Equal(obj.Meta, testMeta.Values()) {
			t.Errorf("%s: metadata %v, want %v", r.File, obj.Meta, testMeta.Values())
		}
	}
	if results[1].Parts != 3 {
		t.Errorf("the 12 MiB file went up in %d parts, want 3", results[1].Parts)
	}

	var forms int
	for _, r := range f.store.seen() {
		if r.Error != "" {
			t.Errorf("the store refused a %s: %s", r.Method, r.Error)
		}
		if r.Auth != "" {
			t.Errorf("the store got Authorization %q", r.Auth)
		}
		if r.FormFields != nil {
			forms++
			want := []string{"success_action_status", "content-type", "x-amz-meta-organization-id", "x-amz-meta-ttl-hours",
				"x-amz-meta-user-id", "bucket", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "key", "Policy", "X-Amz-Signature", "file"}
			if !slices.Equal(r.FormFields, want) {
				t.Errorf("form parts %v, want %v", r.FormFields, want)
			}
			if r.ContentLength <= int64(len(small)) || r.Chunked {
				t.Errorf("form sent with Content-Length %d (chunked %v), want the exact length of fields and file", r.ContentLength, r.Chunked)
			}
		}
	}
	if forms != 1 {
		t.Errorf("%d POST forms, want 1", forms)
	}
	for _, c := range f.allCalls() {
		if c.Auth != "Bearer "+fakeToken {
			t.Errorf("%s %s went to Companion without the token", c.Method, c.Path)
		}
	}
}

// The engine's default client is not Companion's: Companion's calls go
// through the client given in the config, when there is one.
func TestCompanionUsesTheGivenClient(t *testing.T) {
	f := newFakeCompanion(t, "")
	var used int
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used++
		return http.DefaultTransport.RoundTrip(r)
	})}
	src, err := NewCompanion(CompanionConfig{Endpoint: f.endpoint(), Token: fakeToken, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Target(context.Background(), uploader.File{Key: "a", Size: 1}, testMeta); err != nil {
		t.Fatal(err)
	}
	if used != 1 {
		t.Errorf("the given client made %d requests, want 1", used)
	}
	if client.CheckRedirect != nil {
		t.Error("NewCompanion changed the caller's client")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
