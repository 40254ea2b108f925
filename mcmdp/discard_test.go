package mcmdp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// A dequeued buffer can be given back unsent. The newest one just returns
// to the ring: the next dequeue hands out the same slot and sequence
// number. An older one goes out empty and marked, and the receiver never
// sees it; the frames after it are not held up.
func TestDiscardUnsentBuffers(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)

	a, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	require.NoError(t, tx.Discard(a))
	assert.ErrorIs(t, tx.EnqueueBuffer(a), ErrBufferState, "gone")
	again, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	assert.Equal(t, uint32(0), again.SeqNum, "the same place in the sequence")
	testsupport.Fill(again.Data[:100], 1)
	again.Len = 100
	require.NoError(t, tx.EnqueueBuffer(again))
	got := recvFrame(t, rx)
	assert.Equal(t, uint32(0), got.SeqNum)
	assert.True(t, testsupport.Check(got.Data, 1))
	require.NoError(t, rx.EnqueueBuffer(got))

	older, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	newer, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	testsupport.Fill(newer.Data[:50], 2)
	newer.Len = 50
	require.NoError(t, tx.EnqueueBuffer(newer)) // waits for older: ring order
	require.NoError(t, tx.Discard(older))
	got = recvFrame(t, rx)
	assert.Equal(t, newer.SeqNum, got.SeqNum, "the discarded frame is skipped")
	assert.True(t, testsupport.Check(got.Data, 2))
	require.NoError(t, rx.EnqueueBuffer(got))
	st := rx.Stats()
	assert.EqualValues(t, 2, st.FramesRx)
	assert.Zero(t, st.SeqGaps, "a discarded frame is no loss")
}

// A buffer dequeued and never enqueued holds up every later frame of its
// queue (memif sends in ring order). Once the ring is full of them, the
// sender is told at once instead of waiting for a release that cannot come.
func TestHeldBufferBlockingTheRingIsReported(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	held, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	for {
		b, err := tx.DequeueBuffer(waitTimeout)
		if err != nil {
			require.ErrorIs(t, err, ErrHeldBuffer)
			break
		}
		require.NoError(t, tx.EnqueueBuffer(b)) // accepted, but waits behind held
	}
	_, err = rx.DequeueBuffer(0)
	assert.ErrorIs(t, err, ErrTimeout, "nothing went out")
	require.NoError(t, tx.Discard(held)) // the queue moves again
	for k := 0; k < 7; k++ {
		require.NoError(t, rx.EnqueueBuffer(recvFrame(t, rx)))
	}
}

// A chained frame discarded as the newest gives its staging memory back
// for the next chained frame: dequeue and discard in a loop allocate
// nothing (the staging buffer is a whole frame, 1 KB here, 8 MB for 1080p).
func TestDiscardingAChainKeepsItsStagingMemory(t *testing.T) {
	txp, rxp := chainParams(t)
	tx, _ := connect(t, txp, rxp)
	b, err := tx.DequeueBuffer(waitTimeout) // the first chain allocates
	require.NoError(t, err)
	require.NoError(t, tx.Discard(b))
	allocs := testing.AllocsPerRun(50, func() {
		b, err := tx.DequeueBuffer(waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Discard(b); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}
