package mcmdp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

var (
	// ErrTimeout: DequeueBuffer's timeout passed with no buffer.
	ErrTimeout = errors.New("mcmdp: timeout")
	// ErrDisconnected: the session ended; the Conn resumes by itself when
	// a peer returns. Buffers dequeued before are void. DequeueBuffer(s)
	// report each ended session once (as this, or as a *PeerClosed or an
	// *EndOfStream, which match it too), then wait for the next session.
	ErrDisconnected = errors.New("mcmdp: peer disconnected")
	// ErrPeerClosed: the peer ended the session on purpose (its Close),
	// rather than vanishing; the error is a *PeerClosed with its reason.
	ErrPeerClosed = errors.New("mcmdp: peer closed the connection")
	// ErrEndOfStream: the sender closed after its last frame; the error is
	// an *EndOfStream with its count.
	ErrEndOfStream = errors.New("mcmdp: end of stream")
	// ErrClosed: the Conn was closed.
	ErrClosed = errors.New("mcmdp: connection closed")
	// ErrNeverConnected: CreateConnection's context ended first.
	ErrNeverConnected = errors.New("mcmdp: never connected")
	// ErrBufferState: a buffer enqueued twice, from another Conn, or from
	// before a reconnect.
	ErrBufferState = errors.New("mcmdp: buffer is not dequeued from this connection")
	// ErrFrameTooLarge: a frame needs more shared-memory buffers than the
	// ring holds (or than one call can chain, 256). The error says which
	// side can fix it: the slave sets the sizes of a session.
	ErrFrameTooLarge = errors.New("mcmdp: frame needs more buffers than the ring holds")
	// ErrPeerFault: the peer sent a frame longer than this connection's
	// parameters allow (or a chain that cannot end within the ring); its
	// session was ended with that reason. Returned wrapped together with
	// ErrDisconnected, since the Conn then waits for the next peer.
	ErrPeerFault = errors.New("mcmdp: peer broke the frame size")
	// ErrHeldBuffer: the ring is full of frames waiting behind a buffer
	// that was dequeued and never enqueued; memif sends in ring order, so
	// enqueue it or Discard it.
	ErrHeldBuffer = errors.New("mcmdp: ring full behind a dequeued buffer never enqueued; enqueue or Discard it")
	// ErrLen: Len outside the buffer.
	ErrLen = errors.New("mcmdp: buffer Len out of range")
)

// PeerClosed is a session the peer ended on purpose, with the reason from
// its DISCONNECT (CloseWithReason's, or "receiver closed" from a receiver's
// Close). It matches ErrPeerClosed and ErrDisconnected.
type PeerClosed struct{ Reason string }

func (e *PeerClosed) Error() string { return "mcmdp: peer closed the connection: " + e.Reason }

func (e *PeerClosed) Is(target error) bool {
	return target == ErrPeerClosed || target == ErrDisconnected
}

// EndOfStream is a session whose sender closed after its last frame: Sent
// frames in that session by its count, Received by this side's. Frames
// still on the rings when the sender gave up waiting count as lost. It
// matches ErrEndOfStream, ErrPeerClosed and ErrDisconnected.
type EndOfStream struct{ Sent, Received uint64 }

func (e *EndOfStream) Error() string {
	return fmt.Sprintf("mcmdp: end of stream: %d frames sent, %d received", e.Sent, e.Received)
}

func (e *EndOfStream) Is(target error) bool {
	return target == ErrEndOfStream || target == ErrPeerClosed || target == ErrDisconnected
}

// Lost is how many frames of the session never arrived.
func (e *EndOfStream) Lost() uint64 { return e.Sent - min(e.Received, e.Sent) }

// The DISCONNECT reasons of a Close: what a sender and a receiver say when
// they leave on purpose. Plain peers see ordinary memif reasons.
const (
	eosPrefix      = "end of stream: "
	receiverClosed = "receiver closed"
)

func endOfStreamReason(sent uint64) string {
	return eosPrefix + strconv.FormatUint(sent, 10) + " frames"
}

// parseEndOfStream reads a sender's end-of-stream reason.
func parseEndOfStream(reason string) (uint64, bool) {
	n, ok := strings.CutPrefix(reason, eosPrefix)
	if !ok {
		return 0, false
	}
	n, ok = strings.CutSuffix(n, " frames")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(n, 10, 64)
	return v, err == nil
}
