package memif

// Capabilities says which behaviours beyond upstream libmemif 4.0 the linked
// engine has. The bundled engine has them all; a libmemif_system build over
// upstream has none, and what depends on them degrades as documented on
// each field. Tests of those behaviours skip by name when one is false.
type Capabilities struct {
	// BufferSize32: buffers above 65,535 bytes, so one descriptor holds a
	// whole video frame. Without it frames travel as chains.
	BufferSize32 bool
	// Metadata: the descriptor's 32-bit metadata word reaches the peer.
	// Without it Buffer.Metadata is sent and received as 0.
	Metadata bool
	// Reasons: refusals are reported on the refusing side too (Status,
	// Socket.LastError), and a refused slave learns why. Without it only
	// the reason of a session's DISCONNECT reaches Status. SetCloseReason's
	// text reaches the peer either way (over upstream the seam sends the
	// DISCONNECT itself, as libmemif 4.x sends none at delete).
	Reasons bool
	// HandshakeTimeout: a silent peer is dropped after
	// SocketConfig.HandshakeTimeout; without it it holds the interface.
	HandshakeTimeout bool
	// Fault: Interface.Fault ends a session with a reason.
	Fault bool
	// ReleaseStale: buffers held across a disconnect stay mapped (zero
	// placeholders) until released. Without it (upstream) the seam puts
	// zero pages back right after the engine unmapped the session, so
	// only a use of such a buffer at the moment of the disconnect faults.
	ReleaseStale bool
	// TxWait: a sender waiting for ring room sleeps until the peer
	// releases buffers; without it WaitTx polls.
	TxWait bool
	// TxInFlightAtEnd: Interface.TxInFlight answers for the last session
	// that ended, with its count at the end, so a sender draining at Close
	// learns what the receiver really left when it left. Without it the
	// drain has only the last count it read before the end.
	TxInFlightAtEnd bool
	// ModeCheck: a master refuses a slave of another interface mode.
	ModeCheck bool
	// TxValidation: Tx refuses buffers that were not allocated, or out of
	// allocation order (upstream sends whatever the ring index reaches).
	TxValidation bool
	// DuplicateIDCheck: a second interface with the same id and role on
	// one socket is refused at creation.
	DuplicateIDCheck bool
	// Prefault: Config.Prefault maps a session's buffers at connect.
	// Without it they fault in on first touch.
	Prefault bool
	// TxAlloc: Interface.TxAlloc sends and allocates the next buffers in
	// one engine call. Without it TxAlloc only sends, and the allocation
	// costs a call of its own.
	TxAlloc bool
	// TxSingles: Interface.TxSingles, the leaner TxAlloc for packets of
	// one buffer each. Without it, use TxAlloc.
	TxSingles bool
	// Hardened: the engine holds up against a hostile peer and a process
	// short of fds: it checks the peer's messages, descriptors and fds against
	// the memif spec and ends a lying session with a reason, never blocks
	// on a peer's fd, and backs off accepting at the fd limit. Upstream
	// checks less (a received descriptor's bounds not at all): connect it
	// only to peers you trust.
	Hardened bool
	// SharedSocket: masters and slaves of one process may share a socket,
	// and the socket file goes with the last master on it. Without it
	// (upstream: a slave connects with a blocking connect under the
	// socket's lock, while only that socket's event goroutine would accept
	// it; the listener stays until the socket is deleted) give each role
	// its own socket on a path.
	SharedSocket bool
}

// EngineCapabilities reports the capabilities of the linked engine.
func EngineCapabilities() Capabilities { return engineCaps }
