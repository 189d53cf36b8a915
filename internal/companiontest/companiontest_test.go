package companiontest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"hoist/internal/s3test"
)

func TestStartServesCompanionS3Routes(t *testing.T) {
	gw := s3test.Start(t)
	gw.CreateBucket(t, "uploads")
	c := Start(t, Config{S3: gw, Bucket: "uploads"})

	u, err := url.Parse(c.URL)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("Companion at %q, want a 127.0.0.1 address", c.URL)
	}
	resp, err := http.Get(c.URL + "/s3/params?filename=a.txt&type=text/plain&metadata%5Buser-id%5D=u-1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Method string            `json:"method"`
		URL    string            `json:"url"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/s3/params: %d, %v", resp.StatusCode, err)
	}
	// Path-style URLs on the gateway, the metadata as a form field, and
	// standalone Companion's <uuid>-<filename> key.
	if ans.Method != "POST" || ans.URL != gw.Endpoint+"/uploads" {
		t.Errorf("answer %s %s, want POST %s/uploads", ans.Method, ans.URL, gw.Endpoint)
	}
	if ans.Fields["x-amz-meta-user-id"] != "u-1" || !strings.HasSuffix(ans.Fields["key"], "-a.txt") {
		t.Errorf("fields user-id %q key %q, want u-1 and <uuid>-a.txt", ans.Fields["x-amz-meta-user-id"], ans.Fields["key"])
	}

	out := c.Output()
	if !strings.Contains(out, "/s3/params") {
		t.Errorf("Companion's output does not log the request: %q", out)
	}
	for _, secret := range []string{gw.SecretKey, gw.AccessKey} {
		if strings.Contains(out, secret) {
			t.Error("Companion's output shows an S3 key")
		}
	}
}

// fatalRecorder stands in for a test so that a Fatal can be watched.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func findFails(t *testing.T) string {
	t.Helper()
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		find(rec)
	}()
	<-done
	return rec.msg
}

func TestMissingCompanionFailsSayingHowToInstall(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	msg := findFails(t)
	if !strings.Contains(msg, "run `make test`, which installs it") || !strings.Contains(msg, dir) {
		t.Errorf("missing install: %q, want it to name %s and say to run make test", msg, dir)
	}

	pkg := filepath.Join(dir, "node_modules", "@uppy", "companion")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "package.json"), []byte(`{"version":"5.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	msg = findFails(t)
	if !strings.Contains(msg, `version "5.0.0"`) || !strings.Contains(msg, Version) || !strings.Contains(msg, "make test") {
		t.Errorf("wrong version: %q, want it to name 5.0.0, %s and make test", msg, Version)
	}
}

func TestDirDefaultsOutsideTheRepository(t *testing.T) {
	t.Setenv(DirEnv, "")
	d := Dir()
	if filepath.Base(d) != "hoist-companion" || !filepath.IsAbs(d) {
		t.Errorf("Dir() = %q, want an absolute $(go env GOPATH)/hoist-companion", d)
	}
	t.Setenv(DirEnv, "/opt/companion")
	if d := Dir(); d != "/opt/companion" {
		t.Errorf("Dir() = %q with %s set, want /opt/companion", d, DirEnv)
	}
}
