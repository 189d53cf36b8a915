package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/inspect"
	"hoist/internal/jspresign"
	"hoist/internal/s3test"
	"hoist/source"
	"hoist/uploader"
)

const (
	bucket = "uploads"
	token  = "bearer-token-never-printed-4242"
)

var md = uploader.Metadata{OrgID: "org-123", UserID: "user-456", TTLHours: 48}

// server is one real S3 server and what it was measured to do by design.
type server struct {
	name  string
	start func(t testing.TB) *s3test.Server
	// rejectsEmptyPin: a query-only x-amz-checksum-crc32=AAAAAA== makes
	// it check the body against it (400 BadDigest for any non-empty file).
	rejectsEmptyPin bool
	// refusesToken: a bearer token beside a presigned URL is refused.
	refusesToken bool
	// anyRegion: a signature is checked in whatever region its scope
	// names, so there is no wrong region.
	anyRegion bool
}

var servers = []server{
	{name: "versitygw", start: s3test.Start},
	{name: "MinIO", start: func(t testing.TB) *s3test.Server { return s3test.StartMinIO(t, "") }, refusesToken: true},
	{name: "SeaweedFS", start: s3test.StartSeaweedFS, rejectsEmptyPin: true, anyRegion: true},
}

// TestConformance runs every server through the same uploads. The servers
// run one after the other: each starts once for all its cases.
func TestConformance(t *testing.T) {
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			srv := sv.start(t)
			srv.CreateBucket(t, bucket)
			t.Run("API-shaped URLs", func(t *testing.T) { apiShapedURLs(t, sv, srv) })
			t.Run("JS SDK URLs", func(t *testing.T) { jsSDKURLs(t, sv, srv) })
			t.Run("--s3 single PUT and multipart", func(t *testing.T) { s3Mode(t, srv) })
			t.Run("CRC32 signed as a header, another file", func(t *testing.T) { signedCRC32OtherFile(t, srv) })
			t.Run("--s3 wrong secret or region", func(t *testing.T) { s3ModeRefusals(t, sv, srv) })
		})
	}
}

// apiShapedURLs: URLs with exactly the API's query, with and without the
// empty-body pin, sent with the bearer token as the API page documents.
func apiShapedURLs(t *testing.T, sv server, srv *s3test.Server) {
	dir := t.TempDir()
	pinned, pinnedData := newFile(t, dir, "pinned.pdf", 3<<20+17)
	unpinned, unpinnedData := newFile(t, dir, "unpinned.pdf", 1<<20+3)
	empty, emptyData := newFile(t, dir, "empty.txt", 0)
	g := given(t,
		source.Entry{Path: pinned.Path, URL: srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: bucket, Key: "api/pinned.pdf", Meta: md.Values()})},
		source.Entry{Path: unpinned.Path, URL: srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: bucket, Key: "api/unpinned.pdf", Meta: md.Values(), PinnedCRC32: "-"})},
		source.Entry{Path: empty.Path, URL: srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: bucket, Key: "api/empty.txt", Meta: md.Values()})},
	)
	events := upload(t, g, uploader.Options{Metadata: md, Token: token}, pinned, unpinned, empty)

	expectStored(t, srv, events, unpinned, "api/unpinned.pdf", unpinnedData)
	// The empty file's CRC32 is the pinned one: every server takes it.
	expectStored(t, srv, events, empty, "api/empty.txt", emptyData)
	if sv.rejectsEmptyPin {
		expectEmptyPinRefusal(t, events, pinned)
	} else {
		expectStored(t, srv, events, pinned, "api/pinned.pdf", pinnedData)
	}
	expectTokenHandling(t, sv, events)
}

// jsSDKURLs: URLs from the AWS JS SDK v3 presigner as the API page makes
// them (metadata kept as signed headers), with its default AAAAAA== pin and
// without (WHEN_REQUIRED).
func jsSDKURLs(t *testing.T, sv server, srv *s3test.Server) {
	dir := t.TempDir()
	pinned, pinnedData := newFile(t, dir, "js-pinned.bin", 2<<20+5)
	unpinned, unpinnedData := newFile(t, dir, "js-unpinned.bin", 700_001)
	req := func(key string, noPin bool) jspresign.Request {
		meta := make(map[string]string)
		for k, v := range md.Values() {
			meta[strings.TrimPrefix(k, "x-amz-meta-")] = v
		}
		return jspresign.Request{Endpoint: srv.Endpoint, Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
			Bucket: bucket, Key: key, Metadata: meta, NoPin: noPin}
	}
	urls := jspresign.Presign(t, req("js/pinned.bin", false), req("js/unpinned.bin", true))
	for _, want := range []string{"x-amz-checksum-crc32=AAAAAA%3D%3D", "x-id=PutObject", "X-Amz-SignedHeaders=host%3Bx-amz-meta-organization-id%3Bx-amz-meta-ttl-hours%3Bx-amz-meta-user-id"} {
		if !strings.Contains(urls[0], want) {
			t.Fatalf("the JS SDK's URL is not the API's shape: lacks %s", want)
		}
	}
	if strings.Contains(urls[1], "checksum") {
		t.Fatal("the WHEN_REQUIRED URL still pins a checksum")
	}
	g := given(t, source.Entry{Path: pinned.Path, URL: urls[0]}, source.Entry{Path: unpinned.Path, URL: urls[1]})
	events := upload(t, g, uploader.Options{Metadata: md}, pinned, unpinned)

	expectStored(t, srv, events, unpinned, "js/unpinned.bin", unpinnedData)
	if sv.rejectsEmptyPin {
		expectEmptyPinRefusal(t, events, pinned)
	} else {
		expectStored(t, srv, events, pinned, "js/pinned.bin", pinnedData)
	}
}

