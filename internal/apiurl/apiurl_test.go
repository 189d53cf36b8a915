package apiurl

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPresignPutShape(t *testing.T) {
	s := Signer{Endpoint: "http://127.0.0.1:9000", Region: "auto", AccessKey: "AKIDEXAMPLE", SecretKey: "secret"}
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		pin       string
		wantQuery string // the checksum part of the raw query, "" for none
	}{
		"the API's empty-body pin": {"", "x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32"},
		"a file's own CRC32":       {"q5EJpQ==", "x-amz-checksum-crc32=q5EJpQ%3D%3D&x-amz-sdk-checksum-algorithm=CRC32"},
		"no checksum":              {NoChecksum, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			raw, err := s.PresignPut(context.Background(), Put{
				Bucket: "b", Key: "org 1/report.pdf", SignedAt: at, Expires: 15 * time.Minute, PinnedCRC32: c.pin,
				Header: map[string]string{"x-amz-meta-user-id": "u", "Content-Type": "application/octet-stream"},
			})
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if u.EscapedPath() != "/b/org%201/report.pdf" {
				t.Errorf("path %s", u.EscapedPath())
			}
			if q.Get("X-Amz-SignedHeaders") != "content-type;host;x-amz-meta-user-id" || q.Get("x-amz-meta-user-id") != "" {
				t.Errorf("headers not kept signed: SignedHeaders=%q", q.Get("X-Amz-SignedHeaders"))
			}
			if q.Get("X-Amz-Content-Sha256") != "UNSIGNED-PAYLOAD" || q.Get("X-Amz-Expires") != "900" ||
				q.Get("x-id") != "PutObject" || !strings.HasSuffix(q.Get("X-Amz-Credential"), "/20261130/auto/s3/aws4_request") {
				t.Errorf("query %v", q)
			}
			has := strings.Contains(u.RawQuery, "x-amz-checksum-crc32")
			if c.wantQuery == "" && has || c.wantQuery != "" && !strings.Contains(u.RawQuery, c.wantQuery) {
				t.Errorf("query %s, want %q", u.RawQuery, c.wantQuery)
			}
		})
	}
}
