package source

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hoist/knf1"
	"hoist/konfidant"
	"hoist/uploader"
)

// konfidantStub answers the encrypted flow as KONFIDANT.md describes it,
// refusing the first PUT of every slot listed in failFirstPut, and records
// each slot's body and the Authorization each route saw.
type konfidantStub struct {
	*httptest.Server
	key string

	mu           sync.Mutex
	slots        map[string]int64 // file key → ciphertext size
	bodies       map[string][]byte
	creates      int
	failPuts     int // PUTs to refuse with 500 before accepting
	putAuth      []string
	createdSizes []int64
}

func newKonfidantStub(t *testing.T) *konfidantStub {
	s := &konfidantStub{key: "kf_stub_key_123456", slots: map[string]int64{}, bodies: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *konfidantStub) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/put/") {
		s.putAuth = append(s.putAuth, r.Header.Get("Authorization"))
		b, _ := io.ReadAll(r.Body)
		if s.failPuts > 0 {
			s.failPuts--
			w.WriteHeader(500)
			return
		}
		s.bodies[strings.TrimPrefix(r.URL.Path, "/put/")] = b
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"unauthorized","message":"bad key"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/files":
		var req struct {
			CiphertextSize int64 `json:"ciphertext_size"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		s.creates++
		key := "org/f" + strconv.Itoa(s.creates)
		s.slots[key] = req.CiphertextSize
		s.createdSizes = append(s.createdSizes, req.CiphertextSize)
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"upload_url": s.URL + "/put/" + strings.ReplaceAll(key, "/", "_") + "?X-Amz-Signature=x",
			"file_key": key, "upload_headers": map[string]string{"Content-Type": "application/octet-stream"}, "upload_expires_in": 900})
	case strings.HasSuffix(r.URL.EscapedPath(), "/complete"):
		key := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/files/"), "/complete")
		if int64(len(s.bodies[strings.ReplaceAll(key, "/", "_")])) != s.slots[key] {
			w.WriteHeader(409)
			io.WriteString(w, `{"error":"upload_incomplete","message":"not there"}`)
			return
		}
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"download_url": s.URL + "/#t=" + strings.ReplaceAll(key, "/", "_"), "file_id": "id", "expires_at": "2030-01-02T03:04:05Z", "verified_burn": true})
	default:
		w.WriteHeader(404)
	}
}

func newKonfidantSource(t *testing.T, s *konfidantStub) *Konfidant {
	api, err := konfidant.New(konfidant.Config{APIURL: s.URL, APIKey: s.key, Rate: 60_000})
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewKonfidant(api, KonfidantEncrypted)
	if err != nil {
		t.Fatal(err)
	}
	src.chunkSize = knf1.MinChunkSize
	return src
}

func TestKonfidantSourceSharesAnEncryptedFileWithAFreshKeyPerAttempt(t *testing.T) {
	s := newKonfidantStub(t)
	s.failPuts = 1
	dir := t.TempDir()
	content := bytes.Repeat([]byte("konfidant "), 5000)
	path := filepath.Join(dir, "notes.txt")
	os.WriteFile(path, content, 0o600)
	st, _ := os.Stat(path)
	f := uploader.File{Path: path, Name: "notes.txt", Key: "notes.txt", Size: st.Size(), ModTime: st.ModTime()}

	res, events := runPool(t, newKonfidantSource(t, s), uploader.Options{Retries: 2, BackoffInitial: time.Millisecond, Metadata: uploader.Metadata{TTLHours: 8}}, f)
	if len(res) != 1 {
		t.Fatalf("results %+v, failures %v", res, failures(events))
	}
	r := res[0]
	if r.Bytes != f.Size || r.ShareExpires.IsZero() {
		t.Errorf("result %+v: bytes must be the file's, with an expiry", r)
	}
	if s.creates != 2 {
		t.Errorf("%d slots for one retry, want 2: the retry encrypts under a fresh key", s.creates)
	}
	want, _ := knf1.Size(knf1.Meta{Kind: knf1.KindFile, Name: "notes.txt", MIME: "text/plain; charset=utf-8"}, f.Size, knf1.MinChunkSize)
	if s.createdSizes[0] != want {
		t.Errorf("ciphertext_size %d, want %d", s.createdSizes[0], want)
	}
	for _, a := range s.putAuth {
		if a != "" {
			t.Errorf("a PUT carried Authorization %q", a)
		}
	}
	link, err := konfidant.ParseLink(r.ShareURL)
	if err != nil {
		t.Fatal(err)
	}
	stored := s.bodies[link.Token]
	dec, err := knf1.NewDecryptor(bytes.NewReader(stored), link.Key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(dec)
	if err != nil || !bytes.Equal(plain, content) || dec.Meta().Name != "notes.txt" {
		t.Fatalf("stored object does not decrypt to the file: %v", err)
	}
}

func TestKonfidantSourceRefusesANameOverTheFormatLimit(t *testing.T) {
	s := newKonfidantStub(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	os.WriteFile(path, []byte("x"), 0o600)
	long := strings.Repeat("é", 513) // 1,026 bytes
	f := uploader.File{Path: path, Name: long, Key: long, Size: 1}
	res, events := runPool(t, newKonfidantSource(t, s), uploader.Options{}, f)
	if fails := failures(events); len(res) != 0 || len(fails) != 1 || !strings.Contains(fails[0], "over the 1024") {
		t.Fatalf("results %+v, failures %q", res, fails)
	}
	if s.creates != 0 {
		t.Fatalf("a slot was asked for a file that cannot be shared")
	}
}
