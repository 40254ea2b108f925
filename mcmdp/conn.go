package mcmdp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/notify"
)

// Conn is one MCM data-plane connection over memif (MCM's mcm_conn_context).
// Its methods are safe for concurrent use.
type Conn struct {
	p      ConnParam
	layout frameLayout
	tx     bool
	sock   *memif.Socket
	iface  *memif.Interface

	// mu guards the session state below; engine calls made under it are
	// short (no waits).
	mu       sync.Mutex
	up       bool
	session  memif.Session // the engine session the queues belong to (0: none)
	tooLarge bool          // this session's ring cannot hold one frame
	queues   []*queue
	rr       int
	nextSeq  uint32
	rxCount  uint32
	seq      seqTracker
	scratch  [256]memif.Buffer
	guard    []byte                // Debug: faults on any access
	pinned   map[memif.Session]int // ended session -> its buffers still held

	changed   notify.Broadcast
	lastError atomic.Pointer[string]

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
	watchDone chan struct{}

	st stats
}

// CreateConnection creates the memif interface described by p and returns
// once it is connected. Either side may start first: a slave keeps trying
// until its master appears. If ctx ends first, the error wraps
// ErrNeverConnected and gives the last refusal reason, if any.
func CreateConnection(ctx context.Context, p *ConnParam) (*Conn, error) {
	if p == nil {
		return nil, bad("ConnParam", "nil")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	layout, _ := p.frameLayout()
	c := &Conn{p: *p, layout: layout, tx: p.Type == Tx, stop: make(chan struct{}), watchDone: make(chan struct{})}
	if p.Debug {
		if err := c.mapGuard(); err != nil {
			return nil, err
		}
	}
	sock, err := memif.NewSocket(memif.SocketConfig{Path: p.Memif.SocketPath, AppName: "mcmdp",
		RetryInterval: int64(50 * time.Millisecond), HandshakeTimeout: int64(p.HandshakeTimeout)})
	if err != nil {
		return nil, fmt.Errorf("mcmdp: socket %s: %w", p.Memif.SocketPath, err)
	}
	nq := uint8(p.queues())
	iface, err := sock.NewInterface(memif.Config{
		IsMaster: p.Memif.IsMaster, InterfaceID: p.Memif.InterfaceID,
		Name: p.Memif.Name, Secret: p.Memif.Secret, Mode: memif.ModeEthernet,
		NumS2M: nq, NumM2S: nq, Log2RingSize: p.log2Ring(), BufferSize: layout.buffer,
	})
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("mcmdp: interface: %w", err)
	}
	c.sock, c.iface = sock, iface
	if !c.tx && p.Polling {
		for q := uint16(0); q < uint16(nq); q++ {
			iface.SetRxMode(q, true)
		}
	}
	go c.watch()
	for {
		ch := c.changes()
		if c.isUp() {
			return c, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			c.Close()
			reason := ""
			if e := c.lastError.Load(); e != nil && *e != "" {
				reason = " (last reason: " + *e + ")"
			} else if e := sock.LastError(); e != "" {
				reason = " (last reason: " + e + ")"
			}
			return nil, fmt.Errorf("%w to %s: %v%s", ErrNeverConnected, p.Memif.SocketPath, ctx.Err(), reason)
		}
	}
}

// watch follows the interface's state: each (re)connect starts a session
// with fresh queue bookkeeping; a disconnect voids outstanding buffers.
func (c *Conn) watch() {
	defer close(c.watchDone)
	for {
		ch := c.iface.Changed()
		c.mu.Lock()
		st := c.iface.Status() // read under mu: a data-path resync may have run
		if st.LastError != "" {
			c.lastError.Store(&st.LastError)
		}
		if cur := c.iface.Session(); cur != 0 && cur != c.session {
			c.startSession(cur)
		} else if !st.Up && (c.up || c.queues != nil) { // queues: a peer fault already set !up
			c.up = false
			c.dropQueues()
		}
		c.mu.Unlock()
		c.changed.Notify()
		select {
		case <-ch:
		case <-c.stop:
			return
		}
	}
}

