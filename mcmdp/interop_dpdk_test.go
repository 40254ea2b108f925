package mcmdp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
	"github.com/mcmgo/mcm/third_party/testpmd"
)

func rawParam(path string, typ TransferType, master bool) *ConnParam {
	return &ConnParam{Type: typ, Protocol: ProtoMemif, Raw: true,
		Memif:   MemifParam{IsMaster: master, SocketPath: path, InterfaceID: 0},
		Payload: PayloadAncillary, BufferSize: 2048, Log2RingSize: 10}
}

// Raw mode to DPDK: our sender (slave) to testpmd rxonly (server).
func TestRawSendToDPDK(t *testing.T) {
	testpmd.Require(t)
	path := testsupport.SockPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := testpmd.Start(ctx, testpmd.Config{Role: "server", Socket: path, ForwardMode: "rxonly"})
	require.NoError(t, err)
	defer p.Stop()
	tx := create(t, rawParam(path, Tx, false))
	const n = 5000
	for k := 0; k < n; k++ {
		b, err := tx.DequeueBuffer(waitTimeout)
		require.NoError(t, err)
		b.Len = 64 + k%1400
		testsupport.Fill(b.Data[:b.Len], k)
		require.NoError(t, tx.EnqueueBuffer(b))
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	st, err := p.WaitStats(wctx, func(s testpmd.Stats) bool { return s.RxPackets >= n })
	require.NoError(t, err, p.Output())
	assert.Equal(t, uint64(n), st.RxPackets, "testpmd counted exactly what we sent")
	_, err = p.Stop() // DPDK first: its memif may crash if we leave mid-forwarding
	if testpmd.Tolerable(err) {
		t.Logf("known DPDK 22.11 issue after the counts were checked: %v", err)
	} else {
		require.NoError(t, err)
	}
}

// Raw mode from DPDK: testpmd txonly (server) to our receiver (slave).
func TestRawReceiveFromDPDK(t *testing.T) {
	testpmd.Require(t)
	path := testsupport.SockPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := testpmd.Start(ctx, testpmd.Config{Role: "server", Socket: path, ForwardMode: "txonly"})
	require.NoError(t, err)
	defer p.Stop()
	rx := create(t, rawParam(path, Rx, false))
	const n = 5000
	for k := 0; k < n; k++ {
		b, err := rx.DequeueBuffer(waitTimeout)
		require.NoError(t, err)
		require.Len(t, b.Data, 64, "testpmd txonly sends 64-byte frames")
		require.NoError(t, rx.EnqueueBuffer(b))
	}
	st := rx.Stats()
	assert.Equal(t, uint64(n), st.FramesRx)
	assert.Zero(t, st.FramingErrors, "raw mode expects no trailer")
	_, err = p.Stop()
	if testpmd.Tolerable(err) {
		t.Logf("known DPDK 22.11 issue after the counts were checked: %v", err)
	} else {
		require.NoError(t, err)
	}
}
