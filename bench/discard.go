package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// discardServer reads every request body and keeps nothing: a client's cost
// of sending, with no store behind to slow it or to share its CPU with
// (the server runs in the bench process, whose CPU is not measured). It
// answers the way S3 does, 200 with an ETag, and closes no connection.
type discardServer struct {
	url string
	srv *http.Server

	mu     sync.Mutex
	bodies map[string]int // object key prefix → bodies read whole
	bytes  map[string]int64
}

func startDiscardServer() (*discardServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &discardServer{url: "http://" + ln.Addr().String(), bodies: map[string]int{}, bytes: map[string]int64{}}
	d.srv = &http.Server{Handler: http.HandlerFunc(d.serve)}
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

func (d *discardServer) serve(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil || n != r.ContentLength {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// /bench/<scenario>/<run>/<file>: the run's prefix is all but the file.
	key := strings.TrimPrefix(r.URL.Path, "/"+bucket+"/")
	prefix := key[:max(strings.LastIndex(key, "/"), 0)]
	d.mu.Lock()
	d.bodies[prefix]++
	d.bytes[prefix] += n
	d.mu.Unlock()
	w.Header().Set("ETag", `"00000000000000000000000000000000"`)
	w.WriteHeader(http.StatusOK)
}

// received is how many whole bodies, and bytes, came under prefix.
func (d *discardServer) received(prefix string) (int, int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bodies[prefix], d.bytes[prefix]
}

func (d *discardServer) close() { _ = d.srv.Close() }
