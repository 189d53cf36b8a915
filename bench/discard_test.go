package main

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/inspect"
	"hoist/source"
	"hoist/uploader"
)

// The discarding server is held to what hoist's own S3 source sends and
// expects back (source/s3.go, the calls hoist --s3 makes), so the
// multipart-discard scenario measures hoist against answers a real S3 gives.

func startTestDiscard(t *testing.T) (*discardServer, *source.S3) {
	t.Helper()
	d, err := startDiscardServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: bucket, Prefix: "t/r1", EndpointURL: d.url, Region: region,
		AccessKey: "AKIDTEST", SecretKey: "not-checked", PathStyle: true, Multipart: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return d, src
}

// sendPart PUTs body to the part's presigned target as the engine does, and
// returns the answer.
func sendPart(t *testing.T, src *source.S3, u uploader.Upload, n int, body []byte, crc uint32) *http.Response {
	t.Helper()
	tg, err := src.PartTarget(context.Background(), u, n, int64(len(body)), crc)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(tg.Method, tg.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	for k, vs := range tg.Header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestDiscardServerMultipartAsHoistSendsIt(t *testing.T) {
	ctx := context.Background()
	d, src := startTestDiscard(t)
	f := uploader.File{Name: "big.bin", Key: "big.bin"}
	u, err := src.CreateMultipart(ctx, f, uploader.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if u.UploadID == "" || u.Key != "t/r1/big.bin" {
		t.Fatalf("CreateMultipart gave %+v; want an upload ID for t/r1/big.bin", u)
	}
	ups, err := src.ListUploads(ctx, f)
	if err != nil || len(ups) != 1 || ups[0].UploadID != u.UploadID || ups[0].Initiated.IsZero() {
		t.Fatalf("ListUploads = %+v, %v; want the one upload with when it began", ups, err)
	}

	bodies := [][]byte{bytes.Repeat([]byte{1}, 5<<20), bytes.Repeat([]byte{2}, 5<<20), []byte("the last part is small")}
	var parts []uploader.Part
	for i, b := range bodies {
		crc := crc32.ChecksumIEEE(b)
		resp := sendPart(t, src, u, i+1, b, crc)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			t.Fatalf("part %d: %d, ETag %q; want 200 with an ETag", i+1, resp.StatusCode, resp.Header.Get("ETag"))
		}
		if got := resp.Header.Get("X-Amz-Checksum-Crc32"); got != inspect.EncodeCRC32(crc) {
			t.Fatalf("part %d: checksum echoed %q; want %q", i+1, got, inspect.EncodeCRC32(crc))
		}
		parts = append(parts, uploader.Part{Number: i + 1, Size: int64(len(b)), ETag: strings.Trim(resp.Header.Get("ETag"), `"`), CRC32: crc})
	}
	// Part 2 again, as a retry sends it: the last copy is the one kept.
	if resp := sendPart(t, src, u, 2, bodies[1], parts[1].CRC32); resp.StatusCode != http.StatusOK {
		t.Fatalf("part 2 sent again: %d; want 200", resp.StatusCode)
	}

	listed, err := src.ListParts(ctx, u)
	if err != nil || len(listed) != 3 {
		t.Fatalf("ListParts = %+v, %v; want 3 parts", listed, err)
	}
	for i, p := range listed {
		p.ETag = strings.Trim(p.ETag, `"`) // S3 lists ETags quoted; hoist trims them to compare
		if p != parts[i] {
			t.Errorf("ListParts part %d = %+v; want %+v", i+1, p, parts[i])
		}
	}
	if n, b := d.received("t/r1"); n != 0 || b != 0 {
		t.Fatalf("before CompleteMultipartUpload %d objects, %d bytes are counted; want none", n, b)
	}

	etag, err := src.CompleteMultipart(ctx, u, parts)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^"?[0-9a-f]{32}-3"?$`).MatchString(etag) {
		t.Errorf("CompleteMultipart ETag %q; want S3's shape for 3 parts, <32 hex>-3", etag)
	}
	want := int64(len(bodies[0]) + len(bodies[1]) + len(bodies[2]))
	if n, b := d.received("t/r1"); n != 1 || b != want {
		t.Errorf("received %d objects, %d bytes; want 1, %d", n, b, want)
	}
	if size, tag, err := src.StatObject(ctx, u.Key); err != nil || size != want || tag != etag {
		t.Errorf("StatObject = %d, %q, %v; want %d, %q", size, tag, err, want, etag)
	}
	if ok, err := src.Exists(ctx, f); err != nil || !ok {
		t.Errorf("Exists = %v, %v; want true", ok, err)
	}
	if _, err := src.ListParts(ctx, u); !uploader.IsNoSuchUpload(err) {
		t.Errorf("ListParts after completing: %v; want NoSuchUpload", err)
	}
	if un := d.unansweredRequests(); len(un) > 0 {
		t.Errorf("unanswered: %v", un)
	}
}

func TestDiscardServerRefusesAsS3Does(t *testing.T) {
	ctx := context.Background()
	d, src := startTestDiscard(t)
	f := uploader.File{Name: "x.bin", Key: "x.bin"}
	u, err := src.CreateMultipart(ctx, f, uploader.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	small := []byte("under five MiB")
	if resp := sendPart(t, src, u, 1, small, crc32.ChecksumIEEE(small)+1); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a part whose signed CRC32 is wrong: %d; want 400 BadDigest", resp.StatusCode)
	}
	var parts []uploader.Part
	for n := 1; n <= 2; n++ {
		resp := sendPart(t, src, u, n, small, crc32.ChecksumIEEE(small))
		parts = append(parts, uploader.Part{Number: n, Size: int64(len(small)), ETag: strings.Trim(resp.Header.Get("ETag"), `"`), CRC32: crc32.ChecksumIEEE(small)})
	}
	if _, err := src.CompleteMultipart(ctx, u, parts); !hasCode(err, "EntityTooSmall") {
		t.Errorf("completing with a first part under 5 MiB: %v; want EntityTooSmall", err)
	}
	bad := []uploader.Part{parts[0], parts[1]}
	bad[1].ETag = "0123456789abcdef0123456789abcdef"
	if _, err := src.CompleteMultipart(ctx, u, bad[1:]); !hasCode(err, "InvalidPart") {
		t.Errorf("completing with an ETag the part does not have: %v; want InvalidPart", err)
	}
	if err := src.AbortMultipart(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := src.AbortMultipart(ctx, u); !uploader.IsNoSuchUpload(err) {
		t.Errorf("aborting twice: %v; want NoSuchUpload", err)
	}
	if resp := sendPart(t, src, u, 3, small, crc32.ChecksumIEEE(small)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a part of an aborted upload: %d; want 404 NoSuchUpload", resp.StatusCode)
	}
	if n, _ := d.received("t/r1"); n != 0 {
		t.Errorf("%d objects counted after an abort; want none", n)
	}
	if ok, err := src.Exists(ctx, f); err != nil || ok {
		t.Errorf("Exists after an abort = %v, %v; want false", ok, err)
	}
}

func hasCode(err error, code string) bool {
	var se *uploader.ServerError
	return errors.As(err, &se) && se.Code == code
}

// ListParts pages as S3's does: the SDK's paginator, asked for 2 at a time,
// gets all 3 in order.
func TestDiscardServerListPartsPages(t *testing.T) {
	ctx := context.Background()
	d, src := startTestDiscard(t)
	u, err := src.CreateMultipart(ctx, uploader.File{Name: "p.bin", Key: "p.bin"}, uploader.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	for n := 3; n >= 1; n-- {
		sendPart(t, src, u, n, []byte{byte(n)}, crc32.ChecksumIEEE([]byte{byte(n)}))
	}
	client := (&server{endpoint: d.url, accessKey: "AKIDTEST", secret: "not-checked"}).client()
	pages := s3.NewListPartsPaginator(client, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(u.Key), UploadId: aws.String(u.UploadID), MaxParts: aws.Int32(2)})
	var got []int32
	calls := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for _, p := range page.Parts {
			got = append(got, aws.ToInt32(p.PartNumber))
		}
	}
	if calls != 2 || len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("paged ListParts: %d pages, parts %v; want 2 pages, [1 2 3]", calls, got)
	}
}

