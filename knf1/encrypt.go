package knf1

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrContentSize: the content did not have the length it was declared with.
var ErrContentSize = errors.New("the content's length differs from what was declared")

// Encryptor is an io.Reader of ciphertext: it reads the content from its
// source a chunk at a time, as its reader asks, and yields the header and the
// sealed chunks. It holds one chunk (plus its tag) in memory, whatever the
// content's size, so it can stand between a file and an HTTP request body.
//
// The key and nonce prefix must be fresh for each encryption of content that
// is not known to be byte-for-byte the same: GCM under a reused key and nonce
// leaks the difference of two plaintexts.
type Encryptor struct {
	src       io.Reader
	gcm       cipher.AEAD
	header    [HeaderSize]byte
	chunkSize int
	stream    int64  // length of the stream: prefix, meta and content
	done      int64  // stream bytes sealed so far
	index     uint32 // next chunk
	prefix    []byte // length of meta and meta, the start of chunk 0
	buf       []byte // one chunk and its tag; sealed in place
	out       []byte // bytes not yet handed to the reader
	nonce     [12]byte
	err       error
}

// NewEncryptor returns a reader of the ciphertext of contentLen bytes read
// from content, with meta, under key and prefix, in chunks of chunkSize
// (0 means DefaultChunkSize). Reading fails with ErrContentSize when content
// yields fewer or more bytes than contentLen: the final chunk is never sealed
// over content of the wrong length.
func NewEncryptor(content io.Reader, contentLen int64, meta Meta, key Key, prefix NoncePrefix, chunkSize int) (*Encryptor, error) {
	if _, err := Size(meta, contentLen, chunkSize); err != nil {
		return nil, err
	}
	chunkSize, _ = checkChunkSize(chunkSize)
	enc, _ := meta.Encode()
	e := &Encryptor{
		src:       content,
		gcm:       newGCM(key),
		header:    header(chunkSize, prefix),
		chunkSize: chunkSize,
	}
	e.prefix = binary.BigEndian.AppendUint32(make([]byte, 0, metaPrefix+len(enc)), uint32(len(enc)))
	e.prefix = append(e.prefix, enc...)
	e.stream = int64(len(e.prefix)) + contentLen
	e.buf = make([]byte, min(int64(chunkSize), e.stream)+TagSize)
	e.out = e.header[:]
	return e, nil
}

// Read implements io.Reader.
func (e *Encryptor) Read(p []byte) (int, error) {
	for len(e.out) == 0 {
		if e.err != nil {
			return 0, e.err
		}
		if e.done == e.stream {
			return 0, io.EOF
		}
		if err := e.seal(); err != nil {
			e.err = err
			return 0, err
		}
	}
	n := copy(p, e.out)
	e.out = e.out[n:]
	return n, nil
}

// seal reads and seals the next chunk into e.out.
func (e *Encryptor) seal() error {
	n := min(int64(e.chunkSize), e.stream-e.done)
	chunk := e.buf[:n]
	off := 0
	if e.index == 0 {
		// The prefix is at most 1,288 bytes and a chunk at least 4,096, or
		// the whole stream: it always fits in chunk 0.
		off = copy(chunk, e.prefix)
	}
	if _, err := io.ReadFull(e.src, chunk[off:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: it ended early", ErrContentSize)
		}
		return err
	}
	last := e.done+n == e.stream
	if last {
		// Content longer than declared must not end in a sealed final chunk
		// that authenticates a truncated copy.
		var probe [1]byte
		m, err := io.ReadFull(e.src, probe[:])
		if m > 0 {
			return fmt.Errorf("%w: it is longer", ErrContentSize)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	e.out = e.gcm.Seal(chunk[:0], nonce(&e.nonce, e.header[8:15], e.index, last), chunk, e.header[:])
	e.done += n
	e.index++
	return nil
}
