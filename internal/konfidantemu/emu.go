// Package konfidantemu is a Konfidant API emulator: the service behind the
// API page hoist was built from (../shared/KONFIDANT.md), for tests and for
// trying `hoist --konfidant` with no account. It follows the official SDKs
// (sdk-go client.go/types.go/client_test.go at 1e9f976, sdk-js README and
// client tests at 244cec6, sdk-go 0.9 for the plain flow) to the letter, and
// hands out presigned PUT URLs to a REAL S3 store: versitygw in the
// conformance tests, the embedded gofakes3 store under `hoist serve
// --konfidant`. The store checks the signature, so a client that drops or
// changes a header it was told to send is refused by S3, as it would be in
// production.
//
// What it answers (all JSON, errors as {"error": code, "message"}):
//
//	POST /api/v1/files  {"ciphertext_size", "ttl_hours"?}       encrypted flow, 201
//	  → {"upload_url", "file_key", "upload_headers", "upload_expires_in"}
//	POST /api/v1/files/{file_key}/complete  (no body)          201
//	  → {"download_url": "<origin>/#t=<token>", "file_id", "expires_at", "verified_burn"}
//	  409 upload_incomplete until the store holds exactly ciphertext_size bytes
//	POST /api/v1/files  {"filename", "file_size", "ttl_hours"}   plain flow (SDK 0.9), 201
//	  → {"upload_url", "file_key", "poll_url", "metadata_headers"}
//	GET  /api/v1/files/{file_key}/status                        200
//	  → {"status": "processing", "message"} until the object is there with
//	    its size and the three signed metadata values, then
//	    {"status": "complete", "file_id", "file_name", "share_url", "expires_at", "verified_burn"}
//	POST /api/download  {"t": token}   no API key: the bytes, once; 410 after or when expired
//	GET  /api/v1/shares?type=&status=&limit=&offset=   (scope shares:list)
//	  → {"shares": [{type, file_size_bytes, created_at, expires_at, accessed_at, created_by}],
//	     "pagination": {total, limit, offset, has_more}}
//
// The other endpoints need the scope files:create; a key without it gets 403.
//
// Choices where the SDKs leave the real service's behaviour open:
//   - file_key is "<organization>/<random>[.knf]": it holds a slash, so a
//     client must path-escape it in .../{file_key}/complete as the SDKs do
//     (url.PathEscape, encodeURIComponent); the object key in the bucket is
//     the file_key.
//   - The encrypted flow's upload_headers are Content-Type:
//     application/octet-stream and x-amz-meta-organization-id (sdk-js's
//     client tests), and every one of them is a signed header, so "send
//     exactly upload_headers" is checked by the store. The plain flow signs
//     the three metadata headers of the API page and leaves Content-Type to
//     the client, as sdk-go 0.9 sends the file's own type.
//   - Both flows' URLs carry the API page's pinned empty-body checksum
//     (x-amz-checksum-crc32=AAAAAA%3D%3D, see package apiurl): versitygw
//     and gofakes3 ignore a query-only checksum, but a store that enforces
//     it (SeaweedFS, R2) would refuse every non-empty body sent to these
//     URLs. Point the emulator at versitygw, MinIO or gofakes3.
//   - The download token is "emu." + base64 with padding, so it always has a
//     character the link query-escapes ("="): a client that does not unescape
//     the fragment sends the wrong token and gets 410.
//   - A request body with a field the flow does not define is refused (400):
//     in particular a file name next to ciphertext_size, which would hand the
//     server what the encrypted flow keeps secret.
//   - A download that carries an Authorization header is refused (400)
//     before the share is consumed: the link alone grants access, and a
//     client that sends a key there leaks it.
//   - complete is idempotent: called again it returns the same link.
//   - The plain flow's share_url opens on /api/download too and returns the
//     stored bytes as they are (the real service encrypts server-side and
//     opens in its web page; this emulator does not).
//   - After a download has streamed every byte the object is deleted from
//     the store (the "burn"); read it before opening the link.
//   - Rate limit: at most Rate requests per key in any 60-second window
//     (default 60, as the real plan), counting every request the key makes
//     and not the refused ones; the 429 carries Retry-After in whole seconds
//     (at least 1), until the oldest request in the window leaves it. This
//     sliding window is the strictest reading of "60 requests per minute":
//     a client that bursts (a token bucket full at the start) can be refused
//     here where a real server might let it through, and one that paces
//     evenly passes both.
package konfidantemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"hoist/inspect"
	"hoist/internal/apiurl"
)

