package fileset

import (
	"io/fs"
	"time"
)

// racyWindow is how recent a change may be and still be missed by a stat:
// the kernel stamps ctime from a coarse clock (a tick, ~4 ms), and some file
// systems keep times in whole seconds (FAT: two). A file changed this close
// to being opened is never vouched for by its times — the "racy" rule git
// uses for its index.
var racyWindow = 3 * time.Second

// Untouched reports whether nothing wrote to a file between two stats of it,
// before (taken when it was opened, at openedAt) and after (taken once its
// bytes were sent): same inode, size, mtime and ctime, and a ctime older than
// the racy window before openedAt, so that any write after the first stat
// would have moved it. Size and mtime alone can be put back (utimes); ctime
// cannot. When Untouched says no — a write, a racy time, a platform whose
// ctime is not read — the caller proves the bytes another way (reads the file
// again); it never means the file changed.
func Untouched(before, after fs.FileInfo, openedAt time.Time) bool {
	c0, ok0 := changeTime(before)
	c1, ok1 := changeTime(after)
	return ok0 && ok1 && c0.Equal(c1) && sameInode(before, after) &&
		before.Size() == after.Size() && before.ModTime().Equal(after.ModTime()) &&
		c0.Before(openedAt.Add(-racyWindow))
}
