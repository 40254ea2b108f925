package cli

import (
	"bytes"
	"fmt"
	"hash/crc32"
)

// Pattern is the test signal: a byte sequence a little longer than a frame,
// so frame n is the window starting at (n*7) mod 256. Producing and
// checking a frame is one memmove or memcmp: no per-byte arithmetic on the
// hot path, yet every frame differs and a stale or reordered frame shows.
type Pattern struct {
	buf  []byte
	size int
	// marked holds, for a sender's small frames, the 256 frames whole, mark
	// included: a frame is then one copy into shared memory, not two
	// (small frames are many, and each store into a line the receiver
	// holds waits for it).
	marked []byte
}

// markedMax: frames up to this size are kept whole (256 of them).
const markedMax = 4096

// NewPattern prepares the pattern for checking frames of size bytes; Fill
// works too, a frame in two copies.
func NewPattern(size int) *Pattern {
	b := make([]byte, size+256)
	for i := range b {
		b[i] = byte(i*131 + i>>9)
	}
	return &Pattern{buf: b, size: size}
}

// NewSendPattern is NewPattern for a sender: small frames are also kept
// whole, up to 1 MiB of them, so Fill is one copy. A receiver has no use
// for them.
func NewSendPattern(size int) *Pattern {
	p := NewPattern(size)
	if size <= markedMax {
		p.marked = make([]byte, 256*size)
		for off := range 256 {
			f := p.marked[off*size : (off+1)*size]
			copy(f, p.buf[off:])
			copy(f, patternMark)
		}
	}
	return p
}

func (p *Pattern) window(seq uint32, n int) []byte {
	off := windowAt(seq)
	return p.buf[off : off+n]
}

// windowAt is where frame seq's window starts in the pattern, 0..255.
func windowAt(seq uint32) int { return int(seq*7) % 256 }

// patternMark opens every test-pattern frame of 8 bytes or more, so a
// receiver can tell the pattern from real content (mcm-send --input).
var patternMark = []byte("MCMPATRN")

// Fill writes frame seq into dst, of at most the pattern's frame size.
func (p *Pattern) Fill(dst []byte, seq uint32) {
	if p.marked != nil && len(dst) <= p.size {
		off := windowAt(seq) * p.size
		copy(dst, p.marked[off:off+p.size])
		return
	}
	copy(dst, p.window(seq, len(dst)))
	copy(dst, patternMark)
}

// Check reports whether got is frame seq.
func (p *Pattern) Check(got []byte, seq uint32) bool {
	if len(got) > p.size {
		return false
	}
	w := p.window(seq, len(got))
	if n := min(len(got), len(patternMark)); !bytes.Equal(got[:n], patternMark[:n]) {
		return false
	}
	return len(got) <= len(patternMark) || bytes.Equal(got[len(patternMark):], w[len(patternMark):])
}

// IsPattern tells a test-pattern frame from real content by its opening
// mark; frames too short to carry it count as pattern.
func IsPattern(b []byte) bool {
	return len(b) < len(patternMark) || bytes.Equal(b[:len(patternMark)], patternMark)
}

// Checksum is a running CRC-32C over payload bytes, in stream order.
type Checksum struct {
	on  bool
	crc uint32
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// NewChecksum is active when on.
func NewChecksum(on bool) *Checksum { return &Checksum{on: on} }

// Add folds b in.
func (c *Checksum) Add(b []byte) {
	if c.on {
		c.crc = crc32.Update(c.crc, castagnoli, b)
	}
}

// String is the checksum in hex, or "" when inactive.
func (c *Checksum) String() string {
	if !c.on {
		return ""
	}
	return fmt.Sprintf("%08x", c.crc)
}
