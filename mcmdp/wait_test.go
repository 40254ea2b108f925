package mcmdp

import (
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/testsupport"
	"github.com/stretchr/testify/require"
)

// TestTimedWaitsLastUnderSignals: signals reaching the waiting thread do
// not end a timed DequeueBuffer, on either side, before its timeout.
func TestTimedWaitsLastUnderSignals(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.Log2RingSize, rxp.Log2RingSize = 1, 1
	tx, rx := connect(t, txp, rxp)
	for k := 0; ; k++ { // fill the ring: the receiver takes nothing
		require.Less(t, k, 64, "the ring never filled")
		b, err := tx.DequeueBuffer(0)
		if err != nil {
			require.ErrorIs(t, err, ErrTimeout)
			break
		}
		b.Len = 16
		require.NoError(t, tx.EnqueueBuffer(b))
	}
	// Take the frames the receiver has, so its ring looks empty to it.
	var got []*Buffer
	for {
		b, err := rx.DequeueBuffer(0)
		if err != nil {
			require.ErrorIs(t, err, ErrTimeout)
			break
		}
		got = append(got, b)
	}
	require.NotEmpty(t, got)

	const timeout = 5 * time.Millisecond
	bufs := make([]*Buffer, 4)
	waits := []testsupport.TimedWait{
		{Name: "rx DequeueBuffer", Wait: func() error { _, err := rx.DequeueBuffer(timeout); return err }},
		{Name: "rx DequeueBuffers", Wait: func() error { _, err := rx.DequeueBuffers(bufs, timeout); return err }},
		{Name: "tx DequeueBuffer", Wait: func() error { _, err := tx.DequeueBuffer(timeout); return err }},
		{Name: "tx DequeueBuffers", Wait: func() error { _, err := tx.DequeueBuffers(bufs, timeout); return err }},
	}
	testsupport.WaitsLastUnderSignals(t, timeout, 3, ErrTimeout, waits)
}
