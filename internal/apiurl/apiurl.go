// Package apiurl signs presigned PUT URLs in the exact shape the API page
// hoist was built from hands out (DESIGN.md, "The request it sends"):
// path style, region auto, X-Amz-Content-Sha256=UNSIGNED-PAYLOAD, the
// headers the uploader must send kept as signed headers (never hoisted into
// the query), the JS SDK's pinned empty-body checksum
// x-amz-checksum-crc32=AAAAAA%3D%3D with x-amz-sdk-checksum-algorithm=CRC32,
// and x-id=PutObject. The Konfidant emulator hands these out and the test
// harnesses sign their API-shaped URLs here, so the shape has one home.
//
// The pinned checksum is the CRC32 of an EMPTY body: AWS, MinIO, versitygw
// and gofakes3 ignore a query-only checksum, while R2, Garage and SeaweedFS
// reject a non-empty body sent to such a URL (400). The shape is kept anyway,
// because it is what the API hands out and what a client has to cope with.
package apiurl

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// EmptyCRC32 is the CRC32 of an empty body, base64: what the API pins.
const EmptyCRC32 = "AAAAAA=="

// NoChecksum as Put.PinnedCRC32 leaves the checksum parameters out.
const NoChecksum = "-"

// Signer signs for one S3 endpoint with one key pair.
type Signer struct {
	Endpoint  string // http(s)://host[:port], buckets path-style under it
	Region    string // "auto" on the API's store
	AccessKey string
	SecretKey string
}

// Put is one upload URL to sign.
type Put struct {
	Bucket, Key string
	// Header is what the uploader must send, name → value; every entry is
	// signed, so a missing or changed value is refused by the store.
	Header map[string]string
	// Expires is the URL's lifetime; 0 means one hour. S3 caps it at 7 days.
	Expires time.Duration
	// SignedAt is the signing clock; zero means now. A time far enough in
	// the past gives an expired URL.
	SignedAt time.Time
	// PinnedCRC32 is the query's x-amz-checksum-crc32: "" pins EmptyCRC32 as
	// the API does, NoChecksum leaves it (and the algorithm) out.
	PinnedCRC32 string
}

// PresignPut signs p and returns the URL.
func (s Signer) PresignPut(ctx context.Context, p Put) (string, error) {
	expires := p.Expires
	if expires == 0 {
		expires = time.Hour
	}
	signedAt := p.SignedAt
	if signedAt.IsZero() {
		signedAt = time.Now()
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return "", fmt.Errorf("store endpoint %q: %w", s.Endpoint, err)
	}
	// Escaped as S3 clients escape keys (all but unreserved characters and
	// "/"), which is the form the signature covers.
	u.Path = "/" + p.Bucket + "/" + p.Key
	u.RawPath = httpbinding.EscapePath(u.Path, false)

	q := url.Values{}
	q.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	switch p.PinnedCRC32 {
	case NoChecksum:
	case "":
		q.Set("x-amz-checksum-crc32", EmptyCRC32)
	default:
		q.Set("x-amz-checksum-crc32", p.PinnedCRC32)
	}
	if p.PinnedCRC32 != NoChecksum {
		q.Set("x-amz-sdk-checksum-algorithm", "CRC32")
	}
	q.Set("x-id", "PutObject")
	u.RawQuery = q.Encode()

	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), nil)
	if err != nil {
		return "", err
	}
	for k, v := range p.Header {
		req.Header.Set(k, v)
	}
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req,
		"UNSIGNED-PAYLOAD", "s3", s.Region, signedAt,
		func(o *v4.SignerOptions) {
			// The API keeps the headers signed; hoisting would move the
			// metadata into the query, where versitygw and SeaweedFS store
			// none of it.
			o.DisableHeaderHoisting = true
			// S3 canonicalises the path as sent, not escaped twice (the s3
			// client sets this too); without it a key with a space fails.
			o.DisableURIPathEscaping = true
		})
	if err != nil {
		return "", fmt.Errorf("presigning s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	return signed, nil
}
