package mcmdp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// A master sends into its slave's buffers, which the slave sized: frames
// larger than them go as chains, one per call, whatever the call.
func TestSmallerSlaveBuffersCarryWholeFrames(t *testing.T) {
	for _, burst := range []int{0, 16} { // 0: DequeueBuffer
		t.Run(map[int]string{0: "one at a time", 16: "bursts of 16"}[burst], func(t *testing.T) {
			txp, rxp := pairParams(t)      // 8,192-byte frames
			rxp.BufferSize = 2048          // the slave sets the size
			tx, rx := connect(t, txp, rxp) // a ring of 8: one chain of 5 at a time
			out := make([]*Buffer, max(burst, 1))
			for k := 0; k < 10; k++ {
				if burst == 0 {
					b, err := tx.DequeueBuffer(waitTimeout)
					require.NoError(t, err)
					out[0] = b
				} else {
					n, err := tx.DequeueBuffers(out, waitTimeout)
					require.NoError(t, err)
					require.Equal(t, 1, n, "a chain at a time")
				}
				b := out[0]
				require.Len(t, b.Data, tx.FrameSize())
				testsupport.Fill(b.Data, k)
				b.Timestamp = int64(k)
				require.NoError(t, tx.EnqueueBuffer(b))
				got := recvFrame(t, rx)
				assert.True(t, testsupport.Check(got.Data, k), "frame %d", k)
				assert.True(t, got.Framed, "frame %d carries its trailer", k)
				assert.Equal(t, uint32(k), got.SeqNum)
				assert.Equal(t, int64(k), got.Timestamp)
				require.NoError(t, rx.EnqueueBuffer(got))
			}
			assert.Zero(t, rx.Stats().SeqGaps)
		})
	}
}

// A master's own BufferSize says nothing of the slave's buffers: with a
// smaller one it neither refuses frames that fit the slave's ring nor
// waits for more room than the ring has.
func TestMasterWithSmallerBuffersThanItsSlave(t *testing.T) {
	txp, rxp := pairParams(t)
	txp.BufferSize, txp.Log2RingSize = 1024, 4 // 9 of its own would not fit the slave's ring
	rxp.BufferSize, rxp.Log2RingSize = 2048, 3 // 5 of the slave's do
	tx, rx := connect(t, txp, rxp)
	sendFrame(t, tx, 1, tx.FrameSize())
	waiting := make(chan error, 1)
	go func() { // the ring is full: it waits for the receiver
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		b, err := tx.DequeueBufferContext(ctx)
		if err == nil {
			b.Len = 64
			testsupport.Fill(b.Data[:64], 2)
			err = tx.EnqueueBuffer(b)
		}
		waiting <- err
	}()
	got := recvFrame(t, rx)
	assert.True(t, testsupport.Check(got.Data, 1))
	require.NoError(t, rx.EnqueueBuffer(got))
	require.NoError(t, <-waiting, "the room the receiver freed was never seen")
	got = recvFrame(t, rx)
	assert.True(t, testsupport.Check(got.Data, 2))
	require.NoError(t, rx.EnqueueBuffer(got))
}

