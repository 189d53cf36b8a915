package uploader

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawServer is a hostile HTTP server on loopback: it reads each request in
// full, writes head (a status line and headers, byte for byte), then calls
// rest with the connection, which may write slowly or not at all. Every
// connection is closed when the test ends.
func rawServer(t *testing.T, head string, rest func(c net.Conn, quit <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				if _, err := io.WriteString(c, head); err != nil {
					return
				}
				if rest != nil {
					rest(c, quit)
				}
				<-quit
			}()
		}
	}()
	t.Cleanup(func() {
		close(quit)
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// trickle writes one byte every d until quit, or the client goes away.
func trickle(d time.Duration) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		tk := time.NewTicker(d)
		defer tk.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tk.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}
}

// TestHangAfterHeaders: a server that sends its status and headers and then
// nothing, a byte now and then, or an HTTP/1.0 answer it never closes, held
// hoist forever: the watchdog was stopped once the headers came. It stays
// armed until the answer's body is read, for answers and errors alike.
func TestHangAfterHeaders(t *testing.T) {
	const stall = 300 * time.Millisecond
	cases := []struct {
		name string
		head string
		rest func(net.Conn, <-chan struct{})
		want EventKind
	}{
		{"200 then silence", "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 100\r\n\r\n", nil, EventDone},
		{"500 then silence", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 200\r\n\r\n<Error>", nil, EventFailed},
		{"403 then a byte at a time", "HTTP/1.1 403 Forbidden\r\nContent-Length: 100000\r\n\r\n", trickle(stall / 4), EventFailed},
		{"HTTP/1.0 200 never closed", "HTTP/1.0 200 OK\r\nETag: \"e\"\r\n\r\n", nil, EventDone},
		{"HTTP/1.0 503 never closed", "HTTP/1.0 503 Service Unavailable\r\n\r\n<Error><Code>SlowDown</Code>", nil, EventFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := rawServer(t, c.head, c.rest)
			f, _ := writeFile(t, t.TempDir(), "a.bin", 1000)
			p := New(&testSource{base: base}, Options{Retries: 1, StallTimeout: stall, BackoffInitial: time.Millisecond, BackoffMax: time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p.Start(ctx)
			log := collectEvents(p)
			p.Add(f)
			// Two attempts of at most two stall timeouts each, and room for
			// a loaded machine; without the fix this waits forever.
			wctx, wcancel := context.WithTimeout(ctx, 20*stall)
			err := p.Wait(wctx)
			wcancel()
			if err != nil {
				cancel()
				p.Close()
				log.wait()
				t.Fatalf("the upload was still waiting on the answer after %v", 20*stall)
			}
			p.Close()
			last := lastOf(log.wait(), 0)
			if last.Kind != c.want {
				t.Fatalf("last event %v (%v), want %v", last.Kind, last.Err, c.want)
			}
			if c.want == EventFailed && !strings.Contains(last.Err.Error(), "stalled") {
				t.Errorf("error %q does not say the answer stalled", last.Err)
			}
		})
	}
}

// TestTransportErrorsAreWorded: what net/http says about a garbled answer
// ("malformed MIME header: missing colon") reached the person as it was, and
// a bare 403 was printed "(403) (403 Forbidden)". Each is said once, in words.
func TestTransportErrorsAreWorded(t *testing.T) {
	cases := []struct {
		name, head, want, never string
	}{
		{"header without a colon", "HTTP/1.1 200 OK\r\nthis is not a header\r\n\r\n", "not valid HTTP", "MIME"},
		{"garbage status line", "SSH-2.0-OpenSSH_9.6\r\n\r\n", "not valid HTTP", "malformed"},
		{"bare 403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "refused the upload (403 Forbidden)", "(403) ("},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := rawServer(t, c.head, nil)
			f, _ := writeFile(t, t.TempDir(), "a.bin", 100)
			events, _ := run(t, &testSource{base: base}, Options{Retries: 0, StallTimeout: 5 * time.Second}, f)
			last := lastOf(events, 0)
			if last.Kind != EventFailed {
				t.Fatalf("last event %v", last.Kind)
			}
			msg := last.Err.Error()
			if !strings.Contains(msg, c.want) || strings.Contains(msg, c.never) {
				t.Errorf("error %q: want %q, never %q", msg, c.want, c.never)
			}
			if strings.Count(msg, "403") > 1 {
				t.Errorf("error %q says 403 more than once", msg)
			}
		})
	}
}
