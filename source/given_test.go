package source

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"hoist/inspect"
	"hoist/internal/s3test"
	"hoist/uploader"
)

// givenSignature is the signature of the hand-made URLs; no output may show it.
const givenSignature = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"

var givenMeta = uploader.Metadata{OrgID: "org-1", UserID: "user-1", TTLHours: 48}

// givenURL is a URL shaped like the API's (see DESIGN.md), signed at
// signedAt for an hour, with edit applied to its query.
func givenURL(base string, signedAt time.Time, edit func(q url.Values)) string {
	q := url.Values{
		"X-Amz-Algorithm":              {"AWS4-HMAC-SHA256"},
		"X-Amz-Content-Sha256":         {"UNSIGNED-PAYLOAD"},
		"X-Amz-Credential":             {"AKIAGIVENTESTKEY0001/" + signedAt.UTC().Format("20060102") + "/auto/s3/aws4_request"},
		"X-Amz-Date":                   {signedAt.UTC().Format("20060102T150405Z")},
		"X-Amz-Expires":                {"3600"},
		"X-Amz-Signature":              {givenSignature},
		"X-Amz-SignedHeaders":          {"host;x-amz-meta-organization-id;x-amz-meta-ttl-hours;x-amz-meta-user-id"},
		"x-amz-checksum-crc32":         {inspect.EmptyCRC32},
		"x-amz-sdk-checksum-algorithm": {"CRC32"},
		"x-id":                         {"PutObject"},
	}
	if edit != nil {
		edit(q)
	}
	return base + "?" + q.Encode()
}

func givenFile(path string, body []byte) uploader.File {
	return uploader.File{Path: path, Name: filepath.Base(path), Key: filepath.Base(path), Size: int64(len(body)),
		CRC32: crc32.ChecksumIEEE(body), HasCRC32: true}
}

