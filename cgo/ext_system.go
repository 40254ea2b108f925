//go:build libmemif_system

package memif

/*
#cgo LDFLAGS: -lmemif
#include <stdint.h>
#include <libmemif.h>

// Sets the connection-request timer to every ns nanoseconds (0: stopped).
static int
seam_set_retry_timer (memif_socket_handle_t s, long long ns)
{
  struct itimerspec t = { 0 };
  t.it_value.tv_sec = ns / 1000000000;
  t.it_value.tv_nsec = ns % 1000000000;
  t.it_interval = t.it_value;
  return memif_set_connection_request_timer (s, t);
}
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Upstream libmemif 4.x: 16-bit buffer sizes, no metadata access, and
// refusal reasons only through Details().Error.

// bundledEngine: an upstream libmemif, without our extensions.
const bundledEngine = false

// Over our own engine built as a shared library this under-reports (the
// library has the extensions, this build does not call them).
var engineCaps = Capabilities{}

const hasBufferSize32 = false

func setBufferSize32(c C.memif_conn_handle_t, n uint32) C.int { return 0 }

// setPrefault: upstream maps pages on first touch.
func setPrefault(c C.memif_conn_handle_t, p Prefault) C.int { return 0 }

// No metadata upstream: sent as zeros, read as zeros.
func txBurst(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta *C.uint32_t, n C.uint16_t, out *C.uint16_t) C.int {
	return C.memif_tx_burst(c, qid, b, n, out)
}

func refill(c C.memif_conn_handle_t, qid C.uint16_t, n C.uint16_t) C.int {
	return C.memif_refill_queue(c, qid, n, 0)
}

// txAlloc over upstream only sends: out[1], the count allocated, stays 0.
func txAlloc(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta *C.uint32_t, n, want C.uint16_t, size uint32, out *C.uint16_t) C.int {
	return txBurst(c, qid, b, meta, n, out)
}

// TxInterrupts: upstream does not count them.
func (i *Interface) TxInterrupts(s Session, qid uint16) (uint64, error) { return 0, ErrNotSupported }

// TxSingles needs the bundled engine's memif_tx_singles: use TxAlloc.
func (i *Interface) TxSingles(s Session, qid uint16, bufs, next []Buffer, size uint32) (int, int, bool, error) {
	return 0, 0, false, ErrNotSupported
}

// bufferAlloc: libmemif 4.x counts packets, so n entries become as many
// packets as n holds whole (at least one; the caller gives back what runs
// past n). A size of 0 means whole buffers of the configured size.
func bufferAlloc(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32, bufSize uint32) C.int {
	if size == 0 {
		size = bufSize
	}
	if size > 0xFFFF {
		return C.int(ErrInvalidArg)
	}
	chain := max(1, (size+bufSize-1)/bufSize)
	packets := max(1, uint32(n)/chain)
	return C.memif_buffer_alloc(c, qid, b, C.uint16_t(packets), out, C.uint16_t(size))
}

// bufferAllocPacket: one packet; its chain may need more than n entries,
// which the caller then gives back as ErrNoBuf. libmemif 4.x sizes a packet
// in 16 bits, so a larger one (a video frame) is allocated as packets of
// whole buffers of this side's size, chained into one by the NEXT flag of
// each part's last buffer. b has room for a whole ring (Interface.scratch).
//
// When the ring runs out partway, the parts allocated so far cannot be
// given back: memif_set_next_free_buffer refuses to move back further than
// the room left after them, which is none. They are kept instead, and the
// next call for the same queue and size goes on from them.
func (i *Interface) bufferAllocPacket(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32, bufSize uint32) C.int {
	if size == 0 {
		size = bufSize
	}
	if size <= 0xFFFF {
		return C.memif_buffer_alloc(c, qid, b, 1, out, C.uint16_t(size))
	}
	chunk := uint32(0xFFFF)
	if bufSize <= 0xFFFF {
		chunk = 0xFFFF / bufSize * bufSize
	}
	all := unsafe.Slice(b, i.nscratch)
	p := i.partialFor(uint16(qid))
	total, left := 0, size
	if p.n > 0 && p.session == i.session.Load() && p.size == size {
		total = copy(all, p.bufs[:p.n])
		left = p.left
	}
	p.n = 0
	for left > 0 {
		part := min(left, chunk)
		var got C.uint16_t
		rc := C.memif_buffer_alloc(c, qid, &all[total], 1, &got, C.uint16_t(part))
		if rc != 0 && rc != C.MEMIF_ERR_NOBUF_RING || got == 0 {
			if total > 0 {
				p.n = copy(p.bufs, all[:total])
				p.session, p.size, p.left = i.session.Load(), size, left
			}
			*out = 0
			if rc == 0 {
				rc = C.MEMIF_ERR_NOBUF_RING
			}
			return rc
		}
		if total > 0 {
			all[total-1].flags |= C.MEMIF_BUFFER_FLAG_NEXT
		}
		total += int(got)
		left -= part
	}
	*out = C.uint16_t(total)
	return 0
}

// partialAlloc: the parts of a large packet allocated before the ring ran
// out, in a session, for the next bufferAllocPacket of queue qid.
type partialAlloc struct {
	session    uint64
	size, left uint32
	n          int
	bufs       []C.memif_buffer_t
}

func (i *Interface) partialFor(qid uint16) *partialAlloc {
	if i.partials == nil {
		i.partials = map[uint16]*partialAlloc{}
	}
	p := i.partials[qid]
	if p == nil {
		p = &partialAlloc{bufs: make([]C.memif_buffer_t, i.nscratch)}
		i.partials[qid] = p
	}
	return p
}

// The queue back-pointer is named differently across libmemif 4.x releases
// and tx_burst finds the queue from qid: it is left unset.
func getQueue(b *C.memif_buffer_t) unsafe.Pointer { return nil }

func setQueue(b *C.memif_buffer_t, q unsafe.Pointer) {}

func enableErrorCallback(s C.memif_socket_handle_t) {}

// setHandshakeTimeout: upstream libmemif keeps its own handshake timing.
func setHandshakeTimeout(s C.memif_socket_handle_t, ns int64) {}

// WaitTx, with upstream libmemif, cannot see the ring: it waits one short
// slice (or until closed) and the caller retries its allocation.
func (i *Interface) WaitTx(s Session, qid uint16, timeout time.Duration, need int) error {
	if i.closed.Load() {
		return ErrClosed
	}
	if s == 0 || i.Session() != s {
		return Errno(ErrNoConn)
	}
	if timeout == 0 {
		return ErrTimeout
	}
	time.Sleep(200 * time.Microsecond)
	return nil
}

// SetCloseReason sets the reason Close sends the peer in a DISCONNECT (96
// bytes at most). libmemif 4.x sends none when an interface is deleted, so
// the seam writes the message on the session's control fd itself, just
// before the delete closes it: a plain memif DISCONNECT, as any peer
// expects one.
func (i *Interface) SetCloseReason(reason string) error {
	if _, err := i.lockAny(); err != nil {
		return err
	}
	defer i.unlockAny()
	i.closeReason = reason
	return nil
}

// The memif 2.0 control message: 128 bytes, a 16-bit type, then for a
// DISCONNECT a 32-bit code and a 96-byte string.
const (
	msgSize       = 128
	msgDisconnect = 8
	msgReasonOff  = 6
	msgReasonLen  = 96
)

// sendCloseReason, under the socket mutex before the delete, sends the
// close reason to the peer of the session up, if there is one.
func (i *Interface) sendCloseReason() {
	if i.closeReason == "" || i.ctrlFd == 0 || i.session.Load() == 0 {
		return
	}
	var msg [msgSize]byte
	binary.LittleEndian.PutUint16(msg[:], msgDisconnect)
	copy(msg[msgReasonOff:msgReasonOff+msgReasonLen-1], i.closeReason)
	unix.Sendto(int(i.ctrlFd), msg[:], unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, nil)
}

// exactDownReason: peekBye sees each DISCONNECT itself, so a reason equal
// to the previous session's is a new one.
const exactDownReason = true

// peekBye, under the socket mutex before the engine handles an event on
// s.handling, keeps the reason of a DISCONNECT waiting there. libmemif 4.x
// keeps the last reason ever received in the details and never clears it,
// so they cannot tell a peer's new reason from an old one, nor from none.
func (s *Socket) peekBye(ev uint32) {
	if ev&unix.EPOLLIN == 0 {
		return
	}
	var msg [msgSize]byte
	n, _, err := unix.Recvfrom(int(s.handling), msg[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err != nil || n != msgSize || binary.LittleEndian.Uint16(msg[:]) != msgDisconnect {
		return
	}
	r := msg[msgReasonOff : msgReasonOff+msgReasonLen]
	if k := bytes.IndexByte(r, 0); k >= 0 {
		r = r[:k]
	}
	reason := string(r)
	s.peerBye = &reason
}

// downReason: the DISCONNECT that ended the session, if one came on its
// control fd (the engine's details are not asked, see peekBye).
func (i *Interface) downReason(*C.char) *string {
	if i.s.handling == i.ctrlFd {
		return i.s.peerBye
	}
	return nil
}

// Fault: upstream libmemif cannot end a session from the application; the
// caller must stop reading from the faulty peer instead.
func (i *Interface) Fault(s Session, reason string) error { return ErrNotSupported }

// HoldMemory keeps the memory of session s mapped until ReleaseMemory and
// reports true, or reports false, holding nothing, when s ended and its
// memory is gone. libmemif 4.x unmaps a session's regions in the engine
// call that ends it; the seam puts zero pages back right after (keepStale)
// unless something else was mapped into the gap meanwhile. A copy into or
// out of a buffer (a chained frame's staging) must not run across that
// moment: hold the memory only for the copy, and make no other call of the
// Interface or its Socket meanwhile.
func (i *Interface) HoldMemory(s Session) bool {
	i.s.memMu.RLock()
	if s == 0 || Session(i.session.Load()) != s && i.uncovered[s] {
		i.s.memMu.RUnlock()
		return false
	}
	return true
}

// ReleaseMemory ends HoldMemory.
func (i *Interface) ReleaseMemory() { i.s.memMu.RUnlock() }

func (s *Socket) lockUnmap()   { s.memMu.Lock() }
func (s *Socket) unlockUnmap() { s.memMu.Unlock() }

// region is one shared-memory region of a session.
type region struct {
	addr unsafe.Pointer
	size uintptr
}

// keepStale, under the socket mutex right after the engine call in which
// session i.session went down: libmemif 4.x unmapped its regions, which
// buffers still held (and descriptors read but not yet delivered) point
// into; private zero pages go where they were, as the bundled engine
// does, until ReleaseStale. Only a use inside that engine call can still
// fault, and a range someone mapped meanwhile is left alone (HoldMemory
// then says the session's memory is gone). A session
// that handed out no buffer (it came and went before anyone looked) keeps
// nothing: no Release would ever come for it.
func (i *Interface) keepStale() {
	s := Session(i.session.Load())
	if i.handedOut != s {
		i.goneRegions = i.goneRegions[:0]
		return
	}
	for _, r := range i.goneRegions {
		p, err := unix.MmapPtr(-1, 0, r.addr, r.size, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE|unix.MAP_NORESERVE)
		if err == nil && p != r.addr { // a kernel without MAP_FIXED_NOREPLACE
			unix.MunmapPtr(p, r.size)
		}
		if err != nil || p != r.addr {
			if i.uncovered == nil {
				i.uncovered = map[Session]bool{}
			}
			i.uncovered[s] = true // see HoldMemory
			continue
		}
		if i.stale == nil {
			i.stale = map[Session][]region{}
		}
		i.stale[s] = append(i.stale[s], r)
	}
	i.goneRegions = i.goneRegions[:0]
}

// ReleaseStale unmaps the zero pages left under the buffers of session
// (of every ended session when session is 0); see the bundled engine's
// ReleaseStale for the contract. Close releases everything.
func (i *Interface) ReleaseStale(session Session) error {
	i.s.lockUnmap() // no copy is running in the pages, see HoldMemory
	defer i.s.unlockUnmap()
	if _, err := i.lockAny(); err != nil {
		return err
	}
	defer i.unlockAny()
	i.releaseStale(session)
	return nil
}

func (i *Interface) releaseStale(session Session) {
	if session == 0 {
		clear(i.uncovered)
	}
	delete(i.uncovered, session)
	for s, rs := range i.stale {
		if session == 0 || s == session {
			for _, r := range rs {
				unix.MunmapPtr(r.addr, r.size)
			}
			delete(i.stale, s)
		}
	}
}

// prepareMaster removes a socket file left by a master that died: libmemif
// 4.x binds without looking and fails with a syscall error on it. Only a
// file nobody listens on (connect refused) goes.
func prepareMaster(path string) {
	if strings.HasPrefix(path, "@") {
		return // abstract: the kernel freed it with the process
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); errors.Is(err, unix.ECONNREFUSED) {
		os.Remove(path)
	}
}

// retryTimer, under the socket mutex, arms libmemif 4.x's
// connection-request timer only while a slave of the socket is down:
// upstream ticks it for ever, a wakeup every RetryInterval for nothing on
// an idle socket (and on every master's).
func (s *Socket) retryTimer() {
	need := false
	for i := range s.ifaces {
		if !i.cfg.IsMaster && i.session.Load() == 0 {
			need = true
			break
		}
	}
	if s.h == nil || need == s.timerArmed {
		return
	}
	ns := int64(0)
	if need {
		ns = s.cfg.RetryInterval
	}
	if C.seam_set_retry_timer(C.memif_socket_handle_t(s.h), C.longlong(ns)) == 0 {
		s.timerArmed = need
	}
}

// createFailed: libmemif 4.x reports a master's bind to a path another
// master listens on as a bare syscall error; a connect that is accepted
// there says what it was.
func createFailed(isMaster bool, path string, rc C.int) C.int {
	if !isMaster || rc != C.MEMIF_ERR_SYSCALL {
		return rc
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return rc
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err == nil || errors.Is(err, unix.EAGAIN) {
		return C.MEMIF_ERR_ALREADY // listening (EAGAIN: with a full backlog)
	}
	return rc
}

// closeListener does what libmemif 4.x's memif_delete_socket leaves undone:
// its listener stays open (an abstract name stays bound) and the socket
// file stays. fd is taken before the delete and closed after it, so the
// engine's DEL for it names an fd still open.
func listenerFd(h C.memif_socket_handle_t) int { return int(C.memif_get_listener_fd(h)) }

func closeListener(fd int, path string) {
	if fd > 0 {
		unix.Close(fd)
		if !strings.HasPrefix(path, "@") {
			os.Remove(path)
		}
	}
}

// wakeTxWaiters: WaitTx over upstream returns after every short sleep, so
// an Interrupt reaches it without a wake.
func wakeTxWaiters(h C.memif_conn_handle_t) {}
