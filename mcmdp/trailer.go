package mcmdp

import (
	"encoding/binary"

	"github.com/mcmgo/mcm/cgo"
)

// Framing. On the wire a frame is its payload alone: the descriptor length
// is the payload length and the payload starts at the buffer's first byte,
// exactly what plain memif peers (DPDK, libmemif applications) send and
// expect. Two mcmdp peers also carry SeqNum and Timestamp out of band, in
// 16 bytes past the payload's end, little-endian:
//
//	offset 0  uint32  magic 0x314D434D ("MCM1" in memory order)
//	offset 4  uint32  SeqNum
//	offset 8  int64   Timestamp (the sender's clock, nanoseconds)
//
// They follow the payload in the last descriptor holding some, when 16
// bytes are left in its buffer, else they open the next descriptor, which
// holds no payload; descriptors after the trailer's go out empty, their
// first 4 bytes cleared. The trailer's descriptor has the metadata word
// frameMark where the engine carries metadata. A receiver reads a trailer
// where the mark says, or, in a frame without marks (its own or the
// sender's engine has no metadata: upstream libmemif), in those two places
// by position, where the magic decides; always only inside the peer's
// region (the seam bounds cap(Data) by it). Plain peers leave the metadata
// word alone, never read past the length, and never write the magic.
//
// A discarded frame (Conn.Discard) goes out as empty descriptors, the first
// marked discardMark and holding a trailer whose magic is discardMagic.
const (
	trailerSize  = 16
	trailerMagic = 0x314D434D
	discardMagic = 0x444D434D // "MCMD": the trailer of a discarded frame
	frameMark    = 0x544D434D // "MCMT": a trailer follows this descriptor's data
	discardMark  = 0x444D434D // "MCMD": a frame the sender discarded; skip it
)

func putTrailer(b []byte, magic, seq uint32, ts int64) {
	binary.LittleEndian.PutUint32(b[0:], magic)
	binary.LittleEndian.PutUint32(b[4:], seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(ts))
}

func getTrailer(b []byte, magic uint32) (seq uint32, ts int64, ok bool) {
	if len(b) < trailerSize || binary.LittleEndian.Uint32(b) != magic {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32(b[4:]), int64(binary.LittleEndian.Uint64(b[8:])), true
}

// pastEnd is the room after a received buffer's data, as far as trailerSize.
func pastEnd(d []byte) []byte {
	return d[len(d):min(cap(d), len(d)+trailerSize)]
}

// unmarkedTrailer finds the trailer of a frame without marks by position:
// opening the descriptor after the last one with payload, else past that
// payload.
func unmarkedTrailer(segs []memif.Buffer) (seq uint32, ts int64, ok bool) {
	last := len(segs) - 1
	for last >= 0 && segs[last].Len == 0 {
		last--
	}
	if last+1 < len(segs) {
		if seq, ts, ok = getTrailer(pastEnd(segs[last+1].Data), trailerMagic); ok {
			return seq, ts, ok
		}
	}
	if last >= 0 {
		return getTrailer(pastEnd(segs[last].Data), trailerMagic)
	}
	return 0, 0, false
}
