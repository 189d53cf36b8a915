// Package faultproxy is an HTTP proxy for tests that sits between hoist and
// an S3 server on 127.0.0.1 and makes the network misbehave: it resets
// connections part-way through a request body, answers 503 SlowDown, stalls
// (stops reading and never answers) and adds latency. Every request it does
// not fault is forwarded unchanged, Host header included, so SigV4
// signatures made for the proxy's address still verify at the server.
package faultproxy

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Kind is what the proxy does with one request.
type Kind int

const (
	Pass     Kind = iota // forwarded to the server (after the jitter)
	Reset                // part of the body read, then the connection reset (RST)
	SlowDown             // 503 SlowDown, with or without reading the body first
	Stall                // part of the body read, then silence until the client gives up
)

var kindNames = [...]string{"pass", "reset", "slowdown", "stall"}

func (k Kind) String() string { return kindNames[k] }

// Faults says how often each fault happens. Rates are per request and add
// up to at most 1; the rest pass.
type Faults struct {
	Reset, SlowDown, Stall float64

	// Jitter is the most latency added before a request is forwarded and
	// again before its answer goes back; each delay is uniform in [0, Jitter].
	Jitter time.Duration

	// StallFor bounds a stall when the client never gives up; default 30s.
	StallFor time.Duration

	// First forces the faults of the first len(First) requests Only admits,
	// so a run is sure to meet each kind at least once.
	First []Kind

	// MaxInARow, when above 0, lets the same path meet at most this many
	// faults in a row; the next request for it passes. It bounds how long
	// an unlucky file can be held back, so a test can state a time bound.
	MaxInARow int

	// Delay, when set, holds a request for the duration it returns before
	// the proxy goes on with it: a slow hop that lets a URL expire on the
	// way, for one request rather than all.
	Delay func(*http.Request) time.Duration

	// Only picks the requests faults may hit; nil means all. The others are
	// forwarded with jitter.
	Only func(*http.Request) bool

	Seed uint64 // of the random choices; the same seed gives the same sequence of faults
}

// Stats counts what the proxy did.
type Stats struct {
	Requests  int64 // requests received
	Forwarded int64 // of them, sent on to the server
	Resets    int64
	SlowDowns int64
	Stalls    int64
	BodyBytes int64 // request body bytes read from clients, faulted requests included
	// Answers counts the server's answers to forwarded requests by status.
	Answers map[int]int64
}

// Faulted is the number of requests that met a fault.
func (s Stats) Faulted() int64 { return s.Resets + s.SlowDowns + s.Stalls }

func (s Stats) String() string {
	return fmt.Sprintf("%d requests: %d forwarded, %d reset mid-body, %d answered 503 SlowDown, %d stalled; %d MiB of request bodies read",
		s.Requests, s.Forwarded, s.Resets, s.SlowDowns, s.Stalls, s.BodyBytes>>20)
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	URL string // http://127.0.0.1:PORT; sign URLs for this address

	srv    *httptest.Server
	rp     *httputil.ReverseProxy
	tr     *http.Transport
	faults Faults

	mu           sync.Mutex
	rng          *rand.Rand
	eligible     int
	inARow       map[string]int // path → faults met since its last pass
	closed       bool
	stalled      []*time.Timer
	stalledConns []net.Conn

	requests, forwarded, resets, slowDowns, stalls, bodyBytes atomic.Int64
	answers                                                   map[int]int64 // under mu
}

// Start runs a proxy in front of target (http://host:port) until the test ends.
func Start(t testing.TB, target string, f Faults) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("faultproxy: bad target %q", target)
	}
	if f.StallFor <= 0 {
		f.StallFor = 30 * time.Second
	}
	if sum := f.Reset + f.SlowDown + f.Stall; sum > 1 {
		t.Fatalf("faultproxy: fault rates add up to %.2f, more than 1", sum)
	}
	p := &Proxy{faults: f, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15)), inARow: map[string]int{}, answers: map[int]int64{}}
	p.tr = http.DefaultTransport.(*http.Transport).Clone()
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// The signature covers the Host the client sent: the proxy's.
			r.Out.Host = r.In.Host
		},
		Transport: p.tr,
		ModifyResponse: func(resp *http.Response) error {
			p.mu.Lock()
			p.answers[resp.StatusCode]++
			p.mu.Unlock()
			return nil
		},
		// The server unreachable, or the client gone: a 502 says so
		// without filling the test log.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.Close)
	return p
}