// A frame that cannot fit the session's ring is ErrFrameTooLarge, named
// for whoever can fix it, at every call: never a wait for room that will
// not come.
func TestFrameTooLargeForThePeersRing(t *testing.T) {
	for _, own := range []uint32{0, 1024} { // the master's own BufferSize does not matter
		t.Run("master, own buffer size "+map[uint32]string{0: "default", 1024: "1024"}[own], func(t *testing.T) {
			txp := videoParam(testsupport.SockPath(t), Tx)
			txp.BufferSize, txp.Log2RingSize = own, 4
			tx, slave := underPeerSlave(t, txp, memifpeer.SlaveConfig{Log2Ring: 3, BufferSize: 1024})
			slave.PostReceiveBuffers()
			for k := 0; k < 2; k++ {
				b, err := tx.DequeueBuffer(waitTimeout)
				assert.Nil(t, b)
				require.ErrorIs(t, err, ErrFrameTooLarge)
				assert.Contains(t, err.Error(), "the slave's ring of 8 buffers cannot carry a 8208-byte frame; the slave sets the buffer and ring sizes")
			}
			n, err := tx.DequeueBuffers(make([]*Buffer, 4), waitTimeout)
			assert.Zero(t, n)
			assert.ErrorIs(t, err, ErrFrameTooLarge, "bursts too")
			assert.Equal(t, uint16(0), slave.M2S.Tail(), "nothing was sent")
		})
	}
	t.Run("slave under a master that caps the ring", func(t *testing.T) {
		path := testsupport.SockPath(t)
		l, err := memifpeer.Listen(path)
		require.NoError(t, err)
		defer l.Close()
		txp := videoParam(path, Tx)
		txp.Memif.IsMaster, txp.BufferSize = false, 2048 // 5 buffers a frame, in its ring of 8...
		awaitTx := createAsync(t, txp)
		c, err := l.AcceptConn(waitTimeout)
		require.NoError(t, err)
		hello := memifpeer.DefaultHello("capping")
		hello.MaxLog2RingSize = 2 // ...which the master allows 4 of
		m, err := memifpeer.ServeHello(c, hello, waitTimeout)
		require.NoError(t, err)
		defer m.Close()
		require.Equal(t, 4, m.RingSize())
		tx := awaitTx()
		b, err := tx.DequeueBuffer(waitTimeout)
		assert.Nil(t, b)
		require.ErrorIs(t, err, ErrFrameTooLarge)
		assert.Contains(t, err.Error(), "the master limits the ring to 4 buffers, and 4 of 2048 bytes cannot carry a 8208-byte frame; raise BufferSize")
	})
}

// The receiver keeps the descriptors of a frame still arriving in an area
// the ring's size: when a chain's head sits at its end, the area moves it
// to the front to take the rest.
func TestChainArrivingAcrossTheRingsEndIsWhole(t *testing.T) {
	rxp := videoParam(testsupport.SockPath(t), Rx)
	rxp.Raw = true
	rx, peer := underPeerSlave(t, rxp, memifpeer.SlaveConfig{Log2Ring: 3, BufferSize: 256})

	mem := peer.Region0().Mem
	put := func(slot, seed, n int) memifpeer.Desc {
		off := peer.BufferOffset(slot)
		testsupport.Fill(mem[off:off+uint32(n)], seed)
		return memifpeer.Desc{Length: uint32(n), Offset: off}
	}
	// A 100-byte frame, then 7 of a chain's 8 buffers: the ring is full.
	descs := []memifpeer.Desc{put(0, 1, 100)}
	for k := 1; k < 8; k++ {
		d := put(k, 10+k, 256)
		d.Next = true
		descs = append(descs, d)
	}
	require.NoError(t, peer.Produce(descs))
	first := recvFrame(t, rx)
	assert.Equal(t, 100, first.Len)
	assert.True(t, testsupport.Check(first.Data, 1))
	_, err := rx.DequeueBuffer(0)
	assert.ErrorIs(t, err, ErrTimeout, "the chain is not whole yet")
	require.NoError(t, rx.EnqueueBuffer(first))                         // its slot comes back to the slave...
	require.NoError(t, peer.Produce([]memifpeer.Desc{put(0, 18, 256)})) // ...for the chain's last buffer

	chain := recvFrame(t, rx)
	require.Equal(t, 8*256, chain.Len)
	for k := 1; k <= 8; k++ {
		assert.True(t, testsupport.Check(chain.Data[(k-1)*256:k*256], 10+k), "buffer %d of the chain", k)
	}
	require.NoError(t, rx.EnqueueBuffer(chain))
	assert.Zero(t, rx.Stats().PeerFaults)
}
