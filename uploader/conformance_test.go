package uploader_test

// Conformance against a real S3 server: versitygw v1.8.0 on 127.0.0.1, which
// checks SigV4 query auth, signed headers, expiry and Content-Length.

import (
	"bytes"
	"context"
	"crypto/rand"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/internal/s3test"
	"hoist/source"
	"hoist/uploader"
)

const conformanceToken = "bearer-token-do-not-print-77"

var formMetadata = uploader.Metadata{OrgID: "org-123", UserID: "user-456", TTLHours: 48}

func apiMeta(md uploader.Metadata) map[string]string { return md.Values() }

func newFile(t *testing.T, dir, name string, size int) (uploader.File, []byte) {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	return uploader.File{Path: p, Name: name, Key: name, Size: st.Size(), ModTime: st.ModTime()}, b
}

// upload runs files through a pool and returns the events.
func upload(t *testing.T, src uploader.Source, opts uploader.Options, files ...uploader.File) ([]uploader.Event, uploader.Summary) {
	t.Helper()
	opts.BackoffInitial, opts.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	p := uploader.New(src, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p.Start(ctx)
	var events []uploader.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range p.Events() {
			events = append(events, e)
		}
	}()
	p.Add(files...)
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	<-done
	return events, p.Summary()
}

func final(events []uploader.Event, id int) uploader.Event {
	var last uploader.Event
	for _, e := range events {
		if e.ID == id && e.Kind != uploader.EventAwaiting {
			last = e
		}
	}
	return last
}

func checkObject(t *testing.T, srv *s3test.Server, bucket, key string, want []byte, md uploader.Metadata) {
	t.Helper()
	got, meta := srv.Object(t, bucket, key)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: object differs from the file (%d bytes, want %d)", key, len(got), len(want))
	}
	for k, v := range md.Values() {
		if meta[k] != v {
			t.Errorf("%s: metadata %s = %q, want %q", key, k, meta[k], v)
		}
	}
}

func TestConformanceAPIShapedURLs(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	dir := t.TempDir()
	a, aData := newFile(t, dir, "report.pdf", 3<<20+17)
	b, bData := newFile(t, dir, "empty.txt", 0)
	entries := []source.Entry{
		{Path: a.Path, URL: srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "in/report.pdf", Meta: apiMeta(formMetadata)})},
		{Path: b.Path, URL: srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "in/empty.txt", Meta: apiMeta(formMetadata)})},
	}
	for _, e := range entries {
		for _, want := range []string{"X-Amz-Content-Sha256=UNSIGNED-PAYLOAD", "x-amz-checksum-crc32=AAAAAA%3D%3D", "x-amz-sdk-checksum-algorithm=CRC32", "x-id=PutObject", "%2Fauto%2Fs3%2Faws4_request"} {
			if !strings.Contains(e.URL, want) {
				t.Fatalf("URL is not shaped like the API's: lacks %s", want)
			}
		}
	}
	g, err := source.NewGiven(entries)
	if err != nil {
		t.Fatal(err)
	}
	events, s := upload(t, g, uploader.Options{Metadata: formMetadata, Token: conformanceToken}, a, b)
	if s.Uploaded != 2 {
		t.Fatalf("summary %+v; last events %+v %+v", s, final(events, 0), final(events, 1))
	}
	checkObject(t, srv, "uploads", "in/report.pdf", aData, formMetadata)
	checkObject(t, srv, "uploads", "in/empty.txt", bData, formMetadata)
	if r := final(events, 0).Result; r.CRC32 != crc32.ChecksumIEEE(aData) || r.ETag == "" || r.Key != "in/report.pdf" {
		t.Errorf("result %+v", r)
	}
}

func TestConformancePresignerURLs(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "media")
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: "media", Prefix: "team", EndpointURL: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []uploader.File
	var datas [][]byte
	for i, size := range []int{1, 700_000, 6 << 20} {
		f, d := newFile(t, dir, "clip"+string(rune('a'+i))+".mov", size)
		files, datas = append(files, f), append(datas, d)
	}
	_, s := upload(t, src, uploader.Options{Metadata: formMetadata, Concurrency: 3}, files...)
	if s.Uploaded != 3 {
		t.Fatalf("summary %+v", s)
	}
	for i, f := range files {
		checkObject(t, srv, "media", "team/"+f.Key, datas[i], formMetadata)
	}
}