// Scopes an API key can have.
const (
	ScopeFilesCreate = "files:create"
	ScopeTextsCreate = "texts:create"
	ScopeSharesList  = "shares:list"
)

// Defaults, as on the real service's free plan.
const (
	DefaultPlanMaxTTL    = 8       // hours
	DefaultRate          = 60      // requests per key per minute
	DefaultUploadExpires = 900     // seconds an upload URL is valid (the SDKs' tests use 900)
	DefaultMaxSize       = 5 << 30 // a single S3 PUT's limit
)

// Key is one API key and what it may do.
type Key struct {
	Secret string   // what the client sends as "Authorization: Bearer <Secret>"
	Scopes []string // ScopeFilesCreate etc.
	OrgID  string   // x-amz-meta-organization-id on its uploads
	UserID string   // x-amz-meta-user-id on its uploads
}

// NewKey is a fresh throwaway key with the given scopes (all of them when
// none are given) in a fresh organization.
func NewKey(scopes ...string) Key {
	if len(scopes) == 0 {
		scopes = []string{ScopeFilesCreate, ScopeTextsCreate, ScopeSharesList}
	}
	return Key{
		Secret: "kfd_" + randomHex(24),
		Scopes: scopes,
		OrgID:  "org_" + randomHex(6),
		UserID: "user_" + randomHex(6),
	}
}

