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

// Server is one running S3 server on loopback with its data in a temporary
// folder.
type Server struct {
	Name      string // versitygw, MinIO, SeaweedFS
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Dir       string     // where it keeps its data (versitygw: <Dir>/<bucket>/<key>)
	Client    *s3.Client // path-style, signed with the root keys
	// Domain is MinIO's MINIO_DOMAIN: it then takes virtual-hosted
	// requests to BUCKET.Domain as well. "" for none.
	Domain string
}

// kind is one S3 server hoist is tested against: how to find it and run it.
type kind struct {
	name    string // as people write it
	binary  string // its file name where `make deps` installs it
	env     string // a variable naming the binary, which overrides the search
	ports   int    // loopback ports it listens on; the first is the S3 endpoint
	command func(bin string, ports []int, s *Server) (*exec.Cmd, error)
	// startup is how long it may take to answer an S3 call once running.
	startup time.Duration
}

var versitygw = kind{
	name: "versitygw", binary: "versitygw", env: "HOIST_VERSITYGW", ports: 1, startup: 15 * time.Second,
	command: func(bin string, ports []int, s *Server) (*exec.Cmd, error) {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		cmd := exec.Command(bin, "--port", addr, "--region", s.Region, "posix", s.Dir)
		cmd.Env = append(os.Environ(),
			"ROOT_ACCESS_KEY="+s.AccessKey,
			"ROOT_SECRET_KEY="+s.SecretKey,
		)
		return cmd, nil
	},
}

// Start runs versitygw on a free loopback port and stops it when the test ends.
// A missing binary fails the test: the strict server is the point of these tests.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, versitygw, Server{Region: Region})
}

// start runs a server of kind k with the settings in c (Region, Domain).
// A missing binary fails the test rather than skipping it: a real server
// is the point.
func start(t testing.TB, k kind, c Server) *Server {
	t.Helper()
	bin := find(k)
	if bin == "" {
		t.Fatalf("%s not found (set %s, or put it in GOBIN); run `make deps`, which installs it", k.name, k.env)
	}

	s := &c
	s.Name = k.name
	s.AccessKey = testproc.RandomHex(t, 10)
	s.SecretKey = testproc.RandomHex(t, 20)
	s.Dir = t.TempDir()

	// Ports are chosen by closing a listener and handing the number to the
	// server, so another process can take one in between; try a few times.
	var lastErr error
	for range 5 {
		ports := make([]int, k.ports)
		for i := range ports {
			ports[i] = testproc.FreePort(t)
		}
		s.Endpoint = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		s.Client = s.newClient(t)
		p, err := startProcess(t, k, bin, ports, s)
		if err != nil {
			lastErr = err
			continue
		}
		t.Cleanup(func() {
			out := p.stop()
			if t.Failed() && out != "" {
				t.Logf("%s output:\n%s", k.name, tail(out, 8000))
			}
		})
		return s
	}
	t.Fatalf("starting %s: %v", k.name, lastErr)
	return nil
}

// find looks where `make deps` and CI put the binary.
func find(k kind) string {
	if p := os.Getenv(k.env); p != "" {
		if testproc.IsExecutable(p) {
			return p
		}
		return ""
	}
	if p, err := exec.LookPath(k.binary); err == nil {
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
		if p := filepath.Join(d, k.binary); testproc.IsExecutable(p) {
			return p
		}
	}
	return ""
}

type process struct {
	cmd    *exec.Cmd
	output *testproc.Output
	exited chan struct{} // closed when Wait returns
	once   sync.Once
}

// startProcess runs the server and waits until it answers a signed
// ListBuckets: it then checks signatures and has its storage ready.
func startProcess(t testing.TB, k kind, bin string, ports []int, s *Server) (*process, error) {
	cmd, err := k.command(bin, ports, s)
	if err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, output: &testproc.Output{}, exited: make(chan struct{})}
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()

	deadline := time.Now().Add(k.startup)
	var lastErr error
	for {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited at start: %s", k.name, tail(strings.TrimSpace(p.output.String()), 2000))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, lastErr = s.Client.ListBuckets(ctx, &s3.ListBucketsInput{}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		cancel()
		if lastErr == nil {
			return p, nil
		}
		if time.Now().After(deadline) {
			out := p.stop()
			return nil, fmt.Errorf("%s did not answer on %s within %v: %v; output: %s", k.name, s.Endpoint, k.startup, lastErr, tail(out, 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM, then kills after a grace period, and returns the
// output.
func (p *process) stop() string {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p.output.String()
}

// tail is the last n bytes of s: servers log a lot at start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
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
	// SignedCRC32, when set, is signed as the x-amz-checksum-crc32 header:
	// the URL then takes only a body with this CRC32.
	SignedCRC32 string
}

// PresignAPIStyle signs a path-style PUT URL whose query has exactly the
// parameters of the API's URLs (see DESIGN.md), with apiurl, the one home of
// that shape: the metadata as signed headers, UNSIGNED-PAYLOAD, a pinned
// query checksum and x-id=PutObject.
func (s *Server) PresignAPIStyle(t testing.TB, o APIStyle) string {
	t.Helper()
	header := make(map[string]string, len(o.Meta)+1)
	for k, v := range o.Meta {
		header[k] = v
	}
	if o.SignedCRC32 != "" {
		header["x-amz-checksum-crc32"] = o.SignedCRC32
	}
	signed, err := s.Signer().PresignPut(context.Background(), apiurl.Put{
		Bucket: o.Bucket, Key: o.Key, Header: header,
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
	// Generous: a test may read back a few hundred MiB on a busy machine.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
