package mcmdp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// plainPeer is a memif peer that knows nothing of mcmdp: the seam alone.
func plainPeer(t *testing.T, path string, master bool, bufSize uint32) *memif.Interface {
	s, err := memif.NewSocket(memif.SocketConfig{Path: path, AppName: "plain"})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	i, err := s.NewInterface(memif.Config{IsMaster: master, InterfaceID: 1, Log2RingSize: 4, BufferSize: bufSize})
	require.NoError(t, err)
	return i
}

// A default (framed) sender is byte-identical to a plain one on the wire:
// each descriptor's length is the payload's, and the payload starts the
// buffer. A plain receiver sees just what the application sent.
func TestFramedSenderLooksPlainOnTheWire(t *testing.T) {
	path := testsupport.SockPath(t)
	rx := plainPeer(t, path, false, 8256) // room for a whole frame and its trailer
	tx := create(t, videoParam(path, Tx))
	require.NoError(t, tx.WaitConnected(context.Background()))
	waitPlainUp(t, rx)
	for _, n := range []int{1, 100, tx.FrameSize()} {
		sendFrame(t, tx, n, n)
		s := rx.Session()
		require.NoError(t, rx.WaitRx(s, 0, waitTimeout))
		var bufs [4]memif.Buffer
		got, err := rx.Rx(s, 0, bufs[:])
		require.NoError(t, err)
		require.Equal(t, 1, got)
		assert.Equal(t, n, bufs[0].Len, "descriptor length = payload length")
		assert.True(t, testsupport.Check(bufs[0].Data, n), "the payload, at offset 0")
		require.NoError(t, rx.Refill(s, 0, 1))
	}
}

// plainIntoFramed is a plain master, with buffers of bufSize, and a framed
// receiver, both up.
func plainIntoFramed(t *testing.T, bufSize uint32) (*memif.Interface, *Conn) {
	path := testsupport.SockPath(t)
	tx := plainPeer(t, path, true, bufSize)
	rx := create(t, videoParam(path, Rx))
	require.NoError(t, rx.WaitConnected(context.Background()))
	waitPlainUp(t, tx)
	return tx, rx
}

// plainSend sends one n-byte packet with metadata word meta from a plain
// peer, its whole buffer (past the payload too) filled with seed's pattern.
func plainSend(t *testing.T, tx *memif.Interface, n, seed int, meta uint32) {
	t.Helper()
	s := tx.Session()
	var bufs [1]memif.Buffer
	got, err := tx.Alloc(s, 0, bufs[:], uint32(n))
	require.NoError(t, err)
	require.Equal(t, 1, got)
	testsupport.Fill(bufs[0].Data[:cap(bufs[0].Data)], seed)
	bufs[0].Len, bufs[0].Metadata = n, meta
	_, err = tx.Tx(s, 0, bufs[:])
	require.NoError(t, err)
}

// A plain sender's frames reach a framed receiver whole, as plain frames:
// no framing error, SeqNum counted here, Timestamp 0.
func TestPlainSenderIntoFramedReceiver(t *testing.T) {
	tx, rx := plainIntoFramed(t, 8256)
	for k := 0; k < 3; k++ {
		plainSend(t, tx, rx.FrameSize(), k, 0)
		b := recvFrame(t, rx)
		assert.Equal(t, rx.FrameSize(), len(b.Data))
		assert.True(t, testsupport.Check(b.Data, k))
		assert.False(t, b.Framed)
		assert.Equal(t, uint32(k), b.SeqNum, "counted on this side")
		assert.Zero(t, b.Timestamp)
		require.NoError(t, rx.EnqueueBuffer(b))
	}
	st := rx.Stats()
	assert.Zero(t, st.FramingErrors)
	assert.EqualValues(t, 3, st.PlainFrames)
}

