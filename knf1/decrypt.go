package knf1

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Decryptor is an io.Reader of the content of a KNF1 ciphertext read from
// its source one sealed chunk at a time. Each chunk is authenticated before
// any of its plaintext is returned; the final chunk is known by the flag its
// nonce carries, so a stream cut at a chunk boundary, chunks swapped or
// repeated, and bytes after the final chunk all fail with ErrAuth. Plaintext
// returned before such an error must be thrown away.
type Decryptor struct {
	src       io.Reader
	gcm       cipher.AEAD
	header    [HeaderSize]byte
	chunkSize int
	meta      Meta
	index     uint32
	buf       []byte // one sealed chunk
	plainBuf  []byte // its plaintext: a separate buffer, so a failed Open leaves the chunk to try with the other flag
	plain     []byte // plaintext not yet returned
	final     bool   // the final chunk has been opened
	nonce     [12]byte
	err       error
}

// NewDecryptor reads the header and the first chunk from src and returns a
// reader of the content, its metadata already known.
func NewDecryptor(src io.Reader, key Key) (*Decryptor, error) {
	d := &Decryptor{src: src, gcm: newGCM(key)}
	if _, err := io.ReadFull(src, d.header[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: shorter than its header", ErrFormat)
		}
		return nil, err
	}
	if !bytes.Equal(d.header[:4], magic[:]) || d.header[15] != 0 {
		return nil, fmt.Errorf("%w: it does not start with a KNF1 header", ErrFormat)
	}
	chunkSize, err := checkChunkSize(int(binary.BigEndian.Uint32(d.header[4:8])))
	if err != nil || chunkSize == 0 {
		return nil, fmt.Errorf("%w: bad chunk size in its header", ErrFormat)
	}
	d.chunkSize = chunkSize
	d.buf = make([]byte, chunkSize+TagSize)
	d.plainBuf = make([]byte, 0, chunkSize)
	if err := d.open(); err != nil {
		return nil, err
	}
	// A conforming encoder puts all the metadata in chunk 0 (it is at most
	// 1,288 bytes; a chunk at least 4,096, or the whole stream).
	if len(d.plain) < metaPrefix {
		return nil, fmt.Errorf("%w: metadata cut short", ErrFormat)
	}
	n := binary.BigEndian.Uint32(d.plain)
	if n > maxMeta || int(n) > len(d.plain)-metaPrefix {
		return nil, fmt.Errorf("%w: metadata length %d does not fit its first chunk", ErrFormat, n)
	}
	if d.meta, err = DecodeMeta(d.plain[metaPrefix : metaPrefix+n]); err != nil {
		return nil, err
	}
	d.plain = d.plain[metaPrefix+n:]
	return d, nil
}

// Meta is the decrypted metadata: the file's name and MIME type.
func (d *Decryptor) Meta() Meta { return d.meta }

// Read implements io.Reader.
func (d *Decryptor) Read(p []byte) (int, error) {
	for len(d.plain) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.final {
			// Nothing may follow the final chunk.
			var probe [1]byte
			n, err := io.ReadFull(d.src, probe[:])
			switch {
			case n > 0:
				d.err = fmt.Errorf("%w: data follows the final chunk", ErrAuth)
			case errors.Is(err, io.EOF):
				d.err = io.EOF
			default:
				d.err = err
			}
			return 0, d.err
		}
		if err := d.open(); err != nil {
			d.err = err
			return 0, err
		}
	}
	n := copy(p, d.plain)
	d.plain = d.plain[n:]
	return n, nil
}

// open reads and authenticates the next chunk. A short chunk can only be the
// final one; a full one is final when it opens with the final flag.
func (d *Decryptor) open() error {
	n, err := io.ReadFull(d.src, d.buf)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if n <= TagSize {
			return fmt.Errorf("%w: it ends without its final chunk", ErrAuth)
		}
	default:
		return err
	}
	sealed := d.buf[:n]
	header := d.header[:]
	prefix := d.header[8:15]
	if n == len(d.buf) {
		if plain, err := d.gcm.Open(d.plainBuf[:0], nonce(&d.nonce, prefix, d.index, false), sealed, header); err == nil {
			d.plain = plain
			d.index++
			if d.index == 0 {
				return fmt.Errorf("%w: more chunks than the format allows", ErrAuth)
			}
			return nil
		}
	}
	plain, err := d.gcm.Open(d.plainBuf[:0], nonce(&d.nonce, prefix, d.index, true), sealed, header)
	if err != nil {
		return ErrAuth
	}
	d.plain, d.final = plain, true
	return nil
}
