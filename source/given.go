package source

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"hoist/inspect"
	"hoist/uploader"
)

// Given sends each file to the presigned URL it was given (--url or
// --manifest). It cannot sign a new URL or split a file into parts.
//
// A manifest's URLs stay in the manifest: Given keeps where each line is
// and reads the line again when its file is looked up, since a URL is
// about 450 bytes and a parsed one about 700 more. At 100,000 lines the URLs
// were most of hoist's memory (issue 15). Entries given in memory (NewGiven:
// --url) are kept as they are.
type Given struct {
	mem   []Entry    // NewGiven's entries; nil for a manifest
	file  *os.File   // OpenManifest's manifest, read again on lookup
	dir   string     // its folder, against which its relative paths resolve
	lines []lineSpan // where each of its entries is in file
	// index finds an entry by its absolute path's hash, sorted by hash; a
	// lookup compares the entry's path itself, so a collision costs a read.
	index    []pathHash
	seed     maphash.Seed
	wd       string // for making relative paths absolute without a syscall per lookup
	describe string

	mu     sync.Mutex
	recent [64]foundEntry // the last files looked up, more than the engine sends at once
	next   int
}

// lineSpan is where a manifest entry's line is: off and n bytes, and its
// number for messages.
type lineSpan struct {
	off  int64
	n    uint32
	line int32
	key  uint64 // the hash of where its URL stores the file (ObjectKeyHash)
}

type pathHash struct {
	hash  uint64
	entry int32
}

var _ uploader.Source = (*Given)(nil)

// NewGiven checks that every URL is an http(s) URL; everything else wrong with
// one is for preflight (Report) and Target to say.
func NewGiven(entries []Entry) (*Given, error) {
	if len(entries) == 0 {
		return nil, errors.New("no upload URLs given; pass --url with one file, or a --manifest with one line per file")
	}
	g := newGiven()
	g.mem = entries
	var d describer
	for i := range entries {
		e := &entries[i]
		if strings.TrimSpace(e.Path) == "" {
			return nil, fmt.Errorf("an upload URL without a file to send (manifest line %d)", e.Line)
		}
		e.URL = strings.TrimSpace(e.URL)
		if _, err := d.add(*e); err != nil {
			return nil, err
		}
		g.index = append(g.index, pathHash{g.hash(e.Path), int32(i)})
	}
	if i, _, dup := g.duplicate(); dup {
		return nil, fmt.Errorf("%s is given two upload URLs; give each file once", entryAt(entries[i]))
	}
	g.describe = d.describe()
	return g, nil
}

