package localstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/goleak"

	"hoist/localstore"
	"hoist/source"
	"hoist/uploader"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newSource is the S3 source as hoist wires it to the local store.
func newSource(t *testing.T, st *localstore.Store) *source.S3 {
	t.Helper()
	src, err := source.NewS3(context.Background(), source.S3Config{
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
	return src
}

// httpClient closes its idle connections when the test ends, for goleak.
func httpClient(t *testing.T) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// withoutURL drops the URL net/http puts in its errors: its query holds the
// signature.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func send(t *testing.T, c *http.Client, tg uploader.Target, body io.Reader, size int64) {
	t.Helper()
	req, err := http.NewRequest(tg.Method, tg.URL, body)
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	req.ContentLength = size
	req.Header = tg.Header.Clone()
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(withoutURL(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT answered %d: %s", resp.StatusCode, msg)
	}
}

func start(t *testing.T) *localstore.Store {
	t.Helper()
	st, err := localstore.Start(filepath.Join(t.TempDir(), "local"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

func TestUploadLandsAsPlainFile(t *testing.T) {
	st := start(t)
	if !strings.HasPrefix(st.Endpoint(), "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on 127.0.0.1", st.Endpoint())
	}
	fi, err := os.Stat(filepath.Dir(filepath.Dir(filepath.Dir(st.PathFor("x")))))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("store folder mode %v, want 0700", fi.Mode().Perm())
	}

	src := newSource(t, st)
	if caps := src.Capabilities(); caps.Multipart || caps.MaxSinglePut != 0 || !caps.Resign {
		t.Errorf("capabilities %+v: want single PUT only, no size limit, re-signing", caps)
	}
	body := bytes.Repeat([]byte("hoist\x00\xff\r\n"), 100_003) // not text-safe, not a round size
	f := uploader.File{Name: "notes.bin", Key: "2024/notes v1.bin", Size: int64(len(body)),
		CRC32: crc32.ChecksumIEEE(body), HasCRC32: true}
	md := uploader.Metadata{OrgID: "org-1", UserID: "user-2", TTLHours: 48}
	tg, err := src.Target(context.Background(), f, md)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(st.Dir(), "buckets", "hoist", "2024", "notes v1.bin")
	if tg.Location != want || st.PathFor(f.Key) != want {
		t.Errorf("Location %q, PathFor %q; want %q", tg.Location, st.PathFor(f.Key), want)
	}

	c := httpClient(t)
	send(t, c, tg, bytes.NewReader(body), f.Size)

	onDisk, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, body) {
		t.Fatalf("file on disk differs: %d bytes, want %d", len(onDisk), len(body))
	}

	cl := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(st.Endpoint()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(st.AccessKey(), st.SecretKey(), ""),
		HTTPClient:   c,
	})
	out, err := cl.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(st.Bucket()), Key: aws.String(f.Key)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Error("GetObject body differs from what was sent")
	}
	for name, v := range md.Values() {
		if k := strings.TrimPrefix(name, "x-amz-meta-"); out.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q (all: %v)", k, out.Metadata[k], v, out.Metadata)
		}
	}
}

