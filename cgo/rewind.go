package memif

/*
#include <libmemif.h>
*/
import "C"

// Rewind gives back b, the newest buffer allocated on transmit queue qid,
// and every buffer allocated after it: the next Alloc hands the same slots
// out again. It is how a sender drops a buffer it dequeued and will not
// send (memif_set_next_free_buffer, in upstream libmemif too).
func (i *Interface) Rewind(s Session, qid uint16, b Buffer) error {
	h, err := i.lock(s)
	if err != nil {
		return err
	}
	defer i.unlock()
	cb := &i.scratchBufs()[0]
	cb.desc_index = C.uint16_t(b.desc)
	return dataErr(int(C.memif_set_next_free_buffer(h, C.uint16_t(qid), cb)))
}
