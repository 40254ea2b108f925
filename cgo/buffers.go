package memif

/*
#include <stdint.h>
#include <stdlib.h>
#include <libmemif.h>
*/
import "C"

import (
	"unsafe"
)

// The data path: one cgo call per burst, no Go allocation per buffer.
// Bursts are capped at 256 buffers per call. Each call names the Session
// it is for and fails with ErrNoConn in any other (see Session).

// Alloc reserves transmit buffers on queue qid for as many packets of size
// bytes as fit in bufs; a packet larger than one buffer takes several
// Buffers chained with Next. size 0 asks for whole buffers. It returns the
// number of Buffers filled, with ErrNoBufRing when the ring had room for
// fewer packets than asked.
func (i *Interface) Alloc(s Session, qid uint16, bufs []Buffer, size uint32) (int, error) {
	return i.alloc(s, qid, bufs, size, false)
}

// AllocPacket reserves the buffers of exactly one packet of size bytes
// (one Buffer, or a chain when size exceeds the buffer size). bufs must be
// long enough for the chain (ErrNoBuf otherwise); ErrNoBufRing means the
// ring is full. It returns the number of Buffers used.
func (i *Interface) AllocPacket(s Session, qid uint16, bufs []Buffer, size uint32) (int, error) {
	return i.alloc(s, qid, bufs, size, true)
}

func (i *Interface) alloc(s Session, qid uint16, bufs []Buffer, size uint32, onePacket bool) (int, error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, err
	}
	defer i.unlock()
	cb := i.scratchBufs()
	n := min(len(bufs), maxBurst)
	if n == 0 {
		return 0, Errno(ErrNoBuf)
	}
	out := i.count()
	var rc C.int
	bufSize := i.cfg.BufferSize
	if bufSize == 0 {
		bufSize = 2048
	}
	if onePacket {
		rc = i.bufferAllocPacket(h, C.uint16_t(qid), &cb[0], C.uint16_t(n), out, size, bufSize)
	} else {
		rc = bufferAlloc(h, C.uint16_t(qid), &cb[0], C.uint16_t(n), out, size, bufSize)
	}
	got := int(*out)
	if rc != 0 && rc != C.MEMIF_ERR_NOBUF_RING {
		got = 0
	}
	if got > n {
		// libmemif 4.x counts packets and chains run past the entries
		// asked for (a master cannot know the slave's buffer lengths):
		// give back everything after the last whole packet that fits.
		keep := n
		for keep > 0 && cb[keep-1].flags&C.MEMIF_BUFFER_FLAG_NEXT != 0 {
			keep--
		}
		C.memif_set_next_free_buffer(h, C.uint16_t(qid), &cb[keep])
		got = keep
		if keep == 0 {
			rc = C.int(ErrNoBuf)
		}
	}
	for k := 0; k < got; k++ {
		toGo(&bufs[k], &cb[k])
	}
	if got > 0 {
		i.handedOut = s
	}
	return got, dataErr(int(rc))
}

// Tx sends the first allocated buffers of queue qid, in allocation order:
// Data[:Len] of each, with Metadata. It returns how many were sent.
func (i *Interface) Tx(s Session, qid uint16, bufs []Buffer) (int, error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, err
	}
	defer i.unlock()
	n, err := i.txScratch(bufs)
	if n == 0 || err != nil {
		return 0, err
	}
	sent := i.count()
	rc := txBurst(h, C.uint16_t(qid), &i.scratchBufs()[0], i.scratchMeta(), C.uint16_t(n), sent)
	return int(*sent), dataErr(int(rc))
}

// TxAlloc is Tx, then, in the same engine call, Alloc of up to len(next)
// packets of size bytes into next: the sender's next buffers come with
// this send instead of costing a call of their own. The allocation is best
// effort: got is 0 when the Tx failed or the allocation did (a full ring,
// or packets that do not fit next); Alloc then tells why. Over upstream
// libmemif it only sends.
func (i *Interface) TxAlloc(s Session, qid uint16, bufs, next []Buffer, size uint32) (sent, got int, err error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, 0, err
	}
	defer i.unlock()
	n, err := i.txScratch(bufs)
	if n == 0 || err != nil {
		return 0, 0, err
	}
	want := min(len(next), i.nscratch-n, maxBurst)
	out := i.count()
	cb := i.scratchBufs()
	rc := txAlloc(h, C.uint16_t(qid), &cb[0], i.scratchMeta(), C.uint16_t(n), C.uint16_t(want), size, out)
	outs := unsafe.Slice(out, 2)
	got = int(outs[1])
	for k := 0; k < got; k++ {
		toGo(&next[k], &cb[n+k])
	}
	return int(outs[0]), got, dataErr(int(rc))
}

// txScratch puts the first maxBurst of bufs in the C scratch for a Tx.
func (i *Interface) txScratch(bufs []Buffer) (int, error) {
	cb := i.scratchBufs()
	n := min(len(bufs), maxBurst)
	meta := unsafe.Slice(i.scratchMeta(), maxBurst)
	for k := 0; k < n; k++ {
		b, c := &bufs[k], &cb[k]
		if b.Len < 0 || b.Len > len(b.Data) {
			return 0, &Error{Op: "tx", Code: ErrInvalidArg, Reason: "Len outside Data"}
		}
		c.desc_index = C.uint16_t(b.desc)
		setQueue(c, b.queue)
		c.len = C.uint32_t(b.Len)
		c.flags = 0
		if b.Next {
			c.flags = C.MEMIF_BUFFER_FLAG_NEXT
		}
		// A slave sends from data (libmemif 4.x takes it as an offset
		// into the buffer): where Data starts now.
		c.data = unsafe.Pointer(unsafe.SliceData(b.Data))
		meta[k] = C.uint32_t(b.Metadata)
	}
	return n, nil
}

