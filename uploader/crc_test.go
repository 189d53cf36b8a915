package uploader

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// TestHashStripesJoinToOnePass hashes a section in 1 to 5 stripes, each
// larger and smaller than a read, and expects the CRC32 of one pass.
func TestHashStripesJoinToOnePass(t *testing.T) {
	data := make([]byte, 3*hashChunk+12345)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data)
	for _, sec := range []struct{ off, size int64 }{{0, int64(len(data))}, {7, int64(len(data)) - 100}, {hashChunk + 1, 3}, {5, 0}} {
		want := crc32.ChecksumIEEE(data[sec.off : sec.off+sec.size])
		for n := 1; n <= 5; n++ {
			got, err := hashStriped(context.Background(), r, sec.off, sec.size, n)
			if err != nil {
				t.Fatalf("off %d size %d in %d stripes: %v", sec.off, sec.size, n, err)
			}
			if got != want {
				t.Errorf("off %d size %d in %d stripes: crc %08x; want %08x", sec.off, sec.size, n, got, want)
			}
		}
	}
}

// TestHashOfAShrunkFileSaysWhereItEnds: every stripe past the end fails;
// the error is the lowest one's, whichever stripe fails first.
func TestHashOfAShrunkFileSaysWhereItEnds(t *testing.T) {
	r := bytes.NewReader(make([]byte, 1000))
	for range 20 {
		_, err := hashStriped(context.Background(), r, 0, 4000, 4)
		var re *readError
		if !errors.As(err, &re) || !errors.Is(err, errFileChanged) {
			t.Fatalf("err %v; want a read error for a changed file", err)
		}
		if !strings.Contains(err.Error(), "it ended after 1000 of 4000 bytes") {
			t.Fatalf("err %q; want it to say the file ended after 1000 of 4000 bytes", err)
		}
	}
}

// TestHashStopsWhenCanceled: a canceled upload's hash ends with its cause.
func TestHashStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stopped by the user")
	cancel(stop)
	r := bytes.NewReader(make([]byte, 4*hashChunk))
	for n := 1; n <= 3; n++ {
		if _, err := hashStriped(ctx, r, 0, 4*hashChunk, n); !errors.Is(err, stop) {
			t.Errorf("%d stripes: err %v; want the cancel's cause", n, err)
		}
	}
}
