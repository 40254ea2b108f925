package mcmdp

import "encoding/binary"

// Framing. On the wire a frame is its payload alone: the descriptor length
// is the payload length and the payload starts at the buffer's first byte,
// exactly what plain memif peers (DPDK, libmemif applications) send and
// expect. Two mcmdp peers also carry SeqNum and Timestamp out of band: the
// last descriptor of a frame has the metadata word frameMark, and 16 bytes
// follow its declared length in the same buffer, little-endian:
//
//	offset 0  uint32  magic 0x314D434D ("MCM1" in memory order)
//	offset 4  uint32  SeqNum
//	offset 8  int64   Timestamp (the sender's clock, nanoseconds)
//
// Plain peers leave the metadata word alone and never read past the
// length; a receiver reads the trailer only where the mark says, and only
// inside the peer's region (the seam bounds cap(Data) by it).
const (
	trailerSize  = 16
	trailerMagic = 0x314D434D
	frameMark    = 0x544D434D // "MCMT": a trailer follows this descriptor's data
	discardMark  = 0x444D434D // "MCMD": a frame the sender discarded; skip it
)

func putTrailer(b []byte, seq uint32, ts int64) {
	binary.LittleEndian.PutUint32(b[0:], trailerMagic)
	binary.LittleEndian.PutUint32(b[4:], seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(ts))
}

func getTrailer(b []byte) (seq uint32, ts int64, ok bool) {
	if len(b) < trailerSize || binary.LittleEndian.Uint32(b) != trailerMagic {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32(b[4:]), int64(binary.LittleEndian.Uint64(b[8:])), true
}

// pastEnd is the room after a received buffer's data, as far as trailerSize.
func pastEnd(d []byte) []byte {
	return d[len(d):min(cap(d), len(d)+trailerSize)]
}
