//go:build libmemif_system

package memif

/*
#cgo LDFLAGS: -lmemif
#include <stdint.h>
#include <libmemif.h>
*/
import "C"

import (
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

// No metadata upstream: sent as zeros, read as zeros.
func txBurst(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta *C.uint32_t, n C.uint16_t, out *C.uint16_t) C.int {
	return C.memif_tx_burst(c, qid, b, n, out)
}

// No room reported either: nothing past a buffer's length is read.
func rxBurst(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta, room *C.uint32_t, n C.uint16_t, out *C.uint16_t) C.int {
	clear(unsafe.Slice(meta, n))
	clear(unsafe.Slice(room, n))
	rc := C.memif_rx_burst(c, qid, b, n, out)
	if rc == 0 && *out == 0 {
		// Finding the ring empty, libmemif 4.x then reads the interrupt
		// eventfd, swallowing the kick of a burst published in between:
		// that burst is on the ring now, so one more look finds it.
		rc = C.memif_rx_burst(c, qid, b, n, out)
	}
	return rc
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
// which the caller then gives back as ErrNoBuf.
func bufferAllocPacket(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, n C.uint16_t, out *C.uint16_t, size uint32, bufSize uint32) C.int {
	if size == 0 {
		size = bufSize
	}
	if size > 0xFFFF {
		return C.int(ErrInvalidArg)
	}
	return C.memif_buffer_alloc(c, qid, b, 1, out, C.uint16_t(size))
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