// Rx takes up to len(bufs) received buffers from queue qid. They stay
// owned by the caller until Refill returns them (oldest first).
func (i *Interface) Rx(s Session, qid uint16, bufs []Buffer) (int, error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, err
	}
	defer i.unlock()
	cb := i.scratchBufs()
	n := min(len(bufs), maxBurst)
	if n == 0 {
		return 0, nil
	}
	got := i.count()
	meta, room := i.scratchMeta(), i.scratchRoom()
	rc := i.rxBurst(h, C.uint16_t(qid), &cb[0], meta, room, C.uint16_t(n), got)
	if rc == C.MEMIF_ERR_NOBUF {
		rc = 0 // libmemif 4.x: "more waiting", the interrupt stays pending
	}
	if rc != 0 {
		*got = 0
	}
	i.noteRx(qid, int(*got))
	if *got > 0 {
		i.handedOut = s
	}
	ms, rs := unsafe.Slice(meta, maxBurst), unsafe.Slice(room, maxBurst)
	for k := 0; k < int(*got); k++ {
		// cap(Data) reaches as far as the peer's region safely does: bytes
		// past Len are readable, for peers that agree on a trailer there.
		toGoRoom(&bufs[k], &cb[k], int(rs[k]))
		bufs[k].Metadata = uint32(ms[k])
	}
	return int(*got), dataErr(int(rc))
}

// Refill gives the count oldest received buffers of queue qid back to the
// ring; their Data must not be used afterwards.
func (i *Interface) Refill(s Session, qid uint16, count int) error {
	h, err := i.lock(s)
	if err != nil {
		return err
	}
	defer i.unlock()
	if count < 0 || count > 0xFFFF {
		return &Error{Op: "refill", Code: ErrInvalidArg}
	}
	return dataErr(int(refill(h, C.uint16_t(qid), C.uint16_t(count))))
}

func toGo(b *Buffer, c *C.memif_buffer_t) { toGoRoom(b, c, 0) }

// toGoRoom is toGo with room readable bytes past Len, up to cap(Data).
func toGoRoom(b *Buffer, c *C.memif_buffer_t, room int) {
	b.Len = int(c.len)
	b.Data = unsafe.Slice((*byte)(c.data), b.Len+room)[:b.Len]
	b.Next = c.flags&C.MEMIF_BUFFER_FLAG_NEXT != 0
	b.desc = uint16(c.desc_index)
	b.queue = getQueue(c)
}

// SetRxMode chooses polling (the peer stops signalling this queue) or
// interrupt mode for receive queue qid; it survives reconnects.
func (i *Interface) SetRxMode(qid uint16, polling bool) error {
	h, err := i.lockAny()
	if err != nil {
		return err
	}
	defer i.unlockAny()
	mode := C.memif_rx_mode_t(C.MEMIF_RX_MODE_INTERRUPT)
	if polling {
		mode = C.MEMIF_RX_MODE_POLLING
	}
	return check("set rx mode", int(C.memif_set_rx_mode(h, mode, C.uint16_t(qid))))
}

// Details reports the interface as the engine sees it, up or down, and
// which Session that is: a caller sizing per-session state checks it.
func (i *Interface) Details() (Details, error) {
	h, err := i.lockAny()
	if err != nil {
		return Details{}, err
	}
	defer i.unlockAny()
	const size = 1 << 16 // 255 queues each way and 256 regions fit
	buf := C.malloc(size)
	defer C.free(buf)
	var md C.memif_details_t
	if rc := C.memif_get_details(h, &md, (*C.char)(buf), size); rc != 0 {
		return Details{}, check("details", int(rc))
	}
	str := func(p *C.uint8_t) string {
		if p == nil {
			return ""
		}
		return peerText(C.GoString((*C.char)(unsafe.Pointer(p)))) // names and reasons may be the peer's
	}
	d := Details{Session: Session(i.session.Load()),
		Name: str(md.if_name), AppName: str(md.inst_name),
		RemoteName: str(md.remote_if_name), RemoteAppName: str(md.remote_inst_name),
		ID: uint32(md.id), IsMaster: md.role == 0, Mode: Mode(md.mode),
		SocketPath: str(md.socket_path), Error: str(md.error), Up: md.link_up_down == 1,
		Regions: int(md.regions_num), RxQueues: int(md.rx_queues_num), TxQueues: int(md.tx_queues_num),
	}
	if md.rx_queues_num > 0 && md.rx_queues != nil {
		d.RingSize = int(md.rx_queues.ring_size)
		d.BufferSize = int(md.rx_queues.buffer_size)
		if cfg := int(i.cfg.BufferSize); cfg > 0xFFFF && d.BufferSize == cfg&0xFFFF {
			d.BufferSize = cfg // the details struct holds 16 bits: the engine reports its own size
		}
	}
	return d, nil
}
