package testsupport

// The pattern is a byte derived from a seed and the byte's position: cheap,
// different for every position and seed, and never all zeros, so a buffer
// that was never written, was written for another seed, or was shifted
// does not check.
func patternByte(seed, k int) byte { return byte(seed*31 + k*7 + 1) }

// Fill writes the pattern of seed into b.
func Fill(b []byte, seed int) { FillEvery(b, seed, 1) }

// Check reports whether b holds the pattern of seed.
func Check(b []byte, seed int) bool { return CheckEvery(b, seed, 1) }

// FillEvery writes the pattern of seed into every stride-th byte of b only:
// with a stride just under the page size it touches every page of a large
// buffer, cheaply.
func FillEvery(b []byte, seed, stride int) {
	for k := 0; k < len(b); k += stride {
		b[k] = patternByte(seed, k)
	}
}

// CheckEvery checks what FillEvery wrote; a negative seed checks that those
// bytes are zero.
func CheckEvery(b []byte, seed, stride int) bool {
	for k := 0; k < len(b); k += stride {
		want := byte(0)
		if seed >= 0 {
			want = patternByte(seed, k)
		}
		if b[k] != want {
			return false
		}
	}
	return true
}
