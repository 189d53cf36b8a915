package uploader

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// NewClient returns the HTTP client hoist uploads with: connections kept for
// reuse by every worker, no redirects followed (a file and its token go only
// where the URL says).
//
// The transport's read and write buffers stay at their 4 KiB default. They
// hold only headers: net/http flushes the headers of a streamed body, then
// hands the body to the connection past the write buffer. Each connection
// allocates its own, and at 128+64 KiB a server that closes the connection
// after every PUT, as versitygw does, made them a third of hoist's CPU on
// many small files (BENCHMARKS.md).
func NewClient() *http.Client {
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: dialBigWrites(&net.Dialer{
			Timeout:   15 * time.Second,
			KeepAlive: 30 * time.Second,
		}),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * maxConcurrency,
		MaxIdleConnsPerHost:   maxConcurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		WriteBufferSize:       writeBuffer,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// writeBuffer is the transport's buffer for each connection's writes, and
// smallBody the largest body sent from memory so that it leaves with the
// request's headers (a presigned URL's request line and headers are 1–2
// KiB) in one write: one write syscall instead of two per small file, and
// one segment for the server to take in. At 20,000 files of 1 KiB that cut
// hoist's CPU 6% and versitygw's 5–9% (issue 15). net/http's default
// buffer is 4 KiB; at 8 KiB files of 4 KiB go whole too.
const (
	writeBuffer = 8 << 10
	smallBody   = 4 << 10
)

// bodyChunk is how much of a file one read and one socket write carry over
// plain http. net/http copies a request body to the connection through
// io.LimitReader and io.Copy's 32 KiB buffer (a WriterTo on the body is never
// consulted: strace counted 32,776 writes per GiB either way); curl writes
// 64 KiB. Per GiB to a server slower than the client (as behind any network:
// the socket stays full and each write waits for room), perf stat medians
// were 0.78 CPU s and 38,800 system calls at 64 KiB, 0.68 s and 13,900 at
// 256 KiB (curl: 0.87 s, 115,000); 512 KiB and 1 MiB did no better. Against
// a server as fast as the client, 64 and 256 KiB cost the same.
const bodyChunk = 256 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, bodyChunk); return &b }}

// dialBigWrites wraps d's connections so the transport's body copy, which
// asks the connection to ReadFrom the body, moves bodyChunk at a time.
// TLS connections wrap this one and write 16 KiB records regardless.
func dialBigWrites(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return bigWriteConn{c}, nil
	}
}

type bigWriteConn struct{ net.Conn }

// ReadFrom implements io.ReaderFrom for the transport's body copy, which
// hands it the body as an io.LimitedReader of what is left to send. A body
// under bodyChunk goes through a buffer of its own size, so the pool keeps
// big buffers only for big bodies: 16 pooled chunks cost 4 MiB, and a run
// of small files would keep them for nothing.
func (c bigWriteConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok && lr.N < bodyChunk {
		return io.CopyBuffer(writerOnly{c.Conn}, r, make([]byte, max(lr.N, 1)))
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	return io.CopyBuffer(writerOnly{c.Conn}, r, *bp)
}

// writerOnly hides the connection's own ReadFrom from io.CopyBuffer.
type writerOnly struct{ io.Writer }