// The marks mean something only as mcmdp sends them: from a plain peer an
// empty packet is an empty frame, and a packet with a payload that happens
// to carry the discard mark is delivered, not skipped.
func TestPlainPacketsAreDeliveredWhateverTheirMarks(t *testing.T) {
	tx, rx := plainIntoFramed(t, 8256)
	for k, p := range []struct {
		len  int
		meta uint32
	}{{0, 0}, {100, discardMark}} {
		plainSend(t, tx, p.len, k, p.meta)
		b := recvFrame(t, rx)
		assert.Equal(t, p.len, b.Len)
		assert.True(t, testsupport.Check(b.Data, k))
		assert.False(t, b.Framed)
		require.NoError(t, rx.EnqueueBuffer(b))
	}
	st := rx.Stats()
	assert.EqualValues(t, 2, st.PlainFrames)
	assert.Zero(t, st.FramingErrors)
}

// Two mcmdp peers carry SeqNum and Timestamp for every payload length,
// single buffers and chains alike, including a payload that ends less than
// 16 bytes before a buffer's end (the trailer then opens the next one).
func TestFramedChainsCarryTheTrailerAtEveryLength(t *testing.T) {
	path := testsupport.SockPath(t)
	txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
	txp.Width, txp.Height, rxp.Width, rxp.Height = 64, 4, 64, 4 // 1024-byte frames
	txp.BufferSize, rxp.BufferSize = 256, 256
	txp.Log2RingSize, rxp.Log2RingSize = 5, 5
	tx, rx := connect(t, txp, rxp)
	seq := 0
	for _, n := range []int{0, 1, 200, 240, 241, 250, 255, 256, 257, 496, 511, 512, 1000, 1024} {
		b, err := tx.DequeueBuffer(waitTimeout)
		require.NoError(t, err)
		b.Len = n
		testsupport.Fill(b.Data[:n], n)
		b.Timestamp = int64(n) * 1000
		require.NoError(t, tx.EnqueueBuffer(b))
		got := recvFrame(t, rx)
		assert.Equal(t, n, len(got.Data), "length %d", n)
		assert.True(t, testsupport.Check(got.Data, n), "payload %d", n)
		assert.True(t, got.Framed, "length %d", n)
		assert.Equal(t, uint32(seq), got.SeqNum, "length %d", n)
		assert.Equal(t, int64(n)*1000, got.Timestamp, "length %d", n)
		require.NoError(t, rx.EnqueueBuffer(got))
		seq++
	}
	assert.Zero(t, rx.Stats().FramingErrors)
	assert.Zero(t, rx.Stats().PlainFrames)
}

// waitPlainUp waits for the plain peer's own side of the session: the two
// sides see the link come up at slightly different moments.
func waitPlainUp(t *testing.T, i *memif.Interface) {
	deadline := time.After(waitTimeout)
	for {
		ch := i.Changed()
		if i.Session() != 0 {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatal("the plain peer never came up")
		}
	}
}

// A master's bursts meet a slave whose buffers are smaller than a frame:
// the frames go as chains, one at a time, instead of a frame per buffer.
func TestBurstsIntoSmallerSlaveBuffers(t *testing.T) {
	path := testsupport.SockPath(t)
	txp, rxp := videoParam(path, Tx), videoParam(path, Rx) // 8,192-byte frames
	rxp.BufferSize = 2048                                  // the slave sets the size
	tx, rx := connect(t, txp, rxp)
	out := make([]*Buffer, 4)
	n, err := tx.DequeueBuffers(out, waitTimeout)
	require.NoError(t, err)
	require.Positive(t, n)
	for k := 0; k < n; k++ {
		require.Len(t, out[k].Data, tx.FrameSize())
		testsupport.Fill(out[k].Data, k)
	}
	require.NoError(t, tx.EnqueueBuffers(out[:n]))
	for k := 0; k < n; k++ {
		b := recvFrame(t, rx)
		assert.Len(t, b.Data, tx.FrameSize())
		assert.True(t, testsupport.Check(b.Data, k), "frame %d", k)
		assert.True(t, b.Framed, "frame %d carries its trailer", k)
		require.NoError(t, rx.EnqueueBuffer(b))
	}
}