// Close stops the proxy; stalled requests end at once.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for i, tm := range p.stalled {
		tm.Stop()
		_ = p.stalledConns[i].Close()
	}
	p.stalled, p.stalledConns = nil, nil
	p.mu.Unlock()
	p.srv.CloseClientConnections()
	p.srv.Close()
	p.tr.CloseIdleConnections()
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	answers := make(map[int]int64, len(p.answers))
	for k, v := range p.answers {
		answers[k] = v
	}
	p.mu.Unlock()
	return Stats{Answers: answers,
		Requests: p.requests.Load(), Forwarded: p.forwarded.Load(),
		Resets: p.resets.Load(), SlowDowns: p.slowDowns.Load(), Stalls: p.stalls.Load(),
		BodyBytes: p.bodyBytes.Load(),
	}
}

// choice is one request's fate, drawn under the lock so the sequence
// depends only on the seed and the order requests arrive in.
type choice struct {
	kind        Kind
	readFrac    float64 // how much of the body to read before a reset or stall
	answerEarly bool    // SlowDown before reading the body
	delayIn     time.Duration
	delayOut    time.Duration
}

func (p *Proxy) choose(r *http.Request) choice {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := choice{readFrac: p.rng.Float64() * 0.9, answerEarly: p.rng.IntN(2) == 0}
	if j := p.faults.Jitter; j > 0 {
		c.delayIn = time.Duration(p.rng.Int64N(int64(j) + 1))
		c.delayOut = time.Duration(p.rng.Int64N(int64(j) + 1))
	}
	x := p.rng.Float64()
	if p.faults.Only != nil && !p.faults.Only(r) {
		return c
	}
	path := r.URL.Path
	switch f := p.faults; {
	case f.MaxInARow > 0 && p.inARow[path] >= f.MaxInARow:
	case p.eligible < len(f.First):
		c.kind = f.First[p.eligible]
	case x < f.Reset:
		c.kind = Reset
	case x < f.Reset+f.SlowDown:
		c.kind = SlowDown
	case x < f.Reset+f.SlowDown+f.Stall:
		c.kind = Stall
	}
	p.eligible++
	if c.kind == Pass {
		delete(p.inARow, path)
	} else {
		p.inARow[path]++
	}
	return c
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	c := p.choose(r)
	if p.faults.Delay != nil {
		c.delayIn += p.faults.Delay(r)
	}
	if !sleep(r.Context(), c.delayIn) {
		return
	}
	body := &countingBody{r: r.Body, n: &p.bodyBytes}
	r.Body = body
	switch c.kind {
	case Reset:
		p.resets.Add(1)
		readSome(body, r.ContentLength, c.readFrac)
		resetConn(w)
	case SlowDown:
		p.slowDowns.Add(1)
		if !c.answerEarly {
			_, _ = io.Copy(io.Discard, body)
		}
		const doc = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, doc)
	case Stall:
		p.stalls.Add(1)
		readSome(body, r.ContentLength, c.readFrac)
		p.stall(w)
	default:
		p.forwarded.Add(1)
		p.rp.ServeHTTP(&delayedWriter{ResponseWriter: w, ctx: r.Context(), delay: c.delayOut}, r)
	}
}

// stall takes the connection from the server and neither reads nor writes
// on it: the client's stall timeout has to notice. The server notices a
// client leaving only once a body has been read to its end, so the
// connection is held apart and closed after StallFor or by Close.
func (p *Proxy) stall(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = conn.Close()
		return
	}
	p.stalled = append(p.stalled, time.AfterFunc(p.faults.StallFor, func() { _ = conn.Close() }))
	p.stalledConns = append(p.stalledConns, conn)
}

// readSome reads about frac of a body of size n.
func readSome(body io.Reader, n int64, frac float64) {
	if n <= 0 {
		return
	}
	_, _ = io.CopyN(io.Discard, body, int64(float64(n)*frac))
}

// resetConn drops the connection with an RST, as a middlebox or a crashed
// server does, rather than a polite FIN.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server then closes the connection
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type countingBody struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return b.r.Close() }

// delayedWriter holds the server's answer back for a while: latency on the
// way back as well as on the way in.
type delayedWriter struct {
	http.ResponseWriter
	ctx   context.Context
	delay time.Duration
	once  sync.Once
}

func (d *delayedWriter) WriteHeader(code int) {
	d.once.Do(func() { sleep(d.ctx, d.delay) })
	d.ResponseWriter.WriteHeader(code)
}

func (d *delayedWriter) Write(b []byte) (int, error) {
	d.once.Do(func() { sleep(d.ctx, d.delay) })
	return d.ResponseWriter.Write(b)
}

func (d *delayedWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// Seed is the seed of a test's fault choices: HOIST_FAULT_SEED repeats a
// run, otherwise each run draws a new one and logs it.
func Seed(t testing.TB) uint64 {
	t.Helper()
	if s := os.Getenv("HOIST_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("HOIST_FAULT_SEED=%q: %v", s, err)
		}
		return n
	}
	seed := rand.Uint64()
	t.Logf("fault seed %d (set HOIST_FAULT_SEED=%d to repeat this run's faults)", seed, seed)
	return seed
}
