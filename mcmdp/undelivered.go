package mcmdp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcmgo/mcm/cgo"
)

// ErrUndelivered: a sender's Close ended with enqueued frames the receiver
// never took. The error is an *UndeliveredError with the count.
var ErrUndelivered = errors.New("mcmdp: enqueued frames not delivered")

// UndeliveredError is what a sender's Close returns when frames it had
// enqueued were not delivered by the end of DrainTimeout.
type UndeliveredError struct {
	// Frames: whole frames (a chain counts once) still on the rings,
	// sent but not released by the receiver, plus frames enqueued but
	// never sent because an older buffer was not enqueued.
	Frames int
}

func (e *UndeliveredError) Error() string {
	return fmt.Sprintf("mcmdp: %d enqueued frames not delivered: the receiver did not take them before Close", e.Frames)
}

// Is makes errors.Is(err, ErrUndelivered) true.
func (e *UndeliveredError) Is(target error) bool { return target == ErrUndelivered }

// drainSlice bounds each drain wait, so the in-flight count read last is
// recent if the receiver leaves during the drain (libmemif_system).
const drainSlice = 20 * time.Millisecond

// drain, at a sender's Close: waits (at most DrainTimeout) until the
// receiver has released everything sent, then counts what it did not take.
// Only the session up at Close is counted: frames lost at an earlier
// disconnect were already answered with ErrDisconnected.
func (c *Conn) drain() error {
	c.mu.Lock()
	up, s := c.sync(), c.session
	c.mu.Unlock()
	if !up {
		return nil
	}
	deadline := time.Now().Add(c.p.drainTimeout())
	ctx := c.drainCtx
	if d, ok := deadlineOf(ctx); ok && d.Before(deadline) {
		deadline = d
	}
	inFlight := 0
	for q := 0; q < c.p.queues(); q++ {
		inFlight += c.drainQueue(s, uint16(q), deadline)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	frames := 0
	if inFlight > 0 {
		// Every frame of a session has the same chain length (one size,
		// one peer buffer size), so descriptors divide exactly; a chain
		// the receiver released in part still counts as lost.
		segs := max(c.frameSegs, 1)
		frames = (inFlight + segs - 1) / segs
	}
	if c.session == s {
		for _, q := range c.queues {
			frames += q.enqueuedUnsent()
		}
	}
	if frames == 0 {
		return nil
	}
	return &UndeliveredError{Frames: frames}
}

// drainQueue waits for queue q to drain and returns the descriptors still
// in flight at the deadline, or at the end of session s if it ended first
// (upstream libmemif forgets them then: the last count seen). With an
// engine that cannot count them (libmemif_system) it only waits.
func (c *Conn) drainQueue(s memif.Session, q uint16, deadline time.Time) int {
	last := 0
	for {
		// Looked at before the count: once s has ended, the count is the
		// one at its end, final (a receiver may release its last frames
		// and leave between two looks).
		ended := c.iface.Session() != s
		n, err := c.iface.TxInFlight(s, q)
		switch {
		case errors.Is(err, memif.ErrNotSupported):
			// Over upstream a wait returns after each short sleep: wait out
			// the drain time (or the context), not just one sleep.
			for time.Now().Before(deadline) && ctxErr(c.drainCtx) == nil {
				if c.iface.WaitTx(s, q, time.Until(deadline), 0) == nil {
					break // drained
				}
			}
			return 0
		case err != nil:
			return last
		case n == 0 || ended:
			return n
		}
		last = n
		left := time.Until(deadline)
		if left <= 0 || ctxErr(c.drainCtx) != nil {
			return n
		}
		c.iface.WaitTx(s, q, min(left, drainSlice), 0)
	}
}

// enqueuedUnsent, under mu, counts frames the application enqueued that
// wait behind an older buffer it still holds, so were never sent.
func (q *queue) enqueuedUnsent() int {
	n := 0
	for k := q.head; k != q.tail; k++ {
		if q.entries[k&q.mask].state == bufDone {
			n++
		}
	}
	return n
}

func deadlineOf(ctx context.Context) (time.Time, bool) {
	if ctx == nil {
		return time.Time{}, false
	}
	return ctx.Deadline()
}
