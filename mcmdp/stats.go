package mcmdp

import "sync/atomic"

// Stats counts what a connection moved and what went wrong.
type Stats struct {
	FramesTx, BytesTx uint64
	FramesRx, BytesRx uint64
	// SeqGaps: frames missing between consecutive received SeqNums.
	SeqGaps uint64
	// RingFull: DequeueBuffer calls that found the ring full and waited.
	RingFull uint64
	// Reconnects: sessions after the first.
	Reconnects uint64
	// FramingErrors: received frames marked as carrying SeqNum and
	// Timestamp whose trailer was not there.
	FramingErrors uint64
	// PlainFrames: received frames from a plain memif peer (payload only,
	// no SeqNum or Timestamp): not an error.
	PlainFrames uint64
	// PeerFaults: sessions ended because the peer sent a frame larger than
	// this side's parameters allow (see ErrPeerFault).
	PeerFaults uint64
	// MediaMismatches: sessions refused because the peer's media differ
	// (see ErrMediaMismatch).
	MediaMismatches uint64
}

type stats struct {
	framesTx, bytesTx, framesRx, bytesRx atomic.Uint64
	seqGaps, ringFull, framing           atomic.Uint64
	peerFaults, plain, mediaMismatches   atomic.Uint64
}

// Stats returns the counters so far.
func (c *Conn) Stats() Stats {
	s := &c.st
	return Stats{
		FramesTx: s.framesTx.Load(), BytesTx: s.bytesTx.Load(),
		FramesRx: s.framesRx.Load(), BytesRx: s.bytesRx.Load(),
		SeqGaps: s.seqGaps.Load(), RingFull: s.ringFull.Load(),
		Reconnects: c.reconnects(), FramingErrors: s.framing.Load(), PlainFrames: s.plain.Load(),
		PeerFaults: s.peerFaults.Load(), MediaMismatches: s.mediaMismatches.Load(),
	}
}

// reconnects is the engine's own count, so it is exact even while the Conn
// has not yet caught up with a session that came and went.
func (c *Conn) reconnects() uint64 {
	if n := c.iface.Status().Connects; n > 1 {
		return n - 1
	}
	return 0
}
