package memif

import (
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mcmgo/mcm/internal/notify"
)

// Socket is one memif control socket and the event goroutine that serves it.
// A socket may serve both roles: masters listen on it, slaves connect
// through it.
type Socket struct {
	// mu serialises every call into the engine for this socket and its
	// interfaces; callbacks from C run with it held. Lock order: a
	// caller's own locks (mcmdp's Conn.mu) before mu; under mu only an
	// Interface's waitMu and its change broadcast. Callbacks must never
	// take a caller's lock or call back into a caller.
	mu     sync.Mutex
	h      unsafe.Pointer // memif_socket_handle_t
	handle cgo.Handle
	cfg    SocketConfig

	epfd   int
	wakeFd int               // eventfd: stops the event goroutine
	fds    map[int32]watched // watched fd -> engine's private_ctx
	regSeq int32             // numbers registrations, see watched
	ifaces map[*Interface]struct{}

	closeOnce sync.Once
	closed    atomic.Bool
	loopDone  chan struct{}
	lastError atomic.Pointer[string]
	// pendingDown: interfaces whose on_disconnect ran in the current engine
	// call (under mu), published by flushDown once it returns.
	pendingDown []*Interface
	// handling: the fd whose event the engine is handling (under mu);
	// peerBye: the reason of a DISCONNECT waiting on it, if one was (see
	// peekBye; libmemif_system only).
	handling int32
	peerBye  *string
	// memMu, libmemif_system only: held shared by HoldMemory around
	// copies into or out of shared memory, exclusively around engine
	// calls that may unmap a session (events, delete). Lock order:
	// a caller's own locks, memMu, mu.
	memMu sync.RWMutex
	// timerArmed, libmemif_system only, under mu: the engine's
	// connection-request timer runs (see retryTimer); it does from creation.
	timerArmed bool
}

// watched is one fd registration. An event read without the lock may
// belong to an fd that was closed and whose number was reused since; the
// registration number, carried in the epoll event, tells them apart.
type watched struct {
	priv uintptr
	seq  int32
}

// Interface is one memif interface (connection) on a Socket.
type Interface struct {
	s      *Socket
	h      unsafe.Pointer // memif_conn_handle_t
	handle cgo.Handle
	cfg    Config

	scratch  unsafe.Pointer // C memory, see scratchBufs
	nscratch int            // memif_buffer_t entries in it: a whole ring

	// extScratch: C scratch of the engine-specific calls, under dmu:
	// WaitTx's state (bundled), memif_get_details' output (upstream).
	extScratch unsafe.Pointer
	dmu        sync.Mutex // the data path's, see lock
	calls      uint64     // engine calls for a session, under dmu (EngineCalls)

	// connects counts sessions that came up; session is the current one
	// (its connects number) or 0. Both move only under the socket mutex
	// and dmu, so a call holding either sees them exactly.
	connects    atomic.Uint64
	session     atomic.Uint64
	disconnects atomic.Uint64
	lastError   atomic.Pointer[lastError]
	// prevDownReason: the last reason noted at a disconnect (event goroutine).
	prevDownReason string
	downPending    bool // under the socket mutex, see flushDown
	// libmemif_system, under the socket mutex: the control fd of the
	// session up (0: none) and the reason Close sends on it.
	ctrlFd      int32
	closeReason string
	// libmemif_system, under the socket mutex: the regions of the session
	// going down, then the zero pages put in their place, by session.
	goneRegions []region
	partials    map[uint16]*partialAlloc // bufferAllocPacket over upstream
	stale       map[Session][]region
	// uncovered: ended sessions with a region no zero pages could replace
	// (written under memMu held exclusively, read under it shared).
	uncovered map[Session]bool
	// handedOut, under dmu: the last session in which Alloc or Rx handed
	// out a buffer (libmemif_system keeps zero pages only under a session
	// whose buffers someone may hold).
	handedOut Session
	// libmemif_system, under dmu: the regions of session regionsOf, which
	// bound what Rx lets a reader see past a length.
	regions   []region
	regionsOf Session
	// libmemif_system, under dmu: the descriptors taken from each receive
	// queue in session rxTakenOf, see prepareRxWait.
	rxTaken   [maxRxQueues]uint16
	rxTakenOf Session

	changed notify.Broadcast // every state change

	// Receive waits, see wait.go. waitGen numbers link changes; it moves
	// under both the socket mutex and waitMu. The waiter counts, genUp and
	// wakeFd's opening and closing are under waitMu.
	waitMu     sync.Mutex
	waitGen    atomic.Uint64
	genUp      bool
	curWaiters int // registered during the current waitGen
	oldWaiters int // registered before it: the wake fd stays readable for them
	wakeFd     int
	closed     atomic.Bool
	rxWake     [maxRxQueues]atomic.Uint32 // per receive queue, see noteRx
}

// Status reports the interface's connection state.
func (i *Interface) Status() Status {
	st := Status{Up: i.session.Load() != 0, Connects: i.connects.Load(), Disconnects: i.disconnects.Load()}
	if e := i.lastError.Load(); e != nil {
		st.LastError, st.LastErrorCode = e.reason, e.code
	}
	return st
}

// lastError is a reason and the code that came with it, stored together.
type lastError struct {
	reason string
	code   Errno
}

// Changed returns a channel closed at the next connect, disconnect, refusal
// or close. Read Status after it fires.
func (i *Interface) Changed() <-chan struct{} { return i.changed.C() }

// Config returns the configuration the interface was created with.
func (i *Interface) Config() Config { return i.cfg }

// LastError is the last refusal reported on the socket for a peer that
// matched no interface (for example an unknown interface id).
func (s *Socket) LastError() string {
	if e := s.lastError.Load(); e != nil {
		return *e
	}
	return ""
}

// Session returns the current session, or 0 while the interface is down.
// The data path takes it back: a caller keeping per-session state (like
// mcmdp's queues) passes the session that state belongs to, so a call
// racing a reconnect is refused instead of mixing sessions.
func (i *Interface) Session() Session { return Session(i.session.Load()) }
