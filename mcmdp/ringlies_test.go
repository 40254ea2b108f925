package mcmdp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// A slave that moves its end of a ring past the ring has the engine end
// the session inside whichever data-path call finds it: the call reports
// ErrDisconnected (the engine's verdict, not a frame-size fault), the
// liar is told why, the next call waits for a new peer instead of failing
// again, and the next peer is served.
func TestRingIndexLieEndsTheSessionInEveryCall(t *testing.T) {
	needCap(t, "Hardened") // the engine checks the peer's ring indexes
	for _, tc := range []struct {
		name  string
		typ   TransferType
		burst bool
	}{
		{"receive", Rx, false}, {"receive burst", Rx, true},
		{"send", Tx, false}, {"send burst", Tx, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := testsupport.SockPath(t)
			c, liar := underPeerSlave(t, videoParam(path, tc.typ), memifpeer.SlaveConfig{Log2Ring: 4, BufferSize: 16384})
			if tc.typ == Rx {
				liar.S2M.SetHead(16 + 1) // 17 produced into a ring of 16
			} else {
				liar.M2S.SetHead(16 + 1) // 17 posted into a ring of 16
			}

			call := func(timeout time.Duration) error {
				if tc.burst {
					n, err := c.DequeueBuffers(make([]*Buffer, 4), timeout)
					assert.Zero(t, n)
					return err
				}
				b, err := c.DequeueBuffer(timeout)
				assert.Nil(t, b)
				return err
			}
			err := call(waitTimeout)
			require.ErrorIs(t, err, ErrDisconnected)
			assert.NotErrorIs(t, err, ErrPeerFault, "the engine caught it, not the frame-size check")
			d, err := liar.WaitDisconnect(waitTimeout)
			require.NoError(t, err)
			assert.Contains(t, d.Reason, "peer moved a ring index too far")
			assert.ErrorIs(t, call(10*time.Millisecond), ErrTimeout, "reported once, then a wait for the next peer")

			peerp := videoParam(path, Tx+Rx-tc.typ)
			peerp.Memif.IsMaster = false
			peer := create(t, peerp)
			require.NoError(t, c.WaitConnected(context.Background()))
			tx, rx := c, peer
			if tc.typ == Rx {
				tx, rx = peer, c
			}
			sendFrame(t, tx, 7, 100)
			got := recvFrame(t, rx)
			assert.True(t, testsupport.Check(got.Data, 7))
			require.NoError(t, rx.EnqueueBuffer(got))
		})
	}
}

// A burst that took frames before the call found the lie returns them, and
// the end comes with the next call; those frames belong to the ended
// session.
func TestRingIndexLieAfterFramesOfABurst(t *testing.T) {
	needCap(t, "Hardened") // the engine checks the peer's ring indexes
	rxp := videoParam(testsupport.SockPath(t), Rx)
	rxp.Raw = true
	rx, liar := underPeerSlave(t, rxp, memifpeer.SlaveConfig{Log2Ring: 4, BufferSize: 256})
	require.NoError(t, liar.Produce([]memifpeer.Desc{
		{Length: 100, Offset: liar.BufferOffset(0)}, {Length: 200, Offset: liar.BufferOffset(1)},
	}))
	first := recvFrame(t, rx) // the receiver read both descriptors
	assert.Equal(t, 100, first.Len)
	liar.S2M.SetHead(2 + 16 + 1)

	bufs := make([]*Buffer, 4)
	n, err := rx.DequeueBuffers(bufs, waitTimeout)
	require.NoError(t, err, "the end waits for the next call")
	require.Equal(t, 1, n)
	assert.Equal(t, 200, bufs[0].Len)
	n, err = rx.DequeueBuffers(bufs, waitTimeout)
	assert.Zero(t, n)
	require.ErrorIs(t, err, ErrDisconnected)
	d, err := liar.WaitDisconnect(waitTimeout)
	require.NoError(t, err)
	assert.Contains(t, d.Reason, "peer moved a ring index too far")
	for _, b := range []*Buffer{first, bufs[0]} {
		assert.ErrorIs(t, rx.EnqueueBuffer(b), ErrDisconnected, "a frame of the ended session")
	}
}

// A frame that breaks the frame size behind good ones in the same burst:
// the good ones come first, the fault with the next call, as a session's
// end does; a caller that stops at an error loses nothing.
func TestPeerFaultBehindFramesOfABurst(t *testing.T) {
	needCap(t, "Fault")
	rxp := videoParam(testsupport.SockPath(t), Rx)
	rxp.Raw = true
	rx, liar := underPeerSlave(t, rxp, memifpeer.SlaveConfig{Log2Ring: 4, BufferSize: 256, Extra: []uint64{1 << 20}})
	require.NoError(t, liar.Produce([]memifpeer.Desc{
		{Length: 100, Offset: liar.BufferOffset(0)}, {Region: 1, Length: 1 << 19},
	}))

	bufs := make([]*Buffer, 4)
	n, err := rx.DequeueBuffers(bufs, waitTimeout)
	require.NoError(t, err, "the good frame first")
	require.Equal(t, 1, n)
	assert.Equal(t, 100, bufs[0].Len)
	n, err = rx.DequeueBuffers(bufs[1:], waitTimeout)
	assert.Zero(t, n)
	require.ErrorIs(t, err, ErrPeerFault)
	require.ErrorIs(t, err, ErrDisconnected)
	d, err := liar.WaitDisconnect(waitTimeout)
	require.NoError(t, err)
	assert.Contains(t, d.Reason, "frame of more than 524288 bytes")
	assert.EqualValues(t, 1, rx.Stats().PeerFaults)
	assert.ErrorIs(t, rx.EnqueueBuffer(bufs[0]), ErrDisconnected, "a frame of the ended session")
}
