package knf1

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// testdata/knf1-test-vectors.json is Konfidant's official KNF1 test vectors,
// from github.com/konfidant/sdk-ruby spec/fixtures/knf1-test-vectors.json at
// commit a87bf8aa0c411d0f97021bbc84dced595ae8b581, unchanged.
type vector struct {
	Name           string `json:"name"`
	KeyHex         string `json:"key_hex"`
	KeyB64URL      string `json:"key_b64url"`
	NoncePrefixHex string `json:"nonce_prefix_hex"`
	ChunkSize      int    `json:"chunk_size"`
	Kind           string `json:"kind"`
	FileName       string `json:"file_name"`
	MIME           string `json:"mime"`
	PlaintextHex   string `json:"plaintext_hex"`
	CiphertextHex  string `json:"ciphertext_hex"`
}

func loadVectors(t testing.TB) []vector {
	b, err := os.ReadFile("testdata/knf1-test-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format  string   `json:"format"`
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Format != "KNF1" || len(doc.Vectors) < 3 {
		t.Fatalf("unexpected fixture: format %q, %d vectors", doc.Format, len(doc.Vectors))
	}
	return doc.Vectors
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (v vector) inputs(t testing.TB) (Key, NoncePrefix, Meta, []byte, []byte) {
	var key Key
	var prefix NoncePrefix
	copy(key[:], unhex(t, v.KeyHex))
	copy(prefix[:], unhex(t, v.NoncePrefixHex))
	meta := Meta{Kind: KindText}
	if v.Kind == "file" {
		meta = Meta{Kind: KindFile, Name: v.FileName, MIME: v.MIME}
	}
	return key, prefix, meta, unhex(t, v.PlaintextHex), unhex(t, v.CiphertextHex)
}

func TestOfficialVectorsEncryptByteForByte(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			key, prefix, meta, plain, want := v.inputs(t)
			if key.String() != v.KeyB64URL {
				t.Errorf("key encodes as %q, the vector says %q", key.String(), v.KeyB64URL)
			}
			enc, err := NewEncryptor(bytes.NewReader(plain), int64(len(plain)), meta, key, prefix, v.ChunkSize)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("ciphertext differs from the official vector (%d bytes, want %d)", len(got), len(want))
			}
			size, err := Size(meta, int64(len(plain)), v.ChunkSize)
			if err != nil || size != int64(len(want)) {
				t.Fatalf("Size = %d, %v; the vector is %d bytes", size, err, len(want))
			}
		})
	}
}

func TestOfficialVectorsDecrypt(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			_, _, meta, plain, ct := v.inputs(t)
			key, err := ParseKey(v.KeyB64URL)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := NewDecryptor(bytes.NewReader(ct), key)
			if err != nil {
				t.Fatal(err)
			}
			if dec.Meta() != meta {
				t.Errorf("meta = %+v, want %+v", dec.Meta(), meta)
			}
			got, err := io.ReadAll(dec)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("plaintext differs (%d bytes, want %d)", len(got), len(plain))
			}
		})
	}
}

func encrypt(t testing.TB, content []byte, meta Meta, chunk int) (Key, []byte) {
	key := NewKey()
	enc, err := NewEncryptor(bytes.NewReader(content), int64(len(content)), meta, key, NewNoncePrefix(), chunk)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(enc)
	if err != nil {
		t.Fatal(err)
	}
	return key, ct
}

func decrypt(key Key, ct []byte) ([]byte, error) {
	dec, err := NewDecryptor(bytes.NewReader(ct), key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(dec)
}

func TestRoundTripAtChunkBoundaries(t *testing.T) {
	const chunk = MinChunkSize
	meta := Meta{Kind: KindFile, Name: "report.pdf", MIME: "application/pdf"}
	enc, _ := meta.Encode()
	head := metaPrefix + len(enc) // stream bytes before the content
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, chunk - head - 1, chunk - head, chunk - head + 1, 2*chunk - head, 3*chunk + 17} {
		content := make([]byte, n)
		for i := range content {
			content[i] = byte(rng.IntN(256))
		}
		key, ct := encrypt(t, content, meta, chunk)
		if size, _ := Size(meta, int64(n), chunk); size != int64(len(ct)) {
			t.Errorf("%d bytes: Size = %d, ciphertext is %d", n, size, len(ct))
		}
		got, err := decrypt(key, ct)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%d bytes: round trip failed: %v", n, err)
		}
	}
}

