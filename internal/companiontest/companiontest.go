// Package companiontest runs the real Uppy Companion for tests, in standalone
// mode, signing for a versitygw from s3test.
//
// Companion is a Node.js program installed by scripts/install-companion.sh
// (which `make test` runs) into $HOIST_COMPANION_DIR, or else
// $(go env GOPATH)/hoist-companion: outside the repository, so CI can cache
// it. A missing install fails the test; it is never skipped.
package companiontest

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
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

	"hoist/internal/s3test"
)

// Version is the @uppy/companion release the tests run against; it must
// match VERSION in scripts/install-companion.sh.
const Version = "6.2.2"

// DirEnv names the folder Companion is installed in, when not the default.
const DirEnv = "HOIST_COMPANION_DIR"

//go:embed launch.mjs
var launcher []byte

// Config says what Companion signs for.
type Config struct {
	S3 *s3test.Server // the store: its keys and region go to Companion
	// Endpoint is where Companion sends its S3 requests and where the URLs
	// it hands out point; "" means S3.Endpoint. Tests that watch the
	// traffic put a proxy in front of the store and give its address.
	Endpoint string
	Bucket   string // the bucket it uploads to (a test of a missing bucket may leave it uncreated)
	// Env holds more settings (NAME=value) added last, so they win.
	Env []string
}

// Server is one running Companion.
type Server struct {
	URL string // http://127.0.0.1:PORT: Companion's base URL, the one hoist's --presign-url takes

	output  *testproc.Output
	secrets []string
}

// Output is what Companion printed so far (its request log and errors),
// with the S3 keys and Companion's own secrets blanked.
func (s *Server) Output() string {
	out := s.output.String()
	for _, secret := range s.secrets {
		out = strings.ReplaceAll(out, secret, "[REDACTED]")
	}
	return out
}

// Dir is where Companion is looked for: $HOIST_COMPANION_DIR, else
// $(go env GOPATH)/hoist-companion.
func Dir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return d
	}
	gopath := testproc.GoEnv("GOPATH")
	if first := filepath.SplitList(gopath); len(first) > 0 && first[0] != "" {
		return filepath.Join(first[0], "hoist-companion")
	}
	return ""
}

// Start runs Companion on a free loopback port and stops it when the test
// ends. The bucket need not exist yet: Companion only signs.
func Start(t testing.TB, c Config) *Server {
	t.Helper()
	if c.S3 == nil || c.Bucket == "" {
		t.Fatal("companiontest.Start needs Config.S3 and Config.Bucket")
	}
	node, pkg := find(t)
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = c.S3.Endpoint
	}

	work := t.TempDir()
	launch := filepath.Join(work, "launch.mjs")
	if err := os.WriteFile(launch, launcher, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(work, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	secret, preauth := testproc.RandomHex(t, 32), testproc.RandomHex(t, 16)
	s := &Server{secrets: []string{c.S3.SecretKey, c.S3.AccessKey, secret, preauth}}

	// The port is chosen by closing a listener and handing its number to
	// Companion, so another process can take it in between; try a few.
	var lastErr error
	for range 5 {
		port := testproc.FreePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		env := append(cleanEnv(),
			"NODE_ENV=development", // errors carry their message; production hides it behind "Something went wrong"
			"COMPANION_PORT="+strconv.Itoa(port),
			"COMPANION_DOMAIN="+addr,
			"COMPANION_PROTOCOL=http",
			"COMPANION_SECRET="+secret,
			"COMPANION_PREAUTH_SECRET="+preauth,
			"COMPANION_DATADIR="+data,
			// Browsers' CORS checks; hoist is no browser. Companion requires
			// the setting and refuses "*".
			"COMPANION_CLIENT_ORIGINS=true",
			// Remote-URL uploads are off; naming an allowed target keeps
			// Companion from logging a startup error about it.
			"COMPANION_UPLOAD_URLS=http://"+addr+"/",
			"COMPANION_HIDE_METRICS=true",
			"COMPANION_AWS_KEY="+c.S3.AccessKey,
			"COMPANION_AWS_SECRET="+c.S3.SecretKey,
			"COMPANION_AWS_BUCKET="+c.Bucket,
			"COMPANION_AWS_REGION="+c.S3.Region,
			"COMPANION_AWS_ENDPOINT="+endpoint,
			// versitygw on 127.0.0.1 has no bucket.host names.
			"COMPANION_AWS_FORCE_PATH_STYLE=true",
		)
		env = append(env, c.Env...)
		p, err := startProcess(node, []string{launch, pkg, strconv.Itoa(port)}, env, addr, s)
		if err != nil {
			lastErr = err
			continue
		}
		s.URL = "http://" + addr
		t.Cleanup(func() {
			p.stop()
			if t.Failed() {
				t.Logf("Companion output:\n%s", s.Output())
			}
		})
		return s
	}
	t.Fatalf("starting Uppy Companion: %v", lastErr)
	return nil
}

// find returns the node binary and the installed @uppy/companion folder, or
// fails the test saying how to install them.
func find(t testing.TB) (node, pkg string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found on PATH; install Node.js 20.19 or later, then run `make test`, which installs Uppy Companion")
	}
	dir := Dir()
	if dir == "" {
		t.Fatalf("cannot tell where Uppy Companion is installed: set %s or GOPATH; run `make test`, which installs it", DirEnv)
	}
	pkg = filepath.Join(dir, "node_modules", "@uppy", "companion")
	raw, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		t.Fatalf("Uppy Companion %s not found in %s; run `make test`, which installs it", Version, dir)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil || meta.Version != Version {
		t.Fatalf("Uppy Companion in %s is version %q, the tests want %s; run `make test`, which installs it", dir, meta.Version, Version)
	}
	return node, pkg
}

// cleanEnv is this process's environment without settings that would
// change Companion's behaviour: COMPANION_*, AWS_* and Node's own.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "COMPANION_"), strings.HasPrefix(name, "AWS_"),
			name == "NODE_ENV", name == "NODE_OPTIONS", name == "PORT":
			continue
		}
		env = append(env, kv)
	}
	return env
}

type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when Wait returns
	once   sync.Once
}

func startProcess(node string, args, env []string, addr string, s *Server) (*process, error) {
	cmd := exec.Command(node, args...)
	cmd.Env = env
	s.output = &testproc.Output{}
	cmd.Stdout = s.output
	cmd.Stderr = s.output
	p := &process{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", node, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()

	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the Companion server exited at start: %s", lastLines(s.Output(), 15))
		default:
		}
		// With S3 configured, /s3/params without a filename is a 400 whose
		// JSON says the filename is missing; without it, a 404.
		status, body, err := get(client, "http://"+addr+"/s3/params")
		switch {
		case err == nil && status == http.StatusBadRequest && strings.Contains(body, "filename"):
			return p, nil
		case err == nil:
			p.stop()
			return nil, fmt.Errorf("the Companion server answered /s3/params with %d %q: its S3 upload endpoints are off; output: %s",
				status, body, lastLines(s.Output(), 15))
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("the Companion server did not answer on %s within 30s: %v; output: %s", addr, err, lastLines(s.Output(), 15))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(client *http.Client, url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, "", err
	}
	return resp.StatusCode, string(b), nil
}

// stop sends SIGTERM, then kills after a grace period.
func (p *process) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
