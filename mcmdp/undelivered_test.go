package mcmdp

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// A sender's Close with a receiver that takes nothing says how many
// enqueued frames were lost: those on the ring, and one enqueued behind a
// buffer the application never gave back (so never sent). The held buffer
// itself was never enqueued, so it is not counted.
func TestCloseReportsUndelivered(t *testing.T) {
	path := testsupport.SockPath(t)
	txp := videoParam(path, Tx)
	txp.DrainTimeout = 50 * time.Millisecond
	tx, _ := connect(t, txp, videoParam(path, Rx))
	for k := 0; k < 3; k++ {
		sendFrame(t, tx, k, tx.FrameSize())
	}
	held, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	behind, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	require.NoError(t, tx.EnqueueBuffer(behind))
	_ = held

	err = tx.Close()
	require.ErrorIs(t, err, ErrUndelivered)
	var u *UndeliveredError
	require.True(t, errors.As(err, &u))
	assert.Equal(t, 4, u.Frames, "3 on the ring + 1 waiting behind the held buffer")
	assert.Contains(t, err.Error(), "4 enqueued frames")
	assert.Equal(t, err, tx.Close(), "Close stays idempotent")
}

// Chains count as frames, not descriptors.
func TestCloseReportsUndeliveredChains(t *testing.T) {
	path := testsupport.SockPath(t)
	txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
	frame, _ := VideoFrameSize(txp.Width, txp.Height, txp.PixFmt)
	for _, p := range []*ConnParam{txp, rxp} {
		p.BufferSize = (uint32(frame+trailerSize)/3 + 63) &^ 63 // 3 or 4 descriptors a frame
		p.Log2RingSize = 5
	}
	txp.DrainTimeout = 50 * time.Millisecond
	tx, _ := connect(t, txp, rxp)
	for k := 0; k < 2; k++ {
		sendFrame(t, tx, k, tx.FrameSize())
	}
	var u *UndeliveredError
	require.True(t, errors.As(tx.Close(), &u))
	assert.Equal(t, 2, u.Frames)
}

// A receiver that took everything leaves nothing to report.
func TestCloseDeliveredIsNil(t *testing.T) {
	path := testsupport.SockPath(t)
	tx, rx := connect(t, videoParam(path, Tx), videoParam(path, Rx))
	for k := 0; k < 3; k++ {
		sendFrame(t, tx, k, tx.FrameSize())
		require.NoError(t, rx.EnqueueBuffer(recvFrame(t, rx)))
	}
	require.NoError(t, tx.Close())
}
