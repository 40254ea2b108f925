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

// stats: the per-frame counters are plain words under Conn.mu, where the
// data path already is; the rest are counted outside it.
type stats struct {
	framesTx, bytesTx, framesRx, bytesRx  uint64
	framing, plain                        uint64
	ringFull, peerFaults, mediaMismatches atomic.Uint64
}

// Stats returns the counters so far.
func (c *Conn) Stats() Stats {
	s := &c.st
	c.mu.Lock()
	st := Stats{
		FramesTx: s.framesTx, BytesTx: s.bytesTx, FramesRx: s.framesRx, BytesRx: s.bytesRx,
		SeqGaps: c.seq.gaps, FramingErrors: s.framing, PlainFrames: s.plain,
	}
	c.mu.Unlock()
	st.RingFull, st.PeerFaults, st.MediaMismatches = s.ringFull.Load(), s.peerFaults.Load(), s.mediaMismatches.Load()
	st.Reconnects = c.reconnects()
	return st
}

// reconnects is the engine's own count, so it is exact even while the Conn
// has not yet caught up with a session that came and went.
func (c *Conn) reconnects() uint64 {
	if n := c.iface.Status().Connects; n > 1 {
		return n - 1
	}
	return 0
}
