package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hoist/internal/apiurl"
)

// Two manifest lines whose URLs name one object are refused before any
// byte is sent, though the key check keeps only 64-bit hashes of the keys
// (taken as the manifest is read); distinct objects all go.
func TestManifestDuplicateObjectRefused(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"0"`)
	}))
	t.Cleanup(srv.Close)
	signer := apiurl.Signer{Endpoint: srv.URL, Region: "us-east-1", AccessKey: "AKIDEXAMPLE", SecretKey: "secret-for-tests"}
	sign := func(key string) string {
		u, err := signer.PresignPut(context.Background(), apiurl.Put{Bucket: "uploads", Key: key, Expires: time.Hour, SignedAt: time.Now(), PinnedCRC32: apiurl.NoChecksum})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	dir := t.TempDir()
	var lines [][2]string
	for i := range 3 {
		p, _ := writeTemp(t, dir, fmt.Sprintf("f%d.bin", i), 10)
		lines = append(lines, [2]string{p, sign(fmt.Sprintf("k/f%d.bin", i))})
	}
	manifest := filepath.Join(dir, "m.jsonl")

	dup := append([][2]string(nil), lines...)
	dup[2][1] = sign("k/f0.bin")
	writeManifest(t, manifest, dup)
	r := runHoist(t, nil, "--no-tui", "--manifest", manifest)
	if r.code != 2 || !strings.Contains(r.stderr, "f0.bin and ") || !strings.Contains(r.stderr, "would both be uploaded") {
		t.Errorf("two lines to one object: exit %d, stderr %s", r.code, r.stderr)
	}
	if n := got.Load(); n != 0 {
		t.Errorf("%d requests were sent before the duplicate was refused", n)
	}

	writeManifest(t, manifest, lines)
	if r := runHoist(t, nil, "--no-tui", "--manifest", manifest); r.code != 0 {
		t.Errorf("distinct objects: exit %d, stderr %s", r.code, r.stderr)
	}
	if n := got.Load(); n != 3 {
		t.Errorf("%d requests for 3 files", n)
	}
}