// OpenManifest reads the manifest file name (the rules of ParseManifest)
// and checks every line's URL as NewGiven does, keeping the file open to
// read each line again when its file is sent. Close closes it. each, if not
// nil, is given every line's path (resolved) in order: reading them back
// afterwards would decode every line once more. Its error is the line's.
//
// The lines are read and their URLs parsed on a goroutine of their own while
// each runs on the caller's, a batch of paths behind: at 100,000 lines each
// took about a second (each checks a file on disk), before the first byte of
// the run was sent.
func OpenManifest(name string, each func(path string) error) (*Given, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", name, unwrapPathError(err))
	}
	g := newGiven()
	g.file, g.dir = f, filepath.Dir(name)
	var d describer
	type pathAt struct {
		path string
		line int
	}
	const batch = 256
	paths := make(chan []pathAt, 4)
	quit := make(chan struct{})
	var scanErr error
	go func() {
		defer close(paths)
		var pending []pathAt
		send := func() bool {
			select {
			case paths <- pending:
				pending = make([]pathAt, 0, batch)
				return true
			case <-quit:
				return false
			}
		}
		scanErr = scanManifest(bufio.NewReaderSize(f, 64<<10), name, func(e Entry, off int64, n int) error {
			r, err := d.add(e)
			if err != nil {
				return err
			}
			g.index = append(g.index, pathHash{g.hash(e.Path), int32(len(g.lines))})
			g.lines = append(g.lines, lineSpan{off: off, n: uint32(n), line: int32(e.Line), key: maphash.String(g.seed, ObjectKey(r))})
			if each != nil {
				if pending = append(pending, pathAt{e.Path, e.Line}); len(pending) == batch && !send() {
					return errStopped
				}
			}
			return nil
		})
		if len(pending) > 0 {
			send()
		}
	}()
	var eachErr error
	for b := range paths {
		for _, p := range b {
			if eachErr != nil {
				break
			}
			if err := each(p.path); err != nil {
				// An earlier line than any the scan may fail at: it is ahead.
				eachErr = fmt.Errorf("%s line %d: %w", manifestName(name), p.line, err)
				close(quit)
			}
		}
	}
	err = cmp.Or(eachErr, scanErr)
	if err == nil && len(g.lines) == 0 {
		err = errors.New("no upload URLs given; pass --url with one file, or a --manifest with one line per file")
	}
	if err == nil {
		if i, j, dup := g.duplicate(); dup {
			err = fmt.Errorf("%s line %d: the same path is already on line %d; give each file once", name, g.lines[i].line, g.lines[j].line)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	g.describe = d.describe()
	// Built once, read for the whole run: without the room appends left.
	g.lines, g.index = slices.Clone(g.lines), slices.Clone(g.index)
	return g, nil
}

func newGiven() *Given {
	wd, _ := os.Getwd()
	return &Given{wd: wd, seed: maphash.MakeSeed()}
}

// Close closes a manifest; a Given from NewGiven has nothing to close.
func (g *Given) Close() error {
	if g.file == nil {
		return nil
	}
	return g.file.Close()
}

// Len is the number of entries.
func (g *Given) Len() int {
	if g.file != nil {
		return len(g.lines)
	}
	return len(g.mem)
}

// entry is the i-th entry, read again from a manifest.
func (g *Given) entry(i int) (Entry, error) {
	if g.file == nil {
		return g.mem[i], nil
	}
	l := g.lines[i]
	buf := make([]byte, l.n)
	if _, err := g.file.ReadAt(buf, l.off); err != nil {
		return Entry{}, fmt.Errorf("reading manifest line %d again: %w", l.line, err)
	}
	e, err := parseManifestLine(manifestLineText(buf, int(l.line)))
	if err != nil {
		return Entry{}, fmt.Errorf("manifest line %d changed while hoist was running; leave the manifest alone until the run ends", l.line)
	}
	e.Path = resolveManifestPath(e.Path, g.dir)
	e.URL = strings.TrimSpace(e.URL)
	e.Line = int(l.line)
	return e, nil
}

// hash is the index's hash of a path, in its absolute form.
func (g *Given) hash(p string) uint64 { return maphash.String(g.seed, g.absPath(p)) }

// duplicate sorts the index and finds two entries for one file: i the later.
func (g *Given) duplicate() (i, j int, dup bool) {
	slices.SortFunc(g.index, func(a, b pathHash) int {
		return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.entry, b.entry))
	})
	best := -1
	for k := 1; k < len(g.index); k++ {
		for m := k - 1; m >= 0 && g.index[m].hash == g.index[k].hash; m-- {
			a, errA := g.entry(int(g.index[m].entry))
			b, errB := g.entry(int(g.index[k].entry))
			if errA == nil && errB == nil && g.absPath(a.Path) == g.absPath(b.Path) {
				if later := int(g.index[k].entry); best < 0 || later < best {
					best, j = later, int(g.index[m].entry)
				}
			}
		}
	}
	return best, j, best >= 0
}

// entryAt names an entry's file for an error message.
func entryAt(e Entry) string {
	at := shownPath(e.Path)
	if e.Line > 0 {
		at = fmt.Sprintf("%s (manifest line %d)", at, e.Line)
	}
	return at
}

// describer finds what Describe says while the entries are read: it checks
// each URL parses, and keeps the longest redacted prefix they share.
type describer struct {
	n      int
	first  inspect.Report
	prefix string
}

