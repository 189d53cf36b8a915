package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hoist/internal/s3test"
)

// countingProxy sits between hoist and the S3 server and counts the part
// bytes that reach the server.
type countingProxy struct {
	*httptest.Server
	partBytes atomic.Int64 // body bytes of UploadPart requests forwarded
	partsOK   atomic.Int32 // UploadPart requests the server accepted
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isPart := r.Method == http.MethodPut && r.URL.Query().Get("partNumber") != ""
		if isPart {
			r.Body = &countReader{r: r.Body, n: &p.partBytes}
		}
		rec := &statusRecorder{ResponseWriter: w}
		rp.ServeHTTP(rec, r)
		if isPart && rec.status == http.StatusOK {
			p.partsOK.Add(1)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

type countReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}
func (c *countReader) Close() error { return c.r.Close() }

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// TestResumeAfterKill9 kills hoist mid-upload with SIGKILL, runs it again on
// the same file, and counts at the proxy how much was sent the second time.
func TestResumeAfterKill9(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "big")
	proxy := newCountingProxy(t, srv.Endpoint)
	const size = 100 << 20
	file, data := writeTemp(t, t.TempDir(), "dataset.tar", size)
	env := []string{
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey, "AWS_REGION=" + srv.Region,
	}
	args := append([]string{"--no-tui", "--s3", "s3://big/in", "--endpoint-url", proxy.URL,
		"--multipart-threshold", "8MiB", "--part-size", "5MiB", "--concurrency", "2"}, meta...)

	// One home for both runs: the journal lives in its XDG_STATE_HOME.
	first := hoistCmd(t, env, append(args, "--limit-rate", "40MiB", file)...)
	env = first.Env // the same HOME and XDG folders for the second run
	var out1 bytes.Buffer
	first.Stdout, first.Stderr = &out1, &out1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for proxy.partsOK.Load() < 10 { // half the file on the server
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatalf("first run did not get 10 parts up: %s", out1.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = first.Process.Kill() // SIGKILL: no cleanup, no abort
	_ = first.Wait()
	firstBytes := proxy.partBytes.Load()
	t.Logf("first run: %d parts accepted, %d MiB sent before kill -9", proxy.partsOK.Load(), firstBytes>>20)

	second := exec2(t, env, append(args, file)...)
	var out2, err2 bytes.Buffer
	second.Stdout, second.Stderr = &out2, &err2
	if err := second.Run(); err != nil {
		t.Fatalf("second run: %v\n%s%s", err, out2.String(), err2.String())
	}
	again := proxy.partBytes.Load() - firstBytes
	t.Logf("second run sent %d MiB of %d MiB (%.0f%%)", again>>20, size>>20, 100*float64(again)/size)
	if again >= size*6/10 {
		t.Errorf("resume sent %d MiB again, ≥ 60%% of the file", again>>20)
	}
	if !strings.Contains(err2.String(), "resuming") {
		t.Errorf("the second run did not say it resumed: %s", err2.String())
	}
	got, _ := srv.Object(t, "big", "in/dataset.tar")
	if !bytes.Equal(got, data) {
		t.Error("the resumed object differs from the file")
	}
}

// exec2 runs hoist with exactly env (another run in the same home).
func exec2(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = env
	return cmd
}
