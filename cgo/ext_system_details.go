//go:build libmemif_system

package memif

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmemif.h>

// memif_get_details packs its arrays right after the strings, unaligned:
// entries are copied out, not read in place.
static memif_region_details_t
seam_region_details (const memif_details_t *md, int k)
{
  memif_region_details_t r;
  memcpy (&r, (const char *) md->regions + k * sizeof (r), sizeof (r));
  return r;
}

static memif_queue_details_t
seam_queue_details (const memif_queue_details_t *qs, int k)
{
  memif_queue_details_t q;
  memcpy (&q, (const char *) qs + k * sizeof (q), sizeof (q));
  return q;
}
*/
import "C"

import "unsafe"

// What upstream libmemif 4.x keeps to itself, where a session's regions lie
// and how far the peer has released a transmit ring, the seam reads from
// memif_get_details into the interface's extScratch: the details struct,
// then the strings and arrays it points into.

// detailsBuf fits the names, 256 regions and 255 queues each way.
const detailsBuf = 1 << 15

func allocExtScratch() unsafe.Pointer {
	return C.malloc(C.sizeof_memif_details_t + detailsBuf)
}

func freeExtScratch(p unsafe.Pointer) { C.free(p) }

// details, under the data mutex, valid until the next call.
func (i *Interface) details(h C.memif_conn_handle_t) (*C.memif_details_t, error) {
	md := (*C.memif_details_t)(i.extScratch)
	buf := (*C.char)(unsafe.Add(i.extScratch, C.sizeof_memif_details_t))
	if rc := C.memif_get_details(h, md, buf, detailsBuf); rc != 0 {
		return nil, dataErr(int(rc))
	}
	return md, nil
}

// rxBurst also reports room: how many bytes after each buffer's data lie
// inside the session's region holding it (at most 65,535), as the bundled
// engine does, so peers agreeing on a trailer past the length can read it.
// Upstream gives no metadata: it is read as zeros.
func (i *Interface) rxBurst(c C.memif_conn_handle_t, qid C.uint16_t, b *C.memif_buffer_t, meta, room *C.uint32_t, n C.uint16_t, out *C.uint16_t) C.int {
	clear(unsafe.Slice(meta, n))
	clear(unsafe.Slice(room, n))
	rc := C.memif_rx_burst(c, qid, b, n, out)
	if rc == 0 && *out == 0 {
		// Finding the ring empty, libmemif 4.x then reads the interrupt
		// eventfd, swallowing the kick of a burst published in between:
		// that burst is on the ring now, so one more look finds it.
		rc = C.memif_rx_burst(c, qid, b, n, out)
	}
	if *out > 0 {
		i.fillRoom(c, unsafe.Slice(b, *out), unsafe.Slice(room, *out))
		i.rxTakenIn(Session(i.session.Load()))[qid] += uint16(*out)
	}
	return rc
}

// rxTakenIn is how many descriptors of each receive queue this side took
// in session s (mod 2^16, as ring indexes count), reset for a new session.
func (i *Interface) rxTakenIn(s Session) *[maxRxQueues]uint16 {
	if i.rxTakenOf != s {
		i.rxTaken, i.rxTakenOf = [maxRxQueues]uint16{}, s
	}
	return &i.rxTaken
}

// prepareRxWait reports a burst waiting on receive queue qid: what the peer
// produced (the slave's head, the master's tail) beyond what this side
// took. libmemif 4.x reads the interrupt eventfd at the end of a burst,
// swallowing the kick of one published meanwhile, so a waiter looks at the
// ring before it sleeps. Upstream masks no interrupts.
func (i *Interface) prepareRxWait(c C.memif_conn_handle_t, qid uint16, out unsafe.Pointer) (ready, masked bool, rc C.int) {
	md, err := i.details(c)
	if err != nil || int(qid) >= int(md.rx_queues_num) || md.rx_queues == nil {
		return false, false, 0 // the wait tells the rest
	}
	q := C.seam_queue_details(md.rx_queues, C.int(qid))
	produced := q.head
	if !i.cfg.IsMaster {
		produced = q.tail
	}
	return uint16(produced) != i.rxTakenIn(Session(i.session.Load()))[qid], false, 0
}

func (i *Interface) fillRoom(h C.memif_conn_handle_t, bufs []C.memif_buffer_t, room []C.uint32_t) {
	if s := Session(i.session.Load()); i.regionsOf != s {
		md, err := i.details(h)
		if err != nil || md.regions == nil {
			return // no room: nothing past a length is read
		}
		i.regions = i.regions[:0]
		for k := 0; k < int(md.regions_num); k++ {
			r := C.seam_region_details(md, C.int(k))
			i.regions = append(i.regions, region{r.addr, uintptr(r.size)})
		}
		i.regionsOf = s
	}
	for k := range bufs {
		start := uintptr(bufs[k].data)
		end := start + uintptr(bufs[k].len)
		for _, r := range i.regions {
			base := uintptr(r.addr)
			if start >= base && end <= base+r.size {
				room[k] = C.uint32_t(min(base+r.size-end, 0xFFFF))
				break
			}
		}
	}
}

// TxInFlight is how many descriptors of transmit queue qid were sent in
// session s and not yet released by the peer, read from the ring's
// indexes: a slave's sent buffers lie between the master's tail and its
// own head; a master sends into the buffers the slave posted (the whole
// ring) and the slave gives them back by moving head.
func (i *Interface) TxInFlight(s Session, qid uint16) (int, error) {
	h, err := i.lock(s)
	if err != nil {
		return 0, err
	}
	defer i.unlock()
	md, err := i.details(h)
	if err != nil {
		return 0, err
	}
	if int(qid) >= int(md.tx_queues_num) || md.tx_queues == nil {
		return 0, Errno(ErrQueueID)
	}
	q := C.seam_queue_details(md.tx_queues, C.int(qid))
	used := int(uint16(q.head - q.tail))
	if i.cfg.IsMaster {
		return int(q.ring_size) - used, nil
	}
	return used, nil
}