// s3Mode: hoist signs itself (--s3): metadata and each body's CRC32 as
// signed headers, a single PUT for the small file and parts for the big.
func s3Mode(t *testing.T, srv *s3test.Server) {
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: bucket, Prefix: "s3mode", EndpointURL: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true, Multipart: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	single, singleData := newFile(t, dir, "single.bin", 1<<20+1)
	multi, multiData := newFile(t, dir, "multi.bin", 11<<20+7)
	events := upload(t, src, uploader.Options{Metadata: md, MultipartThreshold: 5 << 20, PartSize: 5 << 20}, single, multi)
	expectStored(t, srv, events, single, "s3mode/single.bin", singleData)
	expectStored(t, srv, events, multi, "s3mode/multi.bin", multiData)
	if r := result(events, multi.Name); r != nil && r.Parts != 3 {
		t.Errorf("multi.bin went up in %d parts, want 3", r.Parts)
	}
}

// s3ModeRefusals: in --s3 mode a wrong secret or region is the settings'
// doing, and the advice says which setting (issue 13, item 3). The small
// file is a presigned PUT; the big one starts with the SDK's
// CreateMultipartUpload.
func s3ModeRefusals(t *testing.T, sv server, srv *s3test.Server) {
	dir := t.TempDir()
	small, _ := newFile(t, dir, "small.bin", 1000)
	big, _ := newFile(t, dir, "big.bin", 6<<20)
	for _, tc := range []struct {
		name           string
		secret, region string
		want           string
	}{
		{"wrong secret", "wrong-secret-never-printed", srv.Region, "check the secret access key"},
		{"wrong region", srv.SecretKey, "eu-central-1", "--region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := source.NewS3(context.Background(), source.S3Config{
				Bucket: bucket, EndpointURL: srv.Endpoint, Region: tc.region,
				AccessKey: srv.AccessKey, SecretKey: tc.secret, PathStyle: true, Multipart: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			events := upload(t, src, uploader.Options{Metadata: md, MultipartThreshold: 5 << 20, PartSize: 5 << 20}, small, big)
			if tc.region != srv.Region && sv.anyRegion {
				for _, f := range []uploader.File{small, big} {
					if result(events, f.Name) == nil {
						t.Errorf("%s: %s takes any region, but the upload did not succeed: %v", f.Name, sv.name, kinds(events, f.Name))
					}
				}
				return
			}
			for _, f := range []uploader.File{small, big} {
				msg := failure(t, events, f.Name).Err.Error()
				t.Logf("%s: %s", f.Name, msg)
				if !strings.Contains(msg, tc.want) {
					t.Errorf("%s: %q does not say %q", f.Name, msg, tc.want)
				}
				for _, given := range []string{"--org-id", "hoist inspect", "wrong-secret-never-printed"} {
					if strings.Contains(msg, given) {
						t.Errorf("%s: %q says %q", f.Name, msg, given)
					}
				}
			}
		})
	}
}

// signedCRC32OtherFile: a URL that signs x-amz-checksum-crc32 for one file,
// given another. The server refuses the signature (hoist sends the file's
// own CRC32); the explanation is the file's CRC32, not the metadata
// (issue 13, item 4).
func signedCRC32OtherFile(t *testing.T, srv *s3test.Server) {
	dir := t.TempDir()
	meant := []byte("the file the URL was made for")
	other, _ := newFile(t, dir, "other.bin", 4096)
	u := srv.PresignAPIStyle(t, s3test.APIStyle{Bucket: bucket, Key: "crc/other.bin", Meta: md.Values(), PinnedCRC32: "-",
		SignedCRC32: inspect.EncodeCRC32(crc32.ChecksumIEEE(meant))})
	events := upload(t, given(t, source.Entry{Path: other.Path, URL: u}), uploader.Options{Metadata: md}, other)
	f := failure(t, events, other.Name)
	if f.Code != "SignatureDoesNotMatch" {
		t.Fatalf("failed with %q (%v), want SignatureDoesNotMatch", f.Code, f.Err)
	}
	msg := f.Err.Error()
	crc := inspect.EncodeCRC32(crc32.ChecksumIEEE(readFile(t, other.Path)))
	for _, w := range []string{"CRC32", crc, "is not the one it was signed for", "the file the URL was made for"} {
		if !strings.Contains(msg, w) {
			t.Errorf("explanation %q lacks %q", msg, w)
		}
	}
	if i := strings.Index(msg, "--org-id"); i >= 0 && i < strings.Index(msg, "CRC32") {
		t.Errorf("explanation %q blames the metadata before the file", msg)
	}
}

