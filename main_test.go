package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The test binary doubles as hoist: with HOIST_TEST_AS_MAIN=1 it runs main,
// so the command is tested as people run it (exit codes, signals, output)
// and still under the race detector.
func TestMain(m *testing.M) {
	if os.Getenv("HOIST_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// hoistCmd prepares hoist with a clean environment: its own HOME and XDG
// folders, no AWS settings from this machine.
func hoistCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{
		"HOIST_TEST_AS_MAIN=1",
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		// The race detector otherwise sleeps a second at exit, which would
		// count against hoist's own time to stop.
		"GORACE=atexit_sleep_ms=0",
	}, env...)
	return cmd
}

func runHoist(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := hoistCmd(t, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

func writeTemp(t *testing.T, dir, name string, size int) (string, []byte) {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// presign makes a real SigV4 presigned PUT for a server on loopback, signing
// the three metadata headers, as the API does.
func presign(t *testing.T, endpoint, key string, expires time.Duration) string {
	t.Helper()
	return presignAt(t, endpoint, key, expires, time.Now())
}

// signedAt is the SDK's presigner with the clock set to at, so a test can
// make a URL that has already expired instead of waiting for one to.
type signedAt struct {
	*v4.Signer
	at time.Time
}

func (s signedAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return s.Signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, s.at, optFns...)
}

// presignAt is presign with the signature made at the time at.
func presignAt(t *testing.T, endpoint, key string, expires time.Duration, at time.Time) string {
	t.Helper()
	client := s3.New(s3.Options{
		Region:       "auto",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIATESTCREDENTIAL01", "secretkeysecretkeysecretkey", ""),
	})
	req, err := s3.NewPresignClient(client).PresignPutObject(context.Background(), &s3.PutObjectInput{
		Bucket:   aws.String("uploads"),
		Key:      aws.String(key),
		Metadata: map[string]string{"organization-id": "org-1", "user-id": "user-2", "ttl-hours": "48"},
	}, s3.WithPresignExpires(expires), func(o *s3.PresignOptions) {
		o.Presigner = signedAt{Signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }), at: at}
	})
	if err != nil {
		t.Fatal(err)
	}
	return req.URL
}

func secretsOf(t *testing.T, rawURL string) []string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	return []string{q.Get("X-Amz-Signature"), q.Get("X-Amz-Credential"), "AKIATESTCREDENTIAL01", "secretkeysecretkeysecretkey"}
}

func assertClean(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret in test")
		}
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("output leaks %q\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
		}
	}
	for _, s := range []string{"X-Amz-Signature=", "X-Amz-Credential="} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output shows a query parameter %s:\n%s%s", s, r.stdout, r.stderr)
		}
	}
}

var meta = []string{"--org-id", "org-1", "--user-id", "user-2", "--ttl-hours", "48"}

func TestHeadlessUploadToGivenURL(t *testing.T) {
	var got atomic.Value
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(b)
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("ETag", `"abc123"`)
	}))
	defer srv.Close()
	p, data := writeTemp(t, t.TempDir(), "notes.txt", 5000)
	u := presign(t, srv.URL, "in/notes.txt", time.Hour)
	const token = "tok_live_abcdefghijklmnop"

	r := runHoist(t, []string{"HOIST_TOKEN=" + token}, append([]string{"--no-tui", "--url", u, p}, meta...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !bytes.Equal(got.Load().([]byte), data) {
		t.Error("server got different bytes")
	}
	if auth.Load() != "Bearer "+token {
		t.Errorf("Authorization %q", auth.Load())
	}
	if !strings.Contains(r.stdout, "✓") || !strings.Contains(r.stdout, "1 uploaded") {
		t.Errorf("stdout: %s", r.stdout)
	}
	assertClean(t, r, append(secretsOf(t, u), token)...)

	// The same with --json: one JSON object per line, the documented events.
	r = runHoist(t, []string{"HOIST_TOKEN=" + token}, append([]string{"--json", "--url", u, p}, meta...)...)
	if r.code != 0 {
		t.Fatalf("json exit %d: %s", r.code, r.stderr)
	}
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if e["event"] == "progress" {
			continue // time-paced; the order of the others is the contract
		}
		kinds = append(kinds, e["event"].(string))
		switch e["event"] {
		case "done":
			if e["bytes"].(float64) != 5000 || e["etag"] != "abc123" || e["key"] != "in/notes.txt" || len(e["crc32"].(string)) != 8 || !strings.HasSuffix(e["crc32"].(string), "==") || e["file"] == "" {
				t.Errorf("done event %v", e)
			}
		case "summary":
			if e["uploaded"].(float64) != 1 || e["failed"].(float64) != 0 || e["bytes"].(float64) != 5000 || e["seconds"] == nil {
				t.Errorf("summary event %v", e)
			}
		}
	}
	if strings.Join(kinds, ",") != "start,queued,started,done,summary" {
		t.Errorf("events %v", kinds)
	}
	assertClean(t, r, append(secretsOf(t, u), token)...)
}