func TestConformanceRefusalsAreExplained(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	f, _ := newFile(t, t.TempDir(), "photo.jpg", 100_000)

	t.Run("expired URL refused before sending", func(t *testing.T) {
		u := srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "x", Meta: apiMeta(formMetadata),
			Expires: time.Minute, SignedAt: time.Now().Add(-time.Hour)})
		g, err := source.NewGiven([]source.Entry{{Path: f.Path, URL: u}})
		if err != nil {
			t.Fatal(err)
		}
		events, s := upload(t, g, uploader.Options{Metadata: formMetadata}, f)
		last := final(events, 0)
		if s.Failed != 1 || !strings.Contains(last.Err.Error(), "expired") || !strings.Contains(last.Err.Error(), "new URL") {
			t.Fatalf("%v: %v", last.Kind, last.Err)
		}
	})

	// The server's own answers, through a source that checks nothing first.
	cases := []struct {
		name  string
		url   string
		md    uploader.Metadata
		code  string
		words []string
	}{
		{"expired at the server",
			srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "y", Meta: apiMeta(formMetadata), Expires: time.Second, SignedAt: time.Now().Add(-time.Minute)}),
			formMetadata, "AccessDenied", []string{"expired", "new URL"}},
		{"wrong metadata value",
			srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "z", Meta: apiMeta(formMetadata)}),
			uploader.Metadata{OrgID: "org-WRONG", UserID: formMetadata.UserID, TTLHours: 48}, "SignatureDoesNotMatch", []string{"signature", "--org-id"}},
		{"metadata the URL does not sign",
			srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "w", Meta: map[string]string{uploader.HeaderOrgID: "org-123"}}),
			formMetadata, "AccessDenied", []string{"did not sign"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, s := upload(t, rawURL{url: c.url}, uploader.Options{Metadata: c.md, Retries: 2}, f)
			last := final(events, 0)
			if s.Failed != 1 || last.Code != c.code {
				t.Fatalf("%v %q: %v", last.Kind, last.Code, last.Err)
			}
			for _, w := range c.words {
				if !strings.Contains(last.Err.Error(), w) {
					t.Errorf("explanation %q lacks %q", last.Err, w)
				}
			}
			for _, e := range events {
				if e.Kind == uploader.EventRetrying {
					t.Errorf("a permanent refusal was retried: %v", e.Err)
				}
			}
		})
	}
}

// rawURL sends every file to one URL with all the metadata as headers,
// checking nothing: it lets the server be the one to refuse.
type rawURL struct{ url string }

func (r rawURL) Describe() string                    { return "raw" }
func (r rawURL) Capabilities() uploader.Capabilities { return uploader.Capabilities{} }
func (r rawURL) WantsChecksum(uploader.File) bool    { return false }
func (r rawURL) Target(_ context.Context, f uploader.File, md uploader.Metadata) (uploader.Target, error) {
	h := http.Header{}
	for k, v := range md.Values() {
		h.Set(k, v)
	}
	return uploader.Target{Method: http.MethodPut, URL: r.url, Header: h, Key: f.Key}, nil
}

func TestConformanceMultipart200MiB(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "big")
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: "big", EndpointURL: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true, Multipart: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	f, data := newFile(t, t.TempDir(), "video.mkv", 200<<20)
	events, s := upload(t, src, uploader.Options{Metadata: formMetadata, Concurrency: 4, Journal: uploader.OpenJournal(t.TempDir())}, f)
	last := final(events, 0)
	if s.Uploaded != 1 {
		t.Fatalf("%v: %v", last.Kind, last.Err)
	}
	if last.Result.Parts != 13 || last.Result.CRC32 != crc32.ChecksumIEEE(data) {
		t.Errorf("result %+v (want 13 parts of 16 MiB, crc %08x)", last.Result, crc32.ChecksumIEEE(data))
	}
	checkObject(t, srv, "big", "video.mkv", data, formMetadata)
	assertNoMultipartUploads(t, srv, "big")
}

func TestConformanceCanceledMultipartLeavesNothing(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "big")
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: "big", EndpointURL: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true, Multipart: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := newFile(t, t.TempDir(), "video.mkv", 120<<20)
	p := uploader.New(src, uploader.Options{Metadata: formMetadata, Concurrency: 2, LimitRate: 20 << 20,
		MultipartThreshold: 8 << 20, PartSize: 8 << 20})
	p.Start(context.Background())
	var events []uploader.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range p.Events() {
			events = append(events, e)
		}
	}()
	ids := p.Add(f)
	deadline := time.Now().Add(30 * time.Second)
	for p.Snapshot(nil)[0].Sent < 20<<20 {
		if time.Now().After(deadline) {
			t.Fatal("upload did not get going")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Cancel(ids[0])
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	<-done
	if last := final(events, 0); last.Kind != uploader.EventCanceled {
		t.Fatalf("%v %v", last.Kind, last.Err)
	}
	assertNoMultipartUploads(t, srv, "big")
}

func assertNoMultipartUploads(t *testing.T, srv *s3test.Server, bucket string) {
	t.Helper()
	out, err := srv.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Uploads); n != 0 {
		t.Errorf("%d incomplete multipart uploads left in %s", n, bucket)
	}
}
