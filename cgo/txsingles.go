//go:build !libmemif_system

package memif

/*
#include <stdint.h>
#include <libmemif.h>
#include "gobuffer.h"
int seam_tx_singles(uintptr_t c, uint16_t qid, uintptr_t bufs, uint16_t n, uintptr_t next, uint16_t want, uint32_t size, uintptr_t lens, uintptr_t metas, uintptr_t data, uintptr_t out);
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// TxSingles is TxAlloc for packets that take one buffer each, written
// from the buffer's start (capability TxSingles): it sends bufs, which
// must be the oldest buffers allocated on queue qid, in that order (Len and
// Metadata are read; the rest is what alloc gave), then allocates up to
// len(next) buffers of at least size bytes into next (Data and Len, size
// of them, are set; nothing else; the rest of the first min(len(next),
// 256), those not among bufs, get a nil Data). next may be bufs, or
// overlap it: the buffers sent are read first. Only lengths and addresses
// cross, not a whole descriptor per packet. The allocation stops before a
// buffer smaller than size (short: such packets need chains, see
// AllocPacket); got is 0 when the send failed. err is the send's, or with
// no bufs the allocation's, as Alloc's would be. Without the capability it
// answers ErrNotSupported (system libmemif: see ext_system.go).
func (i *Interface) TxSingles(s Session, qid uint16, bufs, next []Buffer, size uint32) (sent, got int, short bool, err error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, 0, false, err
	}
	defer i.unlock()
	n, want := min(len(bufs), maxBurst), min(len(next), maxBurst)
	for k := range next[:want] {
		// C overwrites Data without Go's write barrier, which is sound
		// only over a pointer the collector need not see: nil, or shared
		// memory (a caller's Go memory there would be dropped unseen).
		// Buffers being sent may be reused as next (mcmdp does): theirs
		// is shared memory already, and C reads it first.
		if b := &next[k]; !within(b, bufs[:n]) {
			b.Data = nil
		}
	}
	out := unsafe.Slice((*C.uint16_t)(unsafe.Pointer(i.count())), 3)
	// Rx's scratch: this call is under the same lock.
	rc := C.seam_tx_singles(handle(h), C.uint16_t(qid), inPlace(bufs), C.uint16_t(n), inPlace(next), C.uint16_t(want),
		C.uint32_t(size), addr(i.scratchRoom()), addr(i.scratchMeta()), C.uintptr_t(uintptr(i.scratch)), addr(&out[0]))
	runtime.KeepAlive(bufs) // C read them and filled next
	runtime.KeepAlive(next)
	if rc == C.SEAM_LEN_OUTSIDE_DATA {
		return 0, 0, false, &Error{Op: "tx", Code: ErrInvalidArg, Reason: "Len outside Data"}
	}
	if got = int(out[1]); got > 0 {
		i.handedOut = s
	}
	return int(out[0]), got, out[2] != 0, dataErr(int(rc))
}

// inPlace passes Buffers to C to be read or filled where they are. That is
// within cgo's rules: they hold no Go pointers (Data is shared memory,
// queue C memory), and the caller keeps them alive across the call.
func inPlace(bufs []Buffer) C.uintptr_t {
	if len(bufs) == 0 {
		return 0
	}
	return addr(&bufs[0])
}

// within reports whether b is one of bufs (the same memory).
func within(b *Buffer, bufs []Buffer) bool {
	if len(bufs) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(b)), uintptr(unsafe.Pointer(&bufs[0]))
	return p >= lo && p-lo < uintptr(len(bufs))*unsafe.Sizeof(Buffer{})
}

// C's picture of a Buffer (gobuffer.h) must be Go's: each index below is
// out of range, or overflows, and fails to compile, when an offset or the
// size differs. A slice is its pointer, then its length and capacity.
var (
	_ = [1]struct{}{}[unsafe.Offsetof(Buffer{}.Data)-C.SEAM_GO_BUFFER_DATA]
	_ = [1]struct{}{}[unsafe.Offsetof(Buffer{}.Data)+unsafe.Sizeof(uintptr(0))-C.SEAM_GO_BUFFER_DATA_LEN]
	_ = [1]struct{}{}[unsafe.Offsetof(Buffer{}.Data)+2*unsafe.Sizeof(uintptr(0))-C.SEAM_GO_BUFFER_DATA_CAP]
	_ = [1]struct{}{}[unsafe.Offsetof(Buffer{}.Len)-C.SEAM_GO_BUFFER_LEN]
	_ = [1]struct{}{}[unsafe.Offsetof(Buffer{}.Metadata)-C.SEAM_GO_BUFFER_METADATA]
	_ = [1]struct{}{}[unsafe.Sizeof(Buffer{})-C.SEAM_GO_BUFFER_SIZE]
)
