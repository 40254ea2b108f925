package mcmdp

import "github.com/mcmgo/mcm/cgo"

// Slot reservation. A frame that fits one descriptor takes a slot the
// engine allocated ahead of time: the engine hands out slots in ring order
// and sends them in that order, so slots reserved in one call can be given
// out one by one in Go. DequeueBuffer thus needs no engine call while
// reserved slots last, and EnqueueBuffer reserves the next ones in the
// same call that sends (see sendSingles): one engine call per frame sent
// one at a time, one per burst sent in bursts. Reserved slots are this
// side's alone (the peer sees only what is sent), and go with the session.

// reserveBatch: slots kept reserved at least; a burst keeps its size.
const reserveBatch = 32

// reserveRoom is where the next reserved slots go in q.descs and how many:
// at least want, else enough to keep max(q.ask, reserveBatch) reserved;
// at most a ring's worth outstanding, contiguous, one engine call.
func (c *Conn) reserveRoom(q *queue, want int) (at, n uint64) {
	at = q.reserved & q.mask
	want = max(want, max(q.ask, reserveBatch)-int(q.reserved-q.handed))
	n = min(uint64(want), q.size()-(q.reserved-q.sent), q.size()-at, maxBurst)
	return at, n
}

// reserve asks the engine for more slots, at least want (see reserveRoom).
func (c *Conn) reserve(q *queue, want int) error {
	q.rebaseTx()
	at, n := c.reserveRoom(q, want)
	if n == 0 {
		return nil
	}
	if singles {
		_, got, short, err := c.iface.TxSingles(c.session, q.id, nil, q.descs[at:at+n], c.layout.wire)
		return c.reservedSingles(q, got, short, err)
	}
	got, err := c.iface.Alloc(c.session, q.id, q.descs[at:at+n], c.layout.wire)
	return c.reserved(q, got, err)
}

// singles: the engine sends and allocates frames of one buffer passing
// only their lengths and addresses (TxSingles); else TxAlloc and Alloc.
var singles = memif.EngineCapabilities().TxSingles

// reservedSingles is reserved for slots TxSingles allocated: they are one
// buffer each, and short says the next one is too small for a frame.
func (c *Conn) reservedSingles(q *queue, n int, short bool, err error) error {
	if err != nil && err != memif.ErrNoBufRing {
		return c.mapErr(err)
	}
	c.chains = c.chains || short && n == 0
	c.addReserved(q, n)
	return nil
}

// reserved takes n slots the engine just allocated at q.reserved. A
// chained one means the peer's buffers are smaller than a frame: it and
// those after it go back, and frames are chains from then on.
func (c *Conn) reserved(q *queue, n int, err error) error {
	if err == memif.ErrNoBuf { // one frame takes more entries than asked: chains
		c.chains = true
		return nil
	}
	if err != nil && err != memif.ErrNoBufRing {
		return c.mapErr(err)
	}
	at := q.reserved & q.mask
	for k, d := range q.descs[at : at+uint64(n)] {
		if d.Next {
			if err := c.iface.Rewind(c.session, q.id, d); err != nil {
				return c.mapErr(err)
			}
			c.chains = c.chains || k == 0
			n = k
			break
		}
	}
	c.addReserved(q, n)
	return nil
}

// addReserved counts n more slots reserved at q.reserved, each a frame of
// one descriptor.
func (c *Conn) addReserved(q *queue, n int) {
	q.reserved += uint64(n)
	if n > 0 {
		c.frameSegs = 1 // see drain
	}
}

// maxBurst: descriptors per engine call.
const maxBurst = 256

// sendSingles sends the next n single-descriptor frames of q. When fewer
// slots than the last dequeue asked for stay reserved and last says
// nothing else is sent now, the same engine call reserves more.
func (c *Conn) sendSingles(q *queue, n uint64, last bool) error {
	at := q.sent & q.mask
	first := min(n, q.size()-at) // the rest wraps to the ring's start
	q.sent += n
	if last && first == n && int(q.reserved-q.handed) < q.ask && !c.chains {
		if q.handed == q.reserved {
			q.rebaseTx() // the frames sent here were the last outstanding
		} // (reserved slots would move over the ones sent here)
		r, room := c.reserveRoom(q, 0)
		if singles {
			_, got, short, err := c.iface.TxSingles(c.session, q.id, q.descs[at:at+n], q.descs[r:r+room], c.layout.wire)
			if err != nil {
				return c.mapErr(err)
			}
			return c.reservedSingles(q, got, short, nil)
		}
		_, got, err := c.iface.TxAlloc(c.session, q.id, q.descs[at:at+n], q.descs[r:r+room], c.layout.wire)
		if err != nil {
			return c.mapErr(err)
		}
		return c.reserved(q, got, nil)
	}
	if err := c.send(q, q.descs[at:at+first]); err != nil {
		return err
	}
	if first < n {
		return c.send(q, q.descs[:n-first])
	}
	return nil
}

// send sends single-descriptor frames, the oldest allocated of q.
func (c *Conn) send(q *queue, descs []memif.Buffer) error {
	var err error
	if singles {
		_, _, _, err = c.iface.TxSingles(c.session, q.id, descs, nil, 0)
	} else {
		_, err = c.iface.Tx(c.session, q.id, descs)
	}
	return c.mapErr(err)
}
