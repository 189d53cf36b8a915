package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"hoist/inspect"
	"hoist/uploader"
)

// Given sends each file to the presigned URL it was given (--url or
// --manifest). It cannot sign a new URL or split a file into parts.
//
// It keeps each URL as text and parses it when asked: a parsed Report is
// about 700 bytes more per file than its URL, and an index by both the
// cleaned and the absolute path doubled the map. At 100,000 manifest lines
// those were most of hoist's memory (issue 15).
type Given struct {
	entries  []Entry
	byPath   map[string]int32 // absolute path → index in entries
	wd       string           // for making relative paths absolute without a syscall per lookup
	describe string
}

var _ uploader.Source = (*Given)(nil)

// NewGiven checks that every URL is an http(s) URL; everything else wrong with
// one is for preflight (Report) and Target to say.
func NewGiven(entries []Entry) (*Given, error) {
	if len(entries) == 0 {
		return nil, errors.New("no upload URLs given; pass --url with one file, or a --manifest with one line per file")
	}
	wd, _ := os.Getwd()
	g := &Given{entries: entries, byPath: make(map[string]int32, len(entries)), wd: wd}
	var first inspect.Report
	prefix := ""
	for i := range entries {
		e := &entries[i]
		at := shownPath(e.Path)
		if e.Line > 0 {
			at = fmt.Sprintf("%s (manifest line %d)", at, e.Line)
		}
		if strings.TrimSpace(e.Path) == "" {
			return nil, fmt.Errorf("an upload URL without a file to send (manifest line %d)", e.Line)
		}
		e.URL = strings.TrimSpace(e.URL)
		r, err := inspect.Parse(e.URL)
		if err != nil {
			return nil, fmt.Errorf("upload URL for %s: %w", at, err)
		}
		k := g.absPath(e.Path)
		if j, dup := g.byPath[k]; dup && int(j) != i {
			return nil, fmt.Errorf("%s is given two upload URLs; give each file once", at)
		}
		g.byPath[k] = int32(i)
		if i == 0 {
			first, prefix = r, r.Redacted()
		} else {
			prefix = commonPrefix(prefix, r.Redacted())
		}
	}
	g.describe = describeGiven(first, prefix, len(entries))
	return g, nil
}

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

// lookup finds path's entry and parses its URL, which NewGiven already
// found parseable.
func (g *Given) lookup(path string) (Entry, inspect.Report, bool) {
	i, ok := g.byPath[g.absPath(path)]
	if !ok {
		return Entry{}, inspect.Report{}, false
	}
	e := g.entries[i]
	r, err := inspect.Parse(e.URL)
	return e, r, err == nil
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
	e, r, ok := g.lookup(f.Path)
	if !ok {
		return uploader.Target{}, uploader.Permanent(fmt.Errorf("no upload URL was given for %s; add it to the manifest", shownPath(f.Path)))
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
