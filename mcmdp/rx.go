package mcmdp

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/mcmgo/mcm/cgo"
)

func (c *Conn) dequeueRx(ctx context.Context, w *waitClock) (*Buffer, error) {
	for {
		b, err := c.takeFrame()
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
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		wait, ok := w.remaining()
		wait = ctxSlice(ctx, wait)
		if !ok {
			return nil, ErrTimeout
		}
		if c.p.Polling {
			runtime.Gosched() // polling mode: spin, as asked
			continue
		}
		if err := c.iface.WaitRxAny(c.current(), c.p.queues(), wait); err != nil && !errors.Is(err, memif.ErrNoConn) && !errors.Is(err, memif.ErrTimeout) {
			return nil, c.mapErr(err)
		} // a session that ended is reported by takeFrame
	}
}

// takeFrame returns the next complete frame from any queue, round-robin,
// or (nil, nil) when none has arrived.
func (c *Conn) takeFrame() (*Buffer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if !c.ready() {
		return nil, c.downErr()
	}
	b, err := c.takeFrameLocked()
	if err == ErrDisconnected { // the engine saw the end before sync did
		c.endSession()
		return nil, c.downErr()
	}
	return b, err
}

func (c *Conn) takeFrameLocked() (*Buffer, error) {
	for k, rr := 0, c.rr; k < len(c.queues); k++ {
		q := c.queues[rr]
		if rr++; rr == len(c.queues) {
			rr = 0
		}
		if q.faulted {
			continue // a faulty peer the engine could not drop (libmemif_system)
		}
		end, ok, err := c.fillPending(q)
		if err != nil {
			return nil, err
		}
		if ok {
			if c.discarded(q, end) {
				k-- // the next frame of the same queue
				if rr--; rr < 0 {
					rr = len(c.queues) - 1
				}
				continue
			}
			c.rr = rr
			if b := c.deliver(q, end); b != nil {
				return b, nil
			}
			return nil, ErrDisconnected
		}
	}
	return nil, nil
}

// fillPending makes sure descs[q.next:q.read] holds a whole frame if the
// ring has one, and returns the position after its last descriptor.
//
// Nothing here is sized by the peer: a frame (one buffer or a chain) longer
// than this side's wire size, or a chain that cannot end within the ring,
// is a protocol fault, and descs is the ring's size, allocated once per
// session.
func (c *Conn) fillPending(q *queue) (uint64, bool, error) {
	for {
		total := 0
		for p := q.next; p != q.read; p++ {
			d := &q.descs[p&q.mask]
			total += len(d.Data)
			if total > int(c.layout.wire) {
				return 0, false, c.peerFault(q, fmt.Sprintf("frame of more than %d bytes, at most %d expected", total, c.layout.wire))
			}
			if !d.Next {
				return p + 1, true, nil
			}
		}
		q.rebaseRx()
		room := q.size() - (q.read - q.freed) // descs not held by a frame
		if room == 0 {
			if q.next == q.freed {
				return 0, false, c.peerFault(q, fmt.Sprintf("chain of more than %d descriptors, longer than the ring", q.size()))
			}
			return 0, false, nil // the rest of the chain comes once frames are back
		}
		at := q.read & q.mask
		n, err := c.iface.Rx(c.session, q.id, q.descs[at:at+min(room, q.size()-at, maxBurst)])
		if err != nil {
			return 0, false, c.mapErr(err)
		}
		if n == 0 {
			return 0, false, nil
		}
		q.read += uint64(n)
	}
}

// peerFault ends the session of a peer that broke the agreed frame size:
// the peer gets a DISCONNECT with the reason, the Conn waits for the next
// one, and the caller's error wraps both ErrDisconnected and ErrPeerFault.
// An engine that cannot end a session (libmemif_system) leaves the queue
// unread instead, so the peer stalls and nothing grows.
func (c *Conn) peerFault(q *queue, reason string) error {
	c.st.peerFaults.Add(1)
	if err := c.iface.Fault(c.session, reason); err != nil {
		q.faulted = true
	} else {
		// The session is over for us now, though the engine ends it a
		// moment later: nothing reads its queues again, and sync drops
		// them once the engine is down (their memory is still mapped).
		c.up = false
	}
	return fmt.Errorf("%w: %w: %s", ErrDisconnected, ErrPeerFault, reason)
}

