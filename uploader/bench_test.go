package uploader

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// The engine's hot path, against an in-process server that reads and
// discards: bytes/op and allocs/op are the client's cost of a file (plus
// the server's, which does the same work in every variant measured).
//
//	go test -run '^$' -bench . -benchmem ./uploader/

// benchSource gives every file the same prepared target, so what is measured
// is the engine, not the source.
type benchSource struct {
	url    string
	header http.Header
}

func (s benchSource) Describe() string           { return "bench" }
func (s benchSource) Capabilities() Capabilities { return Capabilities{} }
func (s benchSource) WantsChecksum(File) bool    { return false }
func (s benchSource) Target(context.Context, File, Metadata) (Target, error) {
	return Target{Method: http.MethodPut, URL: s.url, Header: s.header, Key: "k"}, nil
}

// discardServer reads each body and answers 200. With closeEach it closes
// the connection after every answer, as versitygw does after a PUT, so
// every file pays for a new connection.
func discardServer(b *testing.B, closeEach bool) (*httptest.Server, benchSource) {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"bench"`)
		if closeEach {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	h := http.Header{}
	for k, v := range (Metadata{OrgID: "org-bench", UserID: "u-bench", TTLHours: 48}).Values() {
		h.Set(k, v)
	}
	// A query as long as a real presigned URL's, so parsing it costs what it does.
	url := srv.URL + "/bench/key.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD" +
		"&X-Amz-Credential=AKIDBENCHBENCHBENCH%2F20250101%2Fauto%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z" +
		"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host%3Bx-amz-meta-organization-id%3Bx-amz-meta-ttl-hours%3Bx-amz-meta-user-id" +
		"&X-Amz-Signature=0000000000000000000000000000000000000000000000000000000000000000&x-id=PutObject"
	return srv, benchSource{url: url, header: h}
}

func benchFiles(b *testing.B, n int, size int64) []File {
	b.Helper()
	dir := b.TempDir()
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	files := make([]File, n)
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("f%04d.bin", i))
		if err := os.WriteFile(p, buf, 0o600); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		files[i] = File{Path: p, Name: filepath.Base(p), Key: filepath.Base(p), Size: size, ModTime: st.ModTime()}
	}
	return files
}

// uploadAll runs one pool over files and fails the benchmark unless every
// file is done.
func uploadAll(b *testing.B, src Source, opts Options, files []File) {
	p := New(src, opts)
	p.Start(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range p.Events() {
		}
	}()
	p.Add(files...)
	_ = p.Wait(context.Background())
	p.Close()
	<-done
	if s := p.Summary(); s.Uploaded != len(files) {
		b.Fatalf("uploaded %d of %d files (%d failed)", s.Uploaded, len(files), s.Failed)
	}
}

// BenchmarkUploadOneFile64MiB is the single PUT of a big file: the
// streaming body, its CRC32 and counters, and the transport's copy.
func BenchmarkUploadOneFile64MiB(b *testing.B) {
	_, src := discardServer(b, false)
	files := benchFiles(b, 1, 64<<20)
	client := NewClient()
	b.Cleanup(client.CloseIdleConnections)
	opts := Options{Client: client, Concurrency: 1}
	b.SetBytes(files[0].Size)
	b.ReportAllocs()
	for b.Loop() {
		uploadAll(b, src, opts, files)
	}
}

// BenchmarkUploadManySmallFiles is the per-request overhead: 1,000 files
// of 4 KiB, 4 at a time, on connections kept for reuse, and on a new
// connection per file (versitygw closes each after a PUT).
func BenchmarkUploadManySmallFiles(b *testing.B) {
	files := benchFiles(b, 1000, 4<<10)
	for _, c := range []struct {
		name      string
		closeEach bool
	}{{"reused", false}, {"new-connections", true}} {
		b.Run(c.name, func(b *testing.B) {
			_, src := discardServer(b, c.closeEach)
			client := NewClient()
			b.Cleanup(client.CloseIdleConnections)
			opts := Options{Client: client, Concurrency: 4}
			b.SetBytes(int64(len(files)) * files[0].Size)
			b.ReportAllocs()
			for b.Loop() {
				uploadAll(b, src, opts, files)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(files)), "ns/file")
		})
	}
}