func mustGiven(t *testing.T, entries ...Entry) *Given {
	t.Helper()
	g, err := NewGiven(entries)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestNewGivenErrors(t *testing.T) {
	now := time.Now()
	good := givenURL("https://uploads.example/b/a.txt", now, nil)
	tests := []struct {
		name    string
		entries []Entry
		says    []string
	}{
		{"nothing", nil, []string{"no upload URLs given", "--manifest"}},
		{"not http", []Entry{{Path: "a.txt", URL: good}, {Path: "b.txt", URL: strings.Replace(good, "https:", "ftp:", 1), Line: 4}},
			[]string{"b.txt (manifest line 4)", `scheme "ftp"`}},
		{"no scheme", []Entry{{Path: "a.txt", URL: strings.TrimPrefix(good, "https://")}}, []string{"upload URL for a.txt:", "no scheme"}},
		{"no path", []Entry{{URL: good, Line: 2}}, []string{"without a file", "line 2"}},
		{"a newline in the path", []Entry{{Path: "a\nb.txt", URL: "ftp://x/y", Line: 1}}, []string{`"a\nb.txt" (manifest line 1)`}},
		{"same file twice", []Entry{{Path: "a.txt", URL: good, Line: 1}, {Path: "./x/../a.txt", URL: good, Line: 2}},
			[]string{"./x/../a.txt (manifest line 2) is given two upload URLs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewGiven(tt.entries)
			if err == nil {
				t.Fatal("NewGiven succeeded")
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), givenSignature) || strings.Contains(err.Error(), "X-Amz") {
				t.Errorf("error %q shows the query", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

func TestGivenDescribe(t *testing.T) {
	now := time.Now()
	u := func(base string) string { return givenURL(base, now, nil) }
	tests := []struct {
		name    string
		entries []Entry
		want    string
	}{
		{"one", []Entry{{Path: "a", URL: u("https://uploads.example/bucket/in/a.txt")}}, "https://uploads.example/bucket/in/a.txt"},
		{"one folder", []Entry{
			{Path: "a", URL: u("https://uploads.example/bucket/in/2025-a.txt")},
			{Path: "b", URL: u("https://uploads.example/bucket/in/2025-b.txt")},
			{Path: "c", URL: u("https://uploads.example/bucket/in/deeper/c.txt")},
		}, "https://uploads.example/bucket/in/… (3 given URLs)"},
		{"one host", []Entry{
			{Path: "a", URL: u("https://uploads.example/one/a.txt")},
			{Path: "b", URL: u("https://uploads.example/two/b.txt")},
		}, "https://uploads.example/… (2 given URLs)"},
		{"hosts alike", []Entry{
			{Path: "a", URL: u("https://up1.example/b/a.txt")},
			{Path: "b", URL: u("https://up2.example/b/b.txt")},
		}, "2 given URLs on several hosts"},
		{"schemes differ", []Entry{
			{Path: "a", URL: u("https://uploads.example/b/a.txt")},
			{Path: "b", URL: u("http://uploads.example/b/b.txt")},
		}, "2 given URLs on several hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustGiven(t, tt.entries...).Describe(); got != tt.want {
				t.Errorf("Describe() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGivenCapabilities(t *testing.T) {
	g := mustGiven(t, Entry{Path: "a", URL: givenURL("https://uploads.example/b/a", time.Now(), nil)})
	want := uploader.Capabilities{Resign: false, Multipart: false, MaxSinglePut: 5 << 30}
	if got := g.Capabilities(); got != want {
		t.Errorf("Capabilities() = %+v, want %+v", got, want)
	}
}

func TestGivenWantsChecksum(t *testing.T) {
	now := time.Now()
	base := "https://uploads.example/b/k"
	tests := []struct {
		name string
		url  string
		size int64
		want bool
	}{
		{"empty-body checksum", givenURL(base, now, nil), 5, false},
		{"empty-body checksum, empty file", givenURL(base, now, nil), 0, false},
		{"no checksum", givenURL(base, now, func(q url.Values) { q.Del("x-amz-checksum-crc32") }), 5, false},
		{"another pinned checksum", givenURL(base, now, func(q url.Values) { q.Set("x-amz-checksum-crc32", "NhCmhg==") }), 5, true},
		{"checksum as a signed header", givenURL(base, now, func(q url.Values) {
			q.Del("x-amz-checksum-crc32")
			q.Set("X-Amz-SignedHeaders", "host;x-amz-checksum-crc32")
		}), 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGiven(t, Entry{Path: "dir/k", URL: tt.url})
			if got := g.WantsChecksum(uploader.File{Path: "dir/k", Size: tt.size}); got != tt.want {
				t.Errorf("WantsChecksum = %v, want %v", got, tt.want)
			}
		})
	}
	g := mustGiven(t, Entry{Path: "dir/k", URL: tests[3].url})
	if g.WantsChecksum(uploader.File{Path: "elsewhere", Size: 5}) {
		t.Error("WantsChecksum is true for a file that has no URL")
	}
}

func TestGivenTarget(t *testing.T) {
	now := time.Now().Add(-time.Minute).Truncate(time.Second)
	raw := givenURL("http://127.0.0.1:7070/uploads/in/q1.pdf", now, nil)
	g := mustGiven(t, Entry{Path: "docs/q1.pdf", URL: "  " + raw + "\n", Line: 3})
	tg, err := g.Target(context.Background(), givenFile("docs/q1.pdf", []byte("hello")), givenMeta)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Method != http.MethodPut || tg.URL != raw || tg.Key != "in/q1.pdf" || !tg.SendToken ||
		!tg.Expires.Equal(now.Add(time.Hour)) || tg.PinnedCRC32 != inspect.EmptyCRC32 || tg.Form != nil {
		t.Errorf("Target = %+v", tg)
	}
	want := http.Header{
		"X-Amz-Meta-Organization-Id": {"org-1"}, "X-Amz-Meta-User-Id": {"user-1"}, "X-Amz-Meta-Ttl-Hours": {"48"},
	}
	if len(tg.Header) != len(want) {
		t.Errorf("Header = %v, want %v", tg.Header, want)
	}
	for k, v := range want {
		if tg.Header.Get(k) != v[0] {
			t.Errorf("%s = %q, want %q", k, tg.Header.Get(k), v[0])
		}
	}

	r, ok := g.Report("docs/q1.pdf")
	if !ok || r.Key != "in/q1.pdf" || r.PinnedCRC32 != inspect.EmptyCRC32 {
		t.Errorf("Report = %+v, %v", r, ok)
	}
	abs, err := filepath.Abs("docs/q1.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Target(context.Background(), givenFile(abs, []byte("hello")), givenMeta); err != nil {
		t.Errorf("looking the file up by its absolute path: %v", err)
	}
	if _, ok := g.Report("docs/q2.pdf"); ok {
		t.Error("Report found a file that has no URL")
	}
}

func TestGivenTargetRefuses(t *testing.T) {
	now := time.Now()
	base := "http://127.0.0.1:7070/uploads/in/q1.pdf"
	hello := []byte("hello")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		url  string
		ctx  context.Context
		file uploader.File
		md   uploader.Metadata
		says []string
	}{
		{name: "expired", url: givenURL(base, now.Add(-3*time.Hour), nil),
			says: []string{"expired 2h ago", "ask for a new URL"}},
		{name: "pinned checksum of other content", url: givenURL(base, now, func(q url.Values) { q.Set("x-amz-checksum-crc32", "AAAAAQ==") }),
			says: []string{"is it the right file?", "AAAAAQ==", inspect.EncodeCRC32(crc32.ChecksumIEEE(hello))}},
		{name: "metadata not set", url: givenURL(base, now, nil), md: uploader.Metadata{OrgID: "org-1", TTLHours: 48},
			says: []string{"x-amz-meta-user-id", "--user-id"}},
		{name: "a header hoist cannot send", url: givenURL(base, now, func(q url.Values) { q.Set("X-Amz-SignedHeaders", "host;x-amz-acl") }),
			says: []string{"signed header x-amz-acl: hoist cannot send it"}},
		{name: "no signature", url: givenURL(base, now, func(q url.Values) { q.Del("X-Amz-Signature") }),
			says: []string{"no X-Amz-Signature"}},
		{name: "too large", url: givenURL(base, now, func(q url.Values) { q.Del("x-amz-checksum-crc32") }),
			file: uploader.File{Path: "q1.pdf", Size: 6 << 30}, says: []string{"--s3"}},
		{name: "no URL for the file", url: givenURL(base, now, nil), file: givenFile("other.pdf", hello),
			says: []string{"no upload URL was given for other.pdf"}},
		{name: "canceled", url: givenURL(base, now, nil), ctx: canceled, says: []string{"context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGiven(t, Entry{Path: "q1.pdf", URL: tt.url})
			ctx, f, md := tt.ctx, tt.file, tt.md
			if ctx == nil {
				ctx = context.Background()
			}
			if f.Path == "" {
				f = givenFile("q1.pdf", hello)
			}
			if md == (uploader.Metadata{}) {
				md = givenMeta
			}
			_, err := g.Target(ctx, f, md)
			if err == nil {
				t.Fatal("Target succeeded")
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), givenSignature) {
				t.Errorf("error %q shows the signature", err)
			}
		})
	}
}

// TestGivenAgainstVersitygw sends Targets to a strict S3 gateway that checks
// the signature: the headers Given adds must be exactly the signed ones.
func TestGivenAgainstVersitygw(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	dir := t.TempDir()
	body := []byte("quarterly numbers\n")
	crc := crc32.ChecksumIEEE(body)
	path := filepath.Join(dir, "q1.csv")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	f := givenFile(path, body)

	presign := s3.NewPresignClient(srv.Client)
	sdkURL := func(in *s3.PutObjectInput) string {
		in.Bucket = aws.String("uploads")
		req, err := presign.PresignPutObject(context.Background(), in)
		if err != nil {
			t.Fatalf("presigning: %v", err)
		}
		return req.URL
	}

	tests := []struct {
		name       string
		key        string
		url        func(key string) string
		md         uploader.Metadata
		wantStatus int
		wantCode   string
		wantMeta   map[string]string

		wantsChecksum bool
	}{
		{name: "API-style URL, empty-body checksum in the query", key: "api/q1.csv",
			url: func(key string) string {
				return srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: key, Meta: givenMeta.Values()})
			},
			md: givenMeta, wantStatus: http.StatusOK, wantMeta: givenMeta.Values()},
		{name: "API-style URL, the file's checksum in the query", key: "api/pinned.csv",
			url: func(key string) string {
				return srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: key, Meta: givenMeta.Values(),
					PinnedCRC32: inspect.EncodeCRC32(crc)})
			},
			md: givenMeta, wantStatus: http.StatusOK, wantMeta: givenMeta.Values(), wantsChecksum: true},
		{name: "metadata other than signed", key: "api/wrong.csv",
			url: func(key string) string {
				return srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: key, Meta: givenMeta.Values()})
			},
			md: uploader.Metadata{OrgID: "org-1", UserID: "someone-else", TTLHours: 48}, wantStatus: http.StatusForbidden, wantCode: "SignatureDoesNotMatch"},
		{name: "metadata the URL does not sign is left out", key: "api/bare.csv",
			url: func(key string) string {
				return srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: key, PinnedCRC32: "-"})
			},
			md: givenMeta, wantStatus: http.StatusOK, wantMeta: map[string]string{}},
		{name: "SDK URL signing content type, checksum and metadata", key: "sdk/q1 with space.csv",
			url: func(key string) string {
				return sdkURL(&s3.PutObjectInput{Key: aws.String(key), ContentType: aws.String("application/octet-stream"),
					ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumCRC32: aws.String(inspect.EncodeCRC32(crc)),
					Metadata: map[string]string{"user-id": "user-1"}})
			},
			md: givenMeta, wantStatus: http.StatusOK, wantMeta: map[string]string{"x-amz-meta-user-id": "user-1"}, wantsChecksum: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGiven(t, Entry{Path: path, URL: tt.url(tt.key)})
			if got := g.WantsChecksum(f); got != tt.wantsChecksum {
				t.Errorf("WantsChecksum = %v, want %v", got, tt.wantsChecksum)
			}
			tg, err := g.Target(context.Background(), f, tt.md)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Key != tt.key {
				t.Errorf("Key = %q, want %q", tg.Key, tt.key)
			}
			status, code := givenPut(t, tg, body)
			if status != tt.wantStatus || code != tt.wantCode {
				t.Fatalf("PUT answered %d %s, want %d %s", status, code, tt.wantStatus, tt.wantCode)
			}
			if status != http.StatusOK {
				return
			}
			got, meta := srv.Object(t, "uploads", tt.key)
			if string(got) != string(body) {
				t.Errorf("stored %q, want %q", got, body)
			}
			if len(meta) != len(tt.wantMeta) {
				t.Errorf("stored metadata %v, want %v", meta, tt.wantMeta)
			}
			for k, v := range tt.wantMeta {
				if meta[k] != v {
					t.Errorf("stored %s = %q, want %q", k, meta[k], v)
				}
			}
		})
	}
}

