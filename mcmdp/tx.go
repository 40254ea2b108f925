package mcmdp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcmgo/mcm/cgo"
)

// DequeueBuffer is MCM's mcm_dequeue_buffer. On Tx it returns a free
// buffer for the caller to fill; on Rx the next received frame.
//
// timeout < 0 waits without limit, 0 checks once, > 0 waits at most that
// long from the call. Waits are woken by events: the sender's interrupt,
// the receiver's release of buffers, a disconnect, Close. Only a receiver
// in polling mode spins. When a session ends, the next call reports it once
// — ErrDisconnected, or a *PeerClosed or an *EndOfStream, which match it —
// and the calls after it wait (within their timeout) for the next session,
// so a loop that just calls again never spins. The end is reported even
// when the peer is back by then, before any frame of the new session, and
// Connected or WaitConnected seeing the change does not take the report:
// every end, and what it lost, reaches the data path once. Other errors:
// ErrTimeout, ErrClosed. Never a nil buffer with a nil error.
func (c *Conn) DequeueBuffer(timeout time.Duration) (*Buffer, error) {
	if c.tx {
		if b := c.takeReserved(); b != nil {
			return b, nil
		}
	}
	return c.dequeue(nil, timeout)
}

// DequeueBufferContext is DequeueBuffer until ctx ends (its deadline, if
// any, is the timeout): then it returns ctx's error.
func (c *Conn) DequeueBufferContext(ctx context.Context) (*Buffer, error) {
	timeout, stop := c.contextWait(ctx)
	defer stop()
	b, err := c.dequeue(ctx, timeout)
	return b, contextTimeout(ctx, err)
}

func (c *Conn) dequeue(ctx context.Context, timeout time.Duration) (*Buffer, error) {
	w := waitClock{timeout: timeout}
	if c.tx {
		return c.dequeueTx(ctx, &w)
	}
	return c.dequeueRx(ctx, &w)
}

// contextWait turns ctx into a timeout (its deadline) and makes its end
// interrupt this Conn's waits; stop undoes that.
func (c *Conn) contextWait(ctx context.Context) (time.Duration, func() bool) {
	timeout := time.Duration(-1)
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Nanosecond)
	}
	return timeout, context.AfterFunc(ctx, c.iface.Interrupt)
}

// contextTimeout reports a wait that ran into ctx's deadline as ctx's.
func contextTimeout(ctx context.Context, err error) error {
	if err == ErrTimeout {
		if _, ok := ctx.Deadline(); ok {
			return context.DeadlineExceeded
		}
	}
	return err
}

// waitClock is one call's timeout, its clock started at the call's first
// wait: a frame or a slot that is already there costs no clock read (on
// this VM a read costs more than moving a 64 B packet). The time the first
// look takes, well under a microsecond, is not counted.
type waitClock struct {
	timeout  time.Duration // < 0 forever, 0 no wait
	deadline time.Time     // once started
}

// remaining is the next wait's length, and false once the time is up.
func (w *waitClock) remaining() (time.Duration, bool) {
	switch {
	case w.timeout < 0:
		return -1, true
	case w.timeout == 0:
		return 0, false
	case w.deadline.IsZero():
		w.deadline = time.Now().Add(w.timeout)
		return w.timeout, true
	}
	left := time.Until(w.deadline)
	return left, left > 0
}

func (c *Conn) dequeueTx(ctx context.Context, w *waitClock) (*Buffer, error) {
	counted, grow := false, 0
	for {
		b, q, err := c.allocFrame()
		switch {
		case b != nil:
			return b, nil
		case err == errNoSession:
			if err := c.awaitSession(ctx, w); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			return nil, err
		}
		if !counted {
			c.st.ringFull.Add(1)
			counted = true
		} else {
			grow++ // the peer's buffers are smaller than thought
		}
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		wait, ok := w.remaining()
		wait = ctxSlice(ctx, wait)
		if !ok {
			return nil, ErrTimeout
		}
		if err := c.iface.WaitTx(c.current(), q, wait, c.waitNeed(grow)); err != nil && !errors.Is(err, memif.ErrNoConn) && !errors.Is(err, memif.ErrTimeout) {
			return nil, c.mapErr(err)
		} // a session that ended is reported by allocFrame
	}
}

