package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"hoist/fileset"
	"hoist/uploader"
)

// linkFile is --save-links FILE: every share link made, one
// "name<TAB>link<TAB>expires" line each, written as it is made so an
// interrupted run keeps the links it got. Links are secrets: the file is
// its owner's only (0600), and appended to, never truncated.
type linkFile struct {
	mu sync.Mutex
	f  *os.File
}

func openLinkFile(path string) (*linkFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--save-links %s: %s", path, fileset.Problem(err))
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("--save-links %s: cannot make it private (mode 0600): %w", path, err)
	}
	return &linkFile{f: f}, nil
}

func (l *linkFile) save(r *uploader.Result) error {
	if l == nil || r == nil || r.ShareURL == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := fmt.Fprintf(l.f, "%s\t%s\t%s\n", r.File, r.ShareURL, expiresText(r.ShareExpires))
	return err
}

func (l *linkFile) Close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

func expiresText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// printLinks writes "name<TAB>link" for each share made, to standard output
// after the TUI has left the screen, so the links stay in the scrollback and
// can be piped.
func printLinks(w io.Writer, results []uploader.Result) {
	for _, r := range results {
		if r.ShareURL != "" {
			fmt.Fprintf(w, "%s\t%s\n", r.File, r.ShareURL)
		}
	}
}
