package uploader

import (
	"net"
	"net/http"
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
		DialContext: (&net.Dialer{
			Timeout:   15 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * maxConcurrency,
		MaxIdleConnsPerHost:   maxConcurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
