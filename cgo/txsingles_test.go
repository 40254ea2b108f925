package memif

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// TxSingles moves packets of one buffer each both ways, with their lengths
// and metadata, in bursts that send the last burst's buffers and allocate
// the next ones in the same call; the receiver sees exactly what was sent.
// The next ones may go where the sent ones were (reuse), as mcmdp does.
func TestTxSinglesBothDirections(t *testing.T) {
	needCap(t, "TxSingles")
	for _, dir := range []struct {
		name  string
		s2m   bool
		reuse bool
	}{{"s2m", true, false}, {"m2s", false, false}, {"s2m-reuse", true, true}, {"m2s-reuse", false, true}} {
		t.Run(dir.name, func(t *testing.T) {
			// A pair of its own: slots a case leaves allocated would be
			// the oldest, and so the first sent, in the next case's.
			m, s := pair(t, Config{InterfaceID: 1}, Config{InterfaceID: 1, Log2RingSize: 4, BufferSize: 256})
			tx, rx := m, s
			if dir.s2m {
				tx, rx = s, m
			}
			cur, next := make([]Buffer, 8), make([]Buffer, 8)
			if dir.reuse {
				next = cur
			}
			_, got, short, err := tx.TxSingles(tx.Session(), 0, nil, cur, 200)
			require.NoError(t, err)
			require.False(t, short)
			require.Equal(t, 8, got)
			seed := 0
			for round := 0; round < 10; round++ { // 80 packets through a ring of 16
				for k := range cur[:got] {
					require.Len(t, cur[k].Data, 200)
					cur[k].Len = 1 + (seed*37)%200
					testsupport.Fill(cur[k].Data[:cur[k].Len], seed)
					cur[k].Metadata = uint32(seed)
					seed++
				}
				sent, n, short, err := tx.TxSingles(tx.Session(), 0, cur[:got], next, 200)
				require.NoError(t, err)
				require.Equal(t, got, sent)
				assert.False(t, short)
				for p := seed - sent; p < seed; p++ {
					data, meta := recvPacket(t, rx)
					require.Len(t, data, 1+(p*37)%200)
					require.True(t, testsupport.Check(data, p), "packet %d", p)
					require.Equal(t, uint32(p), meta)
				}
				if n == 0 { // the ring was full when it allocated: it is empty now
					_, n, _, err = tx.TxSingles(tx.Session(), 0, nil, next, 200)
					require.NoError(t, err)
					require.NotZero(t, n)
				}
				cur, next, got = next, cur, n
			}
		})
	}
}

// A buffer smaller than the size asked for stops the allocation and says
// so, taking nothing; a length outside Data is refused before anything is
// sent; another session's call is refused.
func TestTxSinglesRefusals(t *testing.T) {
	needCap(t, "TxSingles")
	m, _ := pair(t, Config{InterfaceID: 1}, Config{InterfaceID: 1, Log2RingSize: 4, BufferSize: 128})
	bufs := make([]Buffer, 4)
	_, got, short, err := m.TxSingles(m.Session(), 0, nil, bufs, 129)
	require.NoError(t, err)
	assert.True(t, short, "the slave's 128-byte buffers are too small")
	assert.Zero(t, got)

	_, got, short, err = m.TxSingles(m.Session(), 0, nil, bufs, 128)
	require.NoError(t, err)
	require.False(t, short)
	require.Equal(t, 4, got, "the short look took nothing")
	bufs[1].Len = len(bufs[1].Data) + 1
	sent, _, _, err := m.TxSingles(m.Session(), 0, bufs, nil, 0)
	assert.ErrorIs(t, err, ErrInvalidArg)
	assert.Zero(t, sent)

	_, _, _, err = m.TxSingles(m.Session()+1, 0, nil, bufs, 128)
	assert.ErrorIs(t, err, ErrNoConn)
}
