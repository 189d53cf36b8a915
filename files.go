package main

import (
	"fmt"
	"os"

	"hoist/fileset"
)

// collectFiles turns PATH arguments into files by the one file-set rule
// (fileset): anything that cannot be uploaded is an error naming it, before
// anything is sent. Special files skipped inside folders are counted.
func collectFiles(paths []string) (*fileset.List, int, error) {
	roots := make([]fileset.Root, len(paths))
	for i, p := range paths {
		roots[i] = fileset.Root{Path: p}
	}
	return fileset.CollectList(roots)
}

// givenFiles is collectFiles for paths that each have their own URL (--url,
// a manifest line): a directory there is a mistake, not a set of files.
// path(i) is the i-th of n paths.
func givenFiles(n int, path func(i int) (string, error)) (*fileset.List, error) {
	l := &fileset.List{}
	for i := range n {
		p, err := path(i)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: it is a directory, but an upload URL (--url, or a manifest line) takes exactly one file; name a file", p)
		}
		if _, err := l.Add(fileset.Root{Path: p}); err != nil {
			return nil, err
		}
	}
	l.Trim()
	return l, nil
}
