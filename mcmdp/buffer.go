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

	state   uint8
	discard bool // Tx: goes out empty, marked for the receiver to skip
	pinned  bool // of an ended session whose placeholders it keeps (see unpin)
	q       *queue
	// segs are the descriptors: one, in the queue's descs, or a chain, in
	// chain memory. On Tx, segs[0].Data is the whole shared buffer.
	segs  []memif.Buffer
	chain *chainMem // chains only
}

const (
	bufFree uint8 = iota
	bufOut        // dequeued, owned by the application
	bufDone       // enqueued, waiting for older buffers to go first
)

// queue keeps one ring's frames in the order the ring hands them out:
// memif sends and releases descriptors strictly in ring order, so a frame
// enqueued early waits for the older ones.
//
// Positions are free-running counters, used modulo the ring size (a power
// of two) to index entries and descs.
type queue struct {
	conn    *Conn
	session memif.Session // the engine session it belongs to
	id      uint16
	mask    uint64   // ring size - 1
	entries []Buffer // frame number & mask: the outstanding frames
	head    uint64   // oldest outstanding frame
	tail    uint64   // next frame
	// descs holds, at position & mask, the descriptor of every frame that
	// takes one (chains keep theirs in chain memory), so the engine reads
	// and writes them where they stay, with no copy per frame.
	//
	// Tx: [sent, handed) belong to outstanding frames, [handed, reserved)
	// are slots the engine allocated ahead, for the next frames (see
	// reserve). Rx: [freed, next) belong to delivered frames not yet given
	// back to the ring, [next, read) were read and not yet delivered.
	descs                  []memif.Buffer
	sent, handed, reserved uint64
	ask                    int    // Tx: buffers the last dequeue asked for
	popped                 uint64 // Tx: frames before head done and not yet sent (see markTxRun)
	freed, next, read      uint64
	faulted                bool        // Rx: the peer broke the frame size; not read again
	chains                 []*chainMem // memory of finished chains, for the next ones
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

// newQueue: ringSize is a power of two, as memif rings are.
func newQueue(c *Conn, id uint16, ringSize int) *queue {
	q := &queue{conn: c, session: c.session, id: id, mask: uint64(ringSize - 1),
		entries: make([]Buffer, ringSize), descs: make([]memif.Buffer, ringSize)}
	for k := range q.entries {
		q.entries[k].q = q
	}
	return q
}

func (q *queue) size() uint64 { return q.mask + 1 }

// Positions only need to be consecutive while they are in use: with none
// in use they start over at 0, so the next engine call finds descs free in
// one piece, and the descriptors in use stay few and warm in the cache.

// rebaseTx starts Tx positions over when no frame holds one; slots still
// reserved move to the start of descs with them.
func (q *queue) rebaseTx() {
	if q.sent != q.handed || q.sent == 0 {
		return
	}
	from, n := q.handed&q.mask, q.reserved-q.handed
	if from+n > q.size() {
		return // they wrap: the room after them is in one piece already
	}
	copy(q.descs, q.descs[from:from+n])
	q.sent, q.handed, q.reserved = 0, 0, n
}

// rebaseRx starts Rx positions over when no descriptor is held.
func (q *queue) rebaseRx() {
	if q.freed == q.read && q.read != 0 {
		q.freed, q.next, q.read = 0, 0, 0
	}
}

// setSingle gives b the single descriptor at position pos.
func (q *queue) setSingle(b *Buffer, pos uint64) {
	single(b, q.descs, pos&q.mask)
}

// single gives b the one descriptor descs[k] and returns it. In a steady
// stream an entry meets the same slot lap after lap and has it already: a
// compare is cheaper than four stores.
func single(b *Buffer, descs []memif.Buffer, k uint64) *memif.Buffer {
	d := &descs[k]
	if b.chain != nil || len(b.segs) != 1 || &b.segs[0] != d {
		b.segs, b.chain = descs[k:k+1:k+1], nil
	}
	return d
}

// setChain gives b a copy of segs, appended, in chain memory from the pool
// (its stage is then the pooled staging copy, nil or of any size: the
// caller sizes it).
func (q *queue) setChain(b *Buffer, segs ...[]memif.Buffer) {
	var m *chainMem
	if n := len(q.chains); n > 0 {
		m = q.chains[n-1]
		q.chains = q.chains[:n-1]
	} else {
		m = &chainMem{} // only then: allocated up front it escaped every time
	}
	m.segs = m.segs[:0]
	for _, s := range segs {
		m.segs = append(m.segs, s...)
	}
	b.segs, b.chain = m.segs, m
}

// push takes the next entry; at most ring-size frames are ever outstanding,
// since each holds at least one descriptor.
func (q *queue) push() *Buffer {
	b := &q.entries[q.tail&q.mask]
	q.tail++
	return b
}

// popDone returns the oldest outstanding entry if it is done, removing it.
// A chain's memory goes back to the pool; b.chain and b.segs stay readable
// until the next setChain (the entry's next frame resets them).
func (q *queue) popDone() *Buffer {
	if q.head == q.tail {
		return nil
	}
	b := &q.entries[q.head&q.mask]
	if b.state != bufDone {
		return nil
	}
	b.state = bufFree
	q.head++
	if b.chain != nil {
		q.chains = append(q.chains, b.chain)
	}
	return b
}

// heldBlocks (Tx) reports a ring full of this side's own unsent frames
// behind one the application still holds: nothing the peer does can free
// room, since memif sends in ring order.
func (q *queue) heldBlocks() bool {
	if q.head == q.tail || q.entries[q.head&q.mask].state != bufOut {
		return false
	}
	descs := 0
	for k := q.head; k != q.tail; k++ {
		descs += len(q.entries[k&q.mask].segs)
	}
	return uint64(descs) >= q.size()
}
