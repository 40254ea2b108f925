package toolstest

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/third_party/testpmd"
)

// raw packets for a plain memif peer: payload only, 2048-byte buffers.
var rawPackets = []string{"--raw", "--payload", "anc", "--buffer-size", "2048", "--role", "slave", "--json"}

func startTestpmd(t *testing.T, mode, path string) *testpmd.Process {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := testpmd.Start(ctx, testpmd.Config{Role: "server", Socket: path, ForwardMode: mode})
	require.NoError(t, err)
	t.Cleanup(func() { p.Stop() })
	return p
}

func TestInteropRecvFromTestpmdTxonly(t *testing.T) {
	testpmd.Require(t)
	dir := runDir(t)
	path := filepath.Join(dir, "pmd.sock")
	pmd := startTestpmd(t, "txonly", path)
	const n = 20000
	recv := start(t, dir, "mcm-recv", append(rawPackets, "--socket", path, "--frames", strconv.Itoa(n), "--linger", "30s")...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// testpmd's counters reset when its peer leaves: read them while connected.
	st, err := pmd.WaitStats(ctx, func(s testpmd.Stats) bool { return s.TxPackets >= n })
	require.NoError(t, err, pmd.Output())
	_, err = pmd.Stop() // DPDK first: its memif may crash if we leave mid-forwarding
	if testpmd.Tolerable(err) {
		t.Logf("known DPDK 22.11 issue after the counts were checked: %v", err)
	} else {
		require.NoError(t, err)
	}
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	rs := recv.summary(t)
	assert.Equal(t, uint64(n), rs.Frames)
	assert.Equal(t, uint64(n*64), rs.Bytes, "testpmd txonly sends 64-byte frames")
	assert.GreaterOrEqual(t, st.TxPackets, rs.Frames, "testpmd sent at least what we received")
	assert.Contains(t, rs.End, "frames")
}

func TestInteropSendToTestpmdRxonly(t *testing.T) {
	testpmd.Require(t)
	dir := runDir(t)
	path := filepath.Join(dir, "pmd.sock")
	pmd := startTestpmd(t, "rxonly", path)
	const n = 20000
	send := start(t, dir, "mcm-send", append(rawPackets, "--socket", path, "--frames", strconv.Itoa(n),
		"--fps", "0", "--linger", "30s")...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := pmd.WaitStats(ctx, func(s testpmd.Stats) bool { return s.RxPackets >= n })
	require.NoError(t, err, pmd.Output())
	assert.Equal(t, uint64(n), st.RxPackets, "testpmd counted exactly what mcm-send sent")
	assert.Equal(t, uint64(n*2048), st.RxBytes)
	_, err = pmd.Stop() // DPDK first, then our sender sees its peer leave
	if testpmd.Tolerable(err) {
		t.Logf("known DPDK 22.11 issue after the counts were checked: %v", err)
	} else {
		require.NoError(t, err)
	}
	assert.Equal(t, 0, send.wait(t), "%s", send.stderr.String())
	assert.Equal(t, uint64(n), send.summary(t).Frames)
}
