package inspect

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Secrets the tests plant in URLs; none of them may ever be printed.
const (
	testAccessKey = "AKIATESTLEAKCHECK001"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLEAKCHECK"
	testSignature = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e7abcd"
	testToken     = "FwoGZXIvYXdzEXAMPLESESSIONTOKENLEAKCHECK"
)

// signedAt is when the hand-shaped URLs were signed.
var signedAt = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// apiQuery is the query of a URL as the API hands them out (see DESIGN.md).
func apiQuery() url.Values {
	return url.Values{
		"X-Amz-Algorithm":              {"AWS4-HMAC-SHA256"},
		"X-Amz-Content-Sha256":         {"UNSIGNED-PAYLOAD"},
		"X-Amz-Credential":             {testAccessKey + "/20250102/auto/s3/aws4_request"},
		"X-Amz-Date":                   {"20250102T030405Z"},
		"X-Amz-Expires":                {"3600"},
		"X-Amz-Signature":              {testSignature},
		"X-Amz-SignedHeaders":          {"host;x-amz-meta-organization-id;x-amz-meta-ttl-hours;x-amz-meta-user-id"},
		"x-amz-checksum-crc32":         {EmptyCRC32},
		"x-amz-sdk-checksum-algorithm": {"CRC32"},
		"x-id":                         {"PutObject"},
	}
}

// apiURL is an API-shaped URL to 127.0.0.1 with edit applied to its query
// (nil for none).
func apiURL(edit func(q url.Values)) string {
	return apiURLTo("http://127.0.0.1:7070/uploads/reports/q1.pdf", edit)
}

func apiURLTo(base string, edit func(q url.Values)) string {
	q := apiQuery()
	if edit != nil {
		edit(q)
	}
	return base + "?" + q.Encode()
}

// fixedClock presigns as if it were always at.
type fixedClock struct {
	signer *v4.Signer
	at     time.Time
}

func (c fixedClock) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return c.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, c.at, optFns...)
}

// sdkURL presigns in with aws-sdk-go-v2 for a client on 127.0.0.1:9 (nothing
// is sent) signed at signedAt, valid for an hour.
func sdkURL(t testing.TB, in *s3.PutObjectInput, sessionToken string) string {
	t.Helper()
	client := s3.New(s3.Options{
		Region:       "auto",
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, sessionToken),
		BaseEndpoint: aws.String("http://127.0.0.1:9"),
		UsePathStyle: true,
	})
	presigner := s3.NewPresignClient(client, func(o *s3.PresignOptions) {
		o.Presigner = fixedClock{v4.NewSigner(), signedAt}
		o.Expires = time.Hour
	})
	if in.Bucket == nil {
		in.Bucket = aws.String("uploads")
	}
	if in.Key == nil {
		in.Key = aws.String("reports/q1.pdf")
	}
	req, err := presigner.PresignPutObject(context.Background(), in)
	if err != nil {
		t.Fatalf("presigning: %v", err)
	}
	if !strings.Contains(req.URL, "X-Amz-Signature=") {
		t.Fatalf("presigned URL has no signature")
	}
	return req.URL
}
