package main

// Helpers shared by the reliability tests (faults, bad input, secrets,
// interruption). They build on hoistCmd/runHoist in main_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/inspect"
	"hoist/internal/s3test"
)

// event is one line of hoist --json, with every field any event has.
type event struct {
	Event    string  `json:"event"`
	File     string  `json:"file"`
	Path     string  `json:"path"`
	Attempt  int     `json:"attempt"`
	Max      int     `json:"max_attempts"`
	Error    string  `json:"error"`
	Code     string  `json:"code"`
	Key      string  `json:"key"`
	CRC32    string  `json:"crc32"`
	ETag     string  `json:"etag"`
	Bytes    *int64  `json:"bytes"`
	ShareURL string  `json:"share_url"`
	Expires  string  `json:"expires_at"`
	Uploaded int     `json:"uploaded"`
	Failed   int     `json:"failed"`
	Canceled int     `json:"canceled"`
	Skipped  int     `json:"skipped"`
	Seconds  float64 `json:"seconds"`
}

// parseEvents reads hoist --json output; every line must be one JSON object.
func parseEvents(t *testing.T, stdout string) []event {
	t.Helper()
	var out []event
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Event == "" {
			t.Fatalf("--json printed a line that is not an event: %q", sc.Text())
		}
		out = append(out, e)
	}
	return out
}

// summaryOf is the summary event, failing the test when there is not exactly one.
func summaryOf(t *testing.T, events []event) event {
	t.Helper()
	var found []event
	for _, e := range events {
		if e.Event == "summary" {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d summary events, want 1", len(found))
	}
	return found[0]
}

// runHoistFor runs hoist like runHoist, killing it after limit so a hang
// fails the test instead of the whole run; it returns the command too, to
// find its home.
func runHoistFor(t *testing.T, limit time.Duration, env []string, args ...string) (result, *exec.Cmd) {
	t.Helper()
	cmd := hoistCmd(t, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("hoist still running after %v; killed\nstdout: %s\nstderr: %s", limit, tail(out.String()), tail(errb.String()))
	}
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r, cmd
}

func tail(s string) string {
	const n = 4000
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// envValue finds NAME=value in a command's environment.
func envValue(cmd *exec.Cmd, name string) string {
	for _, kv := range cmd.Env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// assertNothingLeaks fails when any secret is in hoist's output or in any
// file it left in its home (state, reports, journals, logs).
func assertNothingLeaks(t *testing.T, r result, cmd *exec.Cmd, secrets ...string) {
	t.Helper()
	assertClean(t, r, secrets...)
	home := envValue(cmd, "HOME")
	if home == "" {
		t.Fatal("no HOME in hoist's environment")
	}
	_ = filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the secret %q", p, s)
			}
		}
		for _, s := range []string{"X-Amz-Signature=", "X-Amz-Credential="} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a URL query (%s)", p, s)
			}
		}
		return nil
	})
}

// sameCRC32 reports whether printed is b's CRC32 in either form hoist has
// printed it: S3's base64 (as x-amz-checksum-crc32) or eight hex digits.
func sameCRC32(printed string, b []byte) bool {
	c := crc32.ChecksumIEEE(b)
	return printed != "" && (printed == inspect.EncodeCRC32(c) || printed == fmt.Sprintf("%08x", c))
}

// writeManifest writes JSON lines {"path", "url"}.
func writeManifest(t *testing.T, path string, entries [][2]string) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range entries {
		if err := enc.Encode(map[string]string{"path": e[0], "url": e[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// headObject asks the server whether an object exists.
func headObject(srv *s3test.Server, bucket, key string) (*s3.HeadObjectOutput, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
}

// silentServer takes every body and never answers; got counts the requests
// that arrived, so a test knows an upload is under way before interrupting.
func silentServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}
