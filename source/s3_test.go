package source

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/inspect"
	"hoist/internal/s3test"
	"hoist/localstore"
	"hoist/uploader"
)

const testBucket = "uploads"

var testMeta = uploader.Metadata{OrgID: "org-42", UserID: "user-7", TTLHours: 48}

func versitygwSource(t *testing.T, c S3Config) (*S3, *s3test.Server) {
	t.Helper()
	srv := s3test.Start(t)
	srv.CreateBucket(t, testBucket)
	c.Bucket = testBucket
	c.EndpointURL = srv.Endpoint
	c.Region = srv.Region
	c.AccessKey, c.SecretKey = srv.AccessKey, srv.SecretKey
	c.PathStyle = true
	src, err := NewS3(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return src, srv
}

func fileOf(key string, body []byte) uploader.File {
	return uploader.File{Name: key, Key: key, Size: int64(len(body)), CRC32: crc32.ChecksumIEEE(body), HasCRC32: true}
}

type answer struct {
	Status  int
	ETag    string
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// send does what the engine does with a Target: its method, URL and headers,
// an exact Content-Length, plain net/http.
// withoutURL drops the URL net/http puts in its errors: its query holds the
// signature.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func send(t *testing.T, tg uploader.Target, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(tg.Method, tg.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	req.ContentLength = int64(len(body))
	req.Header = tg.Header.Clone()
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{}
	if len(raw) > 0 {
		_ = xml.Unmarshal(raw, &a)
	}
	a.Status, a.ETag = resp.StatusCode, resp.Header.Get("ETag")
	return a
}

func TestS3TargetUploads(t *testing.T) {
	src, srv := versitygwSource(t, S3Config{Prefix: "in"})
	body := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 5000)
	f := fileOf("2024/q1 report.bin", body)

	before := time.Now()
	tg, err := src.Target(context.Background(), f, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Method != http.MethodPut || tg.Key != "in/2024/q1 report.bin" || tg.SendToken || tg.Form != nil {
		t.Errorf("target method %q key %q SendToken %v Form %v", tg.Method, tg.Key, tg.SendToken, tg.Form)
	}
	if d := tg.Expires.Sub(before); d < 15*time.Minute-time.Second || d > 15*time.Minute+time.Second {
		t.Errorf("Expires in %v, want 15m", d)
	}

	// Every signed header is in Target.Header with the value it was signed with.
	wantHeader := http.Header{}
	for k, v := range testMeta.Values() {
		wantHeader.Set(k, v)
	}
	wantHeader.Set("x-amz-checksum-crc32", inspect.EncodeCRC32(f.CRC32))
	if !maps.EqualFunc(tg.Header, wantHeader, func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }) {
		t.Errorf("Target.Header = %v, want %v", tg.Header, wantHeader)
	}
	u, err := url.Parse(tg.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got := q.Get("X-Amz-SignedHeaders"); got != "host;x-amz-checksum-crc32;x-amz-meta-organization-id;x-amz-meta-ttl-hours;x-amz-meta-user-id" {
		t.Errorf("X-Amz-SignedHeaders = %q", got)
	}
	// What the SDK's presigned PutObject carries: no query checksum, no
	// x-amz-sdk-checksum-algorithm, no X-Amz-Content-Sha256 (S3 reads a
	// presigned URL without one as UNSIGNED-PAYLOAD), so nothing extra to send.
	for _, p := range []string{"x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm", "X-Amz-Content-Sha256", "X-Amz-Security-Token"} {
		if q.Has(p) {
			t.Errorf("query has %s", p)
		}
	}
	if q.Get("X-Amz-Expires") != "900" || q.Get("x-id") != "PutObject" {
		t.Errorf("X-Amz-Expires %q x-id %q", q.Get("X-Amz-Expires"), q.Get("x-id"))
	}

	if a := send(t, tg, body); a.Status != http.StatusOK {
		t.Fatalf("PUT answered %d %s %q", a.Status, a.Code, a.Message)
	}
	got, meta := srv.Object(t, testBucket, "in/2024/q1 report.bin")
	if !bytes.Equal(got, body) {
		t.Errorf("read back %d bytes, differing from the %d sent", len(got), len(body))
	}
	if !maps.Equal(meta, testMeta.Values()) {
		t.Errorf("metadata %v, want %v", meta, testMeta.Values())
	}
}

func TestS3KeysNeedingEscapes(t *testing.T) {
	src, srv := versitygwSource(t, S3Config{Prefix: "odd keys"})
	for _, key := range []string{"a+b=c&d.txt", "ünï cødé/日本.bin", "100% sure#1?.txt", "semi;colon,comma'quote(1).txt", "tilde~/x"} {
		body := []byte("key " + key)
		tg, err := src.Target(context.Background(), fileOf(key, body), testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if a := send(t, tg, body); a.Status != http.StatusOK {
			t.Errorf("key %q: PUT answered %d %s %q", key, a.Status, a.Code, a.Message)
			continue
		}
		if got, _ := srv.Object(t, testBucket, "odd keys/"+key); !bytes.Equal(got, body) {
			t.Errorf("key %q read back %q", key, got)
		}
	}
}

// A signed CRC32 makes the store check the bytes: measured on versitygw,
// 400 BadDigest "The CRC32 you specified did not match the calculated checksum."
func TestS3CorruptedBodyRefused(t *testing.T) {
	src, _ := versitygwSource(t, S3Config{})
	body := bytes.Repeat([]byte("abc"), 1000)
	tg, err := src.Target(context.Background(), fileOf("a.bin", body), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(body)
	corrupt[1234] ^= 0x01
	a := send(t, tg, corrupt)
	t.Logf("versitygw answered %d %s %q", a.Status, a.Code, a.Message)
	if a.Status != http.StatusBadRequest || a.Code != "BadDigest" {
		t.Fatalf("got %d %s %q, want 400 BadDigest", a.Status, a.Code, a.Message)
	}
}

func TestS3WrongMetadataRefused(t *testing.T) {
	src, _ := versitygwSource(t, S3Config{})
	body := []byte("x")
	tg, err := src.Target(context.Background(), fileOf("a", body), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	tg.Header.Set(uploader.HeaderUserID, "someone-else")
	if a := send(t, tg, body); a.Status != http.StatusForbidden || a.Code != "SignatureDoesNotMatch" {
		t.Fatalf("got %d %s %q, want 403 SignatureDoesNotMatch", a.Status, a.Code, a.Message)
	}
}

func TestS3ExpiredThenResigned(t *testing.T) {
	src, srv := versitygwSource(t, S3Config{Expiry: time.Minute})
	body := []byte("late but here")
	f := fileOf("late.txt", body)

	src.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	tg, err := src.Target(context.Background(), f, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if !tg.Expires.Before(time.Now()) {
		t.Errorf("Expires %v is not in the past", tg.Expires)
	}
	a := send(t, tg, body)
	t.Logf("versitygw answered %d %s %q", a.Status, a.Code, a.Message)
	if a.Status != http.StatusForbidden || a.Code != "AccessDenied" || !strings.Contains(a.Message, "Request has expired") {
		t.Fatalf("got %d %s %q, want 403 AccessDenied \"Request has expired\"", a.Status, a.Code, a.Message)
	}

	src.now = time.Now
	if !src.Capabilities().Resign {
		t.Fatal("S3 source does not offer re-signing")
	}
	tg, err = src.Target(context.Background(), f, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if a := send(t, tg, body); a.Status != http.StatusOK {
		t.Fatalf("re-signed URL answered %d %s %q", a.Status, a.Code, a.Message)
	}
	if got, _ := srv.Object(t, testBucket, "late.txt"); !bytes.Equal(got, body) {
		t.Errorf("read back %q", got)
	}
}

func TestS3Multipart(t *testing.T) {
	src, srv := versitygwSource(t, S3Config{Prefix: "mp/", Multipart: true})
	if !src.Capabilities().Multipart {
		t.Fatal("Multipart capability not set")
	}
	const partSize = 5 << 20
	body := make([]byte, 2*partSize+12345)
	for i := range body {
		body[i] = byte(i*7 + i>>13)
	}
	f := fileOf("big.bin", body)
	ctx := context.Background()

	up, err := src.CreateMultipart(ctx, f, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if up.Key != "mp/big.bin" || up.UploadID == "" {
		t.Fatalf("upload %+v", up)
	}
	var sent []uploader.Part
	for n := 1; (n-1)*partSize < len(body); n++ {
		chunk := body[(n-1)*partSize : min(n*partSize, len(body))]
		crc := crc32.ChecksumIEEE(chunk)
		tg, err := src.PartTarget(ctx, up, n, int64(len(chunk)), crc)
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.Header.Get("x-amz-checksum-crc32"); got != inspect.EncodeCRC32(crc) {
			t.Errorf("part %d signs checksum %q, want %q", n, got, inspect.EncodeCRC32(crc))
		}
		a := send(t, tg, chunk)
		if a.Status != http.StatusOK || a.ETag == "" {
			t.Fatalf("part %d answered %d %s %q (ETag %q)", n, a.Status, a.Code, a.Message, a.ETag)
		}
		sent = append(sent, uploader.Part{Number: n, Size: int64(len(chunk)), ETag: a.ETag, CRC32: crc})
	}
	if len(sent) != 3 {
		t.Fatalf("sent %d parts, want 3", len(sent))
	}

	listed, err := src.ListParts(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(sent) {
		t.Fatalf("ListParts gave %d parts, want %d", len(listed), len(sent))
	}
	for i := range sent {
		if listed[i] != sent[i] {
			t.Errorf("listed part %+v, sent %+v", listed[i], sent[i])
		}
	}

	// Out of order on purpose: completion sorts by number.
	etag, err := src.CompleteMultipart(ctx, up, []uploader.Part{sent[2], sent[0], sent[1]})
	if err != nil {
		t.Fatal(err)
	}
	if etag == "" {
		t.Error("CompleteMultipart returned no ETag")
	}
	got, meta := srv.Object(t, testBucket, "mp/big.bin")
	if !bytes.Equal(got, body) {
		t.Errorf("read back %d bytes, differing from the %d sent", len(got), len(body))
	}
	if !maps.Equal(meta, testMeta.Values()) {
		t.Errorf("metadata %v, want %v", meta, testMeta.Values())
	}
}

func TestS3MultipartCorruptPartRefused(t *testing.T) {
	src, _ := versitygwSource(t, S3Config{Multipart: true})
	ctx := context.Background()
	up, err := src.CreateMultipart(ctx, fileOf("x", nil), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{7}, 1000)
	tg, err := src.PartTarget(ctx, up, 1, 1000, crc32.ChecksumIEEE(chunk))
	if err != nil {
		t.Fatal(err)
	}
	chunk[0] = 8
	if a := send(t, tg, chunk); a.Status != http.StatusBadRequest || a.Code != "BadDigest" {
		t.Fatalf("got %d %s %q, want 400 BadDigest", a.Status, a.Code, a.Message)
	}
	if err := src.AbortMultipart(ctx, up); err != nil {
		t.Fatal(err)
	}
}

func TestS3AbortLeavesNothing(t *testing.T) {
	src, srv := versitygwSource(t, S3Config{Multipart: true})
	ctx := context.Background()
	chunk := bytes.Repeat([]byte("p"), 5<<20)
	up, err := src.CreateMultipart(ctx, fileOf("gone.bin", chunk), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := src.PartTarget(ctx, up, 1, int64(len(chunk)), crc32.ChecksumIEEE(chunk))
	if err != nil {
		t.Fatal(err)
	}
	if a := send(t, tg, chunk); a.Status != http.StatusOK {
		t.Fatalf("part answered %d %s %q", a.Status, a.Code, a.Message)
	}
	if n := countUploads(t, srv); n != 1 {
		t.Fatalf("%d uploads in progress before Abort, want 1", n)
	}
	if err := src.AbortMultipart(ctx, up); err != nil {
		t.Fatal(err)
	}
	if n := countUploads(t, srv); n != 0 {
		t.Errorf("%d uploads in progress after Abort, want 0", n)
	}
	if _, err := src.ListParts(ctx, up); err == nil {
		t.Error("ListParts of an aborted upload succeeded")
	}
}

func countUploads(t *testing.T, srv *s3test.Server) int {
	t.Helper()
	out, err := srv.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func TestS3DescribeAndCapabilities(t *testing.T) {
	src, srv := versitygwSource(t, S3Config{Prefix: "team/a"})
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	if got, want := src.Describe(), "s3://uploads/team/a/ on "+host; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	if strings.Contains(src.Describe(), srv.SecretKey) || strings.Contains(src.Describe(), srv.AccessKey) {
		t.Error("Describe names a credential")
	}
	caps := src.Capabilities()
	if !caps.Resign || caps.Multipart || caps.MaxSinglePut != 5<<30 {
		t.Errorf("capabilities %+v, want Resign, no multipart, 5 GiB single PUT", caps)
	}
	if !src.WantsChecksum(uploader.File{}) {
		t.Error("WantsChecksum is false")
	}
	if _, err := src.Target(context.Background(), uploader.File{Name: "n", Key: "n"}, testMeta); err == nil {
		t.Error("Target without a CRC32 succeeded")
	}
}

// hoist's wiring of the embedded store: static keys, path style, no size
// limit, single PUT only, Location naming the file on disk.
func TestS3OnLocalStore(t *testing.T) {
	st, err := localstore.Start(filepath.Join(t.TempDir(), "local"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src, err := NewS3(context.Background(), S3Config{
		Bucket:       st.Bucket(),
		EndpointURL:  st.Endpoint(),
		AccessKey:    st.AccessKey(),
		SecretKey:    st.SecretKey(),
		PathStyle:    true,
		MaxSinglePut: -1,
		Location:     st.PathFor,
	})
	if err != nil {
		t.Fatal(err)
	}
	if caps := src.Capabilities(); caps.Multipart || caps.MaxSinglePut != 0 || !caps.Resign {
		t.Errorf("capabilities %+v", caps)
	}
	body := []byte("on my own disk")
	tg, err := src.Target(context.Background(), fileOf("docs/a.txt", body), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Location != st.PathFor("docs/a.txt") {
		t.Errorf("Location %q, want %q", tg.Location, st.PathFor("docs/a.txt"))
	}
	if a := send(t, tg, body); a.Status != http.StatusOK {
		t.Fatalf("PUT answered %d %s %q", a.Status, a.Code, a.Message)
	}
	if got, err := os.ReadFile(tg.Location); err != nil || !bytes.Equal(got, body) {
		t.Errorf("file at Location reads %q, %v", got, err)
	}
}

func TestS3CredentialsFromEnvironment(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, testBucket)
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", srv.Region)
	src, err := NewS3(context.Background(), S3Config{Bucket: testBucket, EndpointURL: srv.Endpoint, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("via the chain")
	tg, err := src.Target(context.Background(), fileOf("env.txt", body), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if a := send(t, tg, body); a.Status != http.StatusOK {
		t.Fatalf("PUT answered %d %s %q", a.Status, a.Code, a.Message)
	}
}

// isolateAWSEnv hides this machine's AWS setup and keeps the SDK off the
// network (no instance metadata lookups).
func isolateAWSEnv(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestNewS3Errors(t *testing.T) {
	isolateAWSEnv(t)
	const secret = "s3cr3t-value-never-printed"
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		c    S3Config
		want string
	}{
		{"no bucket", S3Config{}, "--s3 s3://bucket"},
		{"bad bucket", S3Config{Bucket: "Has_Caps"}, "not valid"},
		{"half credentials", S3Config{Bucket: "ok-bucket", SecretKey: secret}, "must be given together"},
		{"bad endpoint", S3Config{Bucket: "ok-bucket", EndpointURL: "127.0.0.1:9000"}, "--endpoint-url"},
		{"expiry too long", S3Config{Bucket: "ok-bucket", Expiry: 8 * 24 * time.Hour}, "168h"},
		{"no region", S3Config{Bucket: "ok-bucket"}, "AWS_REGION"},
		{"no credentials", S3Config{Bucket: "ok-bucket", Region: "us-east-1"}, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"},
		{"missing profile", S3Config{Bucket: "ok-bucket", Region: "us-east-1", Profile: "nope"}, `AWS profile "nope" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewS3(ctx, tc.c)
			if err == nil {
				t.Fatalf("NewS3 succeeded; want an error about %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error prints the secret key: %q", err)
			}
			t.Log(err)
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestParseS3URI(t *testing.T) {
	for _, tc := range []struct {
		in, bucket, prefix string
	}{
		{"s3://bucket", "bucket", ""},
		{"s3://bucket/", "bucket", ""},
		{"s3://my.bucket-1/a/b/", "my.bucket-1", "a/b/"},
		{"s3://bkt/a b", "bkt", "a b"},
	} {
		b, p, err := ParseS3URI(tc.in)
		if err != nil || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseS3URI(%q) = %q, %q, %v; want %q, %q", tc.in, b, p, err, tc.bucket, tc.prefix)
		}
	}
	for _, in := range []string{"", "bucket/prefix", "s3:/bucket", "https://bucket/x", "s3://", "s3:///prefix", "s3://Bucket", "s3://ab", "s3://-bucket"} {
		if _, _, err := ParseS3URI(in); err == nil {
			t.Errorf("ParseS3URI(%q) succeeded", in)
		} else if !strings.Contains(err.Error(), "s3://") && !strings.Contains(err.Error(), "bucket") {
			t.Errorf("ParseS3URI(%q) error %q does not say what to write", in, err)
		}
	}
	if got := folderPrefix("a"); got != "a/" {
		t.Errorf("folderPrefix(a) = %q", got)
	}
}

func TestCRC32Base64(t *testing.T) {
	// CRC32 (IEEE) of "hello" is 0x3610a686.
	if got := inspect.EncodeCRC32(crc32.ChecksumIEEE([]byte("hello"))); got != "NhCmhg==" {
		t.Errorf("crc32Base64 = %q, want NhCmhg==", got)
	}
	if got := inspect.EncodeCRC32(0); got != "AAAAAA==" {
		t.Errorf("empty body CRC32 = %q, want AAAAAA==", got)
	}
	if v, ok := inspect.DecodeCRC32("NhCmhg=="); !ok || v != 0x3610a686 {
		t.Errorf("parseCRC32Base64 = %x, %v", v, ok)
	}
}
