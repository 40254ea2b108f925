package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcmgo/mcm/mcmdp"
)

// Every way a run ends, for each side, with and without --keep-going: the
// end word, detail, exit code and failure line the summary shows.
func TestOutcomeOfEachEnd(t *testing.T) {
	peerFault := fmt.Errorf("frame too large: %w", mcmdp.ErrDisconnected)
	cases := []struct {
		name      string
		side      mcmdp.TransferType
		keepGoing bool
		record    func(o *Outcome)
		want      Outcome // End "" means the run goes on
		lingers   bool
	}{
		{"frames", mcmdp.Tx, false, func(o *Outcome) { o.Stop("frames") }, Outcome{End: "frames"}, true},
		{"signal", mcmdp.Rx, false, func(o *Outcome) { o.Stop("signal") }, Outcome{End: "signal"}, false},
		{"input end", mcmdp.Tx, false, func(o *Outcome) { o.Stop("input") }, Outcome{End: "input"}, true},
		{"own error", mcmdp.Tx, false, func(o *Outcome) { o.Fail(errors.New("disk on fire")) },
			Outcome{End: "error", Code: ExitError, Failure: "disk on fire"}, false},
		{"dequeue error", mcmdp.Rx, true, func(o *Outcome) { o.Connection(mcmdp.ErrClosed, "") },
			Outcome{End: "error", Code: ExitError, Failure: mcmdp.ErrClosed.Error()}, false},
		{"end of stream", mcmdp.Rx, false, func(o *Outcome) { o.Connection(&mcmdp.EndOfStream{Sent: 40, Received: 40}, "") },
			Outcome{End: "end-of-stream", Detail: "the sender sent 40 frames in its last session"}, true},
		{"end of stream, frames lost", mcmdp.Rx, false, func(o *Outcome) { o.Connection(&mcmdp.EndOfStream{Sent: 40, Received: 38}, "") },
			Outcome{End: "end-of-stream", Detail: "the sender sent 40 frames in its last session",
				Code: ExitIntegrity, Failure: "the sender sent 40 frames, 38 arrived"}, false},
		{"end of stream ends even --keep-going", mcmdp.Rx, true, func(o *Outcome) { o.Connection(&mcmdp.EndOfStream{Sent: 1, Received: 1}, "") },
			Outcome{End: "end-of-stream", Detail: "the sender sent 1 frames in its last session"}, true},
		{"sender vanished", mcmdp.Rx, false, func(o *Outcome) { o.Connection(mcmdp.ErrDisconnected, "peer closed the control channel") },
			Outcome{End: "peer-lost", Code: ExitPeerLost, Failure: "sender lost: peer closed the control channel"}, false},
		{"sender closed without an end of stream", mcmdp.Rx, false, func(o *Outcome) {
			o.Connection(&mcmdp.PeerClosed{Reason: "mcm-send stopped: error"}, "mcm-send stopped: error")
		},
			Outcome{End: "peer-lost", Code: ExitPeerLost, Failure: "sender lost: mcm-send stopped: error"}, false},
		{"sender at fault", mcmdp.Rx, false, func(o *Outcome) { o.Connection(peerFault, "frame too large") },
			Outcome{End: "peer-lost", Code: ExitPeerLost, Failure: "sender lost: frame too large"}, false},
		{"sender vanished, --keep-going", mcmdp.Rx, true, func(o *Outcome) { o.Connection(mcmdp.ErrDisconnected, "gone") },
			Outcome{}, true},
		{"receiver closed", mcmdp.Tx, false, func(o *Outcome) { o.Connection(&mcmdp.PeerClosed{Reason: "receiver closed"}, "") },
			Outcome{End: "receiver-closed", Detail: "receiver closed"}, true},
		{"receiver closed, --keep-going", mcmdp.Tx, true, func(o *Outcome) { o.Connection(&mcmdp.PeerClosed{Reason: "receiver closed"}, "") },
			Outcome{}, true},
		{"receiver vanished", mcmdp.Tx, false, func(o *Outcome) { o.Connection(mcmdp.ErrDisconnected, "peer closed the control channel") },
			Outcome{End: "peer-lost", Code: ExitPeerLost, Failure: "receiver lost: peer closed the control channel"}, false},
		{"the first end is the run's", mcmdp.Tx, false, func(o *Outcome) { o.Stop("duration"); o.Fail(errors.New("later")) },
			Outcome{End: "duration"}, true},
		{"integrity after a clean end", mcmdp.Rx, false, func(o *Outcome) { o.Stop("frames"); o.Fault(ExitIntegrity, "1 frames differ") },
			Outcome{End: "frames", Code: ExitIntegrity, Failure: "1 frames differ"}, false},
		{"the first failure is kept", mcmdp.Rx, false, func(o *Outcome) {
			o.Connection(mcmdp.ErrDisconnected, "gone")
			o.Fault(ExitIntegrity, "1 frames differ")
			o.Fault(ExitError, "writing out.yuv: disk full")
		}, Outcome{End: "peer-lost", Code: ExitPeerLost, Failure: "sender lost: gone"}, false},
		{"undelivered frames", mcmdp.Tx, false, func(o *Outcome) { o.Stop("frames"); o.closed(&mcmdp.UndeliveredError{Frames: 3}) },
			Outcome{End: "frames", Code: ExitPeerLost, Failure: "3 frames not delivered: the receiver stopped taking them", Undelivered: 3}, false},
		{"undelivered frames after a failure", mcmdp.Tx, false, func(o *Outcome) {
			o.Fail(errors.New("bad"))
			o.closed(fmt.Errorf("close: %w", &mcmdp.UndeliveredError{Frames: 2}))
		}, Outcome{End: "error", Code: ExitError, Failure: "bad", Undelivered: 2}, false},
		{"a clean close", mcmdp.Tx, false, func(o *Outcome) { o.Stop("frames"); o.closed(nil) }, Outcome{End: "frames"}, true},
	}
	for _, tc := range cases {
		o := NewOutcome(tc.side, tc.keepGoing)
		tc.record(o)
		assert.Equal(t, tc.want.End != "", o.Over(), tc.name)
		assert.Equal(t, tc.want.End, o.End, tc.name)
		assert.Equal(t, tc.want.Detail, o.Detail, tc.name)
		assert.Equal(t, tc.want.Code, o.Code, tc.name)
		assert.Equal(t, tc.want.Failure, o.Failure, tc.name)
		assert.Equal(t, tc.want.Undelivered, o.Undelivered, tc.name)
		assert.Equal(t, tc.lingers, o.Lingers(), tc.name)
		var s Summary
		o.Fill(&s)
		assert.Equal(t, Summary{End: o.End, EndDetail: o.Detail, ExitCode: o.Code, Error: o.Failure, Undelivered: o.Undelivered}, s, tc.name)
	}
}
