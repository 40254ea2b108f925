package cli

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/mcmgo/mcm/mcmdp"
)

// Loop is what both tools' loops share: the limits, the clock, the live
// counters, the buffers of a turn, and how the run ends (Out).
type Loop struct {
	Out    *Outcome
	Frames uint64 // frames sent (Tx) or taken (Rx) so far

	ctx    context.Context
	conn   *mcmdp.Conn
	c      *Common
	tx     bool
	limits Limits
	bufs   []*mcmdp.Buffer // one turn's: --burst of them
	cnt    Counters
	start  time.Time
	stops  []func() // the progress line and the interval reports
}

// NewLoop starts the run's clock, its --duration and its reports on
// stdout; ctx ends it with "signal".
func NewLoop(ctx context.Context, conn *mcmdp.Conn, c *Common, typ mcmdp.TransferType, stdout io.Writer) *Loop {
	l := &Loop{Out: NewOutcome(typ, c.KeepGoing), ctx: ctx, conn: conn, c: c, tx: typ == mcmdp.Tx,
		limits: NewLimits(c), bufs: make([]*mcmdp.Buffer, max(c.Burst, 1))}
	l.stops = []func(){Progress(&l.cnt), Intervals(&l.cnt, c.Interval, stdout, c.JSON)}
	l.start = time.Now()
	return l
}

// turnWait bounds one dequeue, so limits and signals are looked at often.
const turnWait = 200 * time.Millisecond

// Next is one turn: the next buffers (up to --burst, no more than --frames
// leaves), or none when the run ended (Out says why) or nothing came
// within the turn's wait. pace, if any, holds back frame Frames first.
func (l *Loop) Next(pace func(n uint64)) []*mcmdp.Buffer {
	if over, why := l.limits.Reached(l.Frames); over {
		l.Out.Stop(why)
		return nil
	}
	if l.ctx.Err() != nil {
		l.Out.Stop("signal")
		return nil
	}
	if pace != nil {
		pace(l.Frames)
	}
	var n int
	var err error
	if len(l.bufs) == 1 { // the one-frame calls, as services mostly use them
		var b *mcmdp.Buffer
		if l.tx { // one look: each that finds the ring full counts as a wait
			b, err = l.conn.DequeueBuffer(l.limits.Left(turnWait))
		} else if b, err = l.conn.DequeueBuffer(0); err == mcmdp.ErrTimeout { // see burst
			b, err = l.conn.DequeueBuffer(l.limits.Left(turnWait))
		}
		if l.bufs[0] = b; err == nil {
			n = 1
		}
	} else {
		n, err = l.burst(l.bufs[:l.limits.Burst(l.Frames, len(l.bufs))])
	}
	if err != nil && !errors.Is(err, mcmdp.ErrTimeout) {
		l.Out.Connection(err, l.conn.PeerReason())
	}
	return l.bufs[:n]
}

// txSpin is how long a sender in bursts polls a full ring before the
// dequeue sleeps: a peer that never wakes a sender (DPDK) frees a ring of
// 1,024 at 10 Mpps in 100 µs, less than one of mcmdp's sleeps on it.
const txSpin = 50 * time.Microsecond

// burst dequeues up to len(bufs) buffers. Frames may come with an error
// (a peer fault after them): both count. A receiver looks once without
// waiting first: what is there costs no read of the clock for the wait's
// length (Limits.Left), which costs more than a packet.
func (l *Loop) burst(bufs []*mcmdp.Buffer) (int, error) {
	if !l.tx {
		if n, err := l.conn.DequeueBuffers(bufs, 0); n > 0 || err != mcmdp.ErrTimeout {
			return n, err
		}
	} else {
		var began time.Time // the clock starts at the first full ring
		for began.IsZero() || time.Since(began) < txSpin {
			if n, err := l.conn.DequeueBuffers(bufs, 0); n > 0 || err != mcmdp.ErrTimeout {
				return n, err
			}
			if began.IsZero() {
				began = time.Now()
			}
		}
	}
	return l.conn.DequeueBuffers(bufs, l.limits.Left(turnWait))
}

