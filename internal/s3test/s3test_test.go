package s3test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"
)

type answer struct {
	Status  int
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// put sends body to url with hdr; a negative length sends it chunked.
func put(t *testing.T, url string, hdr map[string]string, body []byte, length int64) answer {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if length < 0 {
		r = io.MultiReader(r) // hides the length from net/http
	}
	req, err := http.NewRequest(http.MethodPut, url, r)
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	req.ContentLength = length
	if length < 0 {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode}
	if len(raw) > 0 {
		_ = xml.Unmarshal(raw, &a)
	}
	a.Status = resp.StatusCode
	t.Logf("server answered %d %s %q", a.Status, a.Code, a.Message)
	return a
}

// withoutURL drops the URL net/http puts in its errors: its query holds the
// signature.
func withoutURL(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

var apiMeta = map[string]string{
	"x-amz-meta-organization-id": "org-42",
	"x-amz-meta-user-id":         "user-7",
	"x-amz-meta-ttl-hours":       "48",
}

func startWithBucket(t *testing.T) *Server {
	s := Start(t)
	s.CreateBucket(t, "uploads")
	return s
}

// What versitygw v1.8.0 answers, measured by these tests (status, Code, Message):
//
//	right headers, exact Content-Length            → 200, empty body, ETag header
//	query-only x-amz-checksum-crc32=AAAAAA== with a non-empty body → ignored, 200
//	a signed metadata header with another value    → 403 SignatureDoesNotMatch "The request signature we calculated does not match the signature you provided. Check your key and signing method."
//	a signed metadata header left out              → 403 SignatureDoesNotMatch (same message)
//	URL past its X-Amz-Expires                     → 403 AccessDenied "Request has expired."
//	an x-amz-meta-* header that was not signed     → 403 AccessDenied "There were headers present in the request which were not signed"
//	chunked body, no Content-Length                → 411 MissingContentLength "You must provide the Content-Length HTTP header."
//
// And with the CRC32 as a signed header (source/s3_test.go): a body with one
// byte flipped → 400 BadDigest "The CRC32 you specified did not match the
// calculated checksum."

func TestAPIStyleURLAccepted(t *testing.T) {
	s := startWithBucket(t)
	u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: "dir/report 1.bin", Meta: apiMeta})

	for _, p := range []string{"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD",
		"%2Fauto%2Fs3%2Faws4_request", "X-Amz-Date=", "X-Amz-Expires=3600",
		"X-Amz-SignedHeaders=host%3Bx-amz-meta-organization-id%3Bx-amz-meta-ttl-hours%3Bx-amz-meta-user-id",
		"X-Amz-Signature=", "x-amz-checksum-crc32=AAAAAA%3D%3D", "x-amz-sdk-checksum-algorithm=CRC32", "x-id=PutObject"} {
		if !strings.Contains(u, p) {
			t.Errorf("API-style URL lacks %q", p)
		}
	}
	if !strings.HasPrefix(u, s.Endpoint+"/uploads/dir/report%201.bin?") {
		t.Errorf("URL is not path-style on the endpoint: %s", strings.SplitN(u, "?", 2)[0])
	}

	// The URL pins AAAAAA== (an empty body's CRC32) in the query; versitygw,
	// like AWS, ignores a query-only checksum.
	body := []byte("hello, hoist\n")
	a := put(t, u, apiMeta, body, int64(len(body)))
	if a.Status != http.StatusOK {
		t.Fatalf("PUT answered %d %s %q, want 200", a.Status, a.Code, a.Message)
	}
	got, meta := s.Object(t, "uploads", "dir/report 1.bin")
	if !bytes.Equal(got, body) {
		t.Errorf("read back %q, want %q", got, body)
	}
	for k, v := range apiMeta {
		if meta[k] != v {
			t.Errorf("metadata %s = %q, want %q (all: %v)", k, meta[k], v, meta)
		}
	}
}

func TestWrongMetadataValue(t *testing.T) {
	s := startWithBucket(t)
	u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: "a", Meta: apiMeta})
	hdr := map[string]string{
		"x-amz-meta-organization-id": "org-42",
		"x-amz-meta-user-id":         "someone-else",
		"x-amz-meta-ttl-hours":       "48",
	}
	a := put(t, u, hdr, []byte("x"), 1)
	if a.Status != http.StatusForbidden || a.Code != "SignatureDoesNotMatch" {
		t.Fatalf("got %d %s %q, want 403 SignatureDoesNotMatch", a.Status, a.Code, a.Message)
	}
}

