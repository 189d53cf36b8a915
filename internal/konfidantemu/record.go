package konfidantemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Request is what the emulator or a Recorder saw of one request. It holds
// no secret, so a test may print it.
type Request struct {
	At           time.Time // when it arrived, on the emulator's clock
	Method, Path string
	// Authorization is whether the request had an Authorization header.
	Authorization bool
	// APIKey is whether one of the emulator's API keys appeared anywhere in
	// the URL or the headers (emulator requests only; see Recorder.Carrying).
	APIKey bool
	Status int
}

func (r Request) String() string {
	return fmt.Sprintf("%s %s → %d (authorization: %v)", r.Method, r.Path, r.Status, r.Authorization)
}

type requestLog struct {
	mu   sync.Mutex
	reqs []Request
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
}

func (l *requestLog) all() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Request(nil), l.reqs...)
}

// requestCarries reports whether secret appears in the URL or any header
// value, as sent or query-escaped.
func requestCarries(rawURL string, h http.Header, secret string) bool {
	forms := []string{secret, url.QueryEscape(secret)}
	for _, f := range forms {
		if strings.Contains(rawURL, f) {
			return true
		}
		for _, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, f) {
					return true
				}
			}
		}
	}
	return false
}

// Recorder is a reverse proxy on loopback that sits in front of an S3
// store and records every request, so a test can assert at the server that
// no upload carried an API key. Presign for its URL (Store.Endpoint) and let
// the emulator read the store directly (Store.Direct): the proxy keeps the
// client's Host header, which the signature covers. When the store refuses
// a request before reading its body and closes the connection (versitygw
// on a bad signature), a body too big for the socket buffers can still be
// in flight through the proxy, and the client then gets 502 rather than
// the store's 403: test refusals with small bodies.
type Recorder struct {
	URL string // http://127.0.0.1:PORT

	log    requestLog
	mu     sync.Mutex
	seen   []seenRequest
	srv    *http.Server
	served chan error
	once   sync.Once
}

// seenRequest keeps what Carrying needs; it never leaves the Recorder.
type seenRequest struct {
	url    string
	header http.Header
}

// NewRecorder proxies to target (the store's endpoint).
func NewRecorder(target string) (*Recorder, error) {
	to, err := url.Parse(target)
	if err != nil || to.Host == "" {
		return nil, fmt.Errorf("recorder target %q is not a URL", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rec := &Recorder{URL: "http://" + ln.Addr().String(), served: make(chan error, 1)}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(to)
			pr.Out.Host = pr.In.Host
			// Forwarded headers were not signed; S3 ignores them, but keep
			// the request as the client sent it.
			pr.Out.Header.Del("X-Forwarded-For")
		},
		Transport: tr,
	}
	rec.srv = &http.Server{
		ReadHeaderTimeout: 30 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			proxy.ServeHTTP(sw, r)
			rec.mu.Lock()
			rec.seen = append(rec.seen, seenRequest{url: r.URL.String(), header: r.Header.Clone()})
			rec.mu.Unlock()
			rec.log.add(Request{Method: r.Method, Path: r.URL.Path,
				Authorization: r.Header.Get("Authorization") != "", Status: sw.status})
		}),
	}
	rec.srv.RegisterOnShutdown(tr.CloseIdleConnections)
	go func() { rec.served <- rec.srv.Serve(ln) }()
	return rec, nil
}

// Requests is every request proxied so far, in order.
func (rec *Recorder) Requests() []Request { return rec.log.all() }

// Carrying counts the recorded requests in whose URL or headers secret
// appears.
func (rec *Recorder) Carrying(secret string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, s := range rec.seen {
		if requestCarries(s.url, s.header, secret) {
			n++
		}
	}
	return n
}

// Close stops the proxy.
func (rec *Recorder) Close() error {
	var err error
	rec.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if e := rec.srv.Shutdown(ctx); e != nil {
			_ = rec.srv.Close()
		}
		if e := <-rec.served; e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = e
		}
	})
	return err
}