func given(t *testing.T, entries ...source.Entry) *source.Given {
	t.Helper()
	g, err := source.NewGiven(entries)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func newFile(t *testing.T, dir, name string, size int) (uploader.File, []byte) {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return uploader.File{Path: p, Name: name, Key: name, Size: st.Size(), ModTime: st.ModTime()}, b
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload runs files through a pool and returns every event.
func upload(t *testing.T, src uploader.Source, opts uploader.Options, files ...uploader.File) []uploader.Event {
	t.Helper()
	opts.BackoffInitial, opts.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	if opts.Retries == 0 {
		opts.Retries = 1
	}
	p := uploader.New(src, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p.Start(ctx)
	var events []uploader.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range p.Events() {
			events = append(events, e)
		}
	}()
	p.Add(files...)
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	<-done
	return events
}

// result is the done event's result for the file, nil when it has none.
func result(events []uploader.Event, name string) *uploader.Result {
	for _, e := range events {
		if e.File == name && e.Kind == uploader.EventDone {
			return e.Result
		}
	}
	return nil
}

// failure is the file's failed event; the test fails without one.
func failure(t *testing.T, events []uploader.Event, name string) uploader.Event {
	t.Helper()
	for _, e := range events {
		if e.File == name && e.Kind == uploader.EventFailed {
			return e
		}
	}
	t.Fatalf("%s did not fail; its events: %v", name, kinds(events, name))
	return uploader.Event{}
}

func kinds(events []uploader.Event, name string) []string {
	var out []string
	for _, e := range events {
		if e.File == name {
			s := string(e.Kind)
			if e.Err != nil {
				s += ": " + e.Err.Error()
			}
			out = append(out, s)
		}
	}
	return out
}

// expectStored checks hoist said done with the right key and CRC32, and the
// server holds exactly the file's bytes and the form's metadata.
func expectStored(t *testing.T, srv *s3test.Server, events []uploader.Event, f uploader.File, key string, want []byte) {
	t.Helper()
	r := result(events, f.Name)
	if r == nil {
		t.Errorf("%s was not uploaded: %v", f.Name, kinds(events, f.Name))
		return
	}
	if r.Key != key || r.CRC32 != crc32.ChecksumIEEE(want) || r.Bytes != int64(len(want)) {
		t.Errorf("%s: done with key %q, crc32 %08x, %d bytes; want %q, %08x, %d", f.Name, r.Key, r.CRC32, r.Bytes, key, crc32.ChecksumIEEE(want), len(want))
	}
	got, meta := srv.Object(t, bucket, key)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the server holds %d bytes that differ from the file's %d", key, len(got), len(want))
	}
	for k, v := range md.Values() {
		if meta[k] != v {
			t.Errorf("%s: metadata %s = %q, want %q (all: %v)", key, k, meta[k], v, meta)
		}
	}
}

// expectEmptyPinRefusal: a server that checks the query-only AAAAAA== pin
// refuses a non-empty file, and hoist says why and what to ask for.
func expectEmptyPinRefusal(t *testing.T, events []uploader.Event, f uploader.File) {
	t.Helper()
	e := failure(t, events, f.Name)
	msg := e.Err.Error()
	if e.Code != "BadDigest" || !strings.Contains(msg, "EMPTY body (AAAAAA==)") || !strings.Contains(msg, "ask for a URL presigned without a checksum") {
		t.Errorf("%s: failed with %q: %q; want BadDigest explained as the empty-body pin", f.Name, e.Code, msg)
	}
}

// expectTokenHandling: a server that refuses the bearer token beside the
// signature gets it once, hoist retries without it and says so once; a
// server that takes it is never told anything.
func expectTokenHandling(t *testing.T, sv server, events []uploader.Event) {
	t.Helper()
	var said []string
	for _, e := range events {
		if e.Kind == uploader.EventRetrying {
			said = append(said, e.Err.Error())
		}
		if e.Err != nil && strings.Contains(e.Err.Error(), token) {
			t.Errorf("an event prints the token: %v", e.Err)
		}
	}
	switch {
	case sv.refusesToken && (len(said) != 1 || !strings.Contains(said[0], "refuses the bearer token")):
		t.Errorf("retry notices %q; want one saying the token is dropped for this host", said)
	case !sv.refusesToken && len(said) != 0:
		t.Errorf("retry notices %q; want none", said)
	}
}
