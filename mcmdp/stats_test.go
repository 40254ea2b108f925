package mcmdp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/cgo"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// SeqGaps counts the frames missing between the SeqNums received: a
// sender that skips three counts three, and a late frame fills its hole.
func TestSeqGapsCountsMissingFrames(t *testing.T) {
	txp, rxp := pairParams(t)
	tx, rx := connect(t, txp, rxp)
	want := []uint64{0, 0, 0, 3, 2, 2} // after each frame
	for k, seq := range []uint32{0, 1, 2, 6, 4, 7} {
		b, err := tx.DequeueBuffer(waitTimeout)
		require.NoError(t, err)
		b.Len, b.SeqNum = 16, seq
		require.NoError(t, tx.EnqueueBuffer(b))
		got := recvFrame(t, rx)
		assert.Equal(t, seq, got.SeqNum)
		require.NoError(t, rx.EnqueueBuffer(got))
		assert.Equal(t, want[k], rx.Stats().SeqGaps, "after SeqNum %d", seq)
	}
}

// FramingErrors counts frames marked as carrying a trailer where none is:
// garbage after the payload, or no room for it in the buffer. The payload
// is still delivered, as a plain frame numbered on this side.
func TestFramingErrorsCountMarksWithoutATrailer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bufSize uint32
	}{{"no trailer after the payload", 8256}, {"no room for one", 8192}} {
		t.Run(tc.name, func(t *testing.T) {
			path := testsupport.SockPath(t)
			tx := plainPeer(t, path, true, tc.bufSize)
			rx := create(t, videoParam(path, Rx))
			require.NoError(t, rx.WaitConnected(context.Background()))
			waitPlainUp(t, tx)
			s := tx.Session()
			for k := 0; k < 2; k++ {
				var bufs [1]memif.Buffer
				n, err := tx.Alloc(s, 0, bufs[:], uint32(rx.FrameSize()))
				require.NoError(t, err)
				require.Equal(t, 1, n)
				data := bufs[0].Data[:cap(bufs[0].Data)]
				testsupport.Fill(data, k) // the bytes past the payload too: no trailer's magic
				bufs[0].Len, bufs[0].Metadata = rx.FrameSize(), frameMark
				_, err = tx.Tx(s, 0, bufs[:])
				require.NoError(t, err)
				b := recvFrame(t, rx)
				assert.Equal(t, rx.FrameSize(), b.Len)
				assert.True(t, testsupport.Check(b.Data, k))
				assert.False(t, b.Framed)
				assert.Equal(t, uint32(k), b.SeqNum, "numbered on this side")
				require.NoError(t, rx.EnqueueBuffer(b))
			}
			st := rx.Stats()
			assert.EqualValues(t, 2, st.FramingErrors)
			assert.Zero(t, st.PlainFrames, "marked frames are not plain ones")
			assert.Zero(t, st.SeqGaps)
		})
	}
}
