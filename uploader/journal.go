package uploader

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Journal remembers multipart uploads in progress so a run that died (crash,
// kill -9, lost network) can be resumed by the next one. Each upload is an
// append-only file of JSON lines: one "begin" line, then one line per part the
// server accepted. Appending keeps a part's record to one small write, however
// many parts there are.
type Journal struct {
	dir string
}

// OpenJournal keeps journals in dir (created 0700 on first use).
func OpenJournal(dir string) *Journal { return &Journal{dir: dir} }

// journalLine is one line of a journal file.
type journalLine struct {
	Op string `json:"op"` // "begin" or "part"

	// begin: the upload, and what the object it makes will carry. A rerun
	// resumes it only for the same file (size, mtime, and the CRC32 of each
	// part kept) with the same metadata.
	Key      string            `json:"key,omitempty"`
	UploadID string            `json:"upload_id,omitempty"`
	Size     int64             `json:"size,omitempty"`
	ModTime  int64             `json:"mtime_ns,omitempty"`
	PartSize int64             `json:"part_size,omitempty"`
	Path     string            `json:"path,omitempty"`
	Name     string            `json:"name,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	Dest     string            `json:"dest,omitempty"`
	// Origin is how to reach the destination again (Options.Origin), so
	// `hoist uploads --abort` can discard the upload without the command
	// that started it. It never holds a secret.
	Origin  map[string]string `json:"origin,omitempty"`
	Started int64             `json:"started_ns,omitempty"`

	// part
	Number int    `json:"n,omitempty"`
	ETag   string `json:"etag,omitempty"`
	CRC32  uint32 `json:"crc32,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
}

// journalEntry is what a journal file says about one upload.
type journalEntry struct {
	begin journalLine
	parts map[int]Part
}

// upload is the journal of one file's multipart upload.
type journalFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

// name is the journal file for a file sent to a source: the same file to the
// same place finds the same journal.
func (j *Journal) name(dest, path, key string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(dest + "\x00" + abs + "\x00" + key))
	return filepath.Join(j.dir, hex.EncodeToString(sum[:12])+".jsonl"), nil
}

// load reads the journal for a file, if there is one.
func (j *Journal) load(dest, path, key string) (journalEntry, bool) {
	name, err := j.name(dest, path, key)
	if err != nil {
		return journalEntry{}, false
	}
	return j.loadFile(name)
}

func (j *Journal) loadFile(name string) (journalEntry, bool) {
	f, err := os.Open(name)
	if err != nil {
		return journalEntry{}, false
	}
	defer f.Close()
	e := journalEntry{parts: map[int]Part{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l journalLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			break // a torn last line from a crash: what came before still counts
		}
		switch l.Op {
		case "begin":
			e.begin = l
		case "part":
			e.parts[l.Number] = Part{Number: l.Number, Size: l.Bytes, ETag: l.ETag, CRC32: l.CRC32}
		}
	}
	return e, e.begin.UploadID != ""
}

// begin starts a fresh journal for an upload, replacing any old one.
func (j *Journal) begin(dest string, f File, u Upload, partSize int64, md Metadata, origin map[string]string) (*journalFile, error) {
	name, err := j.name(dest, f.Path, f.Key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	jf := &journalFile{path: name, f: fh}
	abs, _ := filepath.Abs(f.Path)
	err = jf.append(journalLine{Op: "begin", Key: u.Key, UploadID: u.UploadID, Size: f.Size,
		ModTime: f.ModTime.UnixNano(), PartSize: partSize, Path: abs, Name: f.Name,
		Meta: md.Values(), Dest: dest, Origin: origin, Started: time.Now().UnixNano()})
	if err != nil {
		fh.Close()
		return nil, err
	}
	return jf, nil
}

// reopen continues an existing journal after a resume.
func (j *Journal) reopen(dest string, f File) (*journalFile, error) {
	name, err := j.name(dest, f.Path, f.Key)
	if err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &journalFile{path: name, f: fh}, nil
}

// forget removes a file's journal (the upload completed, or was aborted).
func (j *Journal) forget(dest, path, key string) {
	if name, err := j.name(dest, path, key); err == nil {
		_ = os.Remove(name)
	}
}

func (jf *journalFile) append(l journalLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	jf.mu.Lock()
	defer jf.mu.Unlock()
	if jf.f == nil {
		return errors.New("journal closed")
	}
	_, err = jf.f.Write(b)
	return err
}

func (jf *journalFile) part(p Part) error {
	return jf.append(journalLine{Op: "part", Number: p.Number, ETag: p.ETag, CRC32: p.CRC32, Bytes: p.Size})
}

func (jf *journalFile) close() {
	jf.mu.Lock()
	defer jf.mu.Unlock()
	if jf.f != nil {
		_ = jf.f.Close()
		jf.f = nil
	}
}

// mismatch says why the journal's upload cannot be resumed for the file as
// it is now with metadata md ("" when it can): its parts are another
// file's, or the object would carry the interrupted run's metadata.
func (e journalEntry) mismatch(f File, md Metadata) string {
	if e.begin.Size != f.Size || e.begin.ModTime != f.ModTime.UnixNano() {
		return "the file changed since the interrupted upload"
	}
	if !maps.Equal(e.begin.Meta, md.Values()) {
		return "the metadata differs from the interrupted upload's"
	}
	return ""
}

// JournaledUpload is one multipart upload hoist left to resume, as
// `hoist uploads` lists it.
type JournaledUpload struct {
	ID       string // the journal's own name for it, for --abort
	Path     string // the file, absolute
	Name     string
	Key      string
	UploadID string
	Dest     string            // where it goes, as the source describes it
	Origin   map[string]string // how to reach the destination again
	Metadata map[string]string
	Size     int64
	PartSize int64
	Parts    int   // parts the journal recorded as on the server
	Sent     int64 // their bytes
	Started  time.Time
}

// List returns the uploads the journal holds, oldest first. Unreadable
// entries are skipped.
func (j *Journal) List() ([]JournaledUpload, error) {
	entries, err := os.ReadDir(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the resume journal %s: %w", j.dir, err)
	}
	var out []JournaledUpload
	for _, de := range entries {
		id, ok := strings.CutSuffix(de.Name(), ".jsonl")
		if !ok {
			continue
		}
		e, ok := j.loadFile(filepath.Join(j.dir, de.Name()))
		if !ok {
			continue
		}
		b := e.begin
		u := JournaledUpload{ID: id, Path: b.Path, Name: b.Name, Key: b.Key, UploadID: b.UploadID,
			Dest: b.Dest, Origin: b.Origin, Metadata: b.Meta, Size: b.Size, PartSize: b.PartSize,
			Parts: len(e.parts), Started: time.Unix(0, b.Started)}
		for _, p := range e.parts {
			u.Sent += p.Size
		}
		out = append(out, u)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Started.Before(out[b].Started) })
	return out, nil
}

// Forget removes the journal entry id (from List).
func (j *Journal) Forget(id string) error {
	if strings.ContainsAny(id, `/\.`) || id == "" {
		return fmt.Errorf("no upload %q in the journal", id)
	}
	return os.Remove(filepath.Join(j.dir, id+".jsonl"))
}

// Pending lists the uploads a journal holds, for messages ("N uploads can be
// resumed"). Unreadable entries are skipped.
func (j *Journal) Pending() (int, error) {
	entries, err := os.ReadDir(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the resume journal %s: %w", j.dir, err)
	}
	n := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".jsonl" {
			n++
		}
	}
	return n, nil
}