// A request the server has no answer for is a 501 and is kept, named by its
// query's names only: a presigned query's values hold a signature.
func TestDiscardServerNamesWhatItCannotAnswer(t *testing.T) {
	d, _ := startTestDiscard(t)
	resp, err := http.Get(d.url + "/" + bucket + "/k?tagging&X-Amz-Signature=secretvalue")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	un := d.unansweredRequests()
	if resp.StatusCode != http.StatusNotImplemented || len(un) != 1 || un[0] != "GET /bench/k ?X-Amz-Signature&tagging" {
		t.Fatalf("GetObjectTagging: %d, kept %q; want 501 and GET /bench/k ?X-Amz-Signature&tagging", resp.StatusCode, un)
	}
}

// The whole engine, as hoist --s3 runs it, sends a sparse file in parts and
// the server counts it once, whole: what the multipart-discard scenario
// checks after each run.
func TestDiscardServerTakesHoistsMultipartUpload(t *testing.T) {
	d, src := startTestDiscard(t)
	files, err := makeSparseFiles(t.TempDir(), 1, 21<<20+7)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := uploader.New(src, uploader.Options{Concurrency: 4, MultipartThreshold: 5 << 20, PartSize: 5 << 20})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool.Start(ctx)
	go func() {
		for range pool.Events() {
		}
	}()
	pool.Add(uploader.File{Path: files[0], Name: filepath.Base(files[0]), Key: filepath.Base(files[0]), Size: st.Size(), ModTime: st.ModTime()})
	if err := pool.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	sum := pool.Summary()
	res := pool.Results()
	if len(res) != 1 || res[0].Parts != 5 {
		t.Fatalf("summary %+v, results %+v; want one file sent in 5 parts", sum, res)
	}
	if n, b := d.received("t/r1"); n != 1 || b != st.Size() {
		t.Errorf("received %d objects, %d bytes; want 1, %d", n, b, st.Size())
	}
	if un := d.unansweredRequests(); len(un) > 0 {
		t.Errorf("unanswered: %v", un)
	}
}
