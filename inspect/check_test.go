package inspect

import (
	"hash/crc32"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

var fullMetadata = map[string]string{
	"x-amz-meta-organization-id": "org-7",
	"x-amz-meta-user-id":         "user-3",
	"x-amz-meta-ttl-hours":       "48",
}

var helloCRC = crc32.ChecksumIEEE([]byte("hello"))

// filePlan is a plan to send a 5-byte file ("hello") ten minutes after signing.
func filePlan() Plan {
	return Plan{
		Now:      signedAt.Add(10 * time.Minute),
		FileName: "q1.pdf", HasFile: true, FileSize: 5,
		CRC32: helloCRC, HasCRC32: true,
		Metadata:     fullMetadata,
		MaxSinglePut: S3MaxSinglePut,
	}
}

func mustParse(t *testing.T, raw string) Report {
	t.Helper()
	r, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheck(t *testing.T) {
	pin := func(v string) func(url.Values) { return func(q url.Values) { q.Set("x-amz-checksum-crc32", v) } }
	noPin := func(q url.Values) { q.Del("x-amz-checksum-crc32"); q.Del("x-amz-sdk-checksum-algorithm") }
	signs := func(h string) func(url.Values) {
		return func(q url.Values) { q.Set("X-Amz-SignedHeaders", q.Get("X-Amz-SignedHeaders")+";"+h) }
	}
	tests := []struct {
		name string
		raw  string
		plan func(p *Plan)
		want []string
		// says are words some problem's message must contain.
		says []string
	}{
		{name: "empty-body checksum, non-empty file", raw: apiURL(nil), want: []string{CodeEmptyBodyChecksum},
			says: []string{"AAAAAA==", "EMPTY body", "3.729", "R2, Garage and SeaweedFS", "400", "without a checksum"}},
		{name: "empty-body checksum is known without hashing", raw: apiURL(nil),
			plan: func(p *Plan) { p.HasCRC32 = false }, want: []string{CodeEmptyBodyChecksum}},
		{name: "empty-body checksum, empty file", raw: apiURL(nil),
			plan: func(p *Plan) { p.FileSize, p.CRC32 = 0, 0 }},
		{name: "no pinned checksum", raw: apiURL(noPin)},
		{name: "pinned checksum matches", raw: apiURL(pin("NhCmhg=="))},
		{name: "pinned checksum differs", raw: apiURL(pin("AAAAAQ==")), want: []string{CodeChecksumMismatch},
			says: []string{"URL was signed for different content — is it the right file?", "AAAAAQ==", "NhCmhg=="}},
		{name: "pinned checksum, empty file", raw: apiURL(pin("NhCmhg==")),
			plan: func(p *Plan) { p.FileSize, p.HasCRC32 = 0, false }, want: []string{CodeChecksumMismatch}},
		{name: "pinned checksum, not hashed yet", raw: apiURL(pin("AAAAAQ==")),
			plan: func(p *Plan) { p.HasCRC32 = false }},
		{name: "no file: no file checks", raw: apiURL(pin("AAAAAQ==")),
			plan: func(p *Plan) { p.HasFile, p.FileSize = false, 6<<30 }},
		{name: "expired", raw: apiURL(noPin), plan: func(p *Plan) { p.Now = signedAt.Add(4 * time.Hour) },
			want: []string{CodeExpired}, says: []string{"expired 3h ago", "2025-01-02T04:04:05Z", "ask for a new URL"}},
		{name: "expired this second", raw: apiURL(noPin), plan: func(p *Plan) { p.Now = signedAt.Add(time.Hour) },
			want: []string{CodeExpired}},
		{name: "expires during the upload", raw: apiURL(noPin),
			plan: func(p *Plan) { p.Now, p.EstimatedDuration = signedAt.Add(50*time.Minute), 20*time.Minute },
			want: []string{CodeExpiring}, says: []string{"expires in 10m", "about 20m"}},
		{name: "expires after the upload", raw: apiURL(noPin),
			plan: func(p *Plan) { p.Now, p.EstimatedDuration = signedAt.Add(50*time.Minute), 5*time.Minute }},
		{name: "signed in the future", raw: apiURL(noPin), plan: func(p *Plan) { p.Now = signedAt.Add(-time.Hour) },
			want: []string{CodeNotYetValid}, says: []string{"1h in the future"}},
		{name: "small clock skew", raw: apiURL(noPin), plan: func(p *Plan) { p.Now = signedAt.Add(-5 * time.Minute) }},
		{name: "no metadata", raw: apiURL(noPin), plan: func(p *Plan) { p.Metadata = nil },
			want: []string{CodeMissingMetadata, CodeMissingMetadata, CodeMissingMetadata},
			says: []string{"--org-id", "--user-id", "--ttl-hours"}},
		{name: "one field empty", raw: apiURL(noPin),
			plan: func(p *Plan) {
				p.Metadata = map[string]string{"x-amz-meta-organization-id": "o", "x-amz-meta-user-id": "", "x-amz-meta-ttl-hours": "1"}
			},
			want: []string{CodeMissingMetadata}, says: []string{"x-amz-meta-user-id", "set --user-id"}},
		{name: "other signed metadata", raw: apiURL(signs("x-amz-meta-project")), want: []string{CodeEmptyBodyChecksum, CodeUnsendableHeader},
			says: []string{"signed header x-amz-meta-project: hoist cannot send it"}},
		{name: "signed content-md5", raw: apiURL(signs("content-md5")), want: []string{CodeEmptyBodyChecksum, CodeUnsendableHeader},
			says: []string{"signed header content-md5: hoist cannot send it"}},
		{name: "too large", raw: apiURL(noPin), plan: func(p *Plan) { p.FileSize = 6 << 30 },
			want: []string{CodeTooLarge}, says: []string{"6.0 GiB", "5.0 GiB", "--s3"}},
		{name: "exactly 5 GiB", raw: apiURL(noPin), plan: func(p *Plan) { p.FileSize = 5 << 30 }},
		{name: "no limit", raw: apiURL(noPin), plan: func(p *Plan) { p.FileSize, p.MaxSinglePut = 6<<30, 0 }},
		{name: "metadata not signed", raw: apiURL(func(q url.Values) { noPin(q); q.Set("X-Amz-SignedHeaders", "host;x-amz-meta-user-id") }),
			want: []string{CodeUnusedMetadata, CodeUnusedMetadata}, says: []string{"--org-id is set", "--ttl-hours is set"}},
		{name: "metadata fixed in the query", raw: apiURL(func(q url.Values) {
			noPin(q)
			q.Set("X-Amz-SignedHeaders", "host;x-amz-meta-organization-id;x-amz-meta-ttl-hours")
			q.Set("X-Amz-Meta-User-Id", "someone-else")
		}), want: []string{CodeQueryMetadata}, says: []string{`x-amz-meta-user-id="someone-else"`, `--user-id "user-3" is not used`}},
		{name: "metadata fixed in the query, same value", raw: apiURL(func(q url.Values) {
			noPin(q)
			q.Set("X-Amz-SignedHeaders", "host;x-amz-meta-organization-id;x-amz-meta-ttl-hours")
			q.Set("X-Amz-Meta-User-Id", "user-3")
		})},
		{name: "URL problems come along", raw: apiURLTo("http://uploads.example/b/k", func(q url.Values) { noPin(q); q.Del("X-Amz-Signature") }),
			want: []string{CodeInsecure, CodeMissingSignature}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filePlan()
			if tt.plan != nil {
				tt.plan(&p)
			}
			got := mustParse(t, tt.raw).Check(p)
			sameCodes(t, got, tt.want...)
			var all strings.Builder
			for _, pr := range got {
				all.WriteString(pr.Message + "\n")
				if strings.Contains(pr.Message, "\n") {
					t.Errorf("%s: message is not one line", pr.Code)
				}
			}
			for _, s := range tt.says {
				if !strings.Contains(all.String(), s) {
					t.Errorf("no problem says %q:\n%s", s, all.String())
				}
			}
		})
	}
}

func TestCheckSeverities(t *testing.T) {
	want := map[string]Severity{
		CodeEmptyBodyChecksum: Warning, CodeChecksumMismatch: Error, CodeExpired: Error, CodeExpiring: Warning,
		CodeMissingMetadata: Error, CodeUnsendableHeader: Error, CodeTooLarge: Error, CodeMissingSignature: Error,
		CodeMissingCredential: Error, CodeMissingDate: Error, CodeMissingExpires: Error, CodeExpiresTooLong: Error,
		CodeInsecure: Warning,
	}
	var seen []Problem
	empty := mustParse(t, apiURLTo("http://uploads.example/b/k", func(q url.Values) {
		for _, k := range []string{"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Date"} {
			q.Del(k)
		}
		q.Set("X-Amz-SignedHeaders", "host;x-amz-meta-user-id;x-amz-acl")
	}))
	seen = append(seen, empty.Check(Plan{HasFile: true, FileSize: 6 << 30, MaxSinglePut: S3MaxSinglePut})...)
	seen = append(seen, mustParse(t, apiURL(func(q url.Values) { q.Set("X-Amz-Expires", "700000") })).Problems...)
	seen = append(seen, mustParse(t, apiURL(nil)).Check(filePlan())...)
	p := filePlan()
	p.Now, p.EstimatedDuration = signedAt.Add(59*time.Minute), time.Hour
	seen = append(seen, mustParse(t, apiURL(func(q url.Values) { q.Set("x-amz-checksum-crc32", "AAAAAQ==") })).Check(p)...)
	p.Now = signedAt.Add(2 * time.Hour)
	seen = append(seen, mustParse(t, apiURL(nil)).Check(p)...)
	noExpires := mustParse(t, apiURL(func(q url.Values) { q.Del("X-Amz-Expires") }))
	seen = append(seen, noExpires.Problems...)

	found := map[string]bool{}
	for _, pr := range seen {
		if sev, ok := want[pr.Code]; ok {
			found[pr.Code] = true
			if pr.Severity != sev {
				t.Errorf("%s is a %v, want %v", pr.Code, pr.Severity, sev)
			}
		}
	}
	for code := range want {
		if !found[code] {
			t.Errorf("no case produced %s", code)
		}
	}
}

func TestSendHeaders(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		plan    func(p *Plan)
		want    http.Header
		wantErr string
	}{
		{name: "API URL", raw: apiURL(nil), want: http.Header{
			"X-Amz-Meta-Organization-Id": {"org-7"}, "X-Amz-Meta-User-Id": {"user-3"}, "X-Amz-Meta-Ttl-Hours": {"48"},
		}},
		{name: "unsigned metadata is not sent", raw: sdkURL(t, &s3.PutObjectInput{Metadata: map[string]string{"user-id": "x"}}, ""),
			want: http.Header{"X-Amz-Meta-User-Id": {"user-3"}}},
		{name: "host only", raw: sdkURL(t, &s3.PutObjectInput{}, ""), want: http.Header{}},
		{name: "content type", raw: sdkURL(t, &s3.PutObjectInput{ContentType: aws.String("application/octet-stream")}, ""),
			want: http.Header{"Content-Type": {"application/octet-stream"}}},
		{name: "signed checksum", raw: apiURL(func(q url.Values) {
			q.Del("x-amz-checksum-crc32")
			q.Set("X-Amz-SignedHeaders", "content-length;host;x-amz-checksum-crc32;x-amz-sdk-checksum-algorithm")
		}), want: http.Header{"X-Amz-Checksum-Crc32": {"NhCmhg=="}, "X-Amz-Sdk-Checksum-Algorithm": {"CRC32"}}},
		{name: "signed checksum from the SDK", raw: sdkURL(t, &s3.PutObjectInput{
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumCRC32: aws.String("NhCmhg==")}, ""),
			want: http.Header{"X-Amz-Checksum-Crc32": {"NhCmhg=="}}},
		{name: "signed checksum, file not hashed", raw: apiURL(func(q url.Values) { q.Set("X-Amz-SignedHeaders", "host;x-amz-checksum-crc32") }),
			plan: func(p *Plan) { p.HasCRC32 = false }, wantErr: "CRC32 was not computed"},
		{name: "signed content sha256 from the query", raw: apiURL(func(q url.Values) { q.Set("X-Amz-SignedHeaders", "host;x-amz-content-sha256") }),
			want: http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}}},
		{name: "signed content sha256, none in the query", raw: apiURL(func(q url.Values) {
			q.Del("X-Amz-Content-Sha256")
			q.Set("X-Amz-SignedHeaders", "host;x-amz-content-sha256")
		}), want: http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}}},
		{name: "missing metadata names the flag", raw: apiURL(nil),
			plan:    func(p *Plan) { delete(p.Metadata, "x-amz-meta-ttl-hours") },
			wantErr: "set --ttl-hours"},
		{name: "signed acl", raw: apiURL(func(q url.Values) { q.Set("X-Amz-SignedHeaders", "host;x-amz-acl") }),
			wantErr: "signed header x-amz-acl: hoist cannot send it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filePlan()
			p.Metadata = map[string]string{}
			for k, v := range fullMetadata {
				p.Metadata[k] = v
			}
			if tt.plan != nil {
				tt.plan(&p)
			}
			h, err := SendHeaders(mustParse(t, tt.raw), p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != len(tt.want) {
				t.Errorf("headers = %v, want %v", h, tt.want)
			}
			for k, v := range tt.want {
				if got := h.Values(k); len(got) != 1 || got[0] != v[0] {
					t.Errorf("%s = %q, want %q (all: %v)", k, got, v[0], h)
				}
			}
		})
	}
}
