//go:build !linux

package fileset

import (
	"io/fs"
	"time"
)

// changeTime is not read here: Untouched then never vouches for a file, and
// the engine reads it again to prove what it sent.
func changeTime(fs.FileInfo) (time.Time, bool) { return time.Time{}, false }

func sameInode(a, b fs.FileInfo) bool { return false }
