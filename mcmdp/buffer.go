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
	discard bool           // Tx: goes out empty, marked for the receiver to skip
	stage   []byte         // chains: the contiguous copy
	single  []memif.Buffer // this entry's own room for one descriptor
	pins    memif.Session  // ended session whose placeholders this held buffer keeps (0: none)
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
	chains     []chainMem     // memory of finished chains, for the next ones
}

// chainMem is what a chained frame needs besides its ring entry. It comes
// from the queue's pool and goes back when the frame is done, so a queue
// keeps as many as frames are outstanding at once, not one per ring entry:
// over upstream libmemif a 1080p frame is a chain of 127 buffers on a
// 1,024-slot ring, and a staging copy per entry would be 8 GiB.
type chainMem struct {
	segs  []memif.Buffer
	stage []byte
}

func newQueue(id uint16, ringSize int) *queue {
	q := &queue{id: id, entries: make([]Buffer, ringSize), pending: make([]memif.Buffer, 0, ringSize)}
	one := make([]memif.Buffer, ringSize)
	for k := range q.entries {
		q.entries[k].single = one[k : k : k+1]
	}
	return q
}

// setSegs gives b a copy of segs: in b's own room for one descriptor, or
// in chain memory from the pool (b.stage is then the pooled staging copy,
// nil or of any size: the caller sizes it).
func (q *queue) setSegs(b *Buffer, segs []memif.Buffer) {
	b.chained = len(segs) > 1
	if !b.chained {
		b.segs = append(b.single[:0], segs...)
		return
	}
	var m chainMem
	if n := len(q.chains); n > 0 {
		m = q.chains[n-1]
		q.chains = q.chains[:n-1]
	}
	b.segs = append(m.segs[:0], segs...)
	b.stage = m.stage
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
	if b.chained { // b.segs stays readable until the next setSegs
		q.chains = append(q.chains, chainMem{b.segs, b.stage})
		b.stage = nil
	}
	return b
}

// heldBlocks (Tx) reports a ring full of this side's own unsent frames
// behind one the application still holds: nothing the peer does can free
// room, since memif sends in ring order.
func (q *queue) heldBlocks() bool {
	if q.head == q.tail || q.entries[q.head%uint64(len(q.entries))].state != bufOut {
		return false
	}
	descs := 0
	for k := q.head; k != q.tail; k++ {
		descs += len(q.entries[k%uint64(len(q.entries))].segs)
	}
	return descs >= len(q.entries)
}
