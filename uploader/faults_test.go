package uploader_test

// The engine with the S3 source, through a proxy that makes the network
// misbehave, against versitygw: single PUTs and multipart parts under
// resets, 503 SlowDown and stalls, and URLs that expire on the way.

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"hoist/internal/faultproxy"
	"hoist/internal/s3test"
	"hoist/source"
	"hoist/uploader"
)

// presigned picks the requests hoist sends with a presigned URL (object
// PUTs and parts); the SDK's own calls (create, list, complete, abort
// multipart) are signed in a header and pass.
func presigned(r *http.Request) bool { return r.URL.Query().Has("X-Amz-Signature") }

func TestS3SourceThroughABadNetwork(t *testing.T) {
	seed := faultproxy.Seed(t)
	srv := s3test.Start(t)
	srv.CreateBucket(t, "media")
	proxy := faultproxy.Start(t, srv.Endpoint, faultproxy.Faults{
		Reset: 0.20, SlowDown: 0.10, Stall: 0.05, Jitter: 20 * time.Millisecond,
		MaxInARow: 3, Only: presigned, Seed: seed,
		First: []faultproxy.Kind{faultproxy.Reset, faultproxy.SlowDown, faultproxy.Stall},
	})
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: "media", Prefix: "in", EndpointURL: proxy.URL, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true, Multipart: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []uploader.File
	var datas [][]byte
	// Two single PUTs of each kind of size, and three files in 5 MiB parts.
	for i, size := range []int{0, 1, 3 << 20, 7 << 20, 9 << 20, 20<<20 + 3, 32 << 20} {
		f, d := newFile(t, dir, "f"+strconv.Itoa(i)+".bin", size)
		files, datas = append(files, f), append(datas, d)
	}
	start := time.Now()
	events, s := upload(t, src, uploader.Options{
		Metadata: formMetadata, Concurrency: 4, Retries: 5, StallTimeout: time.Second,
		MultipartThreshold: 8 << 20, PartSize: 5 << 20, Journal: uploader.OpenJournal(t.TempDir()),
	}, files...)
	stats := proxy.Stats()
	t.Logf("%d files in %v; proxy: %v", len(files), time.Since(start).Round(100*time.Millisecond), stats)

	if s.Uploaded != len(files) {
		for i := range files {
			t.Logf("%s: %v %v", files[i].Name, final(events, i).Kind, final(events, i).Err)
		}
		t.Fatalf("summary %+v", s)
	}
	retries := 0
	for _, e := range events {
		if e.Kind == uploader.EventRetrying {
			retries++
		}
	}
	if int64(retries) != stats.Faulted() {
		t.Errorf("%d retrying events for %d faults injected", retries, stats.Faulted())
	}
	for i, f := range files {
		checkObject(t, srv, "media", "in/"+f.Key, datas[i], formMetadata)
		if r := final(events, i).Result; r == nil || r.Bytes != f.Size || r.Key != "in/"+f.Key {
			t.Errorf("%s: result %+v", f.Name, r)
		}
	}
	if parts := final(events, 6).Result.Parts; parts != 7 {
		t.Errorf("the 32 MiB file went up in %d parts, want 7", parts)
	}
	assertNoMultipartUploads(t, srv, "media")
}

// URLs that run out while a batch is under way: the S3 source signs a fresh
// one for every attempt, and when one expires on its way to the server (a
// slow hop holds it past its expiry), the engine signs again and sends it
// once more, without counting a failed attempt.
func TestExpiringURLsAreResignedMidBatch(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "media")
	held := make(chan struct{}, 1)
	held <- struct{}{}
	proxy := faultproxy.Start(t, srv.Endpoint, faultproxy.Faults{
		Delay: func(r *http.Request) time.Duration {
			if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/late.bin") {
				return 0
			}
			select {
			case <-held: // the first request for late.bin only
				return 3200 * time.Millisecond
			default:
				return 0
			}
		},
	})
	src, err := source.NewS3(context.Background(), source.S3Config{
		Bucket: "media", EndpointURL: proxy.URL, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true,
		Expiry: 2 * time.Second, // X-Amz-Expires=2: every URL is stale within 2 s of signing
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	late, lateData := newFile(t, dir, "late.bin", 200_000)
	files, datas := []uploader.File{late}, [][]byte{lateData}
	for i := range 8 {
		f, d := newFile(t, dir, "batch"+strconv.Itoa(i)+".bin", 1<<20)
		files, datas = append(files, f), append(datas, d)
	}
	// 8 MiB at 2 MiB/s: the batch lasts twice as long as a URL.
	start := time.Now()
	events, s := upload(t, src, uploader.Options{Metadata: formMetadata, Concurrency: 2, Retries: 0, LimitRate: 2 << 20}, files...)
	took := time.Since(start)
	stats := proxy.Stats()
	t.Logf("batch took %v; server answers %v", took.Round(100*time.Millisecond), stats.Answers)
	if s.Uploaded != len(files) {
		for i := range files {
			t.Logf("%s: %v %v", files[i].Name, final(events, i).Kind, final(events, i).Err)
		}
		t.Fatalf("summary %+v", s)
	}
	if took < 3*time.Second {
		t.Errorf("the batch took %v, not longer than the URLs last", took)
	}
	// The held request, at least; a URL signed late in a second (X-Amz-Date
	// has whole seconds) may also run out on its way under load.
	if stats.Answers[http.StatusForbidden] < 1 {
		t.Errorf("the server refused no request: the held URL did not expire on its way")
	}
	for _, e := range events {
		if e.Kind == uploader.EventRetrying {
			t.Errorf("%s: re-signing was counted as a failed attempt: %v", e.File, e.Err)
		}
	}
	for i, f := range files {
		checkObject(t, srv, "media", f.Key, datas[i], formMetadata)
	}
}
