package mcmdp

import "errors"

var (
	// ErrTimeout: DequeueBuffer's timeout passed with no buffer.
	ErrTimeout = errors.New("mcmdp: timeout")
	// ErrDisconnected: the peer went away; the Conn resumes by itself when
	// it returns. Buffers dequeued before are void.
	ErrDisconnected = errors.New("mcmdp: peer disconnected")
	// ErrClosed: the Conn was closed.
	ErrClosed = errors.New("mcmdp: connection closed")
	// ErrNeverConnected: CreateConnection's context ended first.
	ErrNeverConnected = errors.New("mcmdp: never connected")
	// ErrBufferState: a buffer enqueued twice, from another Conn, or from
	// before a reconnect.
	ErrBufferState = errors.New("mcmdp: buffer is not dequeued from this connection")
	// ErrFrameTooLarge: a frame needs more shared-memory buffers than the
	// ring holds (or than one call can chain, 256): raise BufferSize.
	ErrFrameTooLarge = errors.New("mcmdp: frame needs more buffers than the ring holds; raise BufferSize")
	// ErrPeerFault: the peer sent a frame longer than this connection's
	// parameters allow (or a chain that cannot end within the ring); its
	// session was ended with that reason. Returned wrapped together with
	// ErrDisconnected, since the Conn then waits for the next peer.
	ErrPeerFault = errors.New("mcmdp: peer broke the frame size")
	// ErrLen: Len outside the buffer.
	ErrLen = errors.New("mcmdp: buffer Len out of range")
)
