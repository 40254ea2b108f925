//go:build !libmemif_system

package memif

/*
#include <stdint.h>
#include <stdlib.h>
#include <libmemif.h>
int seam_set_error_callback(memif_socket_handle_t s);
int seam_tx_wait_prepare(memif_conn_handle_t c, uint16_t qid, void *p);
void seam_futex_wait(uint32_t *word, uint32_t value, long long ns);
int seam_rx_wait_prepare(uintptr_t c, uint16_t qid, uintptr_t out);
int seam_tx_interrupts(uintptr_t c, uint16_t qid, uintptr_t out);
int seam_tx(uintptr_t c, uint16_t qid, uintptr_t bufs, uintptr_t meta, uint16_t n, uintptr_t out);
int seam_rx(uintptr_t c, uint16_t qid, uintptr_t bufs, uintptr_t meta, uintptr_t room, uint16_t n, uintptr_t out);
int seam_alloc(uintptr_t c, uint16_t qid, uintptr_t bufs, uint16_t n, uintptr_t out, uint32_t size, int one_packet);
int seam_refill(uintptr_t c, uint16_t qid, uint16_t n);
int seam_tx_alloc(uintptr_t c, uint16_t qid, uintptr_t bufs, uintptr_t meta, uint16_t n, uint16_t want, uint32_t size, uintptr_t out);
int seam_tx_singles(uintptr_t c, uint16_t qid, uintptr_t len, uintptr_t meta, uint16_t n, uintptr_t data, uint16_t want, uint32_t size, uintptr_t out);
typedef struct {
  uint16_t room, in_flight;
  uint32_t value;
  uint32_t *word;
  int peer_wakes;
} seam_tx_wait_t;
*/
import "C"

import (
	"errors"
	"time"
	"unsafe"
)

// The bundled engine's extensions: 32-bit buffer sizes, descriptor
// metadata, and refusal reasons reported on both sides.

// bundledEngine: the extensions of our own engine are there.
const bundledEngine = true

var engineCaps = Capabilities{BufferSize32: true, Metadata: true, Reasons: true,
	HandshakeTimeout: true, Fault: true, ReleaseStale: true, TxWait: true, TxInFlightAtEnd: true,
	ModeCheck: true, TxValidation: true, DuplicateIDCheck: true, Prefault: true,
	TxAlloc: true, TxSingles: true, Hardened: true, SharedSocket: true}

const hasBufferSize32 = true

// setBufferSize32 applies sizes above upstream's 16 bits, by the
// extension's own call, before the first session starts.
func setBufferSize32(c C.memif_conn_handle_t, n uint32) C.int {
	if n <= 0xFFFF {
		return 0
	}
	return C.memif_set_buffer_size32(c, C.uint32_t(n))
}

// setPrefault chooses the buffers the engine maps when a session starts.
func setPrefault(c C.memif_conn_handle_t, p Prefault) C.int {
	if p == 0 {
		return 0 // the engine's default
	}
	return C.memif_set_prefault(c, C.uint32_t(p))
}

// The data path's calls pass their pointers, all to C memory, as integers
// (see seam_tx): cgo's pointer checks would cost as much as the crossing.

func addr[T any](p *T) C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(p))) }

func handle(c C.memif_conn_handle_t) C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(c))) }

func txBurst(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta *C.uint32_t, n C.uint16_t, out *C.uint16_t) C.int {
	return C.seam_tx(handle(c), qid, addr(b), addr(meta), n, addr(out))
}

// txAlloc sends bufs[:n] and allocates up to want packets into bufs[n:]:
// out[0] is the count sent, out[1] the count allocated.
func txAlloc(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta *C.uint32_t, n, want C.uint16_t, size uint32, out *C.uint16_t) C.int {
	return C.seam_tx_alloc(handle(c), qid, addr(b), addr(meta), n, want, C.uint32_t(size), addr(out))
}

// prepareRxWait arms receive queue qid for a sleep (memif_rx_wait_prepare):
// ready says a burst is waiting already, masked that the receiver had kept
// the sender's interrupts masked until now. out is 8 bytes of C scratch.
func (i *Interface) prepareRxWait(c C.memif_conn_handle_t, qid uint16, out unsafe.Pointer) (ready, masked bool, rc C.int) {
	rc = C.seam_rx_wait_prepare(handle(c), C.uint16_t(qid), C.uintptr_t(uintptr(out)))
	o := unsafe.Slice((*C.int)(out), 2)
	return o[0] != 0, o[1] != 0, rc
}

func (i *Interface) rxBurst(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta, room *C.uint32_t, n C.uint16_t, out *C.uint16_t) C.int {
	return C.seam_rx(handle(c), qid, addr(b), addr(meta), addr(room), n, addr(out))
}

func bufferAlloc(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32, _ uint32) C.int {
	return C.seam_alloc(handle(c), qid, addr(b), n, addr(out), C.uint32_t(size), 0)
}

