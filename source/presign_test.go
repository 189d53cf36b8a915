package source

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/inspect"
	"hoist/uploader"
)

// presignConfigs are the URL shapes the endpoint rules make: path style on a
// custom endpoint (region auto, as R2 and the API use), a virtual host on
// AWS, and path style on AWS for a bucket with a dot.
var presignConfigs = []S3Config{
	{Bucket: "uploads", EndpointURL: "http://127.0.0.1:9000", Region: "auto", AccessKey: "AKIDEXAMPLE", SecretKey: "secret", PathStyle: true, Prefix: "p x"},
	{Bucket: "uploads", Region: "us-east-1", AccessKey: "AKIDEXAMPLE", SecretKey: "secret"},
	{Bucket: "up.loads", Region: "eu-west-1", AccessKey: "AKIDEXAMPLE", SecretKey: "secret"},
	{Bucket: "uploads", EndpointURL: "https://acct.r2.cloudflarestorage.com", Region: "auto", AccessKey: "AKIDEXAMPLE", SecretKey: "secret"},
}

// sdkPresignPut is how Target signed before issue 15: the SDK's presigner.
func sdkPresignPut(t testing.TB, s *S3, key string, md uploader.Metadata, crc uint32, at time.Time) *v4.PresignedHTTPRequest {
	t.Helper()
	req, err := s.presign.PresignPutObject(context.Background(), &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Metadata:      userMetadata(md),
		ChecksumCRC32: aws.String(inspect.EncodeCRC32(crc)),
	}, s.presignOptions(at))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// The signer-only PUT must be the SDK's to the byte: the same URL (query
// order, escaping, host) and the same signed headers, so every store that
// took hoist's URLs takes them still.
func TestPresignPutMatchesSDK(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range presignConfigs {
		s, err := NewS3(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if s.putBase == "" {
			t.Fatalf("%s %s: no object base; Target would fall back to the SDK", c.Bucket, c.EndpointURL)
		}
		for _, key := range []string{"a.txt", "dir/ü b+c~.txt", "a+b=c&d.txt", "100% sure#1?.txt", "semi;colon,comma'quote(1).txt", "x//y/./z"} {
			for _, md := range []uploader.Metadata{testMeta, {}} {
				want := sdkPresignPut(t, s, s.prefix+key, md, 0xdeadbeef, at)
				got, err := s.presignPut(context.Background(), s.prefix+key, md, 0xdeadbeef, at)
				if err != nil {
					t.Fatal(err)
				}
				if got.URL != want.URL || got.Method != want.Method {
					t.Errorf("%s key %q:\n got %s %s\nwant %s %s", c.Bucket, key, got.Method, got.URL, want.Method, want.URL)
				}
				if !slices.Equal(slices.Sorted(maps.Keys(got.SignedHeader)), slices.Sorted(maps.Keys(want.SignedHeader))) {
					t.Errorf("%s key %q: signed headers %v, SDK %v", c.Bucket, key, got.SignedHeader, want.SignedHeader)
				}
				for name, v := range want.SignedHeader {
					if !slices.Equal(got.SignedHeader[name], v) {
						t.Errorf("%s key %q: %s = %q, SDK %q", c.Bucket, key, name, got.SignedHeader[name], v)
					}
				}
			}
		}
	}
}

// BenchmarkPresignPut is the --s3 presign path per file: the SDK's
// presigner (before issue 15) against the v4 signer alone.
//
//	go test -run '^$' -bench PresignPut -benchmem -cpuprofile cpu.out ./source/
func BenchmarkPresignPut(b *testing.B) {
	s, err := NewS3(context.Background(), presignConfigs[0])
	if err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sdkPresignPut(b, s, "dir/file-000123.bin", testMeta, 0xdeadbeef, at)
		}
	})
	b.Run("signer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.presignPut(context.Background(), "dir/file-000123.bin", testMeta, 0xdeadbeef, at); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Exists (--skip-existing) is a HEAD: true for a stored object, false for a
// missing one, against the strict store.
func TestS3ExistsOnVersitygw(t *testing.T) {
	src, _ := versitygwSource(t, S3Config{Prefix: "skip"})
	body := []byte("stored once")
	f := fileOf("here.txt", body)
	tg, err := src.Target(context.Background(), f, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if a := send(t, tg, body); a.Status != http.StatusOK {
		t.Fatalf("PUT answered %d %s", a.Status, a.Code)
	}
	for _, c := range []struct {
		key  string
		want bool
	}{{"here.txt", true}, {"missing.txt", false}} {
		got, err := src.Exists(context.Background(), uploader.File{Key: c.key})
		if err != nil || got != c.want {
			t.Errorf("Exists(%s) = %v, %v; want %v", c.key, got, err, c.want)
		}
	}
}
