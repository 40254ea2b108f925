package mcmdp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// A buffer dequeued in one session and given back in the next is refused
// with ErrDisconnected, once, and nothing of it reaches the new session:
// the new peer sees exactly the new frames, and the ring keeps turning.

func TestTxBufferFromBeforeAReconnectIsRefused(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.Log2RingSize, rxp.Log2RingSize = 3, 3
	tx, rx := connect(t, txp, rxp)
	old, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	old.Len = 64
	testsupport.Fill(old.Data[:64], 99)

	require.NoError(t, rx.Close())
	rx2 := create(t, rxp)
	waitSession(t, tx, 2)
	require.ErrorIs(t, tx.EnqueueBuffer(old), ErrDisconnected)
	assert.ErrorIs(t, tx.EnqueueBuffer(old), ErrBufferState, "refused once, then it is gone")
	assert.ErrorIs(t, tx.Discard(old), ErrBufferState)
	_, err = tx.DequeueBuffer(waitTimeout)
	require.ErrorIs(t, err, ErrPeerClosed, "the first receiver's departure, reported once")

	for k := 0; k < 3*8; k++ { // three turns of the ring
		sendFrame(t, tx, k, 64)
		b := recvFrame(t, rx2)
		require.Len(t, b.Data, 64)
		require.True(t, testsupport.Check(b.Data, k), "frame %d is the new session's", k)
		require.NoError(t, rx2.EnqueueBuffer(b))
	}
	_, err = rx2.DequeueBuffer(0)
	assert.ErrorIs(t, err, ErrTimeout, "the refused buffer never went out")
}

func TestRxBufferFromBeforeAReconnectIsRefused(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.Log2RingSize, rxp.Log2RingSize = 3, 3
	txp.DrainTimeout = time.Nanosecond // the receiver holds a frame
	tx, rx := connect(t, txp, rxp)
	sendFrame(t, tx, 1, 64)
	old := recvFrame(t, rx)

	require.ErrorIs(t, tx.Close(), ErrUndelivered)
	tx2 := create(t, txp)
	waitSession(t, rx, 2)
	require.ErrorIs(t, rx.EnqueueBuffer(old), ErrDisconnected)
	assert.ErrorIs(t, rx.EnqueueBuffer(old), ErrBufferState, "refused once, then it is gone")
	_, err := rx.DequeueBuffer(waitTimeout)
	require.ErrorIs(t, err, ErrEndOfStream, "the first sender's end, reported once")

	// Had the old buffer gone back to the new ring, the receiver would
	// give back a slot it never read and the turns below would stall or
	// read a slot twice.
	for k := 0; k < 3*8; k++ {
		sendFrame(t, tx2, k, 64)
		b := recvFrame(t, rx)
		require.True(t, testsupport.Check(b.Data, k), "frame %d", k)
		require.NoError(t, rx.EnqueueBuffer(b))
	}
	_, err = rx.DequeueBuffer(0)
	assert.ErrorIs(t, err, ErrTimeout)
}

// waitSession waits until c is connected in its n-th session.
func waitSession(t *testing.T, c *Conn, n uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		ch := c.Changed()
		if c.Connected() && c.Stats().Reconnects == n-1 {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("session %d never came; %d reconnects", n, c.Stats().Reconnects)
		}
	}
}
