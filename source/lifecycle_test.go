package source

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hoist/inspect"
	"hoist/uploader"
)

// Close leaves no connection to the store open, and no goroutine reading
// one: an interrupted run checked with goleak ends with nothing running.
func TestS3CloseLeavesNoIdleConnections(t *testing.T) {
	isolateAWSEnv(t)
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		calls++
		w.WriteHeader(http.StatusNoContent) // AbortMultipartUpload's answer
	}))
	defer srv.Close()
	ignore := goleak.IgnoreCurrent()
	s, err := NewS3(context.Background(), S3Config{Bucket: "media", EndpointURL: srv.URL, Region: "auto",
		AccessKey: "AKIDTESTCLOSE", SecretKey: "secret-close", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipart(context.Background(), uploader.Upload{Key: "k", UploadID: "u"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("%d requests reached the store, want 1", calls)
	}
	goleak.VerifyNone(t, ignore)
}

// Target.Expires is when the store stops taking the URL: X-Amz-Date has
// whole seconds, so a URL signed late in a second runs out up to a second
// before signing time + expiry. The engine re-signs by Expires.
func TestS3TargetExpiresAsTheURLSays(t *testing.T) {
	isolateAWSEnv(t)
	s, err := NewS3(context.Background(), S3Config{Bucket: "media", EndpointURL: "http://127.0.0.1:9", Region: "auto",
		AccessKey: "AKIDTESTEXPIRES", SecretKey: "secret-expires", PathStyle: true, Expiry: time.Minute, Multipart: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.now = func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 900_000_000, time.UTC) }
	f := uploader.File{Path: "a", Name: "a", Key: "a", Size: 1, CRC32: 1, HasCRC32: true}
	put, err := s.Target(context.Background(), f, uploader.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	part, err := s.PartTarget(context.Background(), uploader.Upload{Key: "a", UploadID: "u"}, 1, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range []uploader.Target{put, part} {
		r, err := inspect.Parse(tg.URL)
		if err != nil {
			t.Fatal(err)
		}
		if !tg.Expires.Equal(r.ExpiresAt) {
			t.Errorf("Target.Expires %v, but the URL expires at %v", tg.Expires, r.ExpiresAt)
		}
	}
}