// sealedChunks cuts a ciphertext into its header and sealed chunks.
func sealedChunks(ct []byte, chunk int) (head []byte, chunks [][]byte) {
	head, rest := ct[:HeaderSize], ct[HeaderSize:]
	for len(rest) > 0 {
		n := min(len(rest), chunk+TagSize)
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	return head, chunks
}

func join(head []byte, chunks ...[]byte) []byte {
	return bytes.Join(append([][]byte{head}, chunks...), nil)
}

func TestDecryptRejectsTamperingTruncationReorderingAndTrailingData(t *testing.T) {
	const chunk = MinChunkSize
	content := bytes.Repeat([]byte("0123456789abcdef"), 3*chunk/16) // spans four chunks
	key, ct := encrypt(t, content, Meta{Kind: KindFile, Name: "a"}, chunk)
	head, c := sealedChunks(ct, chunk)
	if len(c) != 4 {
		t.Fatalf("want 4 chunks, got %d", len(c))
	}
	flipped := bytes.Clone(ct)
	flipped[len(flipped)/2] ^= 1
	flippedHeader := bytes.Clone(ct)
	flippedHeader[10] ^= 1 // the nonce prefix, authenticated as additional data
	cases := map[string][]byte{
		"cut at a chunk boundary": join(head, c[0], c[1], c[2]),
		"cut inside a chunk":      ct[:len(ct)-100],
		"cut to the header":       head,
		"last chunk dropped tag":  ct[:len(ct)-TagSize],
		"chunks swapped":          join(head, c[0], c[2], c[1], c[3]),
		"chunk repeated":          join(head, c[0], c[1], c[1], c[2], c[3]),
		"a bit flipped":           flipped,
		"header changed":          flippedHeader,
		"data after the end":      append(bytes.Clone(ct), 0),
		"final chunk repeated":    join(head, c[0], c[1], c[2], c[3], c[3]),
	}
	for name, bad := range cases {
		_, err := decrypt(key, bad)
		if !errors.Is(err, ErrAuth) {
			t.Errorf("%s: err = %v, want ErrAuth", name, err)
		}
	}
	if _, err := decrypt(NewKey(), ct); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong key: err = %v, want ErrAuth", err)
	}
	if _, err := decrypt(key, append([]byte("KNF2"), ct[4:]...)); !errors.Is(err, ErrFormat) {
		t.Errorf("bad magic: err = %v, want ErrFormat", err)
	}
}

func TestEncryptorRefusesContentOfTheWrongLength(t *testing.T) {
	meta := Meta{Kind: KindFile, Name: "a"}
	for _, tc := range []struct {
		name     string
		content  int
		declared int64
	}{{"shorter", 10_000, 10_001}, {"longer", 10_001, 10_000}, {"longer by a chunk", 3 * MinChunkSize, MinChunkSize}} {
		enc, err := NewEncryptor(bytes.NewReader(make([]byte, tc.content)), tc.declared, meta, NewKey(), NewNoncePrefix(), MinChunkSize)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(enc); !errors.Is(err, ErrContentSize) {
			t.Errorf("%s: err = %v, want ErrContentSize", tc.name, err)
		}
	}
}