func TestFailuresNeverLeakSecrets(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter, r *http.Request){
		"signature": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
			// A server that echoes what it got must not make hoist leak it.
			_, _ = io.WriteString(w, `<Error><Code>SignatureDoesNotMatch</Code><Message>signature mismatch for `+r.URL.RawQuery+` auth `+r.Header.Get("Authorization")+`</Message></Error>`)
		},
		"unavailable": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(503)
			_, _ = io.WriteString(w, `{"error": "token `+r.Header.Get("Authorization")+` rejected"}`)
		},
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:9/elsewhere?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		},
		"reset": func(w http.ResponseWriter, r *http.Request) {
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
		},
	}
	const token = "tok_live_zzzzzzzzzzzzzzzzz"
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				answer(w, r)
			}))
			defer srv.Close()
			p, _ := writeTemp(t, t.TempDir(), "a.bin", 1000)
			u := presign(t, srv.URL, "a.bin", time.Hour)
			for _, mode := range []string{"--no-tui", "--json"} {
				r := runHoist(t, []string{"HOIST_TOKEN=" + token}, append([]string{mode, "--retries", "1", "--url", u, p}, meta...)...)
				if r.code != 1 {
					t.Errorf("%s: exit %d, want 1\n%s%s", mode, r.code, r.stdout, r.stderr)
				}
				if strings.Contains(r.stdout, "1 uploaded") || strings.Contains(r.stdout, `"uploaded":1`) {
					t.Errorf("%s: reported uploaded: %s", mode, r.stdout)
				}
				assertClean(t, r, append(secretsOf(t, u), token)...)
			}
		})
	}
}

// Exit codes and messages for mistakes: badinput_test.go.

// SIGINT, SIGTERM and SIGHUP (the terminal went away) each stop hoist within
// 2 s with a summary and exit 128+signal: 130, 143, 129.
func TestInterruptStopsWithin2sAndSummarises(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			srv, got := silentServer(t)
			p, _ := writeTemp(t, t.TempDir(), "a.bin", 2<<20)
			u := presign(t, srv.URL, "a.bin", time.Hour)
			cmd := hoistCmd(t, nil, append([]string{"--no-tui", "--url", u, p}, meta...)...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for got.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			sent := time.Now()
			_ = cmd.Process.Signal(sig)
			err := cmd.Wait()
			took := time.Since(sent)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
				t.Errorf("exit %v, want %d\n%s%s", err, 128+int(sig), out.String(), errb.String())
			}
			if took > 2*time.Second {
				t.Errorf("stopping took %v, want < 2s", took)
			}
			if !strings.Contains(out.String(), "interrupted") || !strings.Contains(out.String(), "0 uploaded") {
				t.Errorf("no summary after %v: %s", sig, out.String())
			}
		})
	}
}

func TestNoConfigUploadsToEmbeddedStore(t *testing.T) {
	dir := t.TempDir()
	a, aData := writeTemp(t, dir, "photos/a.jpg", 300_000)
	b, bData := writeTemp(t, dir, "notes.md", 12)
	store := filepath.Join(t.TempDir(), "store")
	r := runHoist(t, nil, "--no-tui", "--local-dir", store, filepath.Dir(a), b)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for key, want := range map[string][]byte{"photos/a.jpg": aData, "notes.md": bData} {
		got, err := os.ReadFile(filepath.Join(store, "buckets", "hoist", key))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s on disk: %v (equal=%v)", key, err, bytes.Equal(got, want))
		}
	}
	if !strings.Contains(r.stdout, "Files are in "+store) {
		t.Errorf("summary does not say where files are: %s", r.stdout)
	}
}

func TestNameCollisionRefused(t *testing.T) {
	dir := t.TempDir()
	a, _ := writeTemp(t, dir, "one/report.pdf", 10)
	b, _ := writeTemp(t, dir, "two/report.pdf", 10)
	r := runHoist(t, nil, "--no-tui", "--local-dir", t.TempDir(), a, b)
	if r.code != 2 || !strings.Contains(r.stderr, "report.pdf") || !strings.Contains(r.stderr, "both") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// The terminal UI's big run collects garbage at GOGC 50, a smaller one
// keeps Go's default, and a GOGC the person set is left alone (issue 15).
func TestSizeGCOnlyForBigRuns(t *testing.T) {
	if v, set := os.LookupEnv("GOGC"); set {
		t.Cleanup(func() { os.Setenv("GOGC", v) })
		os.Unsetenv("GOGC")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	sizeGC(bigRun - 1)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("a run of %d files set GOGC %d", bigRun-1, got)
	}
	sizeGC(bigRun)
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("a run of %d files left GOGC at %d, want 50", bigRun, got)
	}
	t.Setenv("GOGC", "200")
	sizeGC(10 * bigRun)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set by the person, yet hoist set %d", got)
	}
}
