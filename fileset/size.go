package fileset

import (
	"fmt"

	"github.com/dustin/go-humanize"
)

// MaxObjectSize is the largest object S3 stores: 5 TiB, in one PUT or in
// parts. R2, MinIO and the others follow it.
const MaxObjectSize int64 = 5 << 40

// TooLarge says why a file of size bytes cannot be sent as one object, or
// returns nil. Preflight and the engine's check at send time both ask it, so
// a file over the limit is refused before anything is sent, in every mode.
func TooLarge(size int64) error {
	if size <= MaxObjectSize {
		return nil
	}
	return fmt.Errorf("it is %s, over the %s S3 stores in one object; split it (split -b 1T) and upload the pieces",
		humanize.IBytes(uint64(size)), humanize.IBytes(uint64(MaxObjectSize)))
}