func (i *Interface) bufferAllocPacket(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32, _ uint32) C.int {
	return C.seam_alloc(handle(c), qid, addr(b), n, addr(out), C.uint32_t(size), 1)
}

func refill(c C.memif_conn_handle_t, qid C.uint16_t, n C.uint16_t) C.int {
	return C.seam_refill(handle(c), qid, n)
}

func getQueue(b *C.memif_buffer_t) unsafe.Pointer { return b.queue }

func setQueue(b *C.memif_buffer_t, q unsafe.Pointer) { b.queue = q }

func enableErrorCallback(s C.memif_socket_handle_t) { C.seam_set_error_callback(s) }

func setHandshakeTimeout(s C.memif_socket_handle_t, ns int64) {
	if ns <= 0 {
		return
	}
	ms := (ns + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	C.memif_set_handshake_timeout(s, C.uint32_t(min(ms, 1<<32-1)))
}

// Slices of a transmit wait: long when the peer's engine wakes us, short
// polls when it cannot (a plain memif peer gives no release event).
const (
	txWaitWoken  = 50 * time.Millisecond
	txWaitPolled = 200 * time.Microsecond
	// txSpin: how long a sender looks for room before it arms a wait. A
	// busy receiver frees some within microseconds; a sleep costs this
	// side a wake-up and the peer a system call to wake it.
	txSpin = 20 * time.Microsecond
)

// WaitTx blocks until transmit queue qid has room for need buffers
// (need > 0), or, with need == 0, until everything sent has been released
// by the peer; or session s ends (ErrNoConn) or the interface closes, or timeout passes
// (< 0: no limit). With a peer running this engine it sleeps until the peer
// releases buffers; with other peers it polls every 200µs. Any number of
// goroutines may wait; none holds anything while asleep.
func (i *Interface) WaitTx(s Session, qid uint16, timeout time.Duration, need int) error {
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for spin := need > 0 && timeout != 0; ; spin = false {
		h, err := i.lock(s)
		if err != nil {
			return err
		}
		// The C scratch is only touched under the data mutex.
		w := (*C.seam_tx_wait_t)(i.extScratch)
		if spin {
			rc := C.memif_tx_spin(h, C.uint16_t(qid), C.uint16_t(min(need, 0xFFFF)), C.uint32_t(txSpin), &w.room)
			if rc == 0 && int(w.room) >= need {
				i.unlock()
				return nil
			}
		}
		rc := C.seam_tx_wait_prepare(h, C.uint16_t(qid), i.extScratch)
		done := rc == 0 && ((need <= 0 && w.in_flight == 0) || (need > 0 && int(w.room) >= need))
		if done || rc != 0 {
			C.memif_tx_wait_done(h, C.uint16_t(qid))
		}
		word, value, wakes := w.word, w.value, w.peer_wakes
		gen := i.waitGen.Load() // moves only under the data mutex too
		i.unlock()
		if rc != 0 {
			return dataErr(int(rc))
		}
		if done {
			return nil
		}
		slice := txWaitPolled
		if wakes != 0 {
			slice = txWaitWoken
		}
		if timeout >= 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return ErrTimeout
			}
			slice = min(slice, left)
		}
		// The word may be unmapped by a disconnect meanwhile: the kernel
		// then answers EFAULT and the next turn sees the interface down.
		C.seam_futex_wait(word, value, C.longlong(slice))
		if i.waitGen.Load() != gen {
			if Session(i.session.Load()) != s {
				return Errno(ErrNoConn) // the wait's session ended
			}
			return nil // Interrupt: the caller looks again
		}
	}
}

// wakeTxWaiters wakes the sleepers of every transmit queue (Interrupt);
// it runs under the socket mutex.
func wakeTxWaiters(h C.memif_conn_handle_t) {
	for q := 0; q < 256; q++ {
		if C.memif_tx_wait_wake(h, C.uint16_t(q)) != 0 {
			return // past the last queue, or down: nobody sleeps on a ring
		}
	}
}

func allocExtScratch() unsafe.Pointer { return C.calloc(1, C.sizeof_seam_tx_wait_t) }

func freeExtScratch(p unsafe.Pointer) { C.free(p) }

// SetCloseReason sets the reason Close sends the peer in its DISCONNECT
// (96 bytes at most), e.g. to tell an end of stream from a failure.
func (i *Interface) SetCloseReason(reason string) error {
	h, err := i.lockAny()
	if err != nil {
		return err
	}
	defer i.unlockAny()
	cs := C.CString(reason)
	defer C.free(unsafe.Pointer(cs))
	return check("set close reason", int(C.memif_set_delete_reason(h, cs)))
}

// region is one shared-memory region of a session (libmemif_system).
type region struct {
	addr unsafe.Pointer
	size uintptr
}

// partialAlloc: the bundled engine allocates a packet whole or not at all.
type partialAlloc struct{}

// keepStale: the engine keeps zero pages under a session's buffers itself,
// and memif_delete releases them.
func (i *Interface) keepStale() {}

