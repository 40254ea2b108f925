package mcmdp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/mcmgo/mcm/cgo"
)

// Conn is one MCM data-plane connection over memif (MCM's mcm_conn_context).
// Its methods are safe for concurrent use.
type Conn struct {
	p      ConnParam
	layout frameLayout
	tx     bool
	shared *sharedSocket // with the other Conns of this path and role
	iface  *memif.Interface
	// spareChains: chain memory of the last session, for the next one
	// (under mu; see chainMem).
	spareChains []*chainMem

	// mu guards the session state below; engine calls made under it are
	// short (no waits). Lock order: mu, then the seam's socket mutex, which
	// every iface call takes inside. The seam's callbacks run under that
	// mutex and never call back into a Conn, so the reverse never happens;
	// a Conn follows the engine by asking it (sync), not by being told.
	mu                       sync.Mutex
	session                  memif.Session // the engine session the state below follows (0: none)
	up                       bool          // session started and usable (a peer fault ends it early)
	tooLarge                 bool          // this session's ring cannot hold one frame
	chains                   bool          // this session's frames are chains (the slave's buffers are smaller)
	queues                   []*queue
	rr                       int
	nextSeq                  uint32
	rxCount                  uint32
	seq                      seqTracker
	scratch                  [256]memif.Buffer
	guard                    []byte                // Debug: faults on any access
	pinned                   map[memif.Session]int // ended session -> its buffers still held
	loss                     error                 // how the last session ended, until reported
	txInSession, rxInSession uint64                // frames of the current session
	closeReason              string                // CloseWithReason's, else Close says the usual
	drainCtx                 context.Context       // CloseContext's: ends the drain early
	frameSegs                int                   // descriptors per frame sent in this session (see drain)
	mismatchSeen             memif.Session         // last session refused over media, reported

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	st stats
}

// CreateConnection creates the memif interface described by p and returns
// once it is connected. Either side may start first: a slave keeps trying
// until its master appears. If ctx ends first, the error wraps
// ErrNeverConnected and gives the last refusal reason, if any.
//
// Conns of this process on the same SocketPath share one memif socket and
// its event goroutine, masters and slaves alike: one master process serves
// receivers with interface ids 0..N on one path. The socket lives until
// the last of them closes, a master's socket file until the last master
// does. A second Conn of the same role with an id in use there is refused
// with a *ParamError for Memif.InterfaceID.
func CreateConnection(ctx context.Context, p *ConnParam) (*Conn, error) {
	if p == nil {
		return nil, bad("ConnParam", "nil")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := socketDirExists(p.Memif.SocketPath, p.Memif.IsMaster); err != nil {
		return nil, err
	}
	layout, _ := p.frameLayout()
	c := &Conn{p: *p, layout: layout, tx: p.Type == Tx}
	if p.Debug {
		if err := c.mapGuard(); err != nil {
			return nil, err
		}
	}
	nq := uint8(p.queues())
	name := p.Memif.Name
	if name == "" {
		name = p.media().descriptor() // checked by a peer doing the same
	}
	shared, iface, err := attach(p, memif.Config{
		IsMaster: p.Memif.IsMaster, InterfaceID: p.Memif.InterfaceID,
		Name: name, Secret: p.Memif.Secret, Mode: memif.ModeEthernet,
		NumS2M: nq, NumM2S: nq, Log2RingSize: p.log2Ring(), BufferSize: layout.buffer,
		Prefault: p.prefault(),
	})
	if err != nil {
		return nil, err
	}
	c.shared, c.iface = shared, iface
	sock := shared.sock
	if !c.tx && p.Polling {
		for q := uint16(0); q < uint16(nq); q++ {
			iface.SetRxMode(q, true)
		}
	}
	for {
		ch := iface.Changed()
		if c.Connected() {
			return c, nil
		}
		if err := c.takeMismatch(); err != nil {
			// The peer's session may still be up (the fault is sent
			// later): its DISCONNECT must say why, not "end of stream".
			c.CloseWithReason(mismatchPrefix + c.p.media().descriptor())
			return nil, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			c.Close()
			reason := ""
			if e := iface.Status().LastError; e != "" {
				reason = " (last reason: " + e + ")"
			} else if e := sock.LastError(); e != "" {
				reason = " (last reason: " + e + ")"
			}
			return nil, fmt.Errorf("%w to %s: %w%s", ErrNeverConnected, p.Memif.SocketPath, ctx.Err(), reason)
		}
	}
}

// Changed returns a channel closed at the next connect, disconnect or
// Close (or refusal); check Connected after it fires.
func (c *Conn) Changed() <-chan struct{} { return c.iface.Changed() }

// Connected reports whether the peer is there now.
func (c *Conn) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sync()
}

