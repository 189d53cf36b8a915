package konfidant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"hoist/fileset"
	"hoist/knf1"
	"hoist/uploader"
)

// ErrGone: the link was already opened, or it expired. Either way the file
// is no longer there.
var ErrGone = errors.New("the link was already opened or has expired")

// Opened is a share saved to disk.
type Opened struct {
	Path    string // where it was written
	Bytes   int64
	Meta    knf1.Meta
	Renamed bool // a file by that name existed, so it was saved beside it
}

// Open fetches the share behind link once, as its recipient, and decrypts it
// while it streams into dir under the name it was shared with, made safe.
// No API key is sent, and the key never leaves this machine. A chunk that
// fails authentication removes what was written. An existing file is
// replaced only with force; otherwise the share is saved under a free name
// beside it, since the link cannot be opened twice.
func Open(ctx context.Context, client *http.Client, link, dir string, force bool) (Opened, error) {
	l, err := ParseLink(link)
	if err != nil {
		return Opened{}, err
	}
	// Everything that can be checked is checked before the one-time
	// download is spent.
	if st, err := os.Stat(dir); err != nil {
		return Opened{}, fmt.Errorf("cannot save into %s: %s", dir, fileset.Problem(err))
	} else if !st.IsDir() {
		return Opened{}, fmt.Errorf("cannot save into %s: it is not a directory", dir)
	}
	tmp, err := os.CreateTemp(dir, ".hoist-open-*")
	if err != nil {
		return Opened{}, fmt.Errorf("cannot write into %s: %s", dir, fileset.Problem(err))
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	if client == nil {
		client = uploader.NewClient()
	}
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	body, _ := json.Marshal(map[string]string{"t": l.Token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.Origin+"/api/download", bytes.NewReader(body))
	if err != nil {
		return Opened{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := noRedirects.Do(req)
	if err != nil {
		return Opened{}, fmt.Errorf("could not reach %s: %s; check the connection and try again", l.Origin, networkWords(uploader.WithoutRequestURL(err)))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusGone:
		return Opened{}, fmt.Errorf("%w (410); ask the sender for a new link", ErrGone)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		se := uploader.ParseServerError(resp.StatusCode, resp.Header, b)
		return Opened{}, &Error{msg: fmt.Sprintf("%s refused the download (%s); check the link", l.Origin, se), err: se}
	}

	dec, err := knf1.NewDecryptor(resp.Body, l.Key)
	if err != nil {
		return Opened{}, decryptError(err)
	}
	meta := dec.Meta()
	n, err := io.Copy(tmp, dec)
	if err != nil {
		return Opened{}, decryptError(err)
	}
	if err := tmp.Close(); err != nil {
		return Opened{}, fmt.Errorf("writing into %s: %w", dir, err)
	}
	name := SafeName(meta.Name)
	if meta.Kind == knf1.KindText || name == "" {
		name = "konfidant-share"
		if meta.Kind == knf1.KindText {
			name += ".txt"
		}
	}
	path, renamed, err := place(tmp.Name(), dir, name, force)
	if err != nil {
		return Opened{}, err
	}
	keep = true
	return Opened{Path: path, Bytes: n, Meta: meta, Renamed: renamed}, nil
}

func decryptError(err error) error {
	switch {
	case errors.Is(err, knf1.ErrAuth):
		return fmt.Errorf("the download failed authentication (cut short or changed on the way, or the link's key is wrong); nothing was kept — ask the sender for a new link: %w", err)
	case errors.Is(err, knf1.ErrFormat):
		return fmt.Errorf("the download is not a Konfidant encrypted file; nothing was kept: %w", err)
	}
	return fmt.Errorf("the download broke off (%s); nothing was kept — the link is used up, ask the sender for a new one", networkWords(err))
}

// place moves the finished temporary file to dir/name: over an existing
// file only with force, else beside it as "name (2)", "name (3)"…
func place(tmp, dir, name string, force bool) (string, bool, error) {
	target := filepath.Join(dir, name)
	if force {
		return target, false, os.Rename(tmp, target)
	}
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; i < 1000; i++ {
		if i > 1 {
			target = filepath.Join(dir, stem+" ("+strconv.Itoa(i)+")"+ext)
		}
		// A hard link fails rather than replace an existing name.
		err := os.Link(tmp, target)
		if err == nil {
			os.Remove(tmp)
			return target, i > 1, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", false, fmt.Errorf("cannot save %s: %s", target, fileset.Problem(err))
		}
	}
	return "", false, fmt.Errorf("cannot save %s: too many files by that name in %s", name, dir)
}

// maxNameBytes is what most file systems take for one name.
const maxNameBytes = 255

// SafeName is the name a share is saved under: its base name only, with no
// path separators, no control characters, never "." or "..", at most 255
// bytes. "" when nothing usable is left.
func SafeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	for len(name) > maxNameBytes {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
