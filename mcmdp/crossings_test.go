package mcmdp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// Sending is one engine call per frame sent one at a time, and one per
// burst: DequeueBuffer hands out slots reserved ahead, and EnqueueBuffer
// reserves the next ones in the call that sends. Frames stay whole and in
// order, with their SeqNum and Timestamp, across the ring's wrap-around
// and a Discard of the newest (the frames alone without Capabilities
// TxAlloc: over upstream libmemif sending and reserving are two calls).
func TestEngineCallsPerFrameSent(t *testing.T) {
	for _, ring := range []uint8{3, 8} {
		txp, rxp := packetParams(t)
		txp.Log2RingSize, rxp.Log2RingSize = ring, ring
		tx, rx := connect(t, txp, rxp)
		seq := 0
		receive := func(n int) {
			var in [32]*Buffer
			for got := 0; got < n; {
				m, err := rx.DequeueBuffers(in[:], waitTimeout)
				require.NoError(t, err)
				for _, b := range in[:m] {
					require.True(t, testsupport.Check(b.Data, seq), "frame %d", seq)
					require.True(t, b.Framed)
					require.Equal(t, uint32(seq), b.SeqNum)
					require.Equal(t, int64(seq)*10, b.Timestamp)
					seq++
				}
				require.NoError(t, rx.EnqueueBuffers(in[:m]))
				got += m
			}
		}
		sent := 0
		send := func(b *Buffer) {
			b.Len = 40
			testsupport.Fill(b.Data[:40], sent)
			b.Timestamp = int64(sent) * 10
			sent++
		}

		sendOne := func() {
			b, err := tx.DequeueBuffer(waitTimeout)
			require.NoError(t, err)
			send(b)
			require.NoError(t, tx.EnqueueBuffer(b))
		}
		sendOne() // the first call reserves
		receive(1)
		before := tx.iface.EngineCalls()
		const frames = 100
		for k := 0; k < frames; k++ {
			if k%10 == 0 { // the newest goes back to the reserved slots
				b, err := tx.DequeueBuffer(waitTimeout)
				require.NoError(t, err)
				require.NoError(t, tx.Discard(b))
			}
			sendOne()
			receive(1)
		}
		calls := memif.EngineCapabilities().TxAlloc // else a send and an allocation are two calls
		if calls {
			assert.Equal(t, uint64(frames), tx.iface.EngineCalls()-before, "ring 2^%d: one call per frame", ring)
		}

		burst := min(1<<ring/2, 16)
		out := make([]*Buffer, burst)
		before = tx.iface.EngineCalls()
		for round := 0; round < 20; round++ {
			n, err := tx.DequeueBuffers(out, waitTimeout)
			require.NoError(t, err)
			require.Equal(t, burst, n)
			for _, b := range out {
				send(b)
			}
			require.NoError(t, tx.EnqueueBuffers(out))
			receive(n)
		}
		if calls {
			assert.LessOrEqual(t, tx.iface.EngineCalls()-before, uint64(20+1), "ring 2^%d: one call per burst", ring)
		}
		assert.Zero(t, rx.Stats().SeqGaps)
	}
}

// A receiver masks the sender's interrupts (eventfd writes) while it is
// awake: only a receiver on its way to sleep is signalled, and a polling
// one never is.
func TestNoInterruptWhileReceiverAwake(t *testing.T) {
	needCap(t, "TxWait") // the bundled engine
	for _, polling := range []bool{false, true} {
		txp, rxp := packetParams(t)
		rxp.Polling = polling
		tx, rx := connect(t, txp, rxp)
		interrupts := func() uint64 {
			n, err := tx.iface.TxInterrupts(tx.current(), 0)
			require.NoError(t, err)
			return n
		}
		sendOne := func() {
			b, err := tx.DequeueBuffer(waitTimeout)
			require.NoError(t, err)
			b.Len = 8
			require.NoError(t, tx.EnqueueBuffer(b))
		}
		receive := func(n int) {
			for k := 0; k < n; k++ {
				b, err := rx.DequeueBuffer(waitTimeout)
				require.NoError(t, err)
				require.NoError(t, rx.EnqueueBuffer(b))
			}
		}
		_, err := rx.DequeueBuffer(time.Millisecond) // a wait: the receiver sleeps
		require.ErrorIs(t, err, ErrTimeout)
		before := interrupts()
		sendOne()
		if polling {
			assert.Equal(t, before, interrupts(), "polling: never signalled")
		} else {
			assert.Equal(t, before+1, interrupts(), "asleep: signalled")
		}
		receive(1) // awake now
		for k := 0; k < 50; k++ {
			sendOne()
		}
		after := interrupts()
		if !polling {
			assert.Equal(t, before+1, after, "awake: not signalled")
		}
		receive(50)
		_, err = rx.DequeueBuffer(time.Millisecond) // asleep again
		require.ErrorIs(t, err, ErrTimeout)
		sendOne()
		if polling {
			assert.Equal(t, before, interrupts())
		} else {
			assert.Equal(t, after+1, interrupts(), "asleep again: signalled")
		}
		receive(1)
	}
}
