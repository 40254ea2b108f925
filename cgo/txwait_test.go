package memif

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillRing allocates and sends until the transmit ring is full.
func fillRing(t *testing.T, tx *Interface) int {
	var bufs [64]Buffer
	sent := 0
	for {
		n, err := tx.Alloc(tx.Session(), 0, bufs[:], 64)
		if n > 0 {
			k, terr := tx.Tx(tx.Session(), 0, bufs[:n])
			require.NoError(t, terr)
			sent += k
		}
		if err != nil {
			require.ErrorIs(t, err, ErrNoBufRing)
			return sent
		}
	}
}

func TestWaitTxWokenByPeerRelease(t *testing.T) {
	needCap(t, "TxWait")
	for _, senderIsMaster := range []bool{true, false} {
		t.Run(map[bool]string{true: "master sends", false: "slave sends"}[senderIsMaster], func(t *testing.T) {
			m, s := pair(t, Config{InterfaceID: 1}, Config{InterfaceID: 1, Log2RingSize: 4})
			tx, rx := s, m
			if senderIsMaster {
				tx, rx = m, s
			}
			require.Equal(t, 16, fillRing(t, tx))
			assert.ErrorIs(t, tx.WaitTx(tx.Session(), 0, 0, 1), ErrTimeout, "full ring, no wait")
			assert.ErrorIs(t, tx.WaitTx(tx.Session(), 0, time.Millisecond, 1), ErrTimeout)

			woken := make(chan error, 1)
			go func() { woken <- tx.WaitTx(tx.Session(), 0, -1, 1) }()
			var bufs [4]Buffer
			n, err := rx.Rx(rx.Session(), 0, bufs[:])
			require.NoError(t, err)
			require.Equal(t, 4, n)
			require.NoError(t, rx.Refill(rx.Session(), 0, 1))
			select {
			case err := <-woken:
				require.NoError(t, err)
			case <-time.After(waitTimeout):
				t.Fatal("sender not woken by the release")
			}

			// Drain: returns once the receiver released everything.
			drained := make(chan error, 1)
			go func() { drained <- tx.WaitTx(tx.Session(), 0, -1, 0) }()
			require.NoError(t, rx.Refill(rx.Session(), 0, 3))
			for {
				var more [16]Buffer
				n, err := rx.Rx(rx.Session(), 0, more[:])
				require.NoError(t, err)
				if n == 0 {
					break
				}
				require.NoError(t, rx.Refill(rx.Session(), 0, n))
			}
			select {
			case err := <-drained:
				require.NoError(t, err)
			case <-time.After(waitTimeout):
				t.Fatal("drain not seen")
			}
		})
	}
}

func TestWaitTxWokenByDisconnectAndClose(t *testing.T) {
	needCap(t, "TxWait")
	m, s := pair(t, Config{InterfaceID: 2}, Config{InterfaceID: 2, Log2RingSize: 3})
	fillRing(t, s)
	done := make(chan error, 1)
	go func() { done <- s.WaitTx(s.Session(), 0, -1, 1) }()
	require.NoError(t, m.Close())
	select {
	case err := <-done:
		// The seam (stale session) or the engine (no session) says it.
		require.True(t, errors.Is(err, ErrNoConn) || errors.Is(err, ErrDisconnected), "%v", err)
	case <-time.After(waitTimeout):
		t.Fatal("WaitTx not woken by the peer leaving")
	}
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.WaitTx(s.Session(), 0, -1, 1), ErrClosed)
}
