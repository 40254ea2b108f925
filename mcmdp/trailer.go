package mcmdp

import "encoding/binary"

// The metadata trailer follows the payload in the same buffer (or chain),
// so the payload starts at the buffer's first byte, aligned, exactly as the
// sender wrote it. 16 bytes, little-endian:
//
//	offset 0  uint32  magic 0x314D434D ("MCM1" in memory order)
//	offset 4  uint32  SeqNum
//	offset 8  int64   Timestamp (the sender's clock, nanoseconds)
const (
	trailerSize  = 16
	trailerMagic = 0x314D434D
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
