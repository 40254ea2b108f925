package mcmdp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// A sender's Close is a typed end of stream at the receiver, with the
// sender's count; nothing to parse.
func TestEndOfStreamIsTyped(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	for k := 0; k < 5; k++ {
		sendFrame(t, tx, k, 64)
		require.NoError(t, rx.EnqueueBuffer(recvFrame(t, rx)))
	}
	sendFrame(t, tx, 5, 64) // left on the ring: Close waits until it is taken
	closed := make(chan error, 1)
	go func() { closed <- tx.Close() }()
	require.NoError(t, rx.EnqueueBuffer(recvFrame(t, rx)))
	require.NoError(t, <-closed)

	_, err := rx.DequeueBuffer(waitTimeout)
	var eos *EndOfStream
	require.ErrorAs(t, err, &eos)
	assert.Equal(t, &EndOfStream{Sent: 6, Received: 6}, eos)
	assert.Zero(t, eos.Lost())
	assert.ErrorIs(t, err, ErrEndOfStream)
	assert.ErrorIs(t, err, ErrPeerClosed)
	assert.ErrorIs(t, err, ErrDisconnected, "code that only knows disconnects still works")
}

// A receiver's Close tells the sender it left on purpose; a reason set with
// CloseWithReason reaches the peer as is.
func TestReceiverCloseIsPeerClosed(t *testing.T) {
	// The sender keeps writing frames while the receiver leaves: without
	// ReleaseStale the engine unmaps them under its feet (SIGSEGV).
	needCap(t, "ReleaseStale")
	for _, reason := range []string{"", "camera switched off"} {
		txp, rxp := pairParams(t)
		tx, rx := connect(t, txp, rxp)
		if reason == "" {
			require.NoError(t, rx.Close())
		} else {
			require.NoError(t, rx.CloseWithReason(reason))
		}
		err := untilEnd(tx)
		var pc *PeerClosed
		require.ErrorAs(t, err, &pc)
		assert.Equal(t, map[string]string{"": "receiver closed"}[reason]+reason, pc.Reason)
		assert.ErrorIs(t, err, ErrPeerClosed)
		assert.False(t, errors.Is(err, ErrEndOfStream))
	}
}

// After a session ends, the end is reported once; later calls wait for
// the next session instead of failing at once, so a plain retry loop does
// not spin, and a negative timeout waits for the peer's return.
func TestSessionEndReportedOnceThenWaits(t *testing.T) {
	for _, side := range []TransferType{Rx, Tx} {
		txp, rxp := pairParams(t)
		tx, rx := connect(t, txp, rxp)
		me, peer, peerParam := rx, tx, txp
		if side == Tx {
			me, peer, peerParam = tx, rx, rxp
		}
		require.NoError(t, peer.Close())
		require.ErrorIs(t, untilEnd(me), ErrDisconnected, "side %d: the end, once", side)

		calls, start := 0, time.Now()
		for time.Since(start) < 200*time.Millisecond {
			_, err := me.DequeueBuffer(50 * time.Millisecond)
			require.ErrorIs(t, err, ErrTimeout, "side %d: then timeouts", side)
			calls++
		}
		assert.LessOrEqual(t, calls, 5, "side %d: calls in 200 ms", side)

		got := make(chan error, 1)
		go func() {
			b, err := me.DequeueBuffer(-1) // waits for the peer's return
			if err == nil && side == Rx {
				err = me.EnqueueBuffer(b)
			}
			got <- err
		}()
		again := create(t, peerParam)
		if side == Rx {
			sendFrame(t, again, 1, 64)
		}
		select {
		case err := <-got:
			require.NoError(t, err, "side %d", side)
		case <-time.After(waitTimeout):
			t.Fatalf("side %d: DequeueBuffer(-1) did not resume with the new peer", side)
		}
	}
}

// Every blocking call has a context form that a cancel or a deadline ends
// at once, with the context's error.
func TestContextsEndWaits(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	for { // fill the sender's ring: its next dequeue waits
		b, err := tx.DequeueBuffer(0)
		if err != nil {
			require.ErrorIs(t, err, ErrTimeout)
			break
		}
		require.NoError(t, tx.EnqueueBuffer(b))
	}
	type call func(ctx context.Context) error
	calls := map[string]call{
		"rx DequeueBufferContext": func(ctx context.Context) error { _, err := rx.DequeueBufferContext(ctx); return err },
		"tx DequeueBufferContext": func(ctx context.Context) error { _, err := tx.DequeueBufferContext(ctx); return err },
		"tx DequeueBuffersContext": func(ctx context.Context) error {
			_, err := tx.DequeueBuffersContext(ctx, make([]*Buffer, 4))
			return err
		},
	}
	drained := false
	for name, f := range calls {
		if name == "rx DequeueBufferContext" && !drained { // the receiver's ring is full of frames: take them
			for {
				b, err := rx.DequeueBuffer(0)
				if err != nil {
					break
				}
				defer rx.EnqueueBuffer(b) // held: the sender's ring stays full
			}
			drained = true
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f(ctx) }()
		select {
		case err := <-done:
			t.Fatalf("%s returned %v before the cancel", name, err)
		case <-time.After(50 * time.Millisecond):
		}
		began := time.Now()
		cancel()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled, name)
			assert.Less(t, time.Since(began), time.Second, name)
		case <-time.After(waitTimeout):
			t.Fatalf("%s not ended by its context", name)
		}

		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
		began = time.Now()
		assert.ErrorIs(t, f(ctx), context.DeadlineExceeded, name)
		assert.GreaterOrEqual(t, time.Since(began), 25*time.Millisecond, name)
		cancel()
	}
}

