package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hoist/internal/s3test"
	"hoist/uploader"
)

// In --s3 mode hoist signs with credentials of its own, so a refused
// signature or region is the credentials' or --region's doing: the advice
// names where the keys came from, or the region the server expects, never
// the given-URL advice about --org-id or `hoist inspect` (issue 13, item 3).
// Each case runs a single PUT and a multipart upload (whose first call is
// the SDK's CreateMultipartUpload) against a real versitygw.
func TestS3RefusalsAdviseOnCredentialsAndRegion(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, testBucket)
	dir := t.TempDir()
	small := writeSized(t, dir, "small.txt", 1000)
	big := writeSized(t, dir, "big.bin", 6<<20)

	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T) S3Config
		want   []string
		secret string // must never be printed
	}{
		{
			name: "wrong secret from the environment",
			setup: func(t *testing.T) S3Config {
				t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
				t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-from-env")
				t.Setenv("AWS_REGION", srv.Region)
				return S3Config{}
			},
			want:   []string{"AWS_SECRET_ACCESS_KEY", "secret access key"},
			secret: "wrong-secret-from-env",
		},
		{
			name: "wrong secret from a profile",
			setup: func(t *testing.T) S3Config {
				creds := filepath.Join(t.TempDir(), "credentials")
				body := "[dev]\naws_access_key_id = " + srv.AccessKey + "\naws_secret_access_key = wrong-secret-in-profile\n"
				if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
				return S3Config{Profile: "dev", Region: srv.Region}
			},
			want:   []string{`AWS profile "dev"`, "secret access key"},
			secret: "wrong-secret-in-profile",
		},
		{
			name: "unknown access key",
			setup: func(t *testing.T) S3Config {
				t.Setenv("AWS_ACCESS_KEY_ID", "AKIDNOBODYKNOWS0001")
				t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
				t.Setenv("AWS_REGION", srv.Region)
				return S3Config{}
			},
			want:   []string{"does not know the access key id", "AWS_ACCESS_KEY_ID"},
			secret: srv.SecretKey,
		},
		{
			name: "region mismatch",
			setup: func(t *testing.T) S3Config {
				t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
				t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
				return S3Config{Region: "us-east-1"}
			},
			want:   []string{"use --region auto", "signed for us-east-1"},
			secret: srv.SecretKey,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWSEnv(t)
			c := tc.setup(t)
			c.Bucket, c.EndpointURL, c.PathStyle, c.Multipart = testBucket, srv.Endpoint, true, true
			src, err := NewS3(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			_, events := runPool(t, src, uploader.Options{Metadata: testMeta, Retries: 0, MultipartThreshold: 5 << 20, PartSize: 5 << 20}, small, big)
			got := failures(events)
			if len(got) != 2 {
				t.Fatalf("failures %q; want both files refused", got)
			}
			for _, msg := range got {
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%q does not say %q", msg, w)
					}
				}
				for _, given := range []string{"--org-id", "hoist inspect", "ask for a new URL"} {
					if strings.Contains(msg, given) {
						t.Errorf("%q gives given-URL advice (%q) in --s3 mode", msg, given)
					}
				}
				if strings.Contains(msg, tc.secret) || strings.Contains(msg, "X-Amz-Signature") {
					t.Errorf("%q leaks a secret", msg)
				}
			}
		})
	}
}

// writeSized writes n bytes of a pattern and returns the file as the
// engine gets it.
func writeSized(t *testing.T, dir, name string, n int) uploader.File {
	t.Helper()
	p := filepath.Join(dir, name)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return uploader.File{Path: p, Name: name, Key: name, Size: int64(n)}
}
