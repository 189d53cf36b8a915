package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoist/internal/konfidantemu"
	"hoist/internal/s3test"
	"hoist/knf1"
	"hoist/konfidant"
)

// konfidantWorld is the Konfidant API emulator handing out URLs to a real
// S3 gateway (versitygw) through a recorder that sees every upload request.
type konfidantWorld struct {
	gw  *s3test.Server
	rec *konfidantemu.Recorder
	emu *konfidantemu.Server
	key konfidantemu.Key
	env []string
}

const konfidantBucket = "shares"

func newKonfidantWorld(t *testing.T, tune ...func(*konfidantemu.Options)) *konfidantWorld {
	t.Helper()
	gw := s3test.Start(t)
	gw.CreateBucket(t, konfidantBucket)
	rec, err := konfidantemu.NewRecorder(gw.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rec.Close() })
	w := &konfidantWorld{gw: gw, rec: rec, key: konfidantemu.NewKey()}
	o := konfidantemu.Options{
		Store: konfidantemu.Store{Endpoint: rec.URL, Direct: gw.Endpoint, Region: gw.Region,
			Bucket: konfidantBucket, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey},
		Keys: []konfidantemu.Key{w.key},
	}
	for _, f := range tune {
		f(&o)
	}
	w.emu, err = konfidantemu.Start(o, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.emu.Close() })
	w.env = []string{"KONFIDANT_API_KEY=" + w.key.Secret}
	return w
}

// assertKeyStayedWithTheAPI checks, at the servers, that no request to an
// upload URL or to the download endpoint carried the API key or any
// Authorization header.
func (w *konfidantWorld) assertKeyStayedWithTheAPI(t *testing.T) {
	t.Helper()
	uploads := w.rec.Requests()
	if len(uploads) == 0 {
		t.Fatal("the recorder saw no upload")
	}
	for _, r := range uploads {
		if r.Authorization {
			t.Errorf("upload request %v carried Authorization", r)
		}
	}
	if n := w.rec.Carrying(w.key.Secret); n > 0 {
		t.Errorf("%d upload requests carried the API key", n)
	}
	for _, r := range w.emu.Requests() {
		if r.Path == "/api/download" && (r.Authorization || r.APIKey) {
			t.Errorf("download request %v carried a key", r)
		}
	}
}

func doneEvents(t *testing.T, stdout string) map[string]event {
	t.Helper()
	done := map[string]event{}
	for _, e := range parseEvents(t, stdout) {
		if e.Event == "done" {
			done[filepath.Base(e.File)] = e
		}
	}
	return done
}

func TestKonfidantEncryptedFlowEndToEnd(t *testing.T) {
	w := newKonfidantWorld(t)
	dir := t.TempDir()
	big, bigData := writeTemp(t, dir, "quarterly report.pdf", 3<<20+123) // four KNF1 chunks
	small, smallData := writeTemp(t, dir, "notes.txt", 1000)
	linksFile := filepath.Join(dir, "links.tsv")

	r := runHoist(t, w.env, "--no-tui", "--json", "--konfidant", "--api-url", w.emu.URL, "--ttl-hours", "8",
		"--save-links", linksFile, big, small)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	done := doneEvents(t, r.stdout)
	want := map[string][]byte{"quarterly report.pdf": bigData, "notes.txt": smallData}
	if len(done) != len(want) {
		t.Fatalf("done events %v", done)
	}
	links := map[string]string{}
	for name, content := range want {
		e := done[name]
		if e.Bytes == nil || *e.Bytes != int64(len(content)) {
			t.Errorf("%s: done bytes %v, want the file's %d", name, e.Bytes, len(content))
		}
		if _, err := time.Parse(time.RFC3339, e.Expires); err != nil {
			t.Errorf("%s: expires_at %q", name, e.Expires)
		}
		link, err := konfidant.ParseLink(e.ShareURL)
		if err != nil {
			t.Fatalf("%s: share_url: %v", name, err)
		}
		links[name] = e.ShareURL

		// The stored object is KNF1 ciphertext that decrypts to the file.
		fileKey, ok := w.emu.FileKeyOf(e.ShareURL)
		if !ok {
			t.Fatalf("%s: the emulator does not know the link", name)
		}
		stored, _ := w.gw.Object(t, konfidantBucket, fileKey)
		if bytes.Contains(stored, content[:64]) {
			t.Errorf("%s: the stored object holds plaintext", name)
		}
		dec, err := knf1.NewDecryptor(bytes.NewReader(stored), link.Key)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plain, err := io.ReadAll(dec)
		if err != nil || !bytes.Equal(plain, content) || dec.Meta().Name != name {
			t.Fatalf("%s: the stored object does not decrypt to the file (%v, name %q)", name, err, dec.Meta().Name)
		}
	}

	// --save-links: the owner's only, one line per link.
	st, err := os.Stat(linksFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("--save-links file: %v, mode %v", err, st.Mode())
	}
	saved, _ := os.ReadFile(linksFile)
	for name, link := range links {
		if !strings.Contains(string(saved), name+"\t"+link+"\t") {
			t.Errorf("--save-links lacks %s:\n%s", name, saved)
		}
		if strings.Contains(r.stderr, link) {
			t.Errorf("a link went to stderr")
		}
	}

	// The recipient: identical bytes once, then 410.
	out := t.TempDir()
	for name, content := range want {
		o := runHoist(t, nil, "open", "-o", out, links[name])
		if o.code != 0 {
			t.Fatalf("open %s: exit %d: %s", name, o.code, o.stderr)
		}
		got, _ := os.ReadFile(filepath.Join(out, name))
		if !bytes.Equal(got, content) {
			t.Fatalf("open %s: %d bytes, differ from the file", name, len(got))
		}
		again := runHoist(t, nil, "open", "-o", t.TempDir(), links[name])
		if again.code != 1 || !strings.Contains(again.stderr, "already opened or has expired") {
			t.Fatalf("second open of %s: exit %d: %s", name, again.code, again.stderr)
		}
	}
	w.assertKeyStayedWithTheAPI(t)
	assertClean(t, r, w.key.Secret)
}

