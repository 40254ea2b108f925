//go:build !libmemif_system

package memif

/*
#include <stdint.h>
#include <libmemif.h>
int seam_tx_singles(uintptr_t c, uint16_t qid, uintptr_t len, uintptr_t meta, uint16_t n, uintptr_t data, uint16_t want, uint32_t size, uintptr_t out);
*/
import "C"

import "unsafe"

// TxSingles is TxAlloc for packets that take one buffer each, written
// from the buffer's start (capability TxSingles): it sends bufs, which
// must be the oldest buffers allocated on queue qid, in that order (Len and
// Metadata are read; the rest is what alloc gave), then allocates up to
// len(next) buffers of at least size bytes into next (Data and Len, size
// of them, are set; nothing else). Only lengths and addresses cross, not a
// whole descriptor per packet. The allocation stops before a buffer
// smaller than size (short: such packets need chains, see AllocPacket);
// got is 0 when the send failed. err is the send's, or with no bufs the
// allocation's, as Alloc's would be. Without the capability it answers
// ErrNotSupported (system libmemif: see ext_system.go).
func (i *Interface) TxSingles(s Session, qid uint16, bufs, next []Buffer, size uint32) (sent, got int, short bool, err error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, 0, false, err
	}
	defer i.unlock()
	n, want := min(len(bufs), maxBurst), min(len(next), maxBurst)
	lens := unsafe.Slice(i.scratchRoom(), maxBurst) // Rx's scratch; this call is under the same lock
	metas := unsafe.Slice(i.scratchMeta(), maxBurst)
	for k := range bufs[:n] {
		if b := &bufs[k]; uint(b.Len) <= uint(len(b.Data)) {
			lens[k], metas[k] = C.uint32_t(b.Len), C.uint32_t(b.Metadata)
		} else {
			return 0, 0, false, &Error{Op: "tx", Code: ErrInvalidArg, Reason: "Len outside Data"}
		}
	}
	data := unsafe.Slice((*unsafe.Pointer)(i.scratch), want) // memif_buffer_t scratch, as addresses
	out := unsafe.Slice((*C.uint16_t)(unsafe.Pointer(i.count())), 3)
	rc := C.seam_tx_singles(handle(h), C.uint16_t(qid), addr(&lens[0]), addr(&metas[0]), C.uint16_t(n),
		C.uintptr_t(uintptr(i.scratch)), C.uint16_t(want), C.uint32_t(size), addr(&out[0]))
	got = int(out[1])
	for k, p := range data[:got] {
		next[k].Data, next[k].Len = unsafe.Slice((*byte)(p), size), int(size)
	}
	if got > 0 {
		i.handedOut = s
	}
	return int(out[0]), got, out[2] != 0, dataErr(int(rc))
}