// waitNeed is how many free descriptors a full ring must show before a
// sender looks again: a slave's frames take layout.segs of its own
// buffers; a master sends into the slave's, whatever its own BufferSize
// says, so it goes by this session's frames so far. Never more than the
// ring, which would never show them.
func (c *Conn) waitNeed(grow int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queues) == 0 {
		return 1 // the session ended: the wait returns at once anyway
	}
	need := c.layout.segs
	if c.p.Memif.IsMaster {
		need = max(c.frameSegs, 1)
	}
	return min(need+grow, len(c.queues[0].entries))
}

// allocFrame reserves one frame's descriptors; (nil, q, nil) means queue q
// is full.
func (c *Conn) allocFrame() (*Buffer, uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, 0, ErrClosed
	}
	if !c.ready() {
		return nil, 0, c.downErr()
	}
	if c.tooLarge {
		return nil, 0, c.frameTooLarge()
	}
	b, q, err := c.allocFrameLocked(c.queues[c.rr])
	if err == ErrDisconnected { // the engine saw the end before sync did
		c.endSession()
		return nil, 0, c.downErr()
	}
	return b, q, err
}

func (c *Conn) allocFrameLocked(q *queue) (*Buffer, uint16, error) {
	b, id, err := c.allocFrameOnce(q)
	if b == nil && err == nil && q.head == q.tail && c.nothingInFlight(q) {
		// Upstream libmemif reports a frame larger than the ring as a full
		// ring: with nothing of ours out and the whole ring free now (it
		// may have been refilled since), one more try tells.
		if b, id, err = c.allocFrameOnce(q); b == nil && err == nil {
			return nil, 0, c.frameTooLarge()
		}
	}
	return b, id, err
}

// nothingInFlight: the peer holds none of q's buffers.
func (c *Conn) nothingInFlight(q *queue) bool {
	n, err := c.iface.TxInFlight(c.session, q.id)
	return err == nil && n == 0
}

func (c *Conn) allocFrameOnce(q *queue) (*Buffer, uint16, error) {
	if c.iface.Session() != c.session {
		return nil, 0, ErrDisconnected // reserved slots are the ended session's
	}
	q.ask = 1
	if q.handed == q.reserved && !c.chains {
		if err := c.reserve(q, 1); err != nil {
			return nil, 0, err
		}
	}
	if q.handed != q.reserved { // reserved slots go first: ring order
		c.nextQueue()
		return c.frameAt(q), q.id, nil
	}
	if !c.chains {
		return nil, q.id, c.ringFull(q)
	}
	size := c.layout.wire
	if !c.p.Raw {
		// A chain: 15 bytes more make sure the 16-byte trailer is never
		// split between two descriptors (see scatter).
		size += trailerSize - 1
	}
	// At most a ring's worth of entries: a frame needing more can never
	// go, and the engine says so (ErrNoBuf) instead of "ring full".
	n, err := c.iface.AllocPacket(c.session, q.id, c.scratch[:min(len(c.scratch), len(q.entries))], size)
	if err == memif.ErrNoBufRing {
		return nil, q.id, c.ringFull(q)
	}
	if err == memif.ErrNoBuf { // the peer's buffers make the chain too long
		return nil, 0, c.frameTooLarge()
	}
	if err != nil {
		return nil, 0, c.mapErr(err)
	}
	c.nextQueue()
	b := c.frameFrom(q)
	q.setChain(b, c.scratch[:n])
	c.frameSegs = n
	payload := int(c.layout.payload)
	if cap(b.chain.stage) < payload {
		b.chain.stage = make([]byte, payload) // once per chain in flight, then reused
	}
	b.Data, b.Len = b.chain.stage[:payload], payload
	return b, q.id, nil
}

// ringFull, under mu: no slot is free on q. That is an error only when a
// buffer the application holds blocks the ring for good.
func (c *Conn) ringFull(q *queue) error {
	if q.heldBlocks() {
		return ErrHeldBuffer
	}
	return nil
}

// frameAt makes the next reserved slot of q a frame.
func (c *Conn) frameAt(q *queue) *Buffer {
	b := c.frameFrom(q)
	q.setSingle(b, q.handed)
	q.handed++
	payload := int(c.layout.payload)
	b.Data, b.Len = b.segs[0].Data[:payload], payload
	return b
}