// CreateConnection's context error is wrapped, not flattened into text.
func TestCreateConnectionWrapsContextError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := CreateConnection(ctx, videoParam(testsupport.SockPath(t), Rx)) // a slave with no master
	assert.ErrorIs(t, err, ErrNeverConnected)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// untilEnd dequeues (and gives back) until c reports the end of its
// session: a sender may still get a buffer or two before it hears.
func untilEnd(c *Conn) error {
	for {
		b, err := c.DequeueBuffer(waitTimeout)
		if err != nil {
			return err
		}
		c.EnqueueBuffer(b)
	}
}

// A sender's Close waits for its receiver; CloseContext stops waiting when
// its context ends, and still says what was not delivered.
func TestCloseContextEndsTheDrain(t *testing.T) {
	for _, ends := range []string{"cancel", "deadline"} {
		txp, rxp := pairParams(t)
		txp.DrainTimeout = time.Minute
		tx, _ := connect(t, txp, rxp) // the receiver never takes anything
		sendFrame(t, tx, 1, 64)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		if ends == "cancel" {
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
		}
		began := time.Now()
		err := tx.CloseContext(ctx)
		cancel()
		assert.Less(t, time.Since(began), 5*time.Second, "%s: not the DrainTimeout", ends)
		var ue *UndeliveredError
		require.ErrorAs(t, err, &ue, ends)
		assert.Equal(t, 1, ue.Frames, ends)
	}
}

// WaitConnected ends with its context while no peer is there, and with
// ErrClosed once the Conn is closed; a closed Conn refuses every call.
func TestClosedConnRefusesEveryCall(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	assert.Equal(t, *rxp, rx.Param())
	sendFrame(t, tx, 1, 64)
	r := recvFrame(t, rx)
	require.NoError(t, rx.Discard(r), "on a receiver, Discard gives the frame back")
	assert.ErrorIs(t, rx.EnqueueBuffer(r), ErrBufferState, "it is gone")
	require.NoError(t, rx.Close())
	waitDisconnected(t, tx)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, tx.WaitConnected(ctx), context.DeadlineExceeded, "no peer")
	_, err := tx.DequeueBuffer(0)
	require.ErrorIs(t, err, ErrDisconnected, "the end, reported once")
	cctx, ccancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, ccancel)
	_, err = tx.DequeueBufferContext(cctx) // waits for the next peer...
	assert.ErrorIs(t, err, context.Canceled, "...until its context ends")

	rx = create(t, rxp)
	require.NoError(t, tx.WaitConnected(context.Background()))
	var out [2]*Buffer
	for k := range out {
		b, err := tx.DequeueBuffer(waitTimeout)
		require.NoError(t, err)
		out[k] = b
	}
	require.NoError(t, tx.Close())
	assert.ErrorIs(t, tx.WaitConnected(context.Background()), ErrClosed)
	assert.ErrorIs(t, tx.Discard(out[0]), ErrClosed, "an older buffer after Close")
	assert.ErrorIs(t, tx.EnqueueBuffer(out[1]), ErrClosed)
	_, err = tx.Details()
	assert.ErrorIs(t, err, ErrClosed)
	require.NoError(t, rx.Close())
	_, err = rx.DequeueBuffer(0)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = rx.DequeueBuffers(make([]*Buffer, 2), 0)
	assert.ErrorIs(t, err, ErrClosed)
}

// A peer that leaves and is back before this side's next call still ends
// a session: that call reports the end, once, with what was lost, and the
// next one works in the new session. (It used to go straight on, the end
// and its frames unreported.)
func TestSessionEndReportedWhenThePeerIsAlreadyBack(t *testing.T) {
	for _, side := range []TransferType{Rx, Tx} {
		txp, rxp := pairParams(t)
		txp.DrainTimeout = time.Millisecond // a sender's Close need not wait for them
		tx, rx := connect(t, txp, rxp)
		me, peer, peerParam := rx, tx, txp
		if side == Tx {
			me, peer, peerParam = tx, rx, rxp
		}
		sendFrame(t, tx, 0, 64) // never taken: lost with the session
		sendFrame(t, tx, 1, 64)
		first := me.iface.Status().Connects
		peer.Close()
		again := create(t, peerParam)
		waitEngine(t, me, "the peer back", func(st memif.Status) bool { return st.Up && st.Connects > first })

		var err error
		if side == Rx {
			_, err = me.DequeueBuffer(waitTimeout)
			var eos *EndOfStream
			require.ErrorAs(t, err, &eos, "side %d", side)
			assert.Equal(t, &EndOfStream{Sent: 2, Received: 0}, eos)
			sendFrame(t, again, 7, 64)
			require.NoError(t, me.EnqueueBuffer(recvFrame(t, me)), "then the new session")
		} else {
			_, err = me.DequeueBuffer(waitTimeout)
			var pc *PeerClosed
			require.ErrorAs(t, err, &pc, "side %d", side)
			assert.Equal(t, "receiver closed", pc.Reason)
			sendFrame(t, me, 7, 64)
			require.NoError(t, again.EnqueueBuffer(recvFrame(t, again)), "then the new session")
		}
	}
}

// waitEngine waits on c's change notifications, without touching the Conn
// itself, until the engine's status satisfies cond.
func waitEngine(t *testing.T, c *Conn, what string, cond func(memif.Status) bool) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		ch := c.iface.Changed()
		if cond(c.iface.Status()) {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
