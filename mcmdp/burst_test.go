package mcmdp

import (
	"testing"

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
