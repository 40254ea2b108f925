//go:build libmemif_system

package memif

/*
#cgo LDFLAGS: -lmemif
#include <stdint.h>
#include <libmemif.h>
*/
import "C"

import (
	"time"
	"unsafe"
)

// Upstream libmemif 4.x: 16-bit buffer sizes, no metadata access, and
// refusal reasons only through Details().Error.

// bundledEngine: an upstream libmemif, without our extensions.
const bundledEngine = false

const hasBufferSize32 = false

func setBufferSize(a *C.memif_conn_args_t, n uint32) { a.buffer_size = C.uint16_t(n) }

func bufferAlloc(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32) C.int {
	if size > 0xFFFF {
		return C.int(ErrInvalidArg)
	}
	return C.memif_buffer_alloc(c, qid, b, n, out, C.uint16_t(size))
}

// bufferAllocPacket limits the entries to one packet's chain, computed from
// the configured buffer size (upstream has no one-packet allocation).
func bufferAllocPacket(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32, bufSize uint32) C.int {
	need := uint32(1)
	if size > bufSize {
		need = (size + bufSize - 1) / bufSize
	}
	if need > uint32(n) {
		return C.int(ErrNoBuf)
	}
	return bufferAlloc(c, qid, b, C.uint16_t(need), out, size)
}

// The queue back-pointer is named differently across libmemif 4.x releases
// and tx_burst finds the queue from qid: it is left unset.
func getQueue(b *C.memif_buffer_t) unsafe.Pointer { return nil }

func setQueue(b *C.memif_buffer_t, q unsafe.Pointer) {}

func getMetadata(b *C.memif_buffer_t) uint32 { return 0 }

func setMetadata(b *C.memif_buffer_t, m uint32) {}

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

func allocTxWait() unsafe.Pointer { return nil }

func freeTxWait(p unsafe.Pointer) {}

// SetCloseReason: upstream libmemif always sends its own reason.
func (i *Interface) SetCloseReason(reason string) error { return nil }

// Fault: upstream libmemif cannot end a session from the application; the
// caller must stop reading from the faulty peer instead.
func (i *Interface) Fault(s Session, reason string) error { return ErrNotSupported }

// ReleaseStale: upstream libmemif unmaps a session's memory at its
// disconnect and keeps nothing, so there is nothing to release.
func (i *Interface) ReleaseStale(session Session) error {
	if i.closed.Load() {
		return ErrClosed
	}
	return nil
}

// TxInFlight: upstream libmemif does not say what the peer has released.
func (i *Interface) TxInFlight(s Session, qid uint16) (int, error) {
	if i.closed.Load() {
		return 0, ErrClosed
	}
	return 0, ErrNotSupported
}

// wakeTxWaiters: WaitTx over upstream returns after every short sleep, so
// an Interrupt reaches it without a wake.
func wakeTxWaiters(h C.memif_conn_handle_t) {}
