package mcmdp

import "github.com/mcmgo/mcm/cgo"

// The per-frame work of the burst calls, for the common case: frames of
// one descriptor, on a queue of the current session. Each is one loop over
// the burst with what does not change hoisted out of it; anything else
// (chains, Discard, Debug, a stale or foreign buffer) leaves the loop for
// the general path, which handles it and reports its errors.

// takeReserved is a sender's DequeueBuffer when a reserved slot is there
// (see reserve), or nil: then the general path decides.
func (c *Conn) takeReserved() *Buffer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up || c.loss != nil || c.iface.Session() != c.session || c.closed.Load() {
		return nil // sync has something to do, or an end to report
	}
	q := c.queues[c.rr]
	if q.handed == q.reserved {
		return nil
	}
	q.ask = 1
	c.nextQueue()
	return c.frameAt(q)
}

// handOut makes the next len(bufs) reserved slots of q frames; the caller
// made sure that many are reserved.
func (c *Conn) handOut(q *queue, bufs []*Buffer) {
	payload := int(c.layout.payload)
	seq, pos, frame := c.nextSeq, q.handed, q.tail
	entries, descs, mask := q.entries, q.descs, q.mask
	for k := range bufs {
		b := &entries[frame&mask]
		d := single(b, descs, pos&mask)
		b.Data, b.Len = d.Data[:payload], payload
		b.SeqNum, b.Timestamp, b.state = seq, 0, bufOut
		bufs[k] = b
		seq, pos, frame = seq+1, pos+1, frame+1
	}
	c.nextSeq, q.handed, q.tail = seq, pos, frame
}

// markRun marks done the longest run at the start of bufs that the fast
// path takes (see above), all of one queue, and returns it and its length.
func (c *Conn) markRun(bufs []*Buffer) (*queue, int) {
	first := bufs[0]
	if first == nil || first.q == nil || first.q.conn != c || !c.up || first.q.session != c.session ||
		c.closed.Load() || c.p.Debug {
		return nil, 0
	}
	q := first.q
	if c.tx {
		return q, c.markTxRun(q, bufs)
	}
	n := 0
	for _, b := range bufs {
		if b == nil || b.q != q || b.state != bufOut {
			break
		}
		b.state, b.Data = bufDone, nil
		n++
	}
	return q, n
}

func (c *Conn) markTxRun(q *queue, bufs []*Buffer) int {
	payload, raw := c.layout.payload, c.p.Raw
	n, bytes := 0, uint64(0)
	// While the run is the oldest outstanding frames, in order, marking
	// them done is popping them too (see flushTx, which sends them first):
	// one pass over the frames instead of two. head and popped live in
	// registers until the end: the stores through b could alias q.
	head, popped, entries, mask := q.head, q.popped, q.entries, q.mask
	oldest := &entries[head&mask]
	for _, b := range bufs {
		if b == nil || b.q != q || b.state != bufOut || b.chain != nil || b.discard || uint(b.Len) > uint(payload) {
			break
		}
		seg := &b.segs[0]
		seg.Len, seg.Metadata = b.Len, 0
		if !raw {
			markFramed(b, seg)
		}
		b.state, b.Data = bufDone, nil
		if b == oldest && popped < maxBurst {
			b.state = bufFree
			head++
			popped++
			oldest = &entries[head&mask]
		} else {
			oldest = nil // popping stops at the first frame it cannot pop
		}
		bytes += uint64(b.Len)
		n++
	}
	q.head, q.popped = head, popped
	c.txInSession += uint64(n)
	c.st.framesTx += uint64(n)
	c.st.bytesTx += bytes
	return n
}

// markFramed writes a frame's trailer past its payload (it was allocated
// with room for it) and marks its descriptor. Out of line, it leaves the
// loop calling it registers enough for a raw stream.
//
//go:noinline
func markFramed(b *Buffer, seg *memif.Buffer) {
	putTrailer(seg.Data[b.Len:], trailerMagic, b.SeqNum, b.Timestamp)
	seg.Metadata = frameMark
}

// takeSingles delivers, into bufs, the frames of one descriptor that q has
// read and not yet delivered, up to the first one that needs more care (a
// chain, a discarded frame, one too long); it returns how many.
func (c *Conn) takeSingles(q *queue, bufs []*Buffer) int {
	if q.faulted {
		return 0
	}
	wire, framed := int(c.layout.wire), !c.p.Raw
	n, next, frame, seq, bytes := 0, q.next, q.tail, c.rxCount, uint64(0)
	entries, descs, mask, read := q.entries, q.descs, q.mask, q.read
	for n < len(bufs) && next != read {
		d := &descs[next&mask]
		if d.Next || len(d.Data) > wire || framed && (d.Metadata == discardMark || d.Metadata == 0 && len(d.Data) == 0) {
			break // an empty unmarked one may be a discard from a sender without metadata
		}
		b := &entries[frame&mask]
		single(b, descs, next&mask)
		b.Data, b.Len = d.Data, len(d.Data)
		b.SeqNum, b.Timestamp, b.Framed, b.state = seq, 0, false, bufOut
		if framed { // see deliver
			s, ts, ok := getTrailer(pastEnd(d.Data), trailerMagic)
			switch {
			case ok:
				b.SeqNum, b.Timestamp, b.Framed = s, ts, true
				c.seq.add(s)
			case d.Metadata == frameMark:
				c.st.framing++
			default:
				c.st.plain++
			}
		}
		bufs[n] = b
		bytes += uint64(len(d.Data))
		n, next, frame, seq = n+1, next+1, frame+1, seq+1
	}
	q.next, q.tail, c.rxCount = next, frame, seq
	c.rxInSession += uint64(n)
	c.st.framesRx += uint64(n)
	c.st.bytesRx += bytes
	return n
}
