//go:build !unix

package fileset

import "os"

// MayRead reports whether this process may open path for reading. Where
// there is no access(2), it opens the file and closes it again.
func MayRead(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	_ = f.Close()
	return true
}