func (d *describer) add(e Entry) (inspect.Report, error) {
	r, err := inspect.Parse(strings.TrimSpace(e.URL))
	if err != nil {
		return r, fmt.Errorf("upload URL for %s: %w", entryAt(e), err)
	}
	if d.n == 0 {
		d.first, d.prefix = r, r.Redacted()
	} else {
		d.prefix = commonPrefix(d.prefix, r.Redacted())
	}
	d.n++
	return r, nil
}

// ObjectKey is where a given URL stores its file: host, bucket and key, so
// two URLs that name one object are told apart from two that do not.
func ObjectKey(r inspect.Report) string { return r.Host + "/" + r.Bucket + "/" + r.Key }

// ObjectKeyHash is the hash of ObjectKey for path's URL, in a 64-bit space
// of the Given's own. A manifest's hashes were taken as it was read, so the
// check for two files sent to one object reads no line again (two equal
// hashes are then compared by ObjectKey itself). ok is false when path has
// no URL here.
func (g *Given) ObjectKeyHash(path string) (hash uint64, ok bool) {
	if g.file != nil {
		h := g.hash(path)
		k, found := slices.BinarySearchFunc(g.index, h, func(p pathHash, h uint64) int { return cmp.Compare(p.hash, h) })
		if found && (k+1 == len(g.index) || g.index[k+1].hash != h) {
			// The one entry with the path's hash (path is one of the
			// manifest's): no need to read its line to be sure.
			return g.lines[g.index[k].entry].key, true
		}
	}
	_, r, ok := g.lookup(path)
	if !ok {
		return 0, false
	}
	return maphash.String(g.seed, ObjectKey(r)), true
}

func (d *describer) describe() string { return describeGiven(d.first, d.prefix, d.n) }

// absPath is the one form a path is looked up by, so a caller that made
// paths absolute and one that did not find the same file.
func (g *Given) absPath(p string) string {
	if filepath.IsAbs(p) || g.wd == "" {
		return filepath.Clean(p)
	}
	return filepath.Join(g.wd, p)
}

// shownPath is p for an error message, quoted if it holds a control
// character that would break the message's one line.
func shownPath(p string) string {
	if strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return strconv.Quote(p)
	}
	return p
}

// lookup finds path's entry and parses its URL, which was found parseable
// when the entries were read. The engine looks a file up twice in a row
// (WantsChecksum, then Target), so the last few found are kept.
func (g *Given) lookup(path string) (Entry, inspect.Report, bool) {
	e, r, err := g.lookupErr(path)
	return e, r, err == nil
}

// lookupErr is lookup saying why path was not found: not in the manifest
// (errNotGiven), or its line is no longer what it was when read.
func (g *Given) lookupErr(path string) (Entry, inspect.Report, error) {
	abs := g.absPath(path)
	g.mu.Lock()
	for _, c := range g.recent {
		if c.abs == abs {
			g.mu.Unlock()
			return c.e, c.r, nil
		}
	}
	g.mu.Unlock()
	e, r, err := g.find(abs)
	if err == nil {
		g.mu.Lock()
		g.recent[g.next] = foundEntry{abs: abs, e: e, r: r}
		g.next = (g.next + 1) % len(g.recent)
		g.mu.Unlock()
	}
	return e, r, err
}

var errNotGiven = errors.New("no upload URL was given")

// errStopped ends a manifest's scan when a line's file was refused.
var errStopped = errors.New("stopped")

// foundEntry is an entry lookup found, with its parsed URL.
type foundEntry struct {
	abs string
	e   Entry
	r   inspect.Report
}

// find is lookup without the recent entries.
func (g *Given) find(abs string) (Entry, inspect.Report, error) {
	h := maphash.String(g.seed, abs)
	k, _ := slices.BinarySearchFunc(g.index, h, func(p pathHash, h uint64) int { return cmp.Compare(p.hash, h) })
	var changed error
	for ; k < len(g.index) && g.index[k].hash == h; k++ {
		e, err := g.entry(int(g.index[k].entry))
		if err != nil {
			changed = err
			continue
		}
		if g.absPath(e.Path) != abs {
			if g.hash(e.Path) == h {
				continue // another file whose path hashes alike
			}
			changed = fmt.Errorf("manifest line %d changed while hoist was running; leave the manifest alone until the run ends", e.Line)
			continue
		}
		r, err := inspect.Parse(e.URL)
		if err != nil {
			return Entry{}, inspect.Report{}, fmt.Errorf("manifest line %d changed while hoist was running; leave the manifest alone until the run ends", e.Line)
		}
		return e, r, nil
	}
	if changed != nil {
		return Entry{}, inspect.Report{}, changed
	}
	return Entry{}, inspect.Report{}, errNotGiven
}

