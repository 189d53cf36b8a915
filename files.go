package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"hoist/uploader"
)

// collectFiles turns PATH arguments into files: a file as itself (key: its
// name), a directory as every regular file under it (key: the directory's
// name and the path inside it). Anything that cannot be uploaded is an error
// naming it, before anything is sent.
func collectFiles(paths []string) ([]uploader.File, error) {
	var files []uploader.File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %s", p, uploader.PathProblem(err))
		}
		switch {
		case st.Mode().IsRegular():
			if err := readable(p); err != nil {
				return nil, fmt.Errorf("%s: %s", p, uploader.PathProblem(err))
			}
			files = append(files, uploader.File{
				Path: p, Name: p, Key: filepath.Base(p), Size: st.Size(), ModTime: st.ModTime(),
			})
		case st.IsDir():
			found, err := walkDir(p)
			if err != nil {
				return nil, err
			}
			if len(found) == 0 {
				return nil, fmt.Errorf("%s: the directory holds no files to upload", p)
			}
			files = append(files, found...)
		default:
			return nil, fmt.Errorf("%s: %s, not a regular file; give a file or a directory", p, "it is "+uploader.FileKind(st.Mode()))
		}
	}
	return files, nil
}

// walkDir lists the regular files under dir, sorted, following symlinks to
// files but not to directories (so a link cannot loop).
func walkDir(dir string) ([]uploader.File, error) {
	base := filepath.Base(filepath.Clean(dir))
	var files []uploader.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %s", p, uploader.PathProblem(err))
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p) // follows a symlink to see what it points at
		if err != nil {
			return fmt.Errorf("%s: %s", p, uploader.PathProblem(err))
		}
		if !st.Mode().IsRegular() {
			return nil // FIFOs, sockets, devices and links to directories are not files to send
		}
		if err := readable(p); err != nil {
			return fmt.Errorf("%s: %s", p, uploader.PathProblem(err))
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, uploader.File{
			Path: p, Name: p, Key: path.Join(base, filepath.ToSlash(rel)),
			Size: st.Size(), ModTime: st.ModTime(),
		})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Key < files[j].Key })
	return files, err
}

// givenFiles is collectFiles for paths that each have their own URL (--url,
// a manifest line): a directory there is a mistake, not a set of files.
func givenFiles(paths []string) ([]uploader.File, error) {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: it is a directory, but an upload URL (--url, or a manifest line) takes exactly one file; name a file", p)
		}
	}
	return collectFiles(paths)
}

// readable opens and closes a regular file, so a file hoist may not read is
// refused with the others before anything is sent, not found out halfway.
func readable(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	return f.Close()
}
