package inspect

import (
	"hash/crc32"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func codes(problems []Problem) []string {
	var c []string
	for _, p := range problems {
		c = append(c, p.Code)
	}
	slices.Sort(c)
	return c
}

func sameCodes(t *testing.T, got []Problem, want ...string) {
	t.Helper()
	slices.Sort(want)
	if g := codes(got); !slices.Equal(g, want) {
		t.Errorf("problem codes = %v, want %v; problems: %+v", g, want, got)
	}
}

func TestParseAPIURL(t *testing.T) {
	r, err := Parse(apiURL(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Scheme: "http", Host: "127.0.0.1:7070", Path: "/uploads/reports/q1.pdf",
		Addressing: PathStyle, Bucket: "uploads", Key: "reports/q1.pdf",
		Algorithm: "AWS4-HMAC-SHA256", Region: "auto", Service: "s3",
		SignedAt: signedAt, Expires: time.Hour, ExpiresAt: signedAt.Add(time.Hour),
		SignedHeaders:     []string{"host", "x-amz-meta-organization-id", "x-amz-meta-ttl-hours", "x-amz-meta-user-id"},
		ContentSHA256:     "UNSIGNED-PAYLOAD",
		PinnedCRC32:       EmptyCRC32,
		ChecksumAlgorithm: "CRC32",
		XID:               "PutObject",
		HasSignature:      true, HasCredential: true,
	}
	if !reportsEqual(r, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", r, want)
	}
	if got := r.Redacted(); got != "http://127.0.0.1:7070/uploads/reports/q1.pdf" {
		t.Errorf("Redacted = %q", got)
	}
}

func reportsEqual(a, b Report) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host && a.Path == b.Path && a.Bucket == b.Bucket && a.Key == b.Key &&
		a.Addressing == b.Addressing && a.Algorithm == b.Algorithm && a.Region == b.Region && a.Service == b.Service &&
		a.SignedAt.Equal(b.SignedAt) && a.Expires == b.Expires && a.ExpiresAt.Equal(b.ExpiresAt) &&
		slices.Equal(a.SignedHeaders, b.SignedHeaders) && a.ContentSHA256 == b.ContentSHA256 &&
		a.PinnedCRC32 == b.PinnedCRC32 && a.ChecksumAlgorithm == b.ChecksumAlgorithm && a.XID == b.XID &&
		a.HasSignature == b.HasSignature && a.HasCredential == b.HasCredential && len(a.Problems) == len(b.Problems)
}

func TestParseSDKURLs(t *testing.T) {
	tests := []struct {
		name          string
		in            *s3.PutObjectInput
		token         string
		signedHeaders []string
		checksumAlgo  string
		key           string
	}{
		{name: "plain", in: &s3.PutObjectInput{}, signedHeaders: []string{"host"}, key: "reports/q1.pdf"},
		{
			name:          "metadata as signed headers",
			in:            &s3.PutObjectInput{Metadata: map[string]string{"user-id": "u-1", "organization-id": "o-1"}},
			signedHeaders: []string{"host", "x-amz-meta-organization-id", "x-amz-meta-user-id"}, key: "reports/q1.pdf",
		},
		{
			name:          "checksum as a signed header",
			in:            &s3.PutObjectInput{ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumCRC32: aws.String("NhCmhg==")},
			signedHeaders: []string{"host", "x-amz-checksum-crc32"}, checksumAlgo: "CRC32", key: "reports/q1.pdf",
		},
		{
			name:          "content type and a key with a space",
			in:            &s3.PutObjectInput{ContentType: aws.String("application/octet-stream"), Key: aws.String("q 1/ä.txt")},
			signedHeaders: []string{"content-type", "host"}, key: "q 1/ä.txt",
		},
		{name: "session token", in: &s3.PutObjectInput{}, token: testToken, signedHeaders: []string{"host"}, key: "reports/q1.pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(sdkURL(t, tt.in, tt.token))
			if err != nil {
				t.Fatal(err)
			}
			sameCodes(t, r.Problems)
			if !slices.Equal(r.SignedHeaders, tt.signedHeaders) {
				t.Errorf("SignedHeaders = %v, want %v", r.SignedHeaders, tt.signedHeaders)
			}
			if r.ChecksumAlgorithm != tt.checksumAlgo {
				t.Errorf("ChecksumAlgorithm = %q, want %q", r.ChecksumAlgorithm, tt.checksumAlgo)
			}
			if r.Bucket != "uploads" || r.Key != tt.key || r.Region != "auto" || r.XID != "PutObject" || r.PinnedCRC32 != "" {
				t.Errorf("bucket %q key %q region %q x-id %q pinned %q", r.Bucket, r.Key, r.Region, r.XID, r.PinnedCRC32)
			}
			if !r.SignedAt.Equal(signedAt) || !r.ExpiresAt.Equal(signedAt.Add(time.Hour)) {
				t.Errorf("signed %v, expires %v", r.SignedAt, r.ExpiresAt)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	del := func(name string) func(url.Values) { return func(q url.Values) { q.Del(name) } }
	set := func(name, v string) func(url.Values) { return func(q url.Values) { q.Set(name, v) } }
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{"api url", apiURL(nil), nil},
		{"no signature", apiURL(del("X-Amz-Signature")), []string{CodeMissingSignature}},
		{"no credential", apiURL(del("X-Amz-Credential")), []string{CodeMissingCredential}},
		{"no date", apiURL(del("X-Amz-Date")), []string{CodeMissingDate}},
		{"no expires", apiURL(del("X-Amz-Expires")), []string{CodeMissingExpires}},
		{"no algorithm", apiURL(del("X-Amz-Algorithm")), []string{CodeMissingAlgorithm}},
		{"no signed headers", apiURL(del("X-Amz-SignedHeaders")), []string{CodeMissingSignedHeaders}},
		{"no query at all", "https://uploads.example/b/k", []string{CodeMissingAlgorithm, CodeMissingSignature,
			CodeMissingCredential, CodeMissingDate, CodeMissingExpires, CodeMissingSignedHeaders}},
		{"expires a week", apiURL(set("X-Amz-Expires", "604800")), nil},
		{"expires over a week", apiURL(set("X-Amz-Expires", "604801")), []string{CodeExpiresTooLong}},
		{"expires huge", apiURL(set("X-Amz-Expires", "99999999999999999999")), []string{CodeBadExpires}},
		{"expires zero", apiURL(set("X-Amz-Expires", "0")), []string{CodeBadExpires}},
		{"expires words", apiURL(set("X-Amz-Expires", "an hour")), []string{CodeBadExpires}},
		{"bad date", apiURL(set("X-Amz-Date", "2025-01-02T03:04:05Z")), []string{CodeBadDate}},
		{"credential day differs", apiURL(set("X-Amz-Credential", testAccessKey+"/20250103/auto/s3/aws4_request")), []string{CodeCredentialDate}},
		{"credential short", apiURL(set("X-Amz-Credential", testAccessKey+"/20250102/auto")), []string{CodeBadCredential}},
		{"credential no key", apiURL(set("X-Amz-Credential", "/20250102/auto/s3/aws4_request")), []string{CodeBadCredential}},
		{"credential other service", apiURL(set("X-Amz-Credential", testAccessKey+"/20250102/auto/sqs/aws4_request")), []string{CodeBadCredential}},
		{"signature cut short", apiURL(set("X-Amz-Signature", testSignature[:40])), []string{CodeBadSignature}},
		{"signature not hex", apiURL(set("X-Amz-Signature", strings.Repeat("zz", 32))), []string{CodeBadSignature}},
		{"unknown algorithm", apiURL(set("X-Amz-Algorithm", "HMAC-MD5")), []string{CodeBadAlgorithm}},
		{"signed headers without host", apiURL(set("X-Amz-SignedHeaders", "x-amz-meta-user-id")), []string{CodeBadSignedHeaders}},
		{"signed headers with a gap", apiURL(set("X-Amz-SignedHeaders", "host;;x-amz-meta-user-id")), []string{CodeBadSignedHeaders}},
		{"checksum not base64", apiURL(set("x-amz-checksum-crc32", "abc")), []string{CodeBadChecksum}},
		{"checksum too long", apiURL(set("x-amz-checksum-crc32", "AAAAAAAA")), []string{CodeBadChecksum}},
		{"other checksum pinned", apiURL(set("x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")), []string{CodeOtherChecksum}},
		{"content sha256 pinned", apiURL(set("X-Amz-Content-Sha256", strings.Repeat("ab", 32))), []string{CodeContentSHA256}},
		{"duplicate date", apiURL(func(q url.Values) { q.Add("X-Amz-Date", "20250102T030405Z") }), []string{CodeDuplicateParam}},
		{"duplicate across case", apiURL(func(q url.Values) { q.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32") }), []string{CodeDuplicateParam}},
		{"get url", apiURL(set("x-id", "GetObject")), []string{CodeWrongOperation}},
		{"malformed escape", apiURL(nil) + "&x=%zz", []string{CodeBadQuery}},
		{"http to another host", apiURLTo("http://uploads.example/b/k", nil), []string{CodeInsecure}},
		{"http to 10/8", apiURLTo("http://10.1.2.3:9000/b/k", nil), []string{CodeInsecure}},
		{"http to localhost", apiURLTo("http://LocalHost:9000/b/k", nil), nil},
		{"http to 127.9.9.9", apiURLTo("http://127.9.9.9/b/k", nil), nil},
		{"http to ::1", apiURLTo("http://[::1]:9000/b/k", nil), nil},
		{"https anywhere", apiURLTo("https://uploads.example/b/k", nil), nil},
		{"user info", apiURLTo("https://someone:pw@uploads.example/b/k", nil), []string{CodeUserInfo}},
		{"no key", apiURLTo("http://127.0.0.1:7070/", nil), []string{CodeNoKey}},
		{"no path", apiURLTo("http://127.0.0.1:7070", nil), []string{CodeNoKey}},
		{"sigv2", "https://uploads.example/b/k?AWSAccessKeyId=" + testAccessKey + "&Expires=1735787045&Signature=" + url.QueryEscape("dGVzdHNpZ25hdHVyZQ=="),
			[]string{CodeSigV2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			sameCodes(t, r.Problems, tt.want...)
			for _, p := range r.Problems {
				if p.Message == "" || strings.Contains(p.Message, "\n") {
					t.Errorf("problem %s: message %q is not one line", p.Code, p.Message)
				}
			}
		})
	}
}

func TestParseShapes(t *testing.T) {
	t.Run("bare semicolons in signed headers", func(t *testing.T) {
		raw := strings.Replace(apiURL(nil), "host%3Bx-amz-meta-organization-id%3Bx-amz-meta-ttl-hours%3Bx-amz-meta-user-id",
			"host;x-amz-meta-organization-id;x-amz-meta-ttl-hours;x-amz-meta-user-id", 1)
		if !strings.Contains(raw, "host;x-amz") {
			t.Fatal("test URL was not rewritten")
		}
		r, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		sameCodes(t, r.Problems)
		if len(r.SignedHeaders) != 4 {
			t.Errorf("SignedHeaders = %v", r.SignedHeaders)
		}
	})
	t.Run("virtual-hosted AWS", func(t *testing.T) {
		r, err := Parse(apiURLTo("https://my-bucket.s3.eu-west-1.amazonaws.com/a/b%20c.txt", nil))
		if err != nil {
			t.Fatal(err)
		}
		if r.Bucket != "my-bucket" || r.Key != "a/b c.txt" || r.Addressing != VirtualHosted {
			t.Errorf("bucket %q key %q addressing %v", r.Bucket, r.Key, r.Addressing)
		}
		if got := r.Redacted(); got != "https://my-bucket.s3.eu-west-1.amazonaws.com/a/b%20c.txt" {
			t.Errorf("Redacted = %q", got)
		}
	})
	t.Run("one path segment", func(t *testing.T) {
		r, err := Parse(apiURLTo("https://files.example/b.txt", nil))
		if err != nil {
			t.Fatal(err)
		}
		if r.Bucket != "" || r.Key != "b.txt" || r.Addressing != AddressingUnknown {
			t.Errorf("bucket %q key %q addressing %v", r.Bucket, r.Key, r.Addressing)
		}
	})
	t.Run("user info is dropped", func(t *testing.T) {
		r, err := Parse(apiURLTo("https://someone:pw@uploads.example/b/k", nil))
		if err != nil {
			t.Fatal(err)
		}
		if r.Host != "uploads.example" || strings.Contains(r.Redacted(), "pw") {
			t.Errorf("host %q, redacted %q", r.Host, r.Redacted())
		}
	})
	t.Run("surrounding white space", func(t *testing.T) {
		r, err := Parse("  " + apiURL(nil) + "\r\n")
		if err != nil {
			t.Fatal(err)
		}
		sameCodes(t, r.Problems)
	})
	t.Run("metadata in the query", func(t *testing.T) {
		r, err := Parse(apiURL(func(q url.Values) { q.Set("X-Amz-Meta-User-Id", "u-9") }))
		if err != nil {
			t.Fatal(err)
		}
		if r.QueryMetadata["x-amz-meta-user-id"] != "u-9" {
			t.Errorf("QueryMetadata = %v", r.QueryMetadata)
		}
	})
	t.Run("sigv4a", func(t *testing.T) {
		r, err := Parse(apiURL(func(q url.Values) {
			q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256")
			q.Set("X-Amz-Credential", testAccessKey+"/20250102/s3/aws4_request")
			q.Set("X-Amz-Region-Set", "*")
			q.Set("X-Amz-Signature", strings.Repeat("3045", 18))
		}))
		if err != nil {
			t.Fatal(err)
		}
		sameCodes(t, r.Problems)
		if r.Region != "*" || r.Service != "s3" {
			t.Errorf("region %q service %q", r.Region, r.Service)
		}
	})
}

func TestParseErrors(t *testing.T) {
	sig := "X-Amz-Signature=" + testSignature + "&X-Amz-Credential=" + testAccessKey
	tests := []struct{ name, raw, want string }{
		{"empty", "", "no scheme"},
		{"words", "not a url", "no scheme"},
		{"only a query", "?" + sig, "no scheme"},
		{"ftp", "ftp://uploads.example/b/k?" + sig, `scheme "ftp"`},
		{"file", "file:///tmp/x?" + sig, `scheme "file"`},
		{"no host", "https:///b/k?" + sig, "no host"},
		{"port only", "https://:443/b/k?" + sig, "no host"},
		{"bad port", "https://uploads.example:http/b/k?" + sig, "invalid port"},
		{"bad host", "https://[::1/b/k?" + sig, "not a valid URL"},
		{"control character", "https://uploads.example/b\x7f/k?" + sig, "not a valid URL"},
		{"bad escape in path", "https://uploads.example/b/%zz?" + sig, "not a valid URL"},
		{"user info and a bad port", "https://someone:" + testSignature + "@uploads.example:x/b?" + sig, "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testSignature) || strings.Contains(err.Error(), testAccessKey) {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
}

func TestEncodeCRC32(t *testing.T) {
	if got := EncodeCRC32(0); got != EmptyCRC32 {
		t.Errorf("EncodeCRC32(0) = %q, want %q", got, EmptyCRC32)
	}
	if got := EncodeCRC32(crc32.ChecksumIEEE(nil)); got != EmptyCRC32 {
		t.Errorf("CRC32 of nothing = %q", got)
	}
	// S3's x-amz-checksum-crc32 for "hello" (0x3610a686).
	if got := EncodeCRC32(crc32.ChecksumIEEE([]byte("hello"))); got != "NhCmhg==" {
		t.Errorf(`EncodeCRC32("hello") = %q, want "NhCmhg=="`, got)
	}
}

func TestRoughDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                   "under a second",
		400 * time.Millisecond:              "under a second",
		15 * time.Second:                    "15s",
		42*time.Minute + 10*time.Second:     "42m10s",
		3 * time.Hour:                       "3h",
		time.Hour + 30*time.Second:          "1h",
		time.Hour + 5*time.Minute:           "1h5m",
		53*time.Hour + 7*time.Minute:        "2d5h",
		-3 * time.Hour:                      "3h",
		7 * 24 * time.Hour:                  "7d",
		59*time.Minute + 59*time.Second + 1: "59m59s",
	}
	for d, want := range tests {
		if got := roughDuration(d); got != want {
			t.Errorf("roughDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
