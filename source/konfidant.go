package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"path/filepath"
	"sync/atomic"

	"hoist/knf1"
	"hoist/konfidant"
	"hoist/uploader"
)

// Konfidant protocols: how a file travels.
const (
	// KonfidantEncrypted is the current SDKs' flow: each file encrypted
	// (KNF1) on the way up under a fresh key that only the link carries.
	KonfidantEncrypted = "encrypted"
	// KonfidantPlain is the flow of the API page hoist was built from (SDK
	// 0.9): the file as it is, with three signed metadata headers.
	KonfidantPlain = "plain"
)

// Konfidant gets an upload slot per file from Konfidant's API and turns the
// finished upload into a one-time share link. The API key stays with the
// API client: targets never carry it (SendToken is false).
type Konfidant struct {
	api      *konfidant.Client
	plain    bool
	describe string
	// chunkSize is KNF1's (0: the format's default); tests make it small.
	chunkSize int
}

var _ uploader.Source = (*Konfidant)(nil)

// NewKonfidant makes the source; protocol is KonfidantEncrypted ("" too) or
// KonfidantPlain. Nothing is sent until the first file.
func NewKonfidant(api *konfidant.Client, protocol string) (*Konfidant, error) {
	k := &Konfidant{api: api}
	switch protocol {
	case "", KonfidantEncrypted:
		k.describe = "Konfidant " + api.Describe() + ": encrypted here, shared as one-time links"
	case KonfidantPlain:
		k.plain = true
		k.describe = "Konfidant " + api.Describe() + ": sent as is, shared as one-time links"
	default:
		return nil, fmt.Errorf("--konfidant-protocol %q is not one hoist knows; use %s (the default) or %s", protocol, KonfidantEncrypted, KonfidantPlain)
	}
	return k, nil
}

// Describe says where files go: the API, never a key.
func (k *Konfidant) Describe() string { return k.describe }

// Capabilities: a fresh slot can always be had, so an expired upload URL is
// renewed; no parts (the API hands out one PUT per file).
func (k *Konfidant) Capabilities() uploader.Capabilities {
	return uploader.Capabilities{Resign: true}
}

// WantsChecksum is false: Konfidant's upload URLs pin no checksum of ours.
func (k *Konfidant) WantsChecksum(uploader.File) bool { return false }

// KonfidantMeta is what is encrypted with a file: its base name and the MIME
// type its extension suggests. It fails when the name is over the format's
// 1,024 UTF-8 bytes, before anything is sent.
func KonfidantMeta(f uploader.File) (knf1.Meta, error) {
	name := shareName(f)
	m := knf1.Meta{Kind: knf1.KindFile, Name: name, MIME: mime.TypeByExtension(path.Ext(name))}
	if len(m.MIME) > knf1.MaxMIMEBytes {
		m.MIME = ""
	}
	if err := m.Check(); err != nil {
		if len(name) > knf1.MaxNameBytes {
			return m, fmt.Errorf("its name is %d UTF-8 bytes, over the %d Konfidant's format allows; rename it", len(name), knf1.MaxNameBytes)
		}
		return m, fmt.Errorf("its name cannot be shared: %w", err)
	}
	return m, nil
}

// shareName is the name a recipient sees: the file's base name.
func shareName(f uploader.File) string {
	if f.Key != "" {
		return path.Base(f.Key)
	}
	return filepath.Base(f.Path)
}

// Target reserves a slot for f. In the encrypted flow each call draws a fresh
// key and nonce prefix, and the engine calls it for every attempt (a target
// with a Body serves one), so no two attempts encrypt under the same key.
func (k *Konfidant) Target(ctx context.Context, f uploader.File, md uploader.Metadata) (uploader.Target, error) {
	if k.plain {
		return k.plainTarget(ctx, f, md)
	}
	meta, err := KonfidantMeta(f)
	if err != nil {
		return uploader.Target{}, uploader.Permanent(err)
	}
	size, err := knf1.Size(meta, f.Size, k.chunkSize)
	if err != nil {
		return uploader.Target{}, uploader.Permanent(err)
	}
	slot, err := k.api.CreateUpload(ctx, size, md.TTLHours)
	if err != nil {
		return uploader.Target{}, err
	}
	key, prefix := knf1.NewKey(), knf1.NewNoncePrefix()
	var made atomic.Bool
	return uploader.Target{
		Method:   http.MethodPut,
		URL:      slot.UploadURL,
		Header:   headerOf(slot.Headers),
		Key:      meta.Name,
		Expires:  slot.Expires,
		BodySize: size,
		Body: func(file io.Reader) io.Reader {
			if made.Swap(true) {
				// A second encryption under this key could be of different
				// bytes: refuse rather than reuse the nonces.
				return errReader{errors.New("hoist bug: an encrypted upload body was asked for twice")}
			}
			enc, err := knf1.NewEncryptor(file, f.Size, meta, key, prefix, k.chunkSize)
			if err != nil {
				return errReader{err}
			}
			return enc
		},
		Finish: func(ctx context.Context) (uploader.Share, error) {
			done, err := k.api.Complete(ctx, slot.FileKey)
			if err != nil {
				return uploader.Share{}, err
			}
			link, err := konfidant.ShareLink(done.DownloadURL, key)
			if err != nil {
				return uploader.Share{}, err
			}
			return uploader.Share{URL: link, Expires: done.ExpiresAt}, nil
		},
	}, nil
}

func (k *Konfidant) plainTarget(ctx context.Context, f uploader.File, md uploader.Metadata) (uploader.Target, error) {
	name := shareName(f)
	slot, err := k.api.CreatePlainUpload(ctx, name, f.Size, md.TTLHours)
	if err != nil {
		return uploader.Target{}, err
	}
	h := headerOf(slot.Headers)
	if h.Get("Content-Type") == "" { // unsigned here: the file's own type, as SDK 0.9 sends it
		h.Set("Content-Type", cmp.Or(mime.TypeByExtension(path.Ext(name)), "application/octet-stream"))
	}
	return uploader.Target{
		Method: http.MethodPut,
		URL:    slot.UploadURL,
		Header: h,
		Key:    name,
		Finish: func(ctx context.Context) (uploader.Share, error) {
			st, err := k.api.WaitComplete(ctx, slot.FileKey, f.Size)
			if err != nil {
				return uploader.Share{}, err
			}
			return uploader.Share{URL: st.ShareURL, Expires: st.ExpiresAt}, nil
		},
	}, nil
}

// headerOf makes the headers to send from the API's name → value map, values
// exactly as given: they are what the URL was signed with.
func headerOf(m map[string]string) http.Header {
	h := make(http.Header, len(m)+1)
	for name, v := range m {
		h.Set(name, v)
	}
	return h
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