// WaitConnected blocks until the peer is connected (at once if it is), the
// Conn closes (ErrClosed), or ctx ends. After ErrDisconnected, it is how to
// wait for the peer's return without polling. A session that ended unseen
// by the data path is still reported by the next DequeueBuffer.
func (c *Conn) WaitConnected(ctx context.Context) error {
	for {
		ch := c.Changed()
		if c.closed.Load() {
			return ErrClosed
		}
		if c.Connected() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CloseWithReason is Close with the reason the peer receives in memif's
// DISCONNECT (96 bytes at most), e.g. "end of stream: 600 frames", so the
// peer can tell a clean end from a crash (see PeerReason).
func (c *Conn) CloseWithReason(reason string) error {
	c.mu.Lock()
	c.closeReason = reason
	c.mu.Unlock()
	return c.Close()
}

// CloseContext is Close whose wait for the receiver (a sender's drain)
// also ends when ctx does.
func (c *Conn) CloseContext(ctx context.Context) error {
	stop := context.AfterFunc(ctx, c.iface.Interrupt)
	defer stop()
	c.mu.Lock()
	c.drainCtx = ctx
	c.mu.Unlock()
	return c.Close()
}

// PeerReason is the last reason the connection ended or was refused with,
// from either side: the peer's DISCONNECT text, or what this side saw
// ("peer closed the control channel" for a peer that vanished).
func (c *Conn) PeerReason() string {
	return c.iface.Status().LastError
}

// Close is MCM's mcm_destroy_connection. A sender first waits, by watching
// the ring, until the receiver has taken everything already enqueued (at
// most DrainTimeout). Then every waiting call returns ErrClosed, the peer
// gets a DISCONNECT, and the last Conn on a master's socket removes its
// file. Idempotent and safe from any goroutine.
//
// A sender whose receiver did not take everything by then still closes,
// and returns an *UndeliveredError (errors.Is ErrUndelivered) with the
// number of enqueued frames lost: those the receiver had not released
// (a frame it dequeued and still holds counts too: a sender cannot tell;
// counted with the bundled engine only, libmemif_system cannot see them)
// and those enqueued behind a buffer that was never enqueued. Buffers
// dequeued and never enqueued are not counted.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		var lost error
		if c.tx {
			lost = c.drain()
		}
		c.mu.Lock()
		reason := c.closeReason
		switch {
		case reason != "":
		case c.tx:
			reason = endOfStreamReason(c.txInSession)
		default:
			reason = receiverClosed
		}
		c.mu.Unlock()
		c.iface.SetCloseReason(reason)
		c.closed.Store(true)
		c.closeErr = errors.Join(lost, c.shared.detach(c.iface)) // wakes Changed and every wait
		c.mu.Lock()
		c.up = false
		c.queues = nil
		c.mu.Unlock()
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
	case c.closed.Load() || errors.Is(err, memif.ErrClosed):
		return ErrClosed
	case errors.Is(err, memif.ErrTimeout):
		return ErrTimeout
	case errors.Is(err, memif.ErrNoConn) || errors.Is(err, memif.ErrDisconnected):
		return ErrDisconnected
	}
	return err
}

// socketDirExists fails early, and says so, when the socket's place is
// wrong: a missing directory (a master cannot bind, a slave would retry
// "socket file does not exist" forever) or something other than a socket
// at the path (a master must not replace it, a slave could never connect).
// Abstract names (@name) have neither.
func socketDirExists(path string, master bool) error {
	if strings.HasPrefix(path, "@") {
		return nil
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("mcmdp: socket directory %s: %w (create it first, e.g. with os.MkdirAll)", dir, err)
	case !st.IsDir():
		return fmt.Errorf("mcmdp: socket directory %s is not a directory", dir)
	case noSocketsHere(dir):
		return fmt.Errorf("mcmdp: socket directory %s is on a kernel filesystem (proc, sys) where no socket can exist", dir)
	}
	st, err = os.Lstat(path)
	if err != nil {
		return nil // nothing there yet: a master makes it, a slave waits for it
	}
	if st.Mode()&os.ModeSocket != 0 && !master && unix.Access(path, unix.W_OK) != nil {
		return fmt.Errorf("mcmdp: %s: permission denied: this user may not connect to the socket (ask for its group)", path)
	}
	if st.Mode()&os.ModeSymlink != 0 && !master {
		st, err = os.Stat(path) // a slave may connect through a link
		if err != nil {
			return nil
		}
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("mcmdp: %s is a %s, not a socket", path, fileKind(st.Mode()))
	}
	return nil
}

// noSocketsHere: procfs and sysfs take no socket files, so a slave would
// wait forever for a master that cannot be there.
func noSocketsHere(dir string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) != nil {
		return false
	}
	return fs.Type == unix.PROC_SUPER_MAGIC || fs.Type == unix.SYSFS_MAGIC
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeSymlink != 0:
		return "symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m.IsRegular():
		return "regular file"
	}
	return "special file"
}

// Details is what the current session was set up with: a master takes its
// slave's ring size; BufferSize is this side's own (a master sends into its
// slave's buffers, whatever their size).
type Details struct {
	Up                   bool
	IsMaster             bool
	InterfaceID          uint32
	PeerName, PeerApp    string // the peer's interface and application names
	Queues               int    // each way
	RingSize, BufferSize int    // descriptors per ring, bytes per buffer
	Reconnects           uint64
}

// Details reports the negotiated session (Up false while there is none).
func (c *Conn) Details() (Details, error) {
	d, err := c.iface.Details()
	if err != nil {
		return Details{}, c.mapErr(err)
	}
	return Details{Up: d.Session != 0, IsMaster: d.IsMaster, InterfaceID: d.ID,
		PeerName: d.RemoteName, PeerApp: d.RemoteAppName, Queues: d.RxQueues,
		RingSize: d.RingSize, BufferSize: d.BufferSize, Reconnects: c.reconnects()}, nil
}
