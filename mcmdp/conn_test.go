package mcmdp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

func TestRoundTripRolesAndModes(t *testing.T) {
	for _, senderMaster := range []bool{true, false} {
		for _, polling := range []bool{false, true} {
			name := map[bool]string{true: "sender master", false: "sender slave"}[senderMaster] +
				map[bool]string{true: "/polling", false: "/interrupt"}[polling]
			t.Run(name, func(t *testing.T) {
				path := testsupport.SockPath(t)
				txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
				txp.Memif.IsMaster, rxp.Memif.IsMaster = senderMaster, !senderMaster
				rxp.Polling = polling
				tx, rx := connect(t, txp, rxp)
				size := tx.FrameSize()
				require.Equal(t, 64*32*4, size)
				for k := 0; k < 50; k++ {
					n := size - k
					sendFrame(t, tx, k, n)
					b := recvFrame(t, rx)
					require.Len(t, b.Data, n)
					require.True(t, testsupport.Check(b.Data, k), "frame %d corrupted", k)
					assert.Equal(t, uint32(k), b.SeqNum)
					assert.Equal(t, int64(k)*1000, b.Timestamp)
					require.NoError(t, rx.EnqueueBuffer(b))
				}
				st := rx.Stats()
				assert.Equal(t, uint64(50), st.FramesRx)
				assert.Zero(t, st.SeqGaps)
				assert.Zero(t, st.FramingErrors)
				assert.Equal(t, uint64(50), tx.Stats().FramesTx)
			})
		}
	}
}