func (i *Interface) releaseStale(Session) {}

// HoldMemory and ReleaseMemory bracket a copy into or out of the shared
// memory of session s; the engine never unmaps a held buffer's pages
// (ReleaseStale), so they do nothing here and the memory is always there.
func (i *Interface) HoldMemory(s Session) bool { return true }

func (i *Interface) ReleaseMemory() {}

func (s *Socket) lockUnmap()   {}
func (s *Socket) unlockUnmap() {}

// sendCloseReason: the engine sends the close reason in its own DISCONNECT.
func (i *Interface) sendCloseReason() {}

// exactDownReason: the engine keeps the last reason received, as libmemif
// 4.x does, so a reason equal to the previous session's is taken as none.
const exactDownReason = false

// peekBye: the engine's details give the peer's reason.
func (s *Socket) peekBye(ev uint32) {}

// downReason: the bundled engine's error callback already recorded why
// the session ended, with its exact code (the peer's DISCONNECT, or a peer
// that vanished), so the details' text adds nothing.
func (i *Interface) downReason(detail *C.char) *string { return nil }

// Fault ends session s because the caller found the peer breaking a rule
// the engine cannot check (a frame longer than agreed): the peer gets a
// DISCONNECT with reason, sent from the event goroutine, and the interface
// waits for (master) or retries (slave) the next session. A later session
// is left alone (ErrNoConn).
func (i *Interface) Fault(s Session, reason string) error {
	h, err := i.lock(s)
	if err != nil {
		return err
	}
	defer i.unlock()
	cs := C.CString(reason)
	defer C.free(unsafe.Pointer(cs))
	return check("fault", int(C.memif_fault(h, cs)))
}

// ReleaseStale unmaps the placeholders of buffers that were held when
// session ended, or those of every ended session when session is 0.
//
// Contract: call it only once no Buffer of that session is held any more;
// the Data of such a Buffer may fault afterwards. Until then its memory
// stays readable (zeros) and writable (to a private page). Buffers of the
// current session are never affected, so it is safe to call at any time
// for a session the caller has seen end. Close releases everything.
func (i *Interface) ReleaseStale(session Session) error {
	h, err := i.lockAny() // any session: it names ended ones
	if err != nil {
		return err
	}
	defer i.unlockAny()
	return check("release stale", int(C.memif_release_stale(h, C.uint64_t(session))))
}

// TxInFlight is how many descriptors of transmit queue qid were sent in
// session s and not yet released by the peer: what a receiver that stops
// reading leaves undelivered. Once s has ended it is the count at its end
// (for the last session that ended; ErrNoConn for older ones).
func (i *Interface) TxInFlight(s Session, qid uint16) (int, error) {
	h, err := i.lock(s)
	if errors.Is(err, ErrNoConn) && s != 0 {
		return i.txInFlightAtEnd(s, qid)
	}
	if err != nil {
		return 0, err
	}
	defer i.unlock()
	w := (*C.seam_tx_wait_t)(i.extScratch)
	rc := C.seam_tx_wait_prepare(h, C.uint16_t(qid), i.extScratch)
	C.memif_tx_wait_done(h, C.uint16_t(qid)) // only counting: no wait armed
	if rc != 0 {
		return 0, dataErr(int(rc))
	}
	return int(w.in_flight), nil
}

// txInFlightAtEnd is TxInFlight of an ended session, under the socket
// mutex: a session ends in the engine's event handling, which holds it.
func (i *Interface) txInFlightAtEnd(s Session, qid uint16) (int, error) {
	h, err := i.lockAny()
	if err != nil {
		return 0, err
	}
	defer i.unlockAny()
	var n C.uint16_t
	if rc := C.memif_tx_in_flight_at_end(h, C.uint64_t(s), C.uint16_t(qid), &n); rc != 0 {
		return 0, dataErr(int(rc))
	}
	return int(n), nil
}

// TxInterrupts counts the interrupts (eventfd writes) this side sent on
// transmit queue qid in session s: a receiver that is awake, or polling,
// masks them, and then there are none.
func (i *Interface) TxInterrupts(s Session, qid uint16) (uint64, error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, err
	}
	defer i.unlock()
	out := unsafe.Pointer(i.count())
	rc := C.seam_tx_interrupts(handle(h), C.uint16_t(qid), C.uintptr_t(uintptr(out)))
	return *(*uint64)(out), dataErr(int(rc))
}

// retryTimer: the bundled engine stops its connection-request timer
// itself while no slave needs it.
func (s *Socket) retryTimer() {}

// prepareMaster: the bundled engine removes a dead master's socket file.
func prepareMaster(path string) {}

// createFailed: the bundled engine names a live master's path itself.
func createFailed(isMaster bool, path string, rc C.int) C.int { return rc }

// closeListener: the bundled engine closes and unlinks its listener.
func listenerFd(h C.memif_socket_handle_t) int { return -1 }

func closeListener(fd int, path string) {}
