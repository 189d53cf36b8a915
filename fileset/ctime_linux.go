package fileset

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is when the file's inode last changed (st_ctime): every write,
// truncate, chmod and utimes moves it, and no call can set it back.
func changeTime(st fs.FileInfo) (time.Time, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(s.Ctim.Unix()), true
}

// sameInode reports whether two stats are of one file.
func sameInode(a, b fs.FileInfo) bool {
	x, ok1 := a.Sys().(*syscall.Stat_t)
	y, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && x.Dev == y.Dev && x.Ino == y.Ino
}