func (k Key) has(scope string) bool {
	for _, s := range k.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Store is the S3 store upload URLs point at.
type Store struct {
	// Endpoint is what upload URLs are signed for: the store itself, or a
	// Recorder in front of it.
	Endpoint string
	// Direct is where the emulator itself reads objects (HEAD, GET,
	// DELETE); "" means Endpoint. Set it when Endpoint is a Recorder, so the
	// recorder sees only the clients' requests.
	Direct    string
	Region    string // "" means "auto", the API's region
	Bucket    string // must exist
	AccessKey string
	SecretKey string
}

// Options configure an emulator. Zero values take the defaults above.
type Options struct {
	Store Store
	Keys  []Key
	// PlanMaxTTL is the plan's TTL limit in hours; also the TTL when a
	// request omits ttl_hours.
	PlanMaxTTL int
	// Rate is how many API requests one key may make in any RateWindow.
	Rate int
	// RateWindow is the window Rate counts in; 0 means a minute, as the
	// real service counts. Tests shorten it to see pacing in seconds.
	RateWindow time.Duration
	// UploadExpires is how long an upload URL is valid.
	UploadExpires time.Duration
	// MaxSize is the largest ciphertext_size or file_size accepted (413 above).
	MaxSize int64
	// NoShareRecords makes the organization one that keeps no share records:
	// file_id is empty and verified_burn false.
	NoShareRecords bool
	// ProcessingPolls is how many status polls still answer "processing"
	// after the plain upload arrived, as while the real service encrypts it.
	ProcessingPolls int
	// Now is the clock for share expiry and the rate limit; nil means
	// time.Now. Upload URLs are always signed with the real time.
	Now func() time.Time
	// BaseURL is the origin links point at; "" means http://<Host of the
	// request>.
	BaseURL string
}

// Emulator is the API as an http.Handler.
type Emulator struct {
	o      Options
	keysMu sync.RWMutex
	keys   map[string]Key
	store  *store
	signer apiurl.Signer
	limit  *limiter
	mux    *http.ServeMux
	log    requestLog

	mu     sync.Mutex
	slots  map[string]*slot  // file_key → upload slot
	shares map[string]*share // token → share
}

// New checks o and builds the emulator.
func New(o Options) (*Emulator, error) {
	if o.Store.Endpoint == "" || o.Store.Bucket == "" {
		return nil, errors.New("konfidant emulator: the store needs an endpoint and a bucket")
	}
	if len(o.Keys) == 0 {
		return nil, errors.New("konfidant emulator: give at least one API key")
	}
	if o.Store.Region == "" {
		o.Store.Region = "auto"
	}
	if o.Store.Direct == "" {
		o.Store.Direct = o.Store.Endpoint
	}
	if o.PlanMaxTTL <= 0 {
		o.PlanMaxTTL = DefaultPlanMaxTTL
	}
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.RateWindow <= 0 {
		o.RateWindow = time.Minute
	}
	if o.UploadExpires <= 0 {
		o.UploadExpires = DefaultUploadExpires * time.Second
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	e := &Emulator{
		o:     o,
		keys:  make(map[string]Key, len(o.Keys)),
		store: newStore(o.Store),
		signer: apiurl.Signer{Endpoint: o.Store.Endpoint, Region: o.Store.Region,
			AccessKey: o.Store.AccessKey, SecretKey: o.Store.SecretKey},
		limit:  newLimiter(o.Rate, o.RateWindow),
		slots:  map[string]*slot{},
		shares: map[string]*share{},
	}
	for _, k := range o.Keys {
		if err := e.AddKey(k); err != nil {
			return nil, err
		}
	}
	e.mux = http.NewServeMux()
	e.mux.HandleFunc("POST /api/v1/files", e.authed(ScopeFilesCreate, e.createFile))
	e.mux.HandleFunc("POST /api/v1/files/{file_key}/complete", e.authed(ScopeFilesCreate, e.completeFile))
	e.mux.HandleFunc("GET /api/v1/files/{file_key}/status", e.authed(ScopeFilesCreate, e.fileStatus))
	e.mux.HandleFunc("GET /api/v1/shares", e.authed(ScopeSharesList, e.listShares))
	e.mux.HandleFunc("POST /api/download", e.download)
	e.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "No such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return e, nil
}

// AddKey lets one more API key in, while the emulator serves.
func (e *Emulator) AddKey(k Key) error {
	if k.Secret == "" {
		return errors.New("konfidant emulator: an API key has no secret")
	}
	e.keysMu.Lock()
	defer e.keysMu.Unlock()
	e.keys[k.Secret] = k
	return nil
}

func (e *Emulator) key(secret string) (Key, bool) {
	e.keysMu.RLock()
	defer e.keysMu.RUnlock()
	k, ok := e.keys[secret]
	return k, ok
}

// ServeHTTP records the request and answers it.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	at := e.o.Now()
	e.mux.ServeHTTP(rec, r)
	e.log.add(Request{
		At:            at,
		Method:        r.Method,
		Path:          r.URL.Path,
		Authorization: r.Header.Get("Authorization") != "",
		APIKey:        e.carriesKey(r),
		Status:        rec.status,
	})
}

// Requests is every request the emulator has answered, in order.
func (e *Emulator) Requests() []Request { return e.log.all() }

// FileKeyOf is the file_key (the object's key in the bucket) of the upload
// a download_url, share_url or share link points at, for tests that read
// the stored object; false when the link's token is not one this emulator
// made.
func (e *Emulator) FileKeyOf(link string) (string, bool) {
	u, err := url.Parse(link)
	if err != nil {
		return "", false
	}
	frag, err := url.ParseQuery(u.EscapedFragment())
	if err != nil {
		return "", false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sh := e.shares[frag.Get("t")]
	if sh == nil {
		return "", false
	}
	return sh.fileKey, true
}

// carriesKey reports whether any of the emulator's API keys appears in the
// request's URL or headers.
func (e *Emulator) carriesKey(r *http.Request) bool {
	e.keysMu.RLock()
	defer e.keysMu.RUnlock()
	for secret := range e.keys {
		if requestCarries(r.URL.String(), r.Header, secret) {
			return true
		}
	}
	return false
}

func (e *Emulator) origin(r *http.Request) string {
	if e.o.BaseURL != "" {
		return e.o.BaseURL
	}
	return "http://" + r.Host
}

// Server is an emulator listening on loopback.
type Server struct {
	*Emulator
	URL string // http://127.0.0.1:PORT, the API base and the download origin

	srv    *http.Server
	served chan error
	once   sync.Once
	err    error
}

// Start serves a new emulator on addr, which must be loopback ("" picks a
// free port on 127.0.0.1): the emulator hands out keys that are not secret
// to this machine and serves plain http.
func Start(o Options, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("emulator address %q: %w; use host:port, e.g. 127.0.0.1:8080", addr, err)
	}
	if !inspect.IsLoopback(host) {
		return nil, fmt.Errorf("emulator address %q is not loopback: it serves plain http with throwaway keys, so it listens on 127.0.0.1 or ::1 only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator cannot listen on %s: %w; pick a free address", addr, err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), served: make(chan error, 1)}
	if o.BaseURL == "" {
		o.BaseURL = s.URL
	}
	s.Emulator, err = New(o)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.srv = &http.Server{Handler: s.Emulator, ReadHeaderTimeout: 30 * time.Second}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops serving; downloads still streaming get a few seconds.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
		s.store.close()
	})
	return s.err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// statusWriter remembers the status a handler sent, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (Flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
