package mcmdp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	needCap(t, "Metadata") // the marks travel in the descriptor's metadata
	for _, tc := range []struct {
		name    string
		bufSize uint32
	}{{"no trailer after the payload", 8256}, {"no room for one", 8192}} {
		t.Run(tc.name, func(t *testing.T) {
			tx, rx := plainIntoFramed(t, tc.bufSize)
			for k := 0; k < 2; k++ {
				plainSend(t, tx, rx.FrameSize(), k, frameMark) // the pattern past the payload: no trailer's magic
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
