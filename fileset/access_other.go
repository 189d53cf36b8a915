//go:build !unix

package fileset

import "os"

// MayRead reports whether this process may open path for reading. Where
// there is no access(2), it opens the file and closes it again.
func MayRead(path string) bool { return access(path) == nil }

// access is why path may not be opened for reading: opening it says.
func access(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}