// frameFrom makes the next entry of q a Tx frame; the caller gives it its
// descriptors and Data.
func (c *Conn) frameFrom(q *queue) *Buffer {
	b := q.push()
	b.SeqNum = c.nextSeq
	c.nextSeq++
	b.Timestamp = 0
	b.state = bufOut
	return b
}

// nextQueue moves the round robin on (Tx: a frame was taken).
func (c *Conn) nextQueue() {
	if c.rr++; c.rr == len(c.queues) {
		c.rr = 0
	}
}

// EnqueueBuffer is MCM's mcm_enqueue_buffer. On Tx it sends Data[:Len]
// with SeqNum and Timestamp; on Rx it gives the buffer back to the ring.
// Buffers may come back in any order. A buffer enqueued twice, from
// another Conn, or from before a reconnect is refused with ErrBufferState
// (or ErrDisconnected), never silently reused. After it returns, b.Data
// must not be used.
func (c *Conn) EnqueueBuffer(b *Buffer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync() // a buffer of an ended session is turned away below
	one := [1]*Buffer{b}
	if q, n := c.markRun(one[:]); n == 1 {
		return c.flush(q)
	}
	if err := c.markDone(b); err != nil {
		return err
	}
	return c.flush(b.q)
}

// Discard gives back a buffer dequeued for sending without sending it. The
// newest buffer of its queue simply goes back to the ring; an older one
// (frames dequeued after it wait for it, since memif sends in ring order)
// goes out empty and marked, and mcmdp receivers skip it, while plain
// memif peers see a zero-length packet. On Rx it is EnqueueBuffer.
func (c *Conn) Discard(b *Buffer) error {
	if !c.tx {
		return c.EnqueueBuffer(b)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync()
	if !c.owns(b) || b.state != bufOut {
		return ErrBufferState
	}
	q := b.q
	if c.up && q.session == c.session && b == &q.entries[(q.tail-1)&q.mask] && c.unallocate(q, b) {
		q.tail--
		if b.SeqNum == c.nextSeq-1 {
			c.nextSeq-- // the sequence stays without a hole
		}
		b.state = bufFree
		if b.chain != nil { // its memory serves the next chain, as popDone does
			q.chains = append(q.chains, b.chain)
		}
		c.retire(b)
		return nil
	}
	b.discard = true
	if err := c.markDone(b); err != nil {
		return err
	}
	return c.flush(q)
}

// unallocate gives back the slots of b, the newest frame of q: a single
// descriptor becomes the next reserved slot again, a chain goes back to the
// engine (reserved slots would go with it: there are none after a chain).
func (c *Conn) unallocate(q *queue, b *Buffer) bool {
	if b.chain == nil {
		q.handed--
		return true
	}
	return q.handed == q.reserved && c.iface.Rewind(c.session, q.id, b.segs[0]) == nil
}

// owns: b is a buffer of this Conn (of any session).
func (c *Conn) owns(b *Buffer) bool {
	return b != nil && b.q != nil && b.q.conn == c
}

// markDone checks b and hands it back; the ring sees it at the next flush.
func (c *Conn) markDone(b *Buffer) error {
	if !c.owns(b) || b.state != bufOut {
		return ErrBufferState
	}
	if c.closed.Load() {
		return ErrClosed
	}
	if !c.up || b.q.session != c.session {
		b.state = bufFree
		c.retire(b)
		c.unpin(b)
		return ErrDisconnected
	}
	if !c.tx {
		b.state = bufDone
		if c.p.Debug && b.chain == nil {
			poison(b.segs[0].Data)
		}
		c.retire(b)
		return nil
	}
	if b.Len < 0 || b.Len > int(c.layout.payload) {
		return ErrLen
	}
	if b.discard { // empty, marked, with its SeqNum so no gap is counted
		b.discard = false
		for k := range b.segs {
			b.segs[k].Len, b.segs[k].Metadata = 0, 0
		}
		if len(b.segs[0].Data) >= trailerSize { // raw packets may be smaller
			putTrailer(b.segs[0].Data, discardMagic, b.SeqNum, 0)
		}
		b.segs[0].Metadata = discardMark
		b.state = bufDone
		c.retire(b)
		return nil
	}
	if b.chain != nil {
		if !c.iface.HoldMemory(b.q.session) { // it ended since sync, its memory with it
			b.state = bufFree
			c.retire(b)
			return ErrDisconnected
		}
		c.scatter(b)
		c.iface.ReleaseMemory()
	} else {
		seg := &b.segs[0]
		seg.Len, seg.Metadata = b.Len, 0
		if !c.p.Raw { // allocated with room for it
			putTrailer(seg.Data[b.Len:], trailerMagic, b.SeqNum, b.Timestamp)
			seg.Metadata = frameMark
		}
	}
	b.state = bufDone
	c.txInSession++
	c.st.framesTx++
	c.st.bytesTx += uint64(b.Len)
	c.retire(b)
	return nil
}

func (c *Conn) flush(q *queue) error {
	if c.tx {
		return c.flushTx(q)
	}
	return c.flushRx(q)
}

func (c *Conn) flushAll(qs *[maxQueues]*queue) error {
	var first error
	for _, q := range qs {
		if q != nil {
			if err := c.flush(q); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// scatter copies a chained frame's staging bytes into its descriptors, in
// order, and puts the trailer past the payload: after the payload's end if
// 16 bytes are left there, else at the start of the next descriptor (a
// chain is allocated with room for that; see allocFrameLocked). The
// descriptor holding it is marked; any after it go out empty, without a
// magic left there by an older frame (see unmarkedTrailer).
func (c *Conn) scatter(b *Buffer) {
	src, off := b.chain.stage[:b.Len], 0
	placed := false
	for k := range b.segs {
		seg := &b.segs[k]
		n := 0
		if off < len(src) {
			n = copy(seg.Data, src[off:])
		}
		off += n
		seg.Len, seg.Metadata = n, 0
		switch {
		case c.p.Raw:
		case !placed && off == len(src) && len(seg.Data)-n >= trailerSize:
			putTrailer(seg.Data[n:], trailerMagic, b.SeqNum, b.Timestamp)
			seg.Metadata, placed = frameMark, true
		case placed:
			clear(seg.Data[:min(len(seg.Data), 4)])
		}
	}
}

// flushTx sends the done prefix of q in ring order: runs of frames of one
// descriptor straight from q.descs, chains from their own memory.
func (c *Conn) flushTx(q *queue) error {
	singles := q.popped // the oldest of all, already off the queue
	q.popped = 0
	for {
		var chain *Buffer
		for singles < maxBurst {
			b := q.popDone()
			if b == nil || b.chain != nil {
				chain = b
				break
			}
			singles++
		}
		if singles > 0 {
			if err := c.sendSingles(q, singles, chain == nil); err != nil {
				return err
			}
		}
		if chain != nil {
			if _, err := c.iface.Tx(c.session, q.id, chain.segs); err != nil {
				return c.mapErr(err)
			}
		}
		if singles == 0 && chain == nil {
			return nil
		}
		singles = 0
	}
}

// frameTooLarge, under mu, says who can fix a frame that does not fit the
// session: the slave chose its ring and buffer sizes.
func (c *Conn) frameTooLarge() error {
	ring := 0
	if len(c.queues) > 0 {
		ring = len(c.queues[0].entries)
	}
	if c.p.Memif.IsMaster {
		advice := "so it needs larger ones"
		if !memif.EngineCapabilities().BufferSize32 {
			advice = "and a master over upstream libmemif fills at most 65,535 bytes of each: it needs buffers of at most that size, on a ring with room for as many as a frame takes"
		}
		return fmt.Errorf("%w: the slave's ring of %d buffers cannot carry a %d-byte frame; the slave sets the buffer and ring sizes, %s",
			ErrFrameTooLarge, ring, c.layout.wire, advice)
	}
	if ring < 1<<c.p.log2Ring() { // the master's HELLO capped it: only larger buffers help
		return fmt.Errorf("%w: the master limits the ring to %d buffers, and %d of %d bytes cannot carry a %d-byte frame; raise BufferSize",
			ErrFrameTooLarge, ring, ring, c.layout.buffer, c.layout.wire)
	}
	return fmt.Errorf("%w: %d buffers of %d bytes cannot carry a %d-byte frame; raise BufferSize or Log2RingSize",
		ErrFrameTooLarge, ring, c.layout.buffer, c.layout.wire)
}