func TestKeysNeedingEscapesLandByKey(t *testing.T) {
	st := start(t)
	src := newSource(t, st)
	c := httpClient(t)
	for _, key := range []string{"100% sure#1?.txt", "ünï cødé/日本.bin", "a+b=c&d", "deep/er/still/x"} {
		body := []byte("key " + key)
		tg, err := src.Target(context.Background(), uploader.File{Name: key, Key: key, Size: int64(len(body)),
			CRC32: crc32.ChecksumIEEE(body), HasCRC32: true}, uploader.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		send(t, c, tg, bytes.NewReader(body), int64(len(body)))
		want := filepath.Join(st.Dir(), "buckets", "hoist", filepath.FromSlash(key))
		if got, err := os.ReadFile(want); err != nil || !bytes.Equal(got, body) || st.PathFor(key) != want {
			t.Errorf("key %q: %s reads %q, %v; PathFor %q", key, want, got, err, st.PathFor(key))
		}
	}
}

func TestReopenKeepsFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "local")
	st, err := localstore.Start(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	src := newSource(t, st)
	body := []byte("kept")
	tg, err := src.Target(context.Background(), uploader.File{Name: "k", Key: "k", Size: 4, CRC32: crc32.ChecksumIEEE(body), HasCRC32: true}, uploader.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	send(t, httpClient(t), tg, bytes.NewReader(body), 4)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A second run in the same folder: the bucket exists already.
	st2, err := localstore.Start(dir, "")
	if err != nil {
		t.Fatalf("restarting on an existing folder: %v", err)
	}
	defer st2.Close()
	if got, err := os.ReadFile(st2.PathFor("k")); err != nil || !bytes.Equal(got, body) {
		t.Errorf("after restart the file reads %q, %v", got, err)
	}
}

func TestCloseReleasesPort(t *testing.T) {
	st, err := localstore.Start(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(st.Endpoint(), "http://")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port still held after Close: %v", err)
	}
	ln.Close()

	// The same address can be asked for explicitly.
	st2, err := localstore.Start(t.TempDir(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if st2.Endpoint() != "http://"+addr {
		t.Errorf("endpoint %q, want http://%s", st2.Endpoint(), addr)
	}
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:9000", "nonsense"} {
		if st, err := localstore.Start(t.TempDir(), addr); err == nil {
			st.Close()
			t.Errorf("Start(%q) succeeded; want a loopback-only error", addr)
		}
	}
	for _, addr := range []string{"[::1]:0", "localhost:0"} {
		st, err := localstore.Start(t.TempDir(), addr)
		if err != nil {
			if strings.Contains(err.Error(), "not loopback") {
				t.Errorf("Start(%q) refused a loopback address: %v", addr, err)
			}
			continue // no IPv6 on this machine
		}
		st.Close()
	}
}

// pattern is an endless body: a pseudo-random block of odd length, repeated,
// so no two MiB of the stream are alike.
type pattern struct{ off int }

var patternBlock = func() []byte {
	b := make([]byte, 1<<20+7)
	x := uint32(1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}()

func (p *pattern) Read(b []byte) (int, error) {
	n := copy(b, patternBlock[p.off:])
	p.off = (p.off + n) % len(patternBlock)
	return n, nil
}

// TestLargeUploadStreams measures what gofakes3 does with a 200 MiB body:
// it streams it to disk. Measured: TotalAlloc grows by ~0.2 MiB for the whole
// PUT (client and server together, with -race), HeapInuse stays at ~2 MiB.
func TestLargeUploadStreams(t *testing.T) {
	const size = 200 << 20
	st := start(t)
	src := newSource(t, st)

	// The CRC32 is signed, so compute it first from the same stream.
	h := crc32.NewIEEE()
	if _, err := io.CopyN(h, &pattern{}, size); err != nil {
		t.Fatal(err)
	}
	f := uploader.File{Name: "big", Key: "big.bin", Size: size, CRC32: h.Sum32(), HasCRC32: true}
	tg, err := src.Target(context.Background(), f, uploader.Metadata{OrgID: "o"})
	if err != nil {
		t.Fatal(err)
	}

	c := httpClient(t)
	sum := sha256.New()
	body := io.TeeReader(io.LimitReader(&pattern{}, size), sum)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	send(t, c, tg, body, size)
	runtime.ReadMemStats(&after)

	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("200 MiB PUT allocated %.1f MiB in total; heap in use %.1f → %.1f MiB",
		float64(allocated)/(1<<20), float64(before.HeapInuse)/(1<<20), float64(after.HeapInuse)/(1<<20))
	if allocated > 32<<20 {
		t.Errorf("a 200 MiB PUT allocated %d MiB: the store is buffering bodies", allocated>>20)
	}

	file, err := os.Open(st.PathFor(f.Key))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	disk := sha256.New()
	n, err := io.Copy(disk, file)
	if err != nil {
		t.Fatal(err)
	}
	if n != size || !bytes.Equal(disk.Sum(nil), sum.Sum(nil)) {
		t.Errorf("file on disk: %d bytes, sha256 match %v; want %d bytes, identical", n, bytes.Equal(disk.Sum(nil), sum.Sum(nil)), size)
	}
}
