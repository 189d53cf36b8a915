// Package knf1 is KNF1, the encryption format of Konfidant's share links:
// AES-256-GCM over a chunked stream (the STREAM construction), so a file of
// any size is encrypted and decrypted with one chunk in memory.
//
//	ciphertext = header (16 bytes) || sealed chunk 0 || … || sealed chunk n
//	header     = "KNF1" || uint32_be(chunk size) || nonce prefix (7 bytes) || 0x00
//	stream     = uint32_be(len(meta)) || meta || content, cut into chunk-size pieces
//	meta       = kind || uint16_be(len(name)) || name || uint16_be(len(mime)) || mime
//	nonce i    = nonce prefix || uint32_be(i) || 1 on the final chunk, else 0
//	sealed i   = AES-256-GCM(key, nonce i, chunk i, additional data = header)
//
// The index and the final-chunk flag in each nonce are what make a dropped,
// repeated, reordered or cut-short chunk fail authentication. The format is
// pinned by Konfidant's published test vectors (testdata).
package knf1

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sizes the format fixes.
const (
	KeySize          = 32 // AES-256
	NoncePrefixSize  = 7
	HeaderSize       = 16
	TagSize          = 16 // GCM tag after each chunk
	DefaultChunkSize = 1 << 20
	MinChunkSize     = 4 << 10
	MaxChunkSize     = 16 << 20
	MaxNameBytes     = 1024 // UTF-8 bytes of a file name
	MaxMIMEBytes     = 255
	// EncodedKeySize is the length of a key in a share link: unpadded base64url.
	EncodedKeySize = 43
)

var magic = [4]byte{'K', 'N', 'F', '1'}

// Errors a caller tells apart with errors.Is.
var (
	// ErrFormat: the bytes are not KNF1 (bad header or metadata), or the
	// inputs to encryption are out of the format's bounds.
	ErrFormat = errors.New("not a valid KNF1 payload")
	// ErrAuth: a chunk failed authentication — the wrong key, or ciphertext
	// that was cut short, reordered, changed or extended. Every plaintext
	// byte already produced must be thrown away.
	ErrAuth = errors.New("the encrypted data failed authentication: wrong key, or it was cut short or changed")
	// ErrKey: a share link's key is not 43 characters of unpadded base64url.
	ErrKey = errors.New("the key is not 43 characters of unpadded base64url")
)

// Kind is what a payload carries.
type Kind byte

// The two kinds Konfidant shares.
const (
	KindText Kind = 1
	KindFile Kind = 2
)

// Key is one share's AES-256 key. A fresh one per share, never reused.
type Key [KeySize]byte

// NoncePrefix is the random part of every chunk's nonce.
type NoncePrefix [NoncePrefixSize]byte

// NewKey returns a fresh random key.
func NewKey() Key {
	var k Key
	_, _ = rand.Read(k[:]) // crypto/rand.Read does not fail; it aborts the program instead
	return k
}

// NewNoncePrefix returns a fresh random nonce prefix.
func NewNoncePrefix() NoncePrefix {
	var p NoncePrefix
	_, _ = rand.Read(p[:])
	return p
}

// String is the key as it appears in a share link (after "&k="). It is the
// secret half of the link: never log it.
func (k Key) String() string { return base64.RawURLEncoding.EncodeToString(k[:]) }

// ParseKey reads a key from its share-link form.
func ParseKey(s string) (Key, error) {
	var k Key
	if len(s) != EncodedKeySize {
		return k, fmt.Errorf("%w (it has %d)", ErrKey, len(s))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != KeySize {
		return k, ErrKey
	}
	copy(k[:], b)
	return k, nil
}

// Meta is what is encrypted along with the content: its kind, and for a
// file its name and MIME type.
type Meta struct {
	Kind Kind
	Name string
	MIME string
}

const (
	metaFixed  = 1 + 2 + 2 // kind and the two lengths
	metaPrefix = 4         // uint32 length of meta at the start of the stream
	maxMeta    = metaFixed + MaxNameBytes + MaxMIMEBytes
)

// Check reports whether m fits the format: a known kind, a name and MIME type
// of valid UTF-8 within their limits, and neither on a text.
func (m Meta) Check() error {
	switch m.Kind {
	case KindFile:
	case KindText:
		if m.Name != "" || m.MIME != "" {
			return fmt.Errorf("%w: a text carries no name or MIME type", ErrFormat)
		}
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrFormat, m.Kind)
	}
	if len(m.Name) > MaxNameBytes {
		return fmt.Errorf("%w: the name is %d UTF-8 bytes, over the format's %d", ErrFormat, len(m.Name), MaxNameBytes)
	}
	if len(m.MIME) > MaxMIMEBytes {
		return fmt.Errorf("%w: the MIME type is %d bytes, over the format's %d", ErrFormat, len(m.MIME), MaxMIMEBytes)
	}
	if !utf8.ValidString(m.Name) || !utf8.ValidString(m.MIME) {
		return fmt.Errorf("%w: the name and MIME type must be valid UTF-8", ErrFormat)
	}
	return nil
}

