package mcmdp

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcmgo/mcm/internal/testsupport"
)

func TestSeqTracker(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint32
		gaps uint64
	}{
		{"in order", []uint32{0, 1, 2, 3}, 0},
		{"one lost", []uint32{0, 1, 3, 4}, 1},
		{"three lost", []uint32{10, 14}, 3},
		{"two queues out of order", []uint32{0, 2, 1, 3, 5, 4}, 0},
		{"late frame after a real loss", []uint32{0, 3, 1, 4}, 1},
		{"16-bit wrap", []uint32{65534, 65535, 0, 1}, 0},
		{"16-bit wrap with a loss after", []uint32{65535, 0, 2}, 1},
		{"32-bit wrap", []uint32{0xFFFFFFFE, 0xFFFFFFFF, 0, 1}, 0},
		{"32-bit wrap with a loss", []uint32{0xFFFFFFFF, 1}, 1},
		{"sender restarted", []uint32{5000, 5001, 0, 1}, 0},
		{"late frame without a hole", []uint32{5, 6, 4}, 0},
	} {
		var s seqTracker
		var got uint64
		for _, q := range tc.seqs {
			got = s.add(q)
		}
		assert.Equal(t, tc.gaps, got, tc.name)
	}
}

// Two queues read round-robin deliver frames out of order: no gap is
// counted when nothing was lost.
func TestSeqGapsWithTwoQueues(t *testing.T) {
	path := testsupport.SockPath(t)
	txp, rxp := videoParam(path, Tx), videoParam(path, Rx)
	txp.Queues, rxp.Queues = 2, 2
	tx, rx := connect(t, txp, rxp)
	const n = 64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := 0; k < n; k++ {
			sendFrame(t, tx, k, 64)
		}
	}()
	seen := map[uint32]bool{}
	for k := 0; k < n; k++ {
		b := recvFrame(t, rx)
		seen[b.SeqNum] = true
		assert.NoError(t, rx.EnqueueBuffer(b))
	}
	<-done
	assert.Len(t, seen, n)
	assert.Zero(t, rx.Stats().SeqGaps)
}
