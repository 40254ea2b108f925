package mcmdp

import "github.com/mcmgo/mcm/cgo"

// Buffer is MCM's mcm_buffer.
//
// On Tx, DequeueBuffer returns Data spanning the whole frame capacity and
// Len set to it; fill Data, lower Len if the frame is shorter, optionally
// set SeqNum (pre-set to the next sequence number) and Timestamp, then
// EnqueueBuffer sends Data[:Len]. On Rx, Data holds exactly the received
// payload (Len = len(Data)) with the sender's SeqNum and Timestamp.
//
// Zero-copy contract: when a frame fits one shared-memory buffer (the
// default: buffers are sized from the media), Data is that shared memory.
// It stays valid until EnqueueBuffer returns the buffer, Close, or a
// disconnect (after which the bundled engine shows zeros, never a fault,
// until the buffer is given back: EnqueueBuffer then answers
// ErrDisconnected and frees the placeholder once no buffer of that session
// is held).
// Frames larger than one buffer (a BufferSize override, or a peer with
// small buffers) are chains, and Data is a per-slot staging copy instead.
// With ConnParam.Debug, Data is swapped for a faulting guard at enqueue.
type Buffer struct {
	Data      []byte
	Len       int
	SeqNum    uint32
	Timestamp int64
	// Framed (Rx) says SeqNum and Timestamp are the sender's: it is an
	// mcmdp peer. From a plain memif peer, SeqNum counts frames on this
	// side and Timestamp is 0.
	Framed bool

	conn    *Conn
	session memif.Session // the engine session it belongs to
	q       *queue
	state   uint8
	segs    []memif.Buffer // the descriptors: one, or a chain
	mem     []byte         // Tx zero-copy: the whole shared buffer
	chained bool
	stage   []byte        // chains: the contiguous copy
	pins    memif.Session // ended session whose placeholders this held buffer keeps (0: none)
}

const (
	bufFree uint8 = iota
	bufOut        // dequeued, owned by the application
	bufDone       // enqueued, waiting for older buffers to go first
)

// queue keeps one ring's buffers in the order the ring hands them out:
// memif sends and releases descriptors strictly in ring order, so a buffer
// enqueued early waits for the older ones.
type queue struct {
	id         uint16
	entries    []Buffer
	head, tail uint64         // oldest outstanding frame, next frame
	pending    []memif.Buffer // Rx: descriptors read, not yet delivered...
	next       int            // ...from pending[next:]
	faulted    bool           // Rx: the peer broke the frame size; not read again
}

func newQueue(id uint16, ringSize int) *queue {
	return &queue{id: id, entries: make([]Buffer, ringSize), pending: make([]memif.Buffer, 0, ringSize)}
}

// push takes the next entry; at most ring-size frames are ever outstanding,
// since each holds at least one descriptor.
func (q *queue) push() *Buffer {
	b := &q.entries[q.tail%uint64(len(q.entries))]
	q.tail++
	b.q = q
	return b
}

// popDone returns the oldest outstanding entry if it is done and its
// descriptors fit in room, removing it.
func (q *queue) popDone(room int) *Buffer {
	if q.head == q.tail {
		return nil
	}
	b := &q.entries[q.head%uint64(len(q.entries))]
	if b.state != bufDone || len(b.segs) > room {
		return nil
	}
	b.state = bufFree
	q.head++
	return b
}
