package main

import (
	"fmt"
	"os"

	"hoist/fileset"
	"hoist/uploader"
)

// collectFiles turns PATH arguments into files by the one file-set rule
// (fileset): anything that cannot be uploaded is an error naming it, before
// anything is sent. Special files skipped inside folders are counted.
func collectFiles(paths []string) ([]uploader.File, int, error) {
	roots := make([]fileset.Root, len(paths))
	for i, p := range paths {
		roots[i] = fileset.Root{Path: p}
	}
	set, err := fileset.Collect(roots)
	return set.Files, set.Special, err
}

// givenFiles is collectFiles for paths that each have their own URL (--url,
// a manifest line): a directory there is a mistake, not a set of files.
func givenFiles(paths []string) ([]uploader.File, error) {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: it is a directory, but an upload URL (--url, or a manifest line) takes exactly one file; name a file", p)
		}
	}
	files, _, err := collectFiles(paths)
	return files, err
}