// countingReader counts what the encryptor has pulled from the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestEncryptorReadsOneChunkAhead(t *testing.T) {
	const chunk = MinChunkSize
	src := &countingReader{r: bytes.NewReader(make([]byte, 100*chunk))}
	enc, err := NewEncryptor(src, 100*chunk, Meta{Kind: KindFile, Name: "big"}, NewKey(), NewNoncePrefix(), chunk)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	var out int64
	for out < 10*chunk {
		n, err := enc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		out += int64(n)
		// Never more than one chunk of the file beyond what went out.
		if src.n > out+chunk {
			t.Fatalf("after %d bytes out, %d bytes of the file were read", out, src.n)
		}
	}
}

func TestMetaLimits(t *testing.T) {
	ok := []Meta{
		{Kind: KindFile, Name: strings.Repeat("é", MaxNameBytes/2), MIME: strings.Repeat("a", MaxMIMEBytes)},
		{Kind: KindText},
	}
	for _, m := range ok {
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("%q: %v", m.Name, err)
		}
		if back, err := DecodeMeta(enc); err != nil || back != m {
			t.Fatalf("decode(encode(m)) = %+v, %v", back, err)
		}
	}
	bad := []Meta{
		{Kind: KindFile, Name: strings.Repeat("é", MaxNameBytes/2) + "x"},
		{Kind: KindFile, MIME: strings.Repeat("a", MaxMIMEBytes+1)},
		{Kind: KindFile, Name: "\xff"},
		{Kind: KindText, Name: "a"},
		{Kind: 3},
	}
	for _, m := range bad {
		if _, err := m.Encode(); !errors.Is(err, ErrFormat) {
			t.Errorf("%+v: err = %v, want ErrFormat", m, err)
		}
		if _, err := Size(m, 1, 0); !errors.Is(err, ErrFormat) {
			t.Errorf("Size(%+v): err = %v, want ErrFormat", m, err)
		}
	}
	if _, err := DecodeMeta([]byte{2, 0, 5, 'a'}); !errors.Is(err, ErrFormat) {
		t.Errorf("cut-short meta: err = %v", err)
	}
}

func TestParseKey(t *testing.T) {
	k := NewKey()
	if back, err := ParseKey(k.String()); err != nil || back != k {
		t.Fatalf("ParseKey(String()) = %v, %v", back, err)
	}
	if len(k.String()) != EncodedKeySize {
		t.Fatalf("encoded key is %d characters", len(k.String()))
	}
	for _, s := range []string{"", k.String()[:42], k.String() + "A", strings.Repeat("!", 43), k.String()[:42] + "="} {
		if _, err := ParseKey(s); !errors.Is(err, ErrKey) {
			t.Errorf("ParseKey(%q): err = %v", s, err)
		}
	}
}

func TestSizeFormula(t *testing.T) {
	m := Meta{Kind: KindFile, Name: "x.bin", MIME: "application/octet-stream"}
	// S = 4 + 34 + 1 GiB; ceil(S / 1 MiB) = 1025 chunks.
	got, err := Size(m, 1<<30, 0)
	want := int64(16 + 4 + 34 + 1<<30 + 16*1025)
	if err != nil || got != want {
		t.Fatalf("Size = %d, %v; want %d", got, err, want)
	}
	if _, err := Size(m, 1, 1000); !errors.Is(err, ErrFormat) {
		t.Fatalf("chunk size below the minimum: err = %v", err)
	}
}

func benchmarkSize() int64 { return 64 << 20 }

func BenchmarkEncrypt(b *testing.B) {
	content := make([]byte, benchmarkSize())
	meta := Meta{Kind: KindFile, Name: "bench.bin"}
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		enc, err := NewEncryptor(bytes.NewReader(content), int64(len(content)), meta, NewKey(), NewNoncePrefix(), 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	content := make([]byte, benchmarkSize())
	key, ct := encrypt(b, content, Meta{Kind: KindFile, Name: "bench.bin"}, 0)
	b.SetBytes(int64(len(content)))
	b.ResetTimer()
	for b.Loop() {
		dec, err := NewDecryptor(bytes.NewReader(ct), key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, dec); err != nil {
			b.Fatal(err)
		}
	}
}
