package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// discardServer reads every request body and keeps nothing: a client's cost
// of sending, with no store behind to slow it or to share its CPU with
// (the server runs in the bench process, whose CPU is not measured). It
// answers the way S3 does, 200 with an ETag, and closes no connection.
// It also answers the calls of a multipart upload (discard_multipart.go).
type discardServer struct {
	url string
	srv *http.Server

	mu      sync.Mutex
	bodies  map[string]int // object key prefix → objects stored
	bytes   map[string]int64
	objects map[string]fakeObject  // key → size and ETag, for HeadObject
	uploads map[string]*fakeUpload // upload ID → multipart upload in progress
	unknown []string               // requests it had no answer for
	// echoCRC: a CRC32 a request signs is echoed, not checked. The bench
	// measures the client, and hashing its bodies here (4 GiB: a CPU second)
	// would take that time from the tool measured, on the same two cores,
	// and only from the tools that send one. Tests check it.
	echoCRC bool
}

func startDiscardServer() (*discardServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &discardServer{url: "http://" + ln.Addr().String(), bodies: map[string]int{}, bytes: map[string]int64{},
		objects: map[string]fakeObject{}, uploads: map[string]*fakeUpload{}}
	d.srv = &http.Server{Handler: http.HandlerFunc(d.serve)}
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

// discardChunk is what the server reads at a time. io.Copy to io.Discard
// reads 8 KiB, which cost the server 0.75–0.9 CPU s per GiB, more than curl
// spends sending it (0.6 s): on two cores the server set both tools' wall
// time. At 256 KiB it spends 0.3–0.5 s and the client's own cost shows.
const discardChunk = 256 << 10

var discardBufs = sync.Pool{New: func() any { b := make([]byte, discardChunk); return &b }}

func (d *discardServer) serve(w http.ResponseWriter, r *http.Request) {
	// Path style, as every tool here is pointed: /<bucket>/<key>.
	name, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if name != bucket {
		d.refuse(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	switch s3Call(r, key) {
	case "PutObject":
		d.putObject(w, r, key)
	case "UploadPart":
		d.uploadPart(w, r, key)
	case "CreateMultipartUpload":
		d.createMultipartUpload(w, r, key)
	case "CompleteMultipartUpload":
		d.completeMultipartUpload(w, r, key)
	case "AbortMultipartUpload":
		d.abortMultipartUpload(w, r, key)
	case "ListParts":
		d.listParts(w, r, key)
	case "ListMultipartUploads":
		d.listMultipartUploads(w, r)
	case "HeadObject":
		d.headObject(w, key)
	default:
		d.unanswered(w, r)
	}
}

func (d *discardServer) putObject(w http.ResponseWriter, r *http.Request, key string) {
	if r.Header.Get("If-None-Match") == "*" { // hoist --skip-existing
		d.mu.Lock()
		_, exists := d.objects[key]
		d.mu.Unlock()
		if exists {
			d.refuse(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
			return
		}
	}
	n, _, ok := d.readBody(w, r)
	if !ok {
		return
	}
	etag := `"00000000000000000000000000000000"`
	d.mu.Lock()
	d.store(key, fakeObject{size: n, etag: etag, modified: time.Now().UTC()})
	d.mu.Unlock()
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

// readAll reads r to its end into buf, over and over, and counts the bytes;
// each chunk also goes to h unless it is nil.
func readAll(r io.Reader, buf []byte, h io.Writer) (int64, error) {
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if h != nil && k > 0 {
			_, _ = h.Write(buf[:k])
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// serveDiscard runs the discarding server alone until ctx ends, so one
// tool at a time can be measured with strace or perf stat, its CPU apart
// from the server's. The URL to PUT to (presigned with a throwaway key; the
// server checks no signature) goes to urlFile, not to the terminal.
func serveDiscard(ctx context.Context, urlFile string) error {
	d, err := startDiscardServer()
	if err != nil {
		return err
	}
	d.echoCRC = true
	defer d.close()
	signer := &server{endpoint: d.url, accessKey: "AKIDBENCH" + randomHex(6), secret: randomHex(20)}
	u, err := signer.presign("discard/file", time.Now())
	if err != nil {
		return err
	}
	if err := os.WriteFile(urlFile, []byte(u+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Printf("discarding server on %s; its URL (one hour) is in %s\n", d.url, urlFile)
	<-ctx.Done()
	return nil
}

// received is how many objects, and bytes, were stored under prefix: a
// single PUT's body, or a completed multipart upload's parts.
func (d *discardServer) received(prefix string) (int, int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bodies[prefix], d.bytes[prefix]
}

func (d *discardServer) close() { _ = d.srv.Close() }
