package source

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hoist/uploader"
)

// fakeS3Refusing answers every request with status and an S3 error document.
func fakeS3Refusing(t *testing.T, status int, code, message string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>` + message + `</Message><RequestId>req-1</RequestId></Error>`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func fakeS3Source(t *testing.T, endpoint string) *S3 {
	t.Helper()
	isolateAWSEnv(t)
	s, err := NewS3(context.Background(), S3Config{
		Bucket: testBucket, EndpointURL: endpoint, Region: "auto", PathStyle: true, Multipart: true,
		AccessKey: "AKIDTEST", SecretKey: "secret-test-key",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Multipart control calls are retried by hoist's one policy (--retries), not
// by the SDK's retryer on top of it, and fail in one clean line: status, S3
// code, message — no "operation error", RequestID or HostID, and no "https"
// for an http endpoint.
func TestS3ControlCallsUseHoistRetries(t *testing.T) {
	srv, calls := fakeS3Refusing(t, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	s := fakeS3Source(t, srv.URL)
	policy := uploader.RetryPolicy{Retries: 2, Initial: time.Millisecond, Max: time.Millisecond}
	err := policy.Do(context.Background(), func(ctx context.Context, _ int) error {
		_, err := s.CreateMultipart(ctx, uploader.File{Name: "big.bin", Key: "big.bin"}, testMeta)
		return err
	}, nil)
	if err == nil {
		t.Fatal("create succeeded against a server that only refuses")
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d requests for --retries 2, want 3 (the SDK must not retry on its own)", n)
	}
	msg := err.Error()
	for _, bad := range []string{"operation error", "RequestID", "HostID", "https response", "\n"} {
		if strings.Contains(msg, bad) {
			t.Errorf("error %q contains %q", msg, bad)
		}
	}
	if !strings.Contains(msg, "503 SlowDown: Please reduce your request rate.") {
		t.Errorf("error %q lacks status, code and message", msg)
	}
	if len(msg) > 200 {
		t.Errorf("error is %d characters: %q", len(msg), msg)
	}
}

// A permanent refusal of CompleteMultipartUpload is sent once.
func TestS3CompleteRefusalNotRetried(t *testing.T) {
	srv, calls := fakeS3Refusing(t, http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found.")
	s := fakeS3Source(t, srv.URL)
	policy := uploader.RetryPolicy{Retries: 5, Initial: time.Millisecond, Max: time.Millisecond}
	err := policy.Do(context.Background(), func(ctx context.Context, _ int) error {
		_, err := s.CompleteMultipart(ctx, uploader.Upload{Key: "k", UploadID: "u"}, []uploader.Part{{Number: 1, Size: 1, ETag: "e"}})
		return err
	}, nil)
	if err == nil || calls.Load() != 1 {
		t.Errorf("a 400 InvalidPart was sent %d times (want 1); error %v", calls.Load(), err)
	}
}