func TestMissingSignedHeader(t *testing.T) {
	s := startWithBucket(t)
	u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: "a", Meta: apiMeta})
	hdr := map[string]string{"x-amz-meta-organization-id": "org-42", "x-amz-meta-user-id": "user-7"}
	a := put(t, u, hdr, []byte("x"), 1)
	if a.Status != http.StatusForbidden || a.Code != "SignatureDoesNotMatch" {
		t.Fatalf("got %d %s %q, want 403 SignatureDoesNotMatch", a.Status, a.Code, a.Message)
	}
}

func TestExpiredURL(t *testing.T) {
	s := startWithBucket(t)
	u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: "a", Meta: apiMeta,
		Expires: time.Minute, SignedAt: time.Now().Add(-2 * time.Minute)})
	a := put(t, u, apiMeta, []byte("x"), 1)
	if a.Status != http.StatusForbidden || !strings.Contains(a.Message, "Request has expired") {
		t.Fatalf("got %d %s %q, want 403 \"Request has expired\"", a.Status, a.Code, a.Message)
	}
	if a.Code != "AccessDenied" {
		t.Errorf("code %q, want AccessDenied", a.Code)
	}
}

func TestUnsignedExtraMetadata(t *testing.T) {
	s := startWithBucket(t)
	u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: "a", Meta: apiMeta})
	hdr := map[string]string{"x-amz-meta-extra": "surprise"}
	for k, v := range apiMeta {
		hdr[k] = v
	}
	a := put(t, u, hdr, []byte("x"), 1)
	if a.Status != http.StatusForbidden || !strings.Contains(a.Message, "not signed") {
		t.Fatalf("got %d %s %q, want 403 about headers that were not signed", a.Status, a.Code, a.Message)
	}
	if a.Code != "AccessDenied" {
		t.Errorf("code %q, want AccessDenied", a.Code)
	}
}

func TestChunkedBodyRefused(t *testing.T) {
	s := startWithBucket(t)
	u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: "a", Meta: apiMeta})
	a := put(t, u, apiMeta, []byte("some bytes"), -1)
	if a.Status != http.StatusLengthRequired || a.Code != "MissingContentLength" {
		t.Fatalf("got %d %s %q, want 411 MissingContentLength", a.Status, a.Code, a.Message)
	}
}

func TestNoPinnedChecksum(t *testing.T) {
	s := startWithBucket(t)
	u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: "a", Meta: apiMeta, PinnedCRC32: "-"})
	if strings.Contains(u, "checksum") {
		t.Fatalf("URL still pins a checksum")
	}
	if a := put(t, u, apiMeta, []byte("x"), 1); a.Status != http.StatusOK {
		t.Fatalf("got %d %s %q, want 200", a.Status, a.Code, a.Message)
	}
}

func TestFindVersitygwHonoursEnv(t *testing.T) {
	t.Setenv("HOIST_VERSITYGW", t.TempDir()+"/missing")
	if got := find(versitygw); got != "" {
		t.Errorf("with HOIST_VERSITYGW pointing nowhere, found %q", got)
	}
	t.Setenv("HOIST_VERSITYGW", "")
	if got := find(versitygw); got == "" {
		t.Error("versitygw not found on PATH or in GOBIN/GOPATH/bin")
	}
}

func TestAPIStyleKeysNeedingEscapes(t *testing.T) {
	s := startWithBucket(t)
	for _, key := range []string{"a+b=c&d.txt", "ünï cødé/日本.bin", "100% sure#1?.txt", "semi;colon,comma'quote(1).txt", "tilde~/x", "a$b@c:d!.txt"} {
		u := s.PresignAPIStyle(t, APIStyle{Bucket: "uploads", Key: key, Meta: apiMeta})
		body := []byte("key " + key)
		if a := put(t, u, apiMeta, body, int64(len(body))); a.Status != http.StatusOK {
			t.Errorf("key %q: PUT answered %d %s %q", key, a.Status, a.Code, a.Message)
			continue
		}
		if got, _ := s.Object(t, "uploads", key); !bytes.Equal(got, body) {
			t.Errorf("key %q read back %q", key, got)
		}
	}
}
