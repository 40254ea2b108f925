package mcmdp

import (
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/sigstorm"
	"github.com/stretchr/testify/assert"
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
	waits := []struct {
		name string
		wait func() error
	}{
		{"rx DequeueBuffer", func() error { _, err := rx.DequeueBuffer(timeout); return err }},
		{"rx DequeueBuffers", func() error { _, err := rx.DequeueBuffers(bufs, timeout); return err }},
		{"tx DequeueBuffer", func() error { _, err := tx.DequeueBuffer(timeout); return err }},
		{"tx DequeueBuffers", func() error { _, err := tx.DequeueBuffers(bufs, timeout); return err }},
	}
	stop := sigstorm.Start(100 * time.Microsecond)
	defer stop()
	for round := 0; round < 3; round++ {
		for _, w := range waits {
			start := time.Now()
			err := w.wait()
			took := time.Since(start)
			assert.ErrorIs(t, err, ErrTimeout, "%s round %d", w.name, round)
			assert.GreaterOrEqual(t, took, timeout, "%s round %d ended early", w.name, round)
		}
	}
	require.NotZero(t, stop(), "no signal was sent")
}