func (c *Conn) startSession(s memif.Session) {
	c.dropQueues()
	c.session = s
	d, err := c.iface.Details()
	if err != nil || d.Session != s || d.RingSize == 0 {
		c.up = false // went down again already; the next change retries
		return
	}
	c.tooLarge = c.layout.segs > d.RingSize // the slave may have shrunk the ring
	c.queues = make([]*queue, c.p.queues())
	for k := range c.queues {
		c.queues[k] = newQueue(uint16(k), d.RingSize)
	}
	c.seq.restart()
	c.up = true
}

// Changed returns a channel closed at the next connect, disconnect or
// Close; check Connected after it fires.
func (c *Conn) Changed() <-chan struct{} { return c.changes() }

// Connected reports whether the peer is there now.
func (c *Conn) Connected() bool { return c.isUp() }

// WaitConnected blocks until the peer is connected (at once if it is), the
// Conn closes (ErrClosed), or ctx ends. After ErrDisconnected, it is how to
// wait for the peer's return without polling.
func (c *Conn) WaitConnected(ctx context.Context) error {
	for {
		ch := c.changes()
		if c.closed.Load() {
			return ErrClosed
		}
		if c.isUp() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// resync, under c.mu, catches up with the engine after a call in
// c.session was refused: the peer came back before watch noticed. It
// reports whether a fresh session is up, so the caller may retry once.
func (c *Conn) resync() bool {
	switch cur := c.iface.Session(); {
	case cur != 0 && cur != c.session:
		c.startSession(cur)
		return c.up
	case cur == 0:
		c.up = false
		c.dropQueues()
	}
	return false
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
				b.pins = c.session
				n++
			}
		}
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
	s := b.pins
	if s == 0 {
		return
	}
	b.pins = 0
	if c.pinned[s]--; c.pinned[s] == 0 {
		delete(c.pinned, s)
		c.iface.ReleaseStale(s)
	}
}

// current is the session to wait in, read under mu: a wait in a session
// that ended returns at once.
func (c *Conn) current() memif.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

func (c *Conn) isUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

func (c *Conn) changes() <-chan struct{} { return c.changed.C() }

// CloseWithReason is Close with the reason the peer receives in memif's
// DISCONNECT (96 bytes at most), e.g. "end of stream: 600 frames", so the
// peer can tell a clean end from a crash (see PeerReason).
func (c *Conn) CloseWithReason(reason string) error {
	c.iface.SetCloseReason(reason)
	return c.Close()
}

// PeerReason is the last reason the connection ended or was refused with,
// from either side: the peer's DISCONNECT text, or what this side saw
// ("peer closed the control channel" for a peer that vanished).
func (c *Conn) PeerReason() string {
	if e := c.iface.Status().LastError; e != "" {
		return e
	}
	if e := c.lastError.Load(); e != nil {
		return *e
	}
	return ""
}

// Close is MCM's mcm_destroy_connection. A sender first waits, by watching
// the ring, until the receiver has taken everything already enqueued (at
// most DrainTimeout). Then every waiting call returns ErrClosed, the peer
// gets a DISCONNECT, and a master removes its socket file. Idempotent and
// safe from any goroutine.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		if c.tx && c.isUp() {
			deadline := time.Now().Add(c.p.drainTimeout())
			s := c.current()
			for q := 0; q < c.p.queues(); q++ {
				c.iface.WaitTx(s, uint16(q), max(time.Until(deadline), 0), 0)
			}
		}
		c.closed.Store(true)
		close(c.stop)
		c.closeErr = c.sock.Close()
		<-c.watchDone
		c.mu.Lock()
		c.up = false
		c.queues = nil
		c.mu.Unlock()
		c.changed.Notify()
		c.unmapGuard()
	})
	return c.closeErr
}

// Param returns the parameters the connection was created with.
func (c *Conn) Param() ConnParam { return c.p }

// FrameSize is the payload capacity of one buffer: a whole video frame or
// audio packet.
func (c *Conn) FrameSize() int { return int(c.layout.payload) }

// mapErr turns the seam's errors into this package's.
func (c *Conn) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case c.closed.Load() || err == memif.ErrClosed:
		return ErrClosed
	case err == memif.ErrTimeout:
		return ErrTimeout
	case err == memif.ErrNoConn || err == memif.ErrDisconnected:
		return ErrDisconnected
	}
	if code, ok := err.(memif.Errno); ok && (code == memif.ErrNoConn || code == memif.ErrDisconnected) {
		return ErrDisconnected
	}
	return err
}
