package mcmdp

// seqTracker counts frames missing from the sender's SeqNum sequence.
//
// Frames may arrive out of order (several queues are read round-robin), and
// applications may number frames with a counter that wraps early (MCM's
// apps use 16 bits). A forward jump opens holes; a late frame fills one; a
// jump of a half window or more either way is the sequence restarting or
// wrapping, and only resynchronises.
type seqTracker struct {
	last uint32
	have bool
	gaps uint64
}

const seqWindow = 1 << 15

// add records seq and returns the gaps counted so far.
func (s *seqTracker) add(seq uint32) uint64 {
	if !s.have {
		s.last, s.have = seq, true
		return s.gaps
	}
	if seq == s.last+1 { // in order: the usual case
		s.last = seq
		return s.gaps
	}
	switch d := int32(seq - s.last); {
	case d > 0 && d < seqWindow:
		s.gaps += uint64(d - 1)
		s.last = seq
	case d <= 0 && d > -seqWindow:
		if s.gaps > 0 {
			s.gaps-- // a late frame fills a hole
		}
	default:
		s.last = seq // restarted or wrapped: nothing to count
	}
	return s.gaps
}

// restart forgets the sequence (a new session) but keeps the count.
func (s *seqTracker) restart() { s.have = false }
