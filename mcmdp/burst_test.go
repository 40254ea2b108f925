package mcmdp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// packetParams: small packets (ancillary payload with a 128-byte buffer).
func packetParams(t testing.TB) (txp, rxp *ConnParam) {
	txp, rxp = pairParams(t)
	for _, p := range []*ConnParam{txp, rxp} {
		p.Payload, p.BufferSize, p.Log2RingSize = PayloadAncillary, 128, 8
	}
	return txp, rxp
}

func TestBurstForms(t *testing.T) {
	txp, rxp := packetParams(t)
	tx, rx := connect(t, txp, rxp)
	require.Equal(t, 112, tx.FrameSize())
	var out, in [32]*Buffer
	seq := 0
	for round := 0; round < 20; round++ {
		n, err := tx.DequeueBuffers(out[:], waitTimeout)
		require.NoError(t, err)
		require.Equal(t, 32, n, "one call, a whole burst")
		for k := 0; k < n; k++ {
			out[k].Len = 64
			testsupport.Fill(out[k].Data[:64], seq+k)
		}
		require.NoError(t, tx.EnqueueBuffers(out[:n]))
		got := 0
		for got < n {
			m, err := rx.DequeueBuffers(in[:], waitTimeout)
			require.NoError(t, err)
			for k := 0; k < m; k++ {
				require.Len(t, in[k].Data, 64)
				require.True(t, testsupport.Check(in[k].Data, seq+got+k))
			}
			require.NoError(t, rx.EnqueueBuffers(in[:m]))
			got += m
		}
		seq += n
	}
	assert.Equal(t, uint64(640), rx.Stats().FramesRx)
	assert.Zero(t, rx.Stats().SeqGaps)

	moved := 0
	allocs := testing.AllocsPerRun(100, func() {
		n, err := tx.DequeueBuffers(out[:], waitTimeout)
		if err != nil || n == 0 {
			t.Fatal(n, err)
		}
		if err := tx.EnqueueBuffers(out[:n]); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < n; {
			m, err := rx.DequeueBuffers(in[:], waitTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if err := rx.EnqueueBuffers(in[:m]); err != nil {
				t.Fatal(err)
			}
			got += m
		}
		moved += n
	})
	assert.Zero(t, allocs)
	assert.GreaterOrEqual(t, moved, 101, "every run moved frames")
}

// EnqueueBuffers stops at the first buffer it refuses and returns why: the
// ones before it are sent (in order), the one refused and those after it
// stay the caller's, to fix and enqueue again.
func TestEnqueueBuffersStopsAtTheFirstRefusal(t *testing.T) {
	txp, rxp := packetParams(t)
	tx, rx := connect(t, txp, rxp)
	out := make([]*Buffer, 4)
	n, err := tx.DequeueBuffers(out, waitTimeout)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	for k, b := range out {
		b.Len = 32
		testsupport.Fill(b.Data[:32], k)
	}
	out[2].Len = -1
	require.ErrorIs(t, tx.EnqueueBuffers(out), ErrLen)
	for k := 0; k < 2; k++ {
		b := recvFrame(t, rx)
		assert.True(t, testsupport.Check(b.Data, k), "frame %d went", k)
		require.NoError(t, rx.EnqueueBuffer(b))
	}
	_, err = rx.DequeueBuffer(0)
	assert.ErrorIs(t, err, ErrTimeout, "nothing from the refused buffer on")

	out[2].Len = 32
	require.NoError(t, tx.EnqueueBuffers(out[2:]), "the refused buffer and the rest are still the caller's")
	in := make([]*Buffer, 4)
	for got := 2; got < 4; {
		m, err := rx.DequeueBuffers(in, waitTimeout)
		require.NoError(t, err)
		for k := 0; k < m; k++ {
			assert.True(t, testsupport.Check(in[k].Data, got+k), "frame %d", got+k)
		}
		// A receiver's burst stops at a buffer given twice; the one
		// before it went back.
		require.ErrorIs(t, rx.EnqueueBuffers(append(in[:m:m], in[0])), ErrBufferState)
		got += m
	}
	assert.ErrorIs(t, tx.EnqueueBuffers([]*Buffer{nil}), ErrBufferState)
}

// DequeueBuffers waits and ends like DequeueBuffer: an empty burst asks
// nothing, a session's end is reported once and then waited out, a
// polling receiver spins until its timeout, Close ends it, and a ring
// full of frames behind a held buffer is ErrHeldBuffer.
func TestDequeueBuffersWaitsAndEnds(t *testing.T) {
	txp, rxp := packetParams(t)
	rxp.Polling = true
	tx, rx := connect(t, txp, rxp)
	bufs := make([]*Buffer, 8)
	n, err := tx.DequeueBuffers(nil, 0)
	assert.Zero(t, n)
	assert.NoError(t, err, "an empty burst")

	n, err = rx.DequeueBuffers(bufs, 20*time.Millisecond) // polls, finds nothing
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrTimeout)
	b, err := rx.DequeueBuffer(20 * time.Millisecond) // the same, one at a time
	assert.Nil(t, b)
	assert.ErrorIs(t, err, ErrTimeout)
	sendFrame(t, tx, 3, 16)
	n, err = rx.DequeueBuffers(bufs, waitTimeout)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.True(t, testsupport.Check(bufs[0].Data, 3))
	require.NoError(t, rx.EnqueueBuffer(bufs[0]))

	// The receiver leaves: the sender's bursts report it once, then wait.
	require.NoError(t, rx.Close())
	for {
		n, err = tx.DequeueBuffers(bufs, waitTimeout)
		if err != nil {
			break
		}
		if err := tx.EnqueueBuffers(bufs[:n]); err != nil { // the end came in between
			require.ErrorIs(t, err, ErrDisconnected)
		}
	}
	require.ErrorIs(t, err, ErrDisconnected)
	n, err = tx.DequeueBuffers(bufs, 10*time.Millisecond)
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrTimeout, "then a wait for the next receiver")
	resumed := make(chan error, 1)
	go func() {
		n, err := tx.DequeueBuffers(bufs, -1)
		if err == nil {
			err = tx.EnqueueBuffers(bufs[:n])
		}
		resumed <- err
	}()
	rx2 := create(t, rxp)
	require.NoError(t, <-resumed, "the burst resumed with the new receiver")
	for { // the receiver takes them: the ring is empty
		n, err := rx2.DequeueBuffers(bufs, 0)
		if err != nil {
			require.ErrorIs(t, err, ErrTimeout)
			break
		}
		require.NoError(t, rx2.EnqueueBuffers(bufs[:n]))
	}

	// Frames the sender cannot send behind one it holds fill the ring.
	held, err := tx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	for {
		n, err = tx.DequeueBuffers(bufs, waitTimeout)
		if err != nil {
			break
		}
		require.NoError(t, tx.EnqueueBuffers(bufs[:n]))
	}
	require.ErrorIs(t, err, ErrHeldBuffer)
	require.NoError(t, tx.Discard(held))
	b = recvFrame(t, rx2)
	require.NoError(t, rx2.EnqueueBuffer(b))

	require.NoError(t, rx2.Close())
	n, err = rx2.DequeueBuffers(bufs, waitTimeout)
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrClosed)
}
