package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
type Given struct {
	entries  []givenEntry
	byPath   map[string]int // cleaned and absolute path → index in entries
	describe string
}

type givenEntry struct {
	Entry
	report inspect.Report
}

var _ uploader.Source = (*Given)(nil)

// NewGiven checks that every URL is an http(s) URL; everything else wrong with
// one is for preflight (Report) and Target to say.
func NewGiven(entries []Entry) (*Given, error) {
	if len(entries) == 0 {
		return nil, errors.New("no upload URLs given; pass --url with one file, or a --manifest with one line per file")
	}
	g := &Given{byPath: make(map[string]int, 2*len(entries))}
	for i, e := range entries {
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
		for _, p := range pathKeys(e.Path) {
			if j, dup := g.byPath[p]; dup && j != i {
				return nil, fmt.Errorf("%s is given two upload URLs; give each file once", at)
			}
			g.byPath[p] = i
		}
		g.entries = append(g.entries, givenEntry{Entry: e, report: r})
	}
	g.describe = describeGiven(g.entries)
	return g, nil
}

// pathKeys are the forms a path is looked up by: as cleaned, and absolute,
// so a caller that made paths absolute still finds its file.
func pathKeys(p string) []string {
	keys := []string{filepath.Clean(p)}
	if abs, err := filepath.Abs(p); err == nil && abs != keys[0] {
		keys = append(keys, abs)
	}
	return keys
}

// shownPath is p for an error message, quoted if it holds a control
// character that would break the message's one line.
func shownPath(p string) string {
	if strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return strconv.Quote(p)
	}
	return p
}

func (g *Given) lookup(path string) (givenEntry, bool) {
	for _, k := range pathKeys(path) {
		if i, ok := g.byPath[k]; ok {
			return g.entries[i], true
		}
	}
	return givenEntry{}, false
}

// describeGiven is the redacted URL for one entry, else the longest folder
// all the redacted URLs share.
func describeGiven(entries []givenEntry) string {
	prefix := entries[0].report.Redacted()
	if len(entries) == 1 {
		return prefix
	}
	for _, e := range entries[1:] {
		prefix = commonPrefix(prefix, e.report.Redacted())
	}
	origin := entries[0].report.Scheme + "://"
	cut := strings.LastIndex(prefix, "/")
	if cut < len(origin) {
		return fmt.Sprintf("%d given URLs on several hosts", len(entries))
	}
	return fmt.Sprintf("%s… (%d given URLs)", prefix[:cut+1], len(entries))
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
	e, ok := g.lookup(f.Path)
	if !ok {
		return false
	}
	r := e.report
	return r.Signs("x-amz-checksum-crc32") || (r.PinnedCRC32 != "" && r.PinnedCRC32 != inspect.EmptyCRC32)
}

// Report is what f's URL says about itself, for preflight.
func (g *Given) Report(path string) (inspect.Report, bool) {
	e, ok := g.lookup(path)
	return e.report, ok
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
	e, ok := g.lookup(f.Path)
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
	for _, p := range e.report.Check(plan) {
		if p.Severity == inspect.Error {
			return uploader.Target{}, uploader.Permanent(errors.New(p.Message))
		}
	}
	header, err := inspect.SendHeaders(e.report, plan)
	if err != nil {
		return uploader.Target{}, uploader.Permanent(err)
	}
	key := e.report.Key
	if key == "" {
		key = f.Key
	}
	return uploader.Target{
		Method:      http.MethodPut,
		URL:         e.URL,
		Header:      header,
		Key:         key,
		SendToken:   true,
		Expires:     e.report.ExpiresAt,
		PinnedCRC32: e.report.PinnedCRC32,
	}, nil
}
