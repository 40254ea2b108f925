package mcmdp

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/mcmgo/mcm/cgo"
)

// DequeueBuffers is the burst form of DequeueBuffer for small packets: it
// fills bufs with up to len(bufs) buffers in one engine call and returns how
// many. It waits like DequeueBuffer only while it has none, and reports
// the end of a session the same way.
func (c *Conn) DequeueBuffers(bufs []*Buffer, timeout time.Duration) (int, error) {
	return c.dequeueBurst(nil, bufs, timeout)
}

// DequeueBuffersContext is DequeueBuffers until ctx ends (its deadline, if
// any, is the timeout): then it returns ctx's error.
func (c *Conn) DequeueBuffersContext(ctx context.Context, bufs []*Buffer) (int, error) {
	timeout, stop := c.contextWait(ctx)
	defer stop()
	n, err := c.dequeueBurst(ctx, bufs, timeout)
	return n, contextTimeout(ctx, err)
}

func (c *Conn) dequeueBurst(ctx context.Context, bufs []*Buffer, timeout time.Duration) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	w := waitClock{timeout: timeout}
	for {
		n, q, err := c.takeBurst(bufs)
		switch {
		case n > 0:
			return n, err
		case err == errNoSession:
			if err := c.awaitSession(ctx, &w); err != nil {
				return 0, err
			}
			continue
		case err != nil:
			return 0, err
		}
		if err := ctxErr(ctx); err != nil {
			return 0, err
		}
		wait, ok := w.remaining()
		wait = ctxSlice(ctx, wait)
		if !ok {
			return 0, ErrTimeout
		}
		if c.tx {
			c.st.ringFull.Add(1)
			err = c.iface.WaitTx(c.current(), q, wait, 1)
		} else if c.p.Polling {
			runtime.Gosched()
			continue
		} else {
			err = c.iface.WaitRxAny(c.current(), c.p.queues(), wait)
		}
		if err != nil && !errors.Is(err, memif.ErrNoConn) && !errors.Is(err, memif.ErrTimeout) {
			return 0, c.mapErr(err)
		}
	}
}

func (c *Conn) takeBurst(bufs []*Buffer) (int, uint16, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return 0, 0, ErrClosed
	}
	if !c.ready() {
		return 0, 0, c.downErr()
	}
	n, q, err := c.takeBurstLocked(bufs)
	switch {
	case err == ErrDisconnected: // the engine saw the end before sync did
		c.endSession()
		if n > 0 {
			return n, q, nil // the end is reported by the next call
		}
		return 0, 0, c.downErr()
	case n > 0 && errors.Is(err, ErrDisconnected): // a peer fault behind frames taken: those first
		c.loss = err
		return n, q, nil
	}
	return n, q, err
}

func (c *Conn) takeBurstLocked(bufs []*Buffer) (int, uint16, error) {
	if !c.tx {
		n := 0
		for n < len(bufs) {
			if len(c.queues) == 1 { // what the last read brought, in one loop
				if n += c.takeSingles(c.queues[0], bufs[n:]); n == len(bufs) {
					break
				}
			}
			b, err := c.takeFrameLocked()
			if b == nil || err != nil {
				return n, 0, err
			}
			bufs[n] = b
			n++
		}
		return n, 0, nil
	}
	q := c.queues[c.rr]
	if c.iface.Session() != c.session {
		return 0, 0, ErrDisconnected // reserved slots are the ended session's
	}
	if c.chains && q.handed == q.reserved { // chains: one frame at a time
		return c.oneFrame(q, bufs)
	}
	q.ask = min(len(bufs), maxBurst)
	if short := len(bufs) - int(q.reserved-q.handed); short > 0 && !c.chains {
		if err := c.reserve(q, short); err != nil {
			return 0, 0, err
		}
		if c.chains && q.handed == q.reserved {
			return c.takeBurstLocked(bufs)
		}
	}
	n := min(len(bufs), int(q.reserved-q.handed))
	if n == 0 && q.head == q.tail && c.nothingInFlight(q) {
		// A free ring without room: the one-frame way tells a frame too
		// large for it (upstream libmemif says "full").
		return c.oneFrame(q, bufs)
	}
	if n == 0 {
		return 0, q.id, c.ringFull(q)
	}
	c.handOut(q, bufs[:n])
	c.nextQueue()
	return n, q.id, nil
}

// oneFrame takes one frame of q into bufs[0], the one-frame way.
func (c *Conn) oneFrame(q *queue, bufs []*Buffer) (int, uint16, error) {
	b, _, err := c.allocFrameLocked(q)
	if b == nil {
		return 0, q.id, err
	}
	bufs[0] = b
	return 1, q.id, nil
}

// EnqueueBuffers is the burst form of EnqueueBuffer: one engine call for
// all of them. It stops at the first buffer that fails and returns its error.
func (c *Conn) EnqueueBuffers(bufs []*Buffer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync()
	var touched [maxQueues]*queue
	for k := 0; k < len(bufs); {
		if q, n := c.markRun(bufs[k:]); n > 0 {
			touched[q.id] = q
			k += n
			continue
		}
		b := bufs[k]
		if err := c.markDone(b); err != nil {
			c.flushAll(&touched)
			return err
		}
		touched[b.q.id] = b.q
		k++
	}
	return c.flushAll(&touched)
}