func TestKonfidantPlainFlowEndToEnd(t *testing.T) {
	w := newKonfidantWorld(t)
	dir := t.TempDir()
	path, data := writeTemp(t, dir, "photo.jpg", 200_000)
	r := runHoist(t, w.env, "--no-tui", "--json", "--konfidant", "--konfidant-protocol", "plain", "--api-url", w.emu.URL, "--ttl-hours", "6", path)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	e := doneEvents(t, r.stdout)["photo.jpg"]
	if e.ShareURL == "" || e.Expires == "" {
		t.Fatalf("done event %+v: want share_url and expires_at", e)
	}
	fileKey, ok := w.emu.FileKeyOf(e.ShareURL)
	if !ok {
		t.Fatalf("the emulator does not know share_url")
	}
	stored, meta := w.gw.Object(t, konfidantBucket, fileKey)
	if !bytes.Equal(stored, data) {
		t.Fatalf("stored %d bytes, differ from the file", len(stored))
	}
	if meta["x-amz-meta-ttl-hours"] != "6" || meta["x-amz-meta-organization-id"] != w.key.OrgID || meta["x-amz-meta-user-id"] != w.key.UserID {
		t.Errorf("object metadata %v", meta)
	}
	w.assertKeyStayedWithTheAPI(t)
	assertClean(t, r, w.key.Secret)
}

func TestKonfidantRefusalsExplained(t *testing.T) {
	w := newKonfidantWorld(t)
	path, _ := writeTemp(t, t.TempDir(), "a.txt", 10)
	bad := runHoist(t, []string{"KONFIDANT_API_KEY=kfd_not_a_key_0000"}, "--no-tui", "--konfidant", "--api-url", w.emu.URL, path)
	if bad.code != 1 || !strings.Contains(bad.stdout, "refused the API key") || !strings.Contains(bad.stdout, "KONFIDANT_API_KEY") {
		t.Errorf("a wrong key: exit %d\nstdout: %s\nstderr: %s", bad.code, bad.stdout, bad.stderr)
	}
	ttl := runHoist(t, w.env, "--no-tui", "--konfidant", "--api-url", w.emu.URL, "--ttl-hours", "48", path)
	if ttl.code != 1 || !strings.Contains(ttl.stdout, "TTL") || !strings.Contains(ttl.stdout, "--ttl-hours") {
		t.Errorf("a TTL above the plan: exit %d\nstdout: %s\nstderr: %s", ttl.code, ttl.stdout, ttl.stderr)
	}
	for _, r := range []result{bad, ttl} {
		if strings.Contains(r.stdout, "✓") || strings.Contains(r.stdout, "#t=") {
			t.Errorf("something reported shared:\n%s", r.stdout)
		}
	}
}
