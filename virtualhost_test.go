package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/internal/s3test"
)

// A virtual-hosted URL (BUCKET.host/KEY) on a host hoist does not know is
// reported with the whole object path as its key, never a bucket guessed
// from the path (issue 13, item 2). Measured on MinIO with MINIO_DOMAIN: the
// object is stored under the path, and hoist's done event says so.
func TestVirtualHostedURLOnMinIOKeepsTheWholePath(t *testing.T) {
	srv := s3test.StartMinIO(t, "localhost")
	srv.CreateBucket(t, "seed")
	proxy := localhostProxy(t)

	// MinIO answers BUCKET.localhost:PORT; nothing resolves that name here,
	// so hoist reaches it through a forward proxy, as it would through a
	// company proxy.
	port := strings.TrimPrefix(srv.Endpoint, "http://127.0.0.1:")
	client := s3.New(s3.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String("http://localhost:" + port),
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
	})
	const key = "uploads/2026/report.pdf"
	req, err := s3.NewPresignClient(client).PresignPutObject(context.Background(), &s3.PutObjectInput{
		Bucket:   aws.String("seed"),
		Key:      aws.String(key),
		Metadata: map[string]string{"organization-id": "org-1", "user-id": "user-2", "ttl-hours": "48"},
	}, s3.WithPresignExpires(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://seed.localhost:" + port + "/" + key + "?"; !strings.HasPrefix(req.URL, want) {
		t.Fatalf("presigned %s…, want a virtual-hosted URL %s…", strings.SplitN(req.URL, "?", 2)[0], want)
	}

	p, data := writeTemp(t, t.TempDir(), "report.pdf", 70_000)
	env := []string{"HTTP_PROXY=" + proxy, "http_proxy=" + proxy}
	r := runHoist(t, env, append([]string{"--json", "--url", req.URL, p}, meta...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var done []event
	for _, e := range parseEvents(t, r.stdout) {
		if e.Event == "done" {
			done = append(done, e)
		}
	}
	if len(done) != 1 || done[0].Key != key {
		t.Errorf("done events %+v; want one with key %q", done, key)
	}
	got, md := srv.Object(t, "seed", key)
	if !bytes.Equal(got, data) || md["x-amz-meta-organization-id"] != "org-1" {
		t.Errorf("s3://seed/%s holds %d bytes (equal: %v), metadata %v", key, len(got), bytes.Equal(got, data), md)
	}
	assertClean(t, r, secretsOf(t, req.URL)[:2]...)

	// hoist inspect shows the same: no bucket guessed, the whole path.
	r = runHoist(t, nil, "inspect", req.URL)
	if !strings.Contains(r.stdout, "key             "+key+" (the whole object path)") || strings.Contains(r.stdout, "bucket          uploads") {
		t.Errorf("hoist inspect says:\n%s", r.stdout)
	}
}

// localhostProxy is a forward HTTP proxy on loopback that takes requests for
// NAME.localhost:PORT to 127.0.0.1:PORT, as RFC 6761 has *.localhost mean
// this machine, and refuses every other host.
func localhostProxy(t *testing.T) string {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !strings.HasSuffix(host, ".localhost") {
			return nil, fmt.Errorf("this proxy only reaches *.localhost, not %q", addr)
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}}
	t.Cleanup(tr.CloseIdleConnections)
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", pr.In.Host
			pr.Out.Host = pr.In.Host
		},
		Transport: tr,
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL
}
