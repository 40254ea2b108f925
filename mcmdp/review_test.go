package mcmdp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// A sender blocked on a full ring must not hold up Close: Close drains for
// at most DrainTimeout, then wakes the waiter.
func TestCloseNotHeldUpByAWaitingSender(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.Log2RingSize, rxp.Log2RingSize = 2, 2
	txp.DrainTimeout = 300 * time.Millisecond
	tx, _ := connect(t, txp, rxp) // the receiver never dequeues
	for {
		b, err := tx.DequeueBuffer(0)
		if err != nil {
			require.ErrorIs(t, err, ErrTimeout)
			break
		}
		require.NoError(t, tx.EnqueueBuffer(b))
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := tx.DequeueBuffer(-1)
		waiting <- err
	}()
	closed := make(chan error, 1)
	go func() { closed <- tx.Close() }()
	select {
	case <-closed:
	case <-time.After(waitTimeout):
		t.Fatal("Close hung behind a waiting DequeueBuffer")
	}
	select {
	case err := <-waiting:
		assert.True(t, errors.Is(err, ErrClosed) || errors.Is(err, ErrDisconnected), "%v", err)
	case <-time.After(waitTimeout):
		t.Fatal("the waiter was not woken")
	}
}

func TestFrameLongerThanTheRingIsRefused(t *testing.T) {
	txp, _ := pairParams(t)
	txp.Log2RingSize, txp.BufferSize = 3, 1024 // 8192+16 bytes need 9 buffers, the ring has 8
	_, err := CreateConnection(context.Background(), txp)
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "BufferSize", pe.Field)
}

// A call that runs after the engine reconnected but before the Conn saw it
// must not allocate in the new session under the old bookkeeping.
func TestCallRacingAReconnectCannotMixSessions(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	sendFrame(t, tx, 1, 10)
	require.NoError(t, rx.EnqueueBuffer(recvFrame(t, rx)))

	tx.mu.Lock() // the Conn cannot learn about the reconnect meanwhile
	first := tx.iface.Status().Connects
	require.NoError(t, rx.Close())
	rx2done := make(chan *Conn, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c, err := CreateConnection(ctx, rxp)
		if err != nil {
			t.Error(err)
		}
		rx2done <- c
	}()
	for tx.iface.Status().Connects == first || !tx.iface.Status().Up {
		select {
		case <-tx.iface.Changed():
		case <-time.After(waitTimeout):
			tx.mu.Unlock()
			t.Fatal("the engine did not reconnect")
		}
	}
	b, _, err := tx.allocFrameLocked(tx.queues[0])
	tx.mu.Unlock()
	assert.Nil(t, b)
	assert.ErrorIs(t, err, ErrDisconnected, "the stale session is refused")

	rx2 := <-rx2done
	require.NotNil(t, rx2)
	defer rx2.Close()
	require.NoError(t, tx.WaitConnected(context.Background()))
	_, err = tx.DequeueBuffer(waitTimeout)
	require.ErrorIs(t, err, ErrPeerClosed, "the first receiver's departure, reported once")
	for k := 0; k < 20; k++ { // the new session works, frames intact
		sendFrame(t, tx, 100+k, 64)
		b, err := rx2.DequeueBuffer(waitTimeout)
		require.NoError(t, err, "reason %q stats %+v iface %+v", rx2.PeerReason(), rx2.Stats(), rx2.iface.Status())
		require.True(t, testsupport.Check(b.Data, 100+k))
		require.NoError(t, rx2.EnqueueBuffer(b))
	}
}