var s3ErrorCode = regexp.MustCompile(`<Code>([^<]*)</Code>`)

// givenPut sends body as the engine would: the Target's method, URL and
// headers, an exact Content-Length. It returns the status and S3 error code.
func givenPut(t *testing.T, tg uploader.Target, body []byte) (status int, code string) {
	t.Helper()
	req, err := http.NewRequest(tg.Method, tg.URL, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal("building the request failed") // its error would quote the URL
	}
	req.ContentLength = int64(len(body))
	req.Header = tg.Header.Clone()
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			t.Fatalf("PUT: %v", ue.Err)
		}
		t.Fatal("PUT failed")
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := s3ErrorCode.FindSubmatch(raw); m != nil {
		code = string(m[1])
	}
	return resp.StatusCode, code
}

// TestGivenUnsignedMetadataWouldBeRefused is the control for leaving unsigned
// metadata out: the same request with it added is refused.
func TestGivenUnsignedMetadataWouldBeRefused(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "uploads")
	body := []byte("x")
	g := mustGiven(t, Entry{Path: "x.txt", URL: srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: "uploads", Key: "x.txt", PinnedCRC32: "-"})})
	tg, err := g.Target(context.Background(), givenFile("x.txt", body), givenMeta)
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Header) != 0 {
		t.Fatalf("Header = %v, want none", tg.Header)
	}
	tg.Header.Set(uploader.HeaderUserID, givenMeta.UserID)
	if status, code := givenPut(t, tg, body); status != http.StatusForbidden || code != "AccessDenied" {
		t.Fatalf("PUT with unsigned metadata answered %d %s, want 403 AccessDenied", status, code)
	}
}

// TestGivenNamesEachFlag ties the flags inspect names to the headers the
// engine's Metadata fills.
func TestGivenNamesEachFlag(t *testing.T) {
	now := time.Now()
	for header, flag := range map[string]string{
		uploader.HeaderOrgID: "--org-id", uploader.HeaderUserID: "--user-id", uploader.HeaderTTLHours: "--ttl-hours",
	} {
		raw := givenURL("https://uploads.example/b/k", now, func(q url.Values) {
			q.Set("X-Amz-SignedHeaders", "host;"+header)
			q.Del("x-amz-checksum-crc32")
		})
		g := mustGiven(t, Entry{Path: "k", URL: raw})
		_, err := g.Target(context.Background(), givenFile("k", []byte("k")), uploader.Metadata{})
		if err == nil || !strings.Contains(err.Error(), "set "+flag) {
			t.Errorf("%s signed, nothing set: error %v, want one saying %q", header, err, "set "+flag)
		}
	}
}