// describeGiven is the redacted URL for one entry, else the longest folder
// all the redacted URLs share (prefix).
func describeGiven(first inspect.Report, prefix string, n int) string {
	if n == 1 {
		return prefix
	}
	origin := first.Scheme + "://"
	cut := strings.LastIndex(prefix, "/")
	if cut < len(origin) {
		return fmt.Sprintf("%d given URLs on several hosts", n)
	}
	return fmt.Sprintf("%s… (%d given URLs)", prefix[:cut+1], n)
}

func commonPrefix(a, b string) string {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return a[:i]
		}
	}
	return a[:n]
}

// Describe says where files go: scheme, host and path, never a query.
func (g *Given) Describe() string { return g.describe }

// Capabilities: a given URL is one single PUT, as it was signed.
func (g *Given) Capabilities() uploader.Capabilities {
	return uploader.Capabilities{Resign: false, Multipart: false, MaxSinglePut: inspect.S3MaxSinglePut}
}

// WantsChecksum is true when f's URL signs x-amz-checksum-crc32 as a header,
// or pins a checksum to compare with. The empty-body checksum needs no hashing:
// a file of any other size cannot match it.
func (g *Given) WantsChecksum(f uploader.File) bool {
	_, r, ok := g.lookup(f.Path)
	if !ok {
		return false
	}
	return r.Signs("x-amz-checksum-crc32") || (r.PinnedCRC32 != "" && r.PinnedCRC32 != inspect.EmptyCRC32)
}

// Report is what f's URL says about itself, for preflight.
func (g *Given) Report(path string) (inspect.Report, bool) {
	_, r, ok := g.lookup(path)
	return r, ok
}

// Target returns the URL given for f with the headers its signature needs.
// Every Error-severity problem inspect finds (expired, a signed header hoist
// has no value for, a pinned checksum f does not have, a missing signature…)
// is certain to fail at the server, so it is an error here, before a byte is
// sent; warnings are for preflight to show.
func (g *Given) Target(ctx context.Context, f uploader.File, md uploader.Metadata) (uploader.Target, error) {
	if err := ctx.Err(); err != nil {
		return uploader.Target{}, err
	}
	e, r, err := g.lookupErr(f.Path)
	if errors.Is(err, errNotGiven) {
		return uploader.Target{}, uploader.Permanent(fmt.Errorf("no upload URL was given for %s; add it to the manifest", shownPath(f.Path)))
	} else if err != nil {
		return uploader.Target{}, uploader.Permanent(err)
	}
	plan := inspect.Plan{
		Now:      time.Now(),
		FileName: f.Name, HasFile: true, FileSize: f.Size,
		CRC32: f.CRC32, HasCRC32: f.HasCRC32,
		Metadata:     md.Values(),
		MaxSinglePut: inspect.S3MaxSinglePut,
	}
	if plan.FileName == "" {
		plan.FileName = f.Path
	}
	for _, p := range r.Check(plan) {
		if p.Severity == inspect.Error {
			return uploader.Target{}, uploader.Permanent(errors.New(p.Message))
		}
	}
	header, err := inspect.SendHeaders(r, plan)
	if err != nil {
		return uploader.Target{}, uploader.Permanent(err)
	}
	key := r.Key
	if key == "" {
		key = f.Key
	}
	return uploader.Target{
		Method:      http.MethodPut,
		URL:         e.URL,
		Header:      header,
		Key:         key,
		SendToken:   true,
		Expires:     r.ExpiresAt,
		PinnedCRC32: r.PinnedCRC32,
	}, nil
}

// unwrapPathError is an open's error without the path, for a message that
// names the file itself.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
