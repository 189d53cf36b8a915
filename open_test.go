package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hoist/knf1"
)

// downloadHost serves /api/download as Konfidant does: each token's bytes
// once, 410 after. It fails the test if a request carries Authorization.
func downloadHost(t *testing.T, shares map[string][]byte) *httptest.Server {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the download carried Authorization %q", r.Header.Get("Authorization"))
		}
		var req struct {
			T string `json:"t"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		b, ok := shares[req.T]
		delete(shares, req.T)
		mu.Unlock()
		if r.URL.Path != "/api/download" || !ok {
			w.WriteHeader(http.StatusGone)
			io.WriteString(w, `{"error":"gone","message":"This link was already opened or has expired."}`)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sealed(t *testing.T, name string, content []byte) (knf1.Key, []byte) {
	key := knf1.NewKey()
	enc, err := knf1.NewEncryptor(bytes.NewReader(content), int64(len(content)), knf1.Meta{Kind: knf1.KindFile, Name: name}, key, knf1.NewNoncePrefix(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(enc)
	if err != nil {
		t.Fatal(err)
	}
	return key, ct
}

func TestOpenSavesOnceThenSaysGone(t *testing.T) {
	content := bytes.Repeat([]byte("ledger "), 400_000) // 2.7 MiB, three chunks
	key, ct := sealed(t, "ledger.csv", content)
	srv := downloadHost(t, map[string][]byte{"tok=1": ct})
	link := srv.URL + "/#t=tok%3D1&k=" + key.String()
	dir := t.TempDir()

	r := runHoist(t, nil, "open", "-o", dir, link)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "ledger.csv"))
	if !bytes.Equal(got, content) {
		t.Fatalf("saved %d bytes, differ from the %d shared", len(got), len(content))
	}
	again := runHoist(t, nil, "open", "-o", dir, link)
	if again.code != 1 || !strings.Contains(again.stderr, "already opened or has expired") {
		t.Fatalf("second open: exit %d: %s", again.code, again.stderr)
	}
	for _, out := range []string{r.stdout + r.stderr, again.stdout + again.stderr} {
		if strings.Contains(out, key.String()) {
			t.Errorf("the key was printed: %s", out)
		}
	}
}

func TestOpenRefusesATamperedOrTruncatedDownloadAndKeepsNothing(t *testing.T) {
	content := bytes.Repeat([]byte("x"), 3<<20)
	key, ct := sealed(t, "a.bin", content)
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-50] ^= 0x80
	truncated := ct[:knf1.HeaderSize+2*(knf1.DefaultChunkSize+knf1.TagSize)] // two whole chunks, the rest cut
	srv := downloadHost(t, map[string][]byte{"tampered": tampered, "truncated": truncated})
	for _, token := range []string{"tampered", "truncated"} {
		dir := t.TempDir()
		r := runHoist(t, nil, "open", "-o", dir, srv.URL+"/#t="+token+"&k="+key.String())
		if r.code != 1 || !strings.Contains(r.stderr, "failed authentication") || strings.Contains(r.stdout, "✓") {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", token, r.code, r.stdout, r.stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: partial output left: %v", token, entries)
		}
	}
}
