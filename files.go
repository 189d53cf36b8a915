package main

import (
	"errors"
	"fmt"

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

// givenFile adds p, a path with its own URL (--url, a manifest line), to
// l: a directory there is a mistake, not a set of files.
func givenFile(l *fileset.List, p string) error {
	err := l.AddFile(p)
	if errors.Is(err, fileset.ErrDirectory) {
		return fmt.Errorf("%s: it is a directory, but an upload URL (--url, or a manifest line) takes exactly one file; name a file", p)
	}
	return err
}
