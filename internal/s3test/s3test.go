// Package s3test runs a real, strict S3 gateway (versitygw) for tests.
//
// versitygw verifies SigV4 query auth, signed headers, expiry, region,
// Content-Length and signed-header checksums, which is what hoist's request
// has to get right; the in-process fakes check none of that.
package s3test

import (
	"context"
	"fmt"
	"hoist/internal/apiurl"
	"hoist/internal/testproc"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Region is the region the gateway runs in, the one the API signs for.
const Region = "auto"

// Server is one running versitygw with a posix backend in a temporary folder.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Dir       string     // the posix backend's root: <Dir>/<bucket>/<key>
	Client    *s3.Client // path-style, signed with the root keys
}

// Start runs versitygw on a free loopback port and stops it when the test ends.
// A missing binary fails the test: the strict server is the point of these tests.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := findVersitygw()
	if bin == "" {
		t.Fatal("versitygw v1.8.0 not found; run `make test`, which installs it")
	}

	s := &Server{
		AccessKey: testproc.RandomHex(t, 10),
		SecretKey: testproc.RandomHex(t, 20),
		Region:    Region,
		Dir:       t.TempDir(),
	}

	// The port is chosen by closing a listener and handing its number to the
	// gateway, so another process can take it in between; try a few.
	var lastErr error
	for range 5 {
		port := testproc.FreePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		g, err := startGateway(bin, addr, s)
		if err != nil {
			lastErr = err
			continue
		}
		s.Endpoint = "http://" + addr
		t.Cleanup(func() {
			stderr := g.stop()
			if t.Failed() && stderr != "" {
				t.Logf("versitygw stderr:\n%s", stderr)
			}
		})
		s.Client = s.newClient(t)
		return s
	}
	t.Fatalf("starting versitygw: %v", lastErr)
	return nil
}

// findVersitygw looks where `make test` and CI put it.
func findVersitygw() string {
	if p := os.Getenv("HOIST_VERSITYGW"); p != "" {
		if testproc.IsExecutable(p) {
			return p
		}
		return ""
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if gobin := testproc.GoEnv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(testproc.GoEnv("GOPATH")) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "versitygw"); testproc.IsExecutable(p) {
			return p
		}
	}
	return ""
}

type gateway struct {
	cmd    *exec.Cmd
	stderr *testproc.Output
	exited chan struct{} // closed when Wait returns
	once   sync.Once
}

func startGateway(bin, addr string, s *Server) (*gateway, error) {
	cmd := exec.Command(bin, "--port", addr, "--region", s.Region, "posix", s.Dir)
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY="+s.AccessKey,
		"ROOT_SECRET_KEY="+s.SecretKey,
	)
	g := &gateway{cmd: cmd, stderr: &testproc.Output{}, exited: make(chan struct{})}
	cmd.Stdout = g.stderr
	cmd.Stderr = g.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	go func() {
		_ = cmd.Wait()
		close(g.exited)
	}()

	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		select {
		case <-g.exited:
			return nil, fmt.Errorf("versitygw exited at start: %s", strings.TrimSpace(g.stderr.String()))
		default:
		}
		// Any HTTP answer (an anonymous request gets 403) means it is serving.
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return g, nil
		}
		if time.Now().After(deadline) {
			stderr := g.stop()
			return nil, fmt.Errorf("versitygw did not answer on %s within 15s: %v; stderr: %s", addr, err, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM, then kills after a grace period, and returns stderr.
func (g *gateway) stop() string {
	g.once.Do(func() {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.exited:
		case <-time.After(5 * time.Second):
			_ = g.cmd.Process.Kill()
			<-g.exited
		}
	})
	return g.stderr.String()
}

func (s *Server) newClient(t testing.TB) *s3.Client {
	// Its own transport, so idle connections can be closed when the test ends
	// and goleak in callers' tests sees no lingering readLoop goroutines.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: tr},
	})
}

// CreateBucket makes a bucket or fails the test.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %q: %v", name, err)
	}
}

// APIStyle describes a presigned PUT URL shaped like the ones the API hands out.
type APIStyle struct {
	Bucket, Key string
	// Meta is header name (x-amz-meta-…) → value; every entry is signed.
	Meta    map[string]string
	Expires time.Duration // 0 means one hour
	// SignedAt is the signing clock; zero means now. A time far enough in the
	// past gives an expired URL.
	SignedAt time.Time
	// PinnedCRC32 is the query-string x-amz-checksum-crc32: "" means AAAAAA==
	// (the CRC32 of an empty body, as the JS SDK pins it), "-"
	// (apiurl.NoChecksum) means none.
	PinnedCRC32 string
}

// PresignAPIStyle signs a path-style PUT URL whose query has exactly the
// parameters of the API's URLs (see DESIGN.md), with apiurl, the one home of
// that shape: the metadata as signed headers, UNSIGNED-PAYLOAD, a pinned
// query checksum and x-id=PutObject.
func (s *Server) PresignAPIStyle(t testing.TB, o APIStyle) string {
	t.Helper()
	signed, err := s.Signer().PresignPut(context.Background(), apiurl.Put{
		Bucket: o.Bucket, Key: o.Key, Header: o.Meta,
		Expires: o.Expires, SignedAt: o.SignedAt, PinnedCRC32: o.PinnedCRC32,
	})
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// Signer signs API-shaped URLs for this gateway with its root keys.
func (s *Server) Signer() apiurl.Signer {
	return apiurl.Signer{Endpoint: s.Endpoint, Region: s.Region, AccessKey: s.AccessKey, SecretKey: s.SecretKey}
}

// Object reads an object back with the gateway's root client: its bytes and
// its user metadata as header name → value ("x-amz-meta-user-id"), the form
// uploader.Metadata.Values uses.
func (s *Server) Object(t testing.TB, bucket, key string) (body []byte, meta map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("getting s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	body, err = io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	meta = make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta["x-amz-meta-"+strings.ToLower(k)] = v
	}
	return body, meta
}
