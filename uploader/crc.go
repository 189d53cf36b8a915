package uploader

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
