package konfidant

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI is Konfidant's API as KONFIDANT.md describes it, for these tests:
// both flows, the upload target and the one-time download on one loopback
// server. It records every request's Authorization header by route, so a
// test can assert the key went to the API routes only.
type fakeAPI struct {
	t      *testing.T
	srv    *httptest.Server
	key    string
	mu     sync.Mutex
	files  map[string]*fakeFile
	tokens map[string]string // download token → file key
	auth   map[string][]string
	n      int
	// fail, when set, answers the next API call instead of the route.
	fail []func(w http.ResponseWriter) bool
}

type fakeFile struct {
	size      int64 // ciphertext_size or file_size
	plain     bool
	headers   map[string]string
	body      []byte
	completed bool
	opened    bool
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, key: "kf_test_0123456789", files: map[string]*fakeFile{}, tokens: map[string]string{}, auth: map[string][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) route(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/api/v1/files":
		return "create"
	case strings.HasSuffix(p, "/complete"):
		return "complete"
	case strings.HasSuffix(p, "/status"):
		return "status"
	case strings.HasPrefix(p, "/upload/"):
		return "upload"
	case p == "/api/download":
		return "download"
	}
	return p
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	route := f.route(r)
	f.mu.Lock()
	f.auth[route] = append(f.auth[route], r.Header.Get("Authorization"))
	var fail func(http.ResponseWriter) bool
	if strings.HasPrefix(r.URL.Path, "/api/v1/") && len(f.fail) > 0 {
		fail, f.fail = f.fail[0], f.fail[1:]
	}
	f.mu.Unlock()
	if fail != nil && fail(w) {
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/v1/") && r.Header.Get("Authorization") != "Bearer "+f.key {
		jsonAnswer(w, 401, map[string]any{"error": "invalid_api_key", "message": "Invalid API key"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch route {
	case "create":
		var req struct {
			CiphertextSize *int64 `json:"ciphertext_size"`
			Filename       string `json:"filename"`
			FileSize       *int64 `json:"file_size"`
			TTLHours       int    `json:"ttl_hours"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			jsonAnswer(w, 400, map[string]any{"error": "bad_request", "message": err.Error()})
			return
		}
		if req.TTLHours > 8 {
			jsonAnswer(w, 400, map[string]any{"error": "bad_request", "message": "TTL above plan maximum (8 hours)"})
			return
		}
		f.n++
		key := "fk" + strconv.Itoa(f.n)
		ff := &fakeFile{headers: map[string]string{"x-amz-meta-file-key": key}}
		ans := map[string]any{"upload_url": f.srv.URL + "/upload/" + key + "?X-Amz-Signature=abc", "file_key": key}
		if req.CiphertextSize != nil {
			ff.size = *req.CiphertextSize
			ans["upload_headers"] = ff.headers
			ans["upload_expires_in"] = 3600
		} else {
			ff.size, ff.plain = *req.FileSize, true
			ff.headers = map[string]string{"x-amz-meta-user-id": "u1", "x-amz-meta-organization-id": "o1", "x-amz-meta-ttl-hours": strconv.Itoa(req.TTLHours)}
			ans["metadata_headers"] = ff.headers
			ans["poll_url"] = f.srv.URL + "/api/v1/files/" + key + "/status"
		}
		f.files[key] = ff
		jsonAnswer(w, 200, ans)
	case "upload":
		ff := f.files[strings.TrimPrefix(r.URL.Path, "/upload/")]
		if ff == nil || r.Method != http.MethodPut {
			w.WriteHeader(404)
			return
		}
		for k, v := range ff.headers {
			if r.Header.Get(k) != v {
				w.WriteHeader(403)
				fmt.Fprintf(w, "<Error><Code>SignatureDoesNotMatch</Code><Message>%s</Message></Error>", k)
				return
			}
		}
		b, _ := io.ReadAll(r.Body)
		ff.body = b
		w.WriteHeader(200)
	case "complete":
		key := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/files/"), "/complete")
		ff := f.files[key]
		if ff == nil {
			jsonAnswer(w, 404, map[string]any{"error": "not_found", "message": "no such file"})
			return
		}
		if int64(len(ff.body)) != ff.size {
			jsonAnswer(w, 409, map[string]any{"error": "upload_incomplete", "message": "The upload has not completed"})
			return
		}
		ff.completed = true
		token := "tok" + key
		f.tokens[token] = key
		jsonAnswer(w, 200, map[string]any{"download_url": f.srv.URL + "/#t=" + token, "file_id": "id-" + key, "expires_at": time.Now().Add(8 * time.Hour).UTC().Format(time.RFC3339), "verified_burn": true})
	case "status":
		key := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/files/"), "/status")
		ff := f.files[key]
		if ff == nil || int64(len(ff.body)) != ff.size {
			jsonAnswer(w, 200, map[string]any{"status": "processing", "message": "waiting for the upload"})
			return
		}
		jsonAnswer(w, 200, map[string]any{"status": "complete", "file_id": "id-" + key, "file_name": "x", "share_url": f.srv.URL + "/s/" + key, "expires_at": time.Now().Add(8 * time.Hour).UTC().Format(time.RFC3339), "verified_burn": true})
	case "download":
		var req struct {
			T string `json:"t"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		ff := f.files[f.tokens[req.T]]
		if ff == nil || ff.opened {
			jsonAnswer(w, 410, map[string]any{"error": "gone", "message": "already opened or expired"})
			return
		}
		ff.opened = true
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(ff.body)
	default:
		w.WriteHeader(404)
	}
}

func jsonAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// keysSent returns the Authorization headers seen on a route.
func (f *fakeAPI) keysSent(route string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth[route]...)
}

func (f *fakeAPI) failNext(fn ...func(w http.ResponseWriter) bool) {
	f.mu.Lock()
	f.fail = append(f.fail, fn...)
	f.mu.Unlock()
}
