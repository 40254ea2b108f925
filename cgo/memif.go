package memif

/*
#cgo !libmemif_system CFLAGS: -I${SRCDIR}/../libmemif -D_GNU_SOURCE -std=gnu11 -O2
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <libmemif.h>
int seam_create_socket(memif_socket_handle_t *s, const char *path, const char *app, long long retry_ns, uintptr_t h);
int seam_create(memif_conn_handle_t *c, memif_conn_args_t *a, uintptr_t h);
int seam_fd_handler(uintptr_t p, int events);
void seam_set_mode(memif_conn_args_t *a, int mode);
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/cgo"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	strerror = func(code int) string { return C.GoString(C.memif_strerror(C.int(code))) }
}

// NewSocket creates a control socket and starts its event goroutine.
func NewSocket(cfg SocketConfig) (*Socket, error) {
	if cfg.Path == "" || len(cfg.Path) > maxSocketPathLen {
		return nil, fmt.Errorf("memif: socket path must be 1..%d bytes, got %d", maxSocketPathLen, len(cfg.Path))
	}
	if len(cfg.AppName) > maxNameLen {
		return nil, fmt.Errorf("memif: app name is %d bytes, at most %d", len(cfg.AppName), maxNameLen)
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = int64(100 * time.Millisecond)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memif: epoll: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("memif: eventfd: %w", err)
	}
	s := &Socket{cfg: cfg, epfd: epfd, wakeFd: wake, fds: map[int32]watched{}, timerArmed: true,
		ifaces: map[*Interface]struct{}{}, loopDone: make(chan struct{})}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("memif: epoll: %w", err)
	}
	s.handle = cgo.NewHandle(s)
	path, app := C.CString(cfg.Path), C.CString(cfg.AppName)
	defer C.free(unsafe.Pointer(path))
	defer C.free(unsafe.Pointer(app))
	var h C.memif_socket_handle_t
	s.mu.Lock()
	rc := C.seam_create_socket(&h, path, app, C.longlong(cfg.RetryInterval), C.uintptr_t(s.handle))
	if rc == 0 {
		s.h = unsafe.Pointer(h)
		enableErrorCallback(h)
		setHandshakeTimeout(h, cfg.HandshakeTimeout)
	}
	s.mu.Unlock()
	if rc != 0 {
		s.handle.Delete()
		unix.Close(epfd)
		unix.Close(wake)
		return nil, check("create socket", int(rc))
	}
	go s.loop()
	return s, nil
}

// loop is the event goroutine: it waits for control fds without the lock
// and handles each ready fd with it.
func (s *Socket) loop() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(s.loopDone)
	events := make([]unix.EpollEvent, 1) // one at a time: handling may remove others
	for {
		n, err := unix.EpollWait(s.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || s.closed.Load() {
			return
		}
		if n == 0 || int(events[0].Fd) == s.wakeFd {
			continue
		}
		s.lockUnmap()
		s.lockEngine()
		if w, ok := s.fds[events[0].Fd]; ok && w.seq == events[0].Pad && s.h != nil {
			s.handling = events[0].Fd
			s.peekBye(events[0].Events)
			C.seam_fd_handler(C.uintptr_t(w.priv), C.int(epollToMemif(events[0].Events)))
			s.handling, s.peerBye = 0, nil
			s.flushDown()
			s.retryTimer()
		}
		s.unlockEngine()
		s.unlockUnmap()
	}
}

func epollToMemif(ev uint32) int {
	m := 0
	if ev&unix.EPOLLIN != 0 {
		m |= C.MEMIF_FD_EVENT_READ
	}
	if ev&unix.EPOLLOUT != 0 {
		m |= C.MEMIF_FD_EVENT_WRITE
	}
	if ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		m |= C.MEMIF_FD_EVENT_ERROR
	}
	return m
}

//export goOnFdUpdate
func goOnFdUpdate(fd C.int, typ C.int, priv C.uintptr_t, ctx C.uintptr_t) C.int {
	s := cgo.Handle(ctx).Value().(*Socket)
	t := int(typ)
	if t&C.MEMIF_FD_EVENT_DEL != 0 {
		delete(s.fds, int32(fd))
		unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
		return 0
	}
	var ev uint32
	if t&C.MEMIF_FD_EVENT_READ != 0 {
		ev |= unix.EPOLLIN
	}
	if t&C.MEMIF_FD_EVENT_WRITE != 0 {
		ev |= unix.EPOLLOUT
	}
	s.regSeq++
	e := unix.EpollEvent{Events: ev, Fd: int32(fd), Pad: s.regSeq}
	op := unix.EPOLL_CTL_ADD
	if _, ok := s.fds[int32(fd)]; ok {
		op = unix.EPOLL_CTL_MOD
	}
	if err := unix.EpollCtl(s.epfd, op, int(fd), &e); err != nil {
		return -1
	}
	s.fds[int32(fd)] = watched{priv: uintptr(priv), seq: s.regSeq}
	return 0
}

//export goLinkUp
func goLinkUp(ctx C.uintptr_t) C.int {
	if cgo.Handle(ctx).Value().(*Interface).session.Load() != 0 {
		return 1
	}
	return 0
}

//export goOnLink
func goOnLink(ctx C.uintptr_t, up C.int, reason *C.char) {
	i := cgo.Handle(ctx).Value().(*Interface)
	if up != 0 {
		i.sessionChanged(true)
		i.session.Store(i.connects.Add(1))
		i.ctrlFd = i.s.handling // on_connect runs for a message on it
	} else {
		if i.session.Load() == 0 || i.downPending {
			return // a handshake that never came up (libmemif 4.x reports those too)
		}
		i.noteDownReason(i.downReason(reason))
		i.ctrlFd = 0
		// on_disconnect runs before the engine unmaps the session: the
		// down edge is published once the engine call returns (flushDown).
		i.downPending = true
		i.s.pendingDown = append(i.s.pendingDown, i)
		return
	}
	i.changed.Notify()
}

//export goNoteRegion
func goNoteRegion(ctx C.uintptr_t, addr unsafe.Pointer, size C.uint32_t) {
	i := cgo.Handle(ctx).Value().(*Interface)
	if !bundledEngine && i.session.Load() != 0 {
		i.goneRegions = append(i.goneRegions, region{addr, uintptr(size)})
	}
}

// flushDown publishes the disconnects reported during the engine call that
// just returned; the socket mutex is held.
func (s *Socket) flushDown() {
	for _, i := range s.pendingDown {
		i.keepStale()
		i.downPending = false
		i.session.Store(0)
		i.disconnects.Add(1)
		i.sessionChanged(false)
		i.changed.Notify()
	}
	clear(s.pendingDown)
	s.pendingDown = s.pendingDown[:0]
}

// noteDownReason keeps the peer's DISCONNECT reason, read from the details
// at on_disconnect. libmemif 4.x never clears it between sessions, so a
// reason equal to the previous session's is taken as none.
func (i *Interface) noteDownReason(reason *string) {
	if reason == nil {
		return
	}
	msg := peerText(*reason)
	if msg == "" || msg == i.prevDownReason && !exactDownReason {
		return
	}
	i.prevDownReason = msg
	i.lastError.Store(&lastError{msg, ErrDisconnect})
}

//export goOnError
func goOnError(ctx C.uintptr_t, isConn C.int, code C.int, reason *C.char) {
	msg := peerText(C.GoString(reason)) // often the peer's own words
	if isConn == 0 {
		cgo.Handle(ctx).Value().(*Socket).lastError.Store(&msg)
		return
	}
	i := cgo.Handle(ctx).Value().(*Interface)
	i.lastError.Store(&lastError{msg, Errno(code)})
	i.changed.Notify()
}

// Close deletes every interface of the socket, the socket itself (a
// master's socket file is removed) and stops the event goroutine. It is
// idempotent and safe from any goroutine.
func (s *Socket) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		ifaces := make([]*Interface, 0, len(s.ifaces))
		for i := range s.ifaces {
			ifaces = append(ifaces, i)
		}
		s.mu.Unlock()
		for _, i := range ifaces {
			i.Close()
		}
		s.mu.Lock()
		h := C.memif_socket_handle_t(s.h)
		lfd := listenerFd(h)
		err = check("delete socket", int(C.memif_delete_socket(&h)))
		closeListener(lfd, s.cfg.Path)
		s.h = nil
		s.closed.Store(true)
		s.mu.Unlock()
		one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
		unix.Write(s.wakeFd, one)
		<-s.loopDone
		unix.Close(s.epfd)
		unix.Close(s.wakeFd)
		s.handle.Delete()
	})
	return err
}

// NewInterface creates an interface on the socket. A slave starts
// connecting at once and keeps retrying; a master waits for its slave.
func (s *Socket) NewInterface(cfg Config) (*Interface, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("memif: eventfd: %w", err)
	}
	i := &Interface{s: s, cfg: cfg, wakeFd: wake}
	i.handle = cgo.NewHandle(i)
	// A whole ring of entries: libmemif 4.x writes a packet's chain past
	// the count asked for, up to the ring's room.
	i.nscratch = max(maxBurst, 1<<cfg.log2Ring())
	i.scratch = C.calloc(C.size_t(i.nscratch*C.sizeof_memif_buffer_t+2*maxBurst*4+8), 1)
	i.extScratch = allocExtScratch()

	var a C.memif_conn_args_t
	if cfg.IsMaster {
		a.is_master = 1
	}
	a.interface_id = C.uint32_t(cfg.InterfaceID)
	a.num_s2m_rings = C.uint8_t(cfg.NumS2M)
	a.num_m2s_rings = C.uint8_t(cfg.NumM2S)
	a.log2_ring_size = C.uint8_t(cfg.Log2RingSize)
	if cfg.BufferSize <= 0xFFFF {
		a.buffer_size = C.uint16_t(cfg.BufferSize)
	}
	C.seam_set_mode(&a, C.int(cfg.Mode))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&a.secret[0])), maxSecretLen), cfg.Secret)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&a.interface_name[0])), maxNameLen), cfg.Name)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		i.free()
		return nil, ErrClosed
	}
	if cfg.IsMaster && !s.hasMaster() {
		prepareMaster(s.cfg.Path) // never probe our own listener
	}
	a.socket = C.memif_socket_handle_t(s.h)
	var h C.memif_conn_handle_t
	if rc := C.seam_create(&h, &a, C.uintptr_t(i.handle)); rc != 0 {
		i.free()
		return nil, check("create", int(createFailed(cfg.IsMaster, s.cfg.Path, rc)))
	}
	rc := setBufferSize32(h, cfg.BufferSize)
	if rc == 0 {
		rc = setPrefault(h, cfg.Prefault)
	}
	if rc != 0 {
		C.memif_delete(&h)
		i.free()
		return nil, check("create", int(rc))
	}
	i.h = unsafe.Pointer(h)
	s.ifaces[i] = struct{}{}
	s.retryTimer()
	return i, nil
}

// free releases the C scratch; callers hold the interface's locks (or
// never published it), so no WaitTx is using it.
func (i *Interface) free() {
	C.free(i.scratch)
	i.scratch = nil
	freeExtScratch(i.extScratch)
	i.extScratch = nil
	i.handle.Delete()
}

// Close deletes the interface (the peer gets a DISCONNECT), wakes every
// waiter with ErrClosed and invalidates all its buffers. Idempotent.
func (i *Interface) Close() error {
	s := i.s
	s.lockUnmap()
	if _, err := i.lockAny(); err != nil {
		s.unlockUnmap()
		return nil
	}
	h := C.memif_conn_handle_t(i.h)
	i.sendCloseReason()
	rc := C.memif_delete(&h)
	s.flushDown()
	i.releaseStale(0)
	i.h = nil
	delete(s.ifaces, i)
	s.retryTimer()
	i.free()
	i.unlockAny()
	s.unlockUnmap()
	i.closed.Store(true)
	i.session.Store(0)
	i.wake()
	i.releaseWake()
	i.changed.Notify()
	return check("delete", int(rc))
}

// Locking. Engine calls for one interface's data path (lock) take only its
// data mutex, so interfaces sharing a socket, and the socket's event
// goroutine, do not queue behind each other's sends and receives. Calls
// that are not tied to a session (lockAny) take the socket mutex, then the
// data mutex. The event goroutine, whose engine calls may change any
// interface's state, takes the socket mutex and every data mutex
// (lockEngine). Lock order: socket mutex, then data mutexes.

// lock enters the engine for a call of session s; it fails once closed,
// or when s is not the current session (exact: sessions move only under
// the data mutex too).
func (i *Interface) lock(s Session) (C.memif_conn_handle_t, error) {
	i.dmu.Lock()
	switch {
	case i.h == nil:
		i.dmu.Unlock()
		return nil, ErrClosed
	case s == 0 || Session(i.session.Load()) != s:
		i.dmu.Unlock()
		return nil, Errno(ErrNoConn)
	}
	i.calls++
	return C.memif_conn_handle_t(i.h), nil
}

func (i *Interface) unlock() { i.dmu.Unlock() }

// EngineCalls counts the calls into the engine made for a session (each
// one cgo call: the data path's Alloc, Tx, Rx, Refill and the like, and
// each turn of a wait) since the interface was created. Its use is to
// check how many crossings a way of sending costs.
func (i *Interface) EngineCalls() uint64 {
	i.dmu.Lock()
	defer i.dmu.Unlock()
	return i.calls
}

// lockAny enters the engine for a call that is not tied to a session.
func (i *Interface) lockAny() (C.memif_conn_handle_t, error) {
	i.s.mu.Lock()
	i.dmu.Lock()
	if i.h == nil {
		i.unlockAny()
		return nil, ErrClosed
	}
	return C.memif_conn_handle_t(i.h), nil
}

func (i *Interface) unlockAny() {
	i.dmu.Unlock()
	i.s.mu.Unlock()
}

// lockEngine: the socket mutex and every interface's data mutex.
func (s *Socket) lockEngine() {
	s.mu.Lock()
	for i := range s.ifaces {
		i.dmu.Lock()
	}
}

func (s *Socket) unlockEngine() {
	for i := range s.ifaces {
		i.dmu.Unlock()
	}
	s.mu.Unlock()
}

// The scratch area is C memory: nscratch memif_buffer_t, maxBurst uint32
// metadata words, maxBurst uint32 room counts (Rx), then 8 bytes for the
// engine's count outputs (or an fd).
// Pointers to Go variables passed to C would escape to the heap per call.
func (i *Interface) scratchBufs() []C.memif_buffer_t {
	return unsafe.Slice((*C.memif_buffer_t)(i.scratch), i.nscratch)
}

func (i *Interface) scratchMeta() *C.uint32_t {
	return (*C.uint32_t)(unsafe.Add(i.scratch, i.nscratch*C.sizeof_memif_buffer_t))
}

func (i *Interface) scratchRoom() *C.uint32_t {
	return (*C.uint32_t)(unsafe.Add(i.scratch, i.nscratch*C.sizeof_memif_buffer_t+maxBurst*4))
}

// count is zeroed before each use: libmemif 4.x leaves it unwritten on an
// early return. It starts 8 bytes of outputs (TxAlloc has two counts,
// TxSingles three).
func (i *Interface) count() *C.uint16_t {
	p := (*C.uint16_t)(unsafe.Add(i.scratch, i.nscratch*C.sizeof_memif_buffer_t+2*maxBurst*4))
	*(*uint64)(unsafe.Pointer(p)) = 0
	return p
}

// hasMaster: the socket already listens for one of its interfaces.
func (s *Socket) hasMaster() bool {
	for i := range s.ifaces {
		if i.cfg.IsMaster {
			return true
		}
	}
	return false
}
