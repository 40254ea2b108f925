package cli

import (
	"errors"
	"fmt"

	"github.com/mcmgo/mcm/mcmdp"
)

// Outcome is how a tool's run ended, the same bookkeeping for both tools:
// why (Summary.End, with a detail), the exit code and the failure line.
// The first end recorded is the run's. A failure found once the loop is
// over (frames that differ, frames not delivered, a write error) counts
// only when the run had none.
type Outcome struct {
	End         string // one of Summary.End's words; "" while the run goes on
	Detail      string
	Code        int
	Failure     string
	Undelivered uint64 // a sender's frames the receiver never took

	tx        bool // mcm-send's: its peer is a receiver
	keepGoing bool // --keep-going: a lost peer is waited for, not an end
}

// NewOutcome is the outcome of a run on the typ side of a connection.
func NewOutcome(typ mcmdp.TransferType, keepGoing bool) *Outcome {
	return &Outcome{tx: typ == mcmdp.Tx, keepGoing: keepGoing}
}

// Over reports whether the run has ended.
func (o *Outcome) Over() bool { return o.End != "" }

// OK reports whether the run has not failed (so far).
func (o *Outcome) OK() bool { return o.Code == ExitOK }

func (o *Outcome) end(end, detail string, code int, failure string) {
	if o.End == "" {
		o.End, o.Detail, o.Code, o.Failure = end, detail, code, failure
	}
}

// Stop ends the run as asked: "frames", "duration", "signal", or "input"
// (the sender's file ran out).
func (o *Outcome) Stop(why string) { o.end(why, "", ExitOK, "") }

// Fail ends the run on an error of this side.
func (o *Outcome) Fail(err error) { o.end("error", "", ExitError, err.Error()) }

// Connection records what a dequeue reported, other than a timeout: a
// session's end (an error matching mcmdp.ErrDisconnected) or another
// error. peerReason is the connection's PeerReason, named when a peer
// vanished.
func (o *Outcome) Connection(err error, peerReason string) {
	var eos *mcmdp.EndOfStream
	var closed *mcmdp.PeerClosed
	switch {
	case errors.As(err, &eos): // counts of this session, not of the run
		detail := fmt.Sprintf("the sender sent %d frames in its last session", eos.Sent)
		if eos.Lost() > 0 {
			o.end("end-of-stream", detail, ExitIntegrity, fmt.Sprintf("the sender sent %d frames, %d arrived", eos.Sent, eos.Received))
		} else {
			o.end("end-of-stream", detail, ExitOK, "")
		}
	case !errors.Is(err, mcmdp.ErrDisconnected):
		o.Fail(err)
	case o.keepGoing:
		// The next dequeues wait for the next peer, within --duration.
	case o.tx && errors.As(err, &closed):
		o.end("receiver-closed", closed.Reason, ExitOK, "") // on purpose: a clean end
	default:
		o.end("peer-lost", "", ExitPeerLost, o.peer()+" lost: "+peerReason)
	}
}

func (o *Outcome) peer() string {
	if o.tx {
		return "receiver"
	}
	return "sender"
}

// Fault records a failure found after the loop, unless the run already
// failed: the first failure is the one to fix.
func (o *Outcome) Fault(code int, failure string) {
	if o.OK() {
		o.Code, o.Failure = code, failure
	}
}

// Lingers reports whether --linger applies: a run that ended well, and
// not by a signal (the user wants out).
func (o *Outcome) Lingers() bool { return o.OK() && o.End != "signal" }

// Close closes conn as the run ended. A sender that ended well closes with
// an end of stream once the receiver took what was sent (what it did not
// take is a failure); one that failed tells the receiver why it stops.
func (o *Outcome) Close(conn *mcmdp.Conn, tool string) {
	if !o.tx {
		conn.Close()
		return
	}
	var err error
	if o.OK() {
		err = conn.Close()
	} else {
		err = conn.CloseWithReason(tool + " stopped: " + o.End)
	}
	o.closed(err)
}

// closed records what a sender's Close returned.
func (o *Outcome) closed(err error) {
	if ue := (*mcmdp.UndeliveredError)(nil); errors.As(err, &ue) {
		o.Undelivered = uint64(ue.Frames)
		o.Fault(ExitPeerLost, fmt.Sprintf("%d frames not delivered: the receiver stopped taking them", ue.Frames))
	}
}

// Fill puts the outcome into the summary.
func (o *Outcome) Fill(s *Summary) {
	s.End, s.EndDetail, s.ExitCode, s.Error, s.Undelivered = o.End, o.Detail, o.Code, o.Failure, o.Undelivered
}