// Encode returns m's bytes as they go into the stream (without the length
// prefix).
func (m Meta) Encode() ([]byte, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, metaFixed+len(m.Name)+len(m.MIME))
	b = append(b, byte(m.Kind))
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Name)))
	b = append(b, m.Name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.MIME)))
	b = append(b, m.MIME...)
	return b, nil
}

// DecodeMeta reads metadata written by Encode, holding it to the same limits.
func DecodeMeta(b []byte) (Meta, error) {
	if len(b) < metaFixed {
		return Meta{}, fmt.Errorf("%w: metadata cut short", ErrFormat)
	}
	nameLen := int(binary.BigEndian.Uint16(b[1:3]))
	if 3+nameLen+2 > len(b) {
		return Meta{}, fmt.Errorf("%w: metadata cut short", ErrFormat)
	}
	mimeLen := int(binary.BigEndian.Uint16(b[3+nameLen:]))
	if metaFixed+nameLen+mimeLen != len(b) {
		return Meta{}, fmt.Errorf("%w: metadata lengths do not add up", ErrFormat)
	}
	m := Meta{Kind: Kind(b[0]), Name: string(b[3 : 3+nameLen]), MIME: string(b[metaFixed+nameLen:])}
	if err := m.Check(); err != nil {
		return Meta{}, err
	}
	return m, nil
}

// Size is the exact ciphertext size for meta and contentLen bytes of content
// in chunks of chunkSize (0 means DefaultChunkSize):
// 16 + S + 16 × ceil(S / chunk size), S = 4 + len(meta) + contentLen.
func Size(meta Meta, contentLen int64, chunkSize int) (int64, error) {
	enc, err := meta.Encode()
	if err != nil {
		return 0, err
	}
	if chunkSize, err = checkChunkSize(chunkSize); err != nil {
		return 0, err
	}
	if contentLen < 0 {
		return 0, fmt.Errorf("%w: negative content length", ErrFormat)
	}
	s := int64(metaPrefix+len(enc)) + contentLen
	chunks := (s + int64(chunkSize) - 1) / int64(chunkSize)
	if chunks > 1<<32 {
		return 0, fmt.Errorf("%w: too large for %d-byte chunks", ErrFormat, chunkSize)
	}
	return HeaderSize + s + TagSize*chunks, nil
}

func checkChunkSize(n int) (int, error) {
	if n == 0 {
		return DefaultChunkSize, nil
	}
	if n < MinChunkSize || n > MaxChunkSize {
		return 0, fmt.Errorf("%w: chunk size %d outside %d…%d", ErrFormat, n, MinChunkSize, MaxChunkSize)
	}
	return n, nil
}

func header(chunkSize int, prefix NoncePrefix) [HeaderSize]byte {
	var h [HeaderSize]byte
	copy(h[:4], magic[:])
	binary.BigEndian.PutUint32(h[4:8], uint32(chunkSize))
	copy(h[8:15], prefix[:])
	return h
}

func newGCM(key Key) cipher.AEAD {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always accepted
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}

// nonce fills n for chunk i.
func nonce(n *[12]byte, prefix []byte, i uint32, last bool) []byte {
	copy(n[:NoncePrefixSize], prefix)
	binary.BigEndian.PutUint32(n[NoncePrefixSize:11], i)
	n[11] = 0
	if last {
		n[11] = 1
	}
	return n[:]
}
