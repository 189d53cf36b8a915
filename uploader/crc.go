package uploader

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
)

// crc32Combine returns the CRC32 (IEEE) of A followed by B, given crcA,
// crcB and the length of B, without reading either again: the parts of a
// multipart upload are hashed one by one, and the file's CRC32 is made from
// theirs. It follows zlib's crc32_combine: appending lenB zero bytes to A is
// a linear map over GF(2), applied by squaring a 32×32 bit matrix.
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [32]uint32

	// odd: the operator for one zero bit.
	odd[0] = 0xedb88320 // the IEEE polynomial, reversed
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits

	// Apply lenB zero bytes to crcA, one bit of lenB at a time; the first
	// square gives the operator for one zero byte (eight bits).
	for {
		gf2Square(&even, &odd)
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range 32 {
		square[n] = gf2Times(mat, mat[n])
	}
}

// hashChunk is what hashSection reads at a time: a buffer that stays in a
// core's L2 cache between the file's copy in and the CRC's pass over it
// (per GiB from tmpfs: 0.31 CPU s at 64 KiB, 0.25 at 256 KiB, 0.27 at 1 MiB).
const hashChunk = 256 << 10

// hashStripe is the least one goroutine of hashSection hashes, and
// maxHashStripes the most goroutines it starts: a big file's hash (before
// a PUT that signs it, or after one to prove the bytes sent) is a second
// read of the whole file while nothing else runs, which idle cores share.
// Parts under two stripes (the usual 16 MiB) are hashed side by side by
// the pool already and stay one goroutine each.
const (
	hashStripe     = 64 << 20
	maxHashStripes = 4
)

// hashSection computes the CRC32 of size bytes of f from off.
func hashSection(ctx context.Context, f io.ReaderAt, off, size int64) (uint32, error) {
	stripes := min(size/hashStripe, int64(min(runtime.GOMAXPROCS(0), maxHashStripes)))
	return hashStriped(ctx, f, off, size, int(max(stripes, 1)))
}

// hashStriped hashes size bytes of f from off in n stripes at once, and
// joins their CRC32s as if one pass had read them all.
func hashStriped(ctx context.Context, f io.ReaderAt, off, size int64, n int) (uint32, error) {
	if n <= 1 {
		return hashRange(ctx, f, off, size, 0, size)
	}
	bounds := make([]int64, n+1) // stripe i is bounds[i]..bounds[i+1]
	for i := range n {
		bounds[i] = int64(i) * (size / int64(n))
	}
	bounds[n] = size
	crcs := make([]uint32, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			crcs[i], errs[i] = hashRange(ctx, f, off, size, bounds[i], bounds[i+1])
		})
	}
	wg.Wait()
	// A stripe's failure does not stop the others (only ctx does), so the
	// error is the same whichever ends first: the lowest stripe's, which for
	// a file that shrank says where it now ends.
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	crc := crcs[0]
	for i := 1; i < n; i++ {
		crc = crc32Combine(crc, crcs[i], bounds[i+1]-bounds[i])
	}
	return crc, nil
}

// hashRange computes the CRC32 of bytes from..to of the size-byte section
// of f at off.
func hashRange(ctx context.Context, f io.ReaderAt, off, size, from, to int64) (uint32, error) {
	buf := make([]byte, min(to-from, hashChunk))
	var crc uint32
	for pos := from; pos < to; {
		if err := ctx.Err(); err != nil {
			return 0, context.Cause(ctx)
		}
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-pos)], off+pos)
		crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
		pos += int64(n)
		if err == io.EOF && pos < to {
			return 0, &readError{fmt.Errorf("%w: it ended after %d of %d bytes", errFileChanged, pos, size)}
		}
		if err != nil && err != io.EOF {
			return 0, &readError{err}
		}
	}
	return crc, nil
}
