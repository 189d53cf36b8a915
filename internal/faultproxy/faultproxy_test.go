package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// upstream records what reaches the server.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var got atomic.Int32
	var host atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		host.Store(r.Host)
		w.Header().Set("ETag", `"x"`)
	}))
	t.Cleanup(srv.Close)
	return srv, &got, &host
}

func put(ctx context.Context, t *testing.T, client *http.Client, url string, n int) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url+"/b/k", bytes.NewReader(make([]byte, n)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestEachFault(t *testing.T) {
	srv, got, host := upstream(t)
	p := Start(t, srv.URL, Faults{First: []Kind{Reset, SlowDown, Stall}, StallFor: 5 * time.Second, Jitter: 5 * time.Millisecond})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	// Big enough that the reset lands while the client is still writing.
	if _, err := put(context.Background(), t, client, p.URL, 8<<20); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("reset: got %v, want a connection error", err)
	}
	resp, err := put(context.Background(), t, client, p.URL, 1000)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("slowdown: %v %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	start := time.Now()
	_, err = put(ctx, t, client, p.URL, 1000)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("stall: %v after %v", err, time.Since(start))
	}
	if got.Load() != 0 {
		t.Errorf("%d faulted requests reached the server", got.Load())
	}
	resp, err = put(context.Background(), t, client, p.URL, 1000)
	if err != nil || resp.StatusCode != http.StatusOK || got.Load() != 1 {
		t.Fatalf("pass: %v %v, %d at the server", resp, err, got.Load())
	}
	if want := strings.TrimPrefix(p.URL, "http://"); host.Load() != want {
		t.Errorf("server saw Host %q, want the proxy's %q (signatures cover it)", host.Load(), want)
	}
	s := p.Stats()
	if s.Requests != 4 || s.Forwarded != 1 || s.Resets != 1 || s.SlowDowns != 1 || s.Stalls != 1 || s.Faulted() != 3 || s.Answers[http.StatusOK] != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestRatesAndOnly(t *testing.T) {
	srv, got, _ := upstream(t)
	p := Start(t, srv.URL, Faults{SlowDown: 0.5, Seed: 7,
		Only: func(r *http.Request) bool { return r.Method == http.MethodPut }})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for range 200 {
		if _, err := put(context.Background(), t, client, p.URL, 10); err != nil {
			t.Fatal(err)
		}
		resp, err := client.Get(p.URL + "/b/k")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("a GET, which Only leaves alone, got %v %v", resp, err)
		}
		resp.Body.Close()
	}
	s := p.Stats()
	if s.SlowDowns < 70 || s.SlowDowns > 130 {
		t.Errorf("%d of 200 PUTs answered SlowDown at a rate of 0.5", s.SlowDowns)
	}
	if int64(got.Load()) != s.Forwarded || s.Forwarded != 400-s.SlowDowns {
		t.Errorf("server got %d, stats %+v", got.Load(), s)
	}
}

func TestMaxInARow(t *testing.T) {
	srv, _, _ := upstream(t)
	p := Start(t, srv.URL, Faults{SlowDown: 1, MaxInARow: 3})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	var statuses []int
	for range 8 {
		resp, err := put(context.Background(), t, client, p.URL, 10)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
	}
	want := []int{503, 503, 503, 200, 503, 503, 503, 200}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
}

func TestDelayHoldsOneRequest(t *testing.T) {
	srv, got, _ := upstream(t)
	p := Start(t, srv.URL, Faults{Delay: func(r *http.Request) time.Duration {
		if r.Method == http.MethodPut {
			return 300 * time.Millisecond
		}
		return 0
	}})
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	start := time.Now()
	if _, err := put(context.Background(), t, client, p.URL, 10); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond || got.Load() != 1 {
		t.Errorf("PUT took %v and reached the server %d times; want held 300ms, then forwarded", took, got.Load())
	}
	start = time.Now()
	resp, err := client.Get(p.URL + "/b/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Errorf("a GET the delay leaves alone took %v", took)
	}
}
