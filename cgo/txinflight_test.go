package memif

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TxInFlight counts what was sent and not yet released, on either role's
// transmit ring, refuses another session, and still answers for a session
// that ended, with the count at its end.
func TestTxInFlight(t *testing.T) {
	for _, senderIsMaster := range []bool{true, false} {
		t.Run(map[bool]string{true: "master sends", false: "slave sends"}[senderIsMaster], func(t *testing.T) {
			m, s := pair(t, Config{InterfaceID: 1}, Config{InterfaceID: 1, Log2RingSize: 4})
			tx, rx := s, m
			if senderIsMaster {
				tx, rx = m, s
			}
			n, err := tx.TxInFlight(tx.Session(), 0)
			require.NoError(t, err)
			assert.Equal(t, 0, n)

			var bufs [5]Buffer
			got, err := tx.Alloc(tx.Session(), 0, bufs[:], 64)
			require.NoError(t, err)
			require.Equal(t, 5, got)
			_, err = tx.Tx(tx.Session(), 0, bufs[:3]) // two allocated, not sent
			require.NoError(t, err)
			n, err = tx.TxInFlight(tx.Session(), 0)
			require.NoError(t, err)
			assert.Equal(t, 3, n, "allocated but unsent buffers are not in flight")

			var in [4]Buffer
			k, err := rx.Rx(rx.Session(), 0, in[:])
			require.NoError(t, err)
			require.Equal(t, 3, k)
			require.NoError(t, rx.Refill(rx.Session(), 0, 2))
			n, err = tx.TxInFlight(tx.Session(), 0)
			require.NoError(t, err)
			assert.Equal(t, 1, n)

			_, err = tx.TxInFlight(tx.Session()+1, 0)
			assert.ErrorIs(t, err, ErrNoConn)

			// The receiver leaves holding one: that count outlives the session.
			ended := tx.Session()
			require.NoError(t, rx.Close())
			waitUntil(t, tx, "link down", func(s Status) bool { return !s.Up })
			n, err = tx.TxInFlight(ended, 0)
			if !EngineCapabilities().TxInFlightAtEnd {
				assert.ErrorIs(t, err, ErrNoConn)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the count as the session ended")
			_, err = tx.TxInFlight(ended+1, 0)
			assert.ErrorIs(t, err, ErrNoConn, "a session that never was")
		})
	}
}
