package mcmdp

import (
	"time"

	memif "github.com/mcmgo/mcm/cgo"
)

// DequeueBuffer is MCM's mcm_dequeue_buffer. On Tx it returns a free
// buffer for the caller to fill; on Rx the next received frame.
//
// timeout < 0 waits without limit, 0 checks once, > 0 waits at most that
// long from the call. Waits are woken by events: the sender's interrupt,
// the receiver's release of buffers, a disconnect, Close. Only a receiver
// in polling mode spins. Errors: ErrTimeout, ErrDisconnected (the peer is
// gone; the Conn resumes when it returns), ErrClosed. Never a nil buffer
// with a nil error.
func (c *Conn) DequeueBuffer(timeout time.Duration) (*Buffer, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if c.tx {
		return c.dequeueTx(timeout, deadline)
	}
	return c.dequeueRx(timeout, deadline)
}

// remaining turns the caller's timeout into the next wait's.
func remaining(timeout time.Duration, deadline time.Time) (time.Duration, bool) {
	switch {
	case timeout < 0:
		return -1, true
	case timeout == 0:
		return 0, false
	}
	left := time.Until(deadline)
	return left, left > 0
}

func (c *Conn) dequeueTx(timeout time.Duration, deadline time.Time) (*Buffer, error) {
	counted := false
	for {
		b, q, err := c.allocFrame()
		if b != nil || err != nil {
			return b, err
		}
		if !counted {
			c.st.ringFull.Add(1)
			counted = true
		}
		wait, ok := remaining(timeout, deadline)
		if !ok {
			return nil, ErrTimeout
		}
		if err := c.iface.WaitTx(q, wait, false); err != nil {
			return nil, c.mapErr(err)
		}
	}
}

// allocFrame reserves one frame's descriptors; (nil, q, nil) means queue q
// is full.
func (c *Conn) allocFrame() (*Buffer, uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, 0, ErrClosed
	}
	if !c.up {
		return nil, 0, ErrDisconnected
	}
	q := c.queues[c.rr%len(c.queues)]
	n, err := c.iface.AllocPacket(q.id, c.scratch[:], c.layout.wire)
	if err == memif.ErrNoBufRing {
		return nil, q.id, nil
	}
	if err != nil {
		return nil, 0, c.mapErr(err)
	}
	c.rr++
	b := q.push()
	b.segs = append(b.segs[:0], c.scratch[:n]...)
	b.chained = n > 1
	payload := int(c.layout.payload)
	if b.chained {
		if cap(b.stage) < payload {
			b.stage = make([]byte, payload) // once per slot, then reused
		}
		b.Data = b.stage[:payload]
	} else {
		b.mem = b.segs[0].Data
		b.Data = b.mem[:payload]
	}
	b.Len = payload
	b.SeqNum = c.nextSeq
	c.nextSeq++
	b.Timestamp = 0
	b.conn, b.session, b.state = c, c.session, bufOut
	return b, q.id, nil
}

// EnqueueBuffer is MCM's mcm_enqueue_buffer. On Tx it sends Data[:Len]
// with SeqNum and Timestamp; on Rx it gives the buffer back to the ring.
// Buffers may come back in any order. A buffer enqueued twice, from
// another Conn, or from before a reconnect is refused with ErrBufferState
// (or ErrDisconnected), never silently reused. After it returns, b.Data
// must not be used.
func (c *Conn) EnqueueBuffer(b *Buffer) error {
	if b == nil {
		return ErrBufferState
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.conn != c || b.state != bufOut {
		return ErrBufferState
	}
	if c.closed.Load() {
		return ErrClosed
	}
	if !c.up || b.session != c.session {
		b.state = bufFree
		c.retire(b)
		return ErrDisconnected
	}
	if c.tx {
		return c.enqueueTx(b)
	}
	return c.enqueueRx(b)
}

func (c *Conn) enqueueTx(b *Buffer) error {
	if b.Len < 0 || b.Len > int(c.layout.payload) {
		return ErrLen
	}
	wire := b.Len
	if !c.p.Raw {
		wire += trailerSize
	}
	if b.chained {
		c.scatter(b)
	} else {
		if !c.p.Raw {
			putTrailer(b.mem[b.Len:], b.SeqNum, b.Timestamp)
		}
		b.segs[0].Len = wire
	}
	b.state = bufDone
	c.st.framesTx.Add(1)
	c.st.bytesTx.Add(uint64(b.Len))
	c.retire(b)
	return c.flushTx(b.q)
}

// scatter copies a chained frame's staging bytes and trailer into its
// descriptors, in order; descriptors past the end carry 0 bytes.
func (c *Conn) scatter(b *Buffer) {
	var tr [trailerSize]byte
	if !c.p.Raw {
		putTrailer(tr[:], b.SeqNum, b.Timestamp)
	}
	src, off := b.stage[:b.Len], 0
	for k := range b.segs {
		seg := &b.segs[k]
		n := 0
		if off < len(src) {
			n = copy(seg.Data, src[off:])
		}
		if t := off + n - len(src); !c.p.Raw && t >= 0 && t < trailerSize {
			n += copy(seg.Data[n:], tr[t:])
		}
		seg.Len = n
		off += n
	}
}

// flushTx sends the done prefix of q in ring order, in bursts.
func (c *Conn) flushTx(q *queue) error {
	for {
		n := 0
		for b := q.popDone(len(c.scratch)); b != nil; b = q.popDone(len(c.scratch) - n) {
			n += copy(c.scratch[n:], b.segs)
		}
		if n == 0 {
			return nil
		}
		if _, err := c.iface.Tx(q.id, c.scratch[:n]); err != nil {
			return c.mapErr(err)
		}
	}
}
