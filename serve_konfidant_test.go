package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeKonfidantOnAFreshMachine runs `hoist serve --konfidant` as a
// person would and shares a file through it by hand: the printed URL and
// key are all a client needs, the ciphertext lands in the local store, and
// the link opens once.
func TestServeKonfidantOnAFreshMachine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	cmd := hoistCmd(t, nil, "serve", "--konfidant", "--local-dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})

	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	var out strings.Builder
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "Ctrl+C stops it.") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("hoist serve --konfidant ended early:\n%s%s", out.String(), stderr.String())
			}
			out.WriteString(l + "\n")
		case <-deadline:
			t.Fatalf("hoist serve --konfidant printed no instructions within 30s:\n%s", out.String())
		}
	}
	api := regexp.MustCompile(`emulator on (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(out.String())
	key := regexp.MustCompile(`(?m)^  (kfd_[0-9a-f]+)$`).FindStringSubmatch(out.String())
	if api == nil || key == nil || !strings.Contains(out.String(), "KONFIDANT_API_KEY="+key[1]+" hoist --konfidant --api-url "+api[1]) {
		t.Fatalf("no API URL, key or example command in:\n%s", out.String())
	}

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	call := func(method, u, auth string, body []byte, header map[string]string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	ciphertext := []byte("KNF1 stands in for ciphertext here")
	status, body := call(http.MethodPost, api[1]+"/api/v1/files", key[1], []byte(`{"ciphertext_size":34,"ttl_hours":8}`), nil)
	var slot struct {
		UploadURL     string            `json:"upload_url"`
		FileKey       string            `json:"file_key"`
		UploadHeaders map[string]string `json:"upload_headers"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &slot) != nil {
		t.Fatalf("create: %d %s", status, body)
	}
	if status, body := call(http.MethodPut, slot.UploadURL, "", ciphertext, slot.UploadHeaders); status != http.StatusOK {
		t.Fatalf("PUT to the local store: %d %s", status, body)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "buckets", "hoist", filepath.FromSlash(slot.FileKey)))
	if err != nil || !bytes.Equal(onDisk, ciphertext) {
		t.Fatalf("the local store's file: %v (equal=%v)", err, bytes.Equal(onDisk, ciphertext))
	}
	status, body = call(http.MethodPost, api[1]+"/api/v1/files/"+url.PathEscape(slot.FileKey)+"/complete", key[1], nil, nil)
	var done struct {
		DownloadURL string `json:"download_url"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &done) != nil || !strings.HasPrefix(done.DownloadURL, api[1]+"/#t=") {
		t.Fatalf("complete: %d %s", status, body)
	}
	frag, _ := url.ParseQuery(strings.SplitN(done.DownloadURL, "#", 2)[1])
	tok, _ := json.Marshal(map[string]string{"t": frag.Get("t")})
	if status, body := call(http.MethodPost, api[1]+"/api/download", "", tok, nil); status != http.StatusOK || !bytes.Equal(body, ciphertext) {
		t.Fatalf("download: %d, equal=%v", status, bytes.Equal(body, ciphertext))
	}
	if status, _ := call(http.MethodPost, api[1]+"/api/download", "", tok, nil); status != http.StatusGone {
		t.Fatalf("second download: %d, want 410", status)
	}

	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("hoist serve --konfidant exited with %v after Ctrl+C: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hoist serve --konfidant did not stop within 10s of Ctrl+C")
	}
}

func TestServeKonfidantRefusesANonLoopbackAddress(t *testing.T) {
	r := runHoist(t, nil, "serve", "--konfidant", "--local-dir", t.TempDir(), "--addr", "0.0.0.0:0")
	if r.code != exitUsage || !strings.Contains(r.stderr, "not loopback") || strings.Contains(r.stdout, "kfd_") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
