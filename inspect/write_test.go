package inspect

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

// TestWrite compares `hoist inspect URL` output with testdata/TestWrite/*.golden;
// run `go test ./inspect -run TestWrite -update` after a deliberate change.
func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		plan Plan
	}{
		{name: "api url", raw: apiURL(nil), plan: Plan{Now: signedAt.Add(17*time.Minute + 50*time.Second), Metadata: fullMetadata}},
		{name: "api url with a file", raw: apiURL(nil), plan: Plan{Now: signedAt.Add(59 * time.Minute), Metadata: fullMetadata,
			FileName: "q1.pdf", HasFile: true, FileSize: 5, EstimatedDuration: 2 * time.Minute}},
		{name: "expired and nothing set", raw: apiURLTo("http://uploads.example/b/k%201", nil), plan: Plan{Now: signedAt.Add(4 * time.Hour)}},
		{name: "no problems", raw: apiURLTo("https://my-bucket.s3.eu-west-1.amazonaws.com/a/b.txt", func(q url.Values) {
			q.Set("X-Amz-Credential", testAccessKey+"/20250102/eu-west-1/s3/aws4_request")
			q.Set("X-Amz-SignedHeaders", "host;x-amz-checksum-crc32")
			q.Del("x-amz-checksum-crc32")
			q.Del("X-Amz-Content-Sha256")
		}), plan: Plan{Now: signedAt.Add(time.Minute)}},
		{name: "mostly missing", raw: "https://uploads.example/k?X-Amz-Signature=" + testSignature, plan: Plan{Now: signedAt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.raw)
			var b strings.Builder
			Write(&b, r, r.Check(tt.plan), tt.plan.Now)
			golden.RequireEqual(t, b.String())
		})
	}
}