// Done hands a turn's buffers back, sent (Tx) or returned to the ring
// (Rx), and counts them: a sender only those that went, a receiver all it
// took. lost reports that their session ended under them: a sender's
// frames are lost with it (the next dequeue tells how it ended), and the
// memory a receiver read went away, so what it saw proves nothing.
func (l *Loop) Done(bufs []*mcmdp.Buffer) (lost bool) {
	if len(bufs) == 0 {
		return false
	}
	var bytes uint64
	for _, b := range bufs {
		bytes += uint64(b.Len)
	}
	err := l.release(bufs)
	switch {
	case err == nil:
	case errors.Is(err, mcmdp.ErrDisconnected):
		lost = true
	default:
		l.Out.Fail(err)
	}
	if l.tx && err != nil {
		return lost
	}
	l.Frames += uint64(len(bufs))
	l.cnt.Frames.Add(uint64(len(bufs)))
	l.cnt.Bytes.Add(bytes)
	if !l.tx && !l.c.Raw { // raw frames carry no SeqNum: no gaps to count
		l.cnt.Gaps.Store(l.conn.Stats().SeqGaps)
	}
	return lost
}

// release hands bufs back in one call; after a failure the rest go one by
// one, so none stays held: a held buffer pins its ended session's memory
// (Rx) or blocks the ring behind it (Tx).
func (l *Loop) release(bufs []*mcmdp.Buffer) error {
	if len(bufs) == 1 {
		return l.conn.EnqueueBuffer(bufs[0])
	}
	err := l.conn.EnqueueBuffers(bufs)
	if err != nil {
		l.Discard(bufs) // those already handed back answer ErrBufferState
	}
	return err
}

// Discard gives back buffers dequeued and not sent: newest first, so each
// simply returns to the ring.
func (l *Loop) Discard(bufs []*mcmdp.Buffer) {
	for k := len(bufs) - 1; k >= 0; k-- {
		l.conn.Discard(bufs[k])
	}
}

// End closes the run: --linger when it ended well, the connection's
// counters, then Close as Out says. elapsed is the loop's own time.
func (l *Loop) End(tool string) (st mcmdp.Stats, elapsed time.Duration) {
	elapsed = time.Since(l.start)
	if l.Out.Lingers() {
		Linger(l.c, l.conn, l.ctx.Done())
	}
	st = l.conn.Stats()
	l.Out.Close(l.conn, tool)
	l.limits.Stop()
	for _, stop := range l.stops {
		stop()
	}
	return st, elapsed
}

// Limits tells when a run is over by --frames or --duration.
type Limits struct {
	frames   uint64
	deadline time.Time
	// expired is set by a timer at the deadline: a turn looks at it
	// instead of reading the clock, which costs more than a packet. near
	// is set leftBound before it: until then Left needs no clock either.
	expired, near *atomic.Bool
	timers        []*time.Timer
}

// leftBound: the longest wait Left answers without reading the clock
// while the deadline is further than this away (turns wait turnWait).
const leftBound = time.Second

// NewLimits starts the --duration clock.
func NewLimits(c *Common) Limits {
	l := Limits{frames: c.Frames}
	if c.Duration > 0 {
		l.deadline = time.Now().Add(c.Duration)
		expired, near := new(atomic.Bool), new(atomic.Bool)
		l.expired, l.near = expired, near
		l.timers = []*time.Timer{time.AfterFunc(c.Duration, func() { expired.Store(true) })}
		if c.Duration <= leftBound {
			near.Store(true)
		} else {
			l.timers = append(l.timers, time.AfterFunc(c.Duration-leftBound, func() { near.Store(true) }))
		}
	}
	return l
}

// Reached reports whether the run is over after n frames, and why.
func (l Limits) Reached(n uint64) (bool, string) {
	if l.frames > 0 && n >= l.frames {
		return true, "frames"
	}
	if l.expired != nil && l.expired.Load() {
		return true, "duration"
	}
	return false, ""
}

// Stop releases the --duration timer.
func (l Limits) Stop() {
	for _, t := range l.timers {
		t.Stop()
	}
}

// Burst is how many frames the next turn may take after n: burst, or
// what --frames leaves when that is less.
func (l Limits) Burst(n uint64, burst int) int {
	if l.frames > 0 && l.frames-n < uint64(burst) {
		return int(l.frames - n)
	}
	return burst
}

// Left is how long until the --duration limit (or d if there is none),
// at most d and at least a millisecond. A one-frame sender asks every
// frame, so far from the deadline it answers without the clock.
func (l Limits) Left(d time.Duration) time.Duration {
	if l.deadline.IsZero() || d <= leftBound && !l.near.Load() {
		return d
	}
	return max(min(d, time.Until(l.deadline)), time.Millisecond)
}

// Linger keeps conn connected after the run for --linger, until the peer
// leaves, or until done closes.
func Linger(c *Common, conn *mcmdp.Conn, done <-chan struct{}) {
	if c.Linger <= 0 {
		return
	}
	t := time.NewTimer(c.Linger)
	defer t.Stop()
	for conn.Connected() {
		select {
		case <-t.C:
			return
		case <-done:
			return
		case <-conn.Changed():
		}
	}
}
