package mcmdp

import (
	"context"
	"errors"
	"time"

	"github.com/mcmgo/mcm/cgo"
)

// A Conn follows the engine's sessions (memif.Session, the engine's connect
// count) without a goroutine of its own: whoever next looks at the Conn
// under mu (a data-path call, Connected, WaitConnected and CreateConnection
// when the seam reports a change, Close) runs sync, the one transition.

// sync, under mu, brings the Conn to the engine's current session: a
// session that ended gives up its queues (its held buffers answer
// ErrDisconnected when they come back), a new one gets fresh queues. It
// reports whether a session is usable. A session that ended leaves its end
// in c.loss even when the next one is already up (a peer that came back
// between two calls): the data-path calls report it first, once.
func (c *Conn) sync() bool {
	if c.closed.Load() {
		return false
	}
	cur := c.iface.Session()
	if cur == c.session {
		if cur == 0 {
			c.peerRefusedMedia() // a session may have come and gone unseen
		}
		return c.up
	}
	c.endSession()
	c.dropQueues()
	c.peerRefusedMedia()
	c.session, c.up = cur, false
	if cur == 0 {
		return false
	}
	d, err := c.iface.Details()
	if err != nil || d.Session != cur || d.RingSize == 0 {
		return false // went down again already: the next sync moves on
	}
	if !c.checkMedia(cur, d.RemoteName) {
		return false
	}
	// A slave's frames need layout.segs of its own buffers, and its
	// master may have capped the ring below that. A master sends into the
	// slave's buffers, whatever its own BufferSize says: it finds out at
	// its first alloc whether a frame fits.
	c.tooLarge = !c.p.Memif.IsMaster && c.layout.segs > d.RingSize
	c.chains = c.layout.wire > c.layout.buffer // a master finds out at its first alloc
	c.queues = make([]*queue, c.p.queues())
	for k := range c.queues {
		c.queues[k] = newQueue(c, uint16(k), d.RingSize)
	}
	c.queues[0].chains, c.spareChains = c.spareChains, nil
	c.seq.restart()
	c.txInSession, c.rxInSession = 0, 0
	c.up = true
	return true
}

// ready, under mu, is sync for the data-path calls: not while an end is
// still to be reported (downErr reports it), even with the next session up.
func (c *Conn) ready() bool {
	return c.sync() && c.loss == nil
}

// endSession, under mu, ends the session this side was using, keeping why
// for the next dequeue to report once (a session the peer broke was
// reported by peerFault and is no longer up).
func (c *Conn) endSession() {
	if c.up {
		c.up = false
		c.loss = c.lossErr()
	}
}

// errNoSession: no session is up and the last end was already reported;
// the dequeue waits for the next session.
var errNoSession = errors.New("mcmdp: no session")

// downErr, under mu, is what a dequeue finding no session returns: the
// last end once, then errNoSession.
func (c *Conn) downErr() error {
	if err := c.loss; err != nil {
		c.loss = nil
		return err
	}
	return errNoSession
}

// lossErr tells how the session ended: the peer's own DISCONNECT (an end
// of stream, or another reason), or a peer that vanished or lied.
func (c *Conn) lossErr() error {
	st := c.iface.Status()
	if st.LastErrorCode != memif.ErrDisconnect {
		return ErrDisconnected
	}
	if n, ok := parseEndOfStream(st.LastError); ok && !c.tx {
		return &EndOfStream{Sent: n, Received: c.rxInSession}
	}
	return &PeerClosed{Reason: st.LastError}
}

// awaitSession waits, without mu, until a session is up or an end is
// waiting to be reported (the caller looks again), the Conn closes, the
// timeout passes, or ctx ends.
func (c *Conn) awaitSession(ctx context.Context, w *waitClock) error {
	for {
		ch := c.iface.Changed()
		if c.closed.Load() {
			return ErrClosed
		}
		if c.syncOrLoss() {
			return nil
		}
		wait, ok := w.remaining()
		if !ok {
			return ErrTimeout
		}
		var timer *time.Timer
		var expired <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			expired = timer.C
		}
		select {
		case <-ch:
		case <-expired:
		case <-done(ctx):
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctxErr(ctx); err != nil {
			return err
		}
	}
}

func (c *Conn) syncOrLoss() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sync() || c.loss != nil
}

// done and ctxErr let the loops take a nil context (the timeout forms).
func done(ctx context.Context) <-chan struct{} {
	if ctx == nil {
		return nil
	}
	return ctx.Done()
}

func ctxErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// current is the session to wait in, read under mu: a wait in a session
// that has ended returns at once.
func (c *Conn) current() memif.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// dropQueues, under mu, ends the bookkeeping of engine session c.session.
// When the peer left, the engine kept zero pages under the buffers then
// out; those the application still holds pin them, and they are released
// as soon as the last one comes back (at once if none is held). A buffer
// that is never given back keeps its pages until Close: releasing on
// garbage collection would be unsafe, as Data may outlive its Buffer.
func (c *Conn) dropQueues() {
	if c.queues == nil {
		return
	}
	n := 0
	for _, q := range c.queues {
		for k := range q.entries {
			if b := &q.entries[k]; b.state == bufOut {
				b.pinned = true
				n++
			}
		}
	}
	for _, q := range c.queues { // chain memory no frame uses goes on
		c.spareChains = append(c.spareChains, q.chains...)
	}
	c.queues = nil
	if n == 0 {
		c.iface.ReleaseStale(c.session)
		return
	}
	if c.pinned == nil {
		c.pinned = map[memif.Session]int{}
	}
	c.pinned[c.session] += n
}

// unpin, under mu: b, of an ended session, came back.
func (c *Conn) unpin(b *Buffer) {
	if !b.pinned {
		return
	}
	b.pinned = false
	s := b.q.session
	if c.pinned[s]--; c.pinned[s] == 0 {
		delete(c.pinned, s)
		c.iface.ReleaseStale(s)
	}
}

// ctxSlice bounds a wait made for a context: its end interrupts the wait at
// once (Interrupt), but an interrupt landing between the loop's check of
// the context and the seam's start of the wait is not kept, so the wait
// looks again at least this often.
func ctxSlice(ctx context.Context, wait time.Duration) time.Duration {
	const slice = 250 * time.Millisecond
	if ctx == nil || ctx.Done() == nil || (wait >= 0 && wait <= slice) {
		return wait
	}
	return slice
}