// deliver turns descs[q.next:end] into a Buffer. It returns nil when the
// frame is a chain and the session ended since sync, its memory with it.
func (c *Conn) deliver(q *queue, end uint64) *Buffer {
	if end-q.next > 1 && !c.iface.HoldMemory(c.session) {
		return nil
	}
	b := q.push()
	c.takeSegs(q, b, end)
	var data []byte
	if b.chain != nil {
		if b.chain.stage == nil { // once per chain in flight and session, at this side's size
			b.chain.stage = make([]byte, 0, c.layout.wire)
		}
		data = b.chain.stage[:0]
		for k := range b.segs { // fillPending bounded the sum by the wire size
			data = append(data, b.segs[k].Data...)
		}
		defer c.iface.ReleaseMemory() // the trailer is read from it too
	} else {
		data = b.segs[0].Data
	}
	b.SeqNum, b.Timestamp, b.Framed = c.rxCount, 0, false
	if !c.p.Raw {
		if mark := markedSeg(b.segs); mark != nil {
			if seq, ts, ok := getTrailer(pastEnd(mark.Data), trailerMagic); ok {
				b.SeqNum, b.Timestamp, b.Framed = seq, ts, true
				c.seq.add(seq)
			} else {
				c.st.framing++ // marked, but no trailer where the mark says
			}
		} else if seq, ts, ok := unmarkedTrailer(b.segs); ok { // a sender without metadata
			b.SeqNum, b.Timestamp, b.Framed = seq, ts, true
			c.seq.add(seq)
		} else {
			c.st.plain++ // a plain peer: payload only, as it should be
		}
	}
	c.rxCount++
	c.rxInSession++
	b.Data, b.Len = data, len(data)
	b.state = bufOut
	c.st.framesRx++
	c.st.bytesRx += uint64(len(data))
	return b
}

// takeSegs gives b the descriptors descs[q.next:end] and moves q.next on:
// one stays where it is, a chain is copied to chain memory.
func (c *Conn) takeSegs(q *queue, b *Buffer, end uint64) {
	if end-q.next == 1 {
		q.setSingle(b, q.next)
	} else if from, to := q.next&q.mask, end&q.mask; from < to {
		q.setChain(b, q.descs[from:to])
	} else { // it wraps around the ring's end
		q.setChain(b, q.descs[from:], q.descs[:to])
	}
	q.next = end
}

// flushRx gives the done prefix of q back to the ring: a frame's
// descriptors return once every older frame has come back too.
func (c *Conn) flushRx(q *queue) error {
	ndesc := 0
	for d := q.popDone(); d != nil; d = q.popDone() {
		ndesc += len(d.segs)
	}
	q.freed += uint64(ndesc)
	for ndesc > 0 {
		n := min(ndesc, 0xFFFF)
		if err := c.iface.Refill(c.session, q.id, n); err != nil {
			return c.mapErr(err)
		}
		ndesc -= n
	}
	return nil
}

// markedSeg is the descriptor a framed sender marked (the last one with a
// payload, or the one after it; only empty ones follow it), or nil.
func markedSeg(segs []memif.Buffer) *memif.Buffer {
	for k := len(segs) - 1; k >= 0; k-- {
		if segs[k].Metadata == frameMark {
			return &segs[k]
		}
		if segs[k].Len > 0 {
			return nil
		}
	}
	return nil
}

// discarded skips a frame its mcmdp sender discarded (Conn.Discard): its
// descriptors go back to the ring in order, like a frame given back at once.
func (c *Conn) discarded(q *queue, end uint64) bool {
	first := &q.descs[q.next&q.mask]
	if c.p.Raw || first.Metadata != discardMark && first.Metadata != 0 {
		return false
	}
	for p := q.next; p != end; p++ {
		if q.descs[p&q.mask].Len != 0 {
			return false // not what Discard sends: deliver it
		}
	}
	seq, _, ok := getTrailer(pastEnd(first.Data), discardMagic)
	if !ok && first.Metadata != discardMark {
		return false // unmarked (no metadata on the way): the magic decides
	}
	if ok {
		c.seq.add(seq) // not a hole: the sender dropped it
	}
	b := q.push()
	c.takeSegs(q, b, end)
	b.state = bufDone
	c.flushRx(q) // back to the ring at once if older frames are back too
	return true
}
