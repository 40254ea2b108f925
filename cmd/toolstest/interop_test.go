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

func startTestpmd(t *testing.T, mode, path string) *testpmd.Process {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := testpmd.Start(ctx, testpmd.Config{Role: "server", Socket: path, ForwardMode: mode})
	require.NoError(t, err)
	t.Cleanup(func() { p.Stop() })
	return p
}

// Raw or framed (the default), a receiver takes testpmd's plain frames
// whole, with no integrity error: framed mode only reads SeqNum and
// Timestamp where an mcmdp sender marked them.
func TestInteropRecvFromTestpmdTxonly(t *testing.T) {
	testpmd.Require(t)
	for _, tc := range interopCases {
		raw := tc.raw
		dir := runDir(t)
		path := filepath.Join(dir, "pmd.sock")
		pmd := startTestpmd(t, "txonly", path)
		const n = 20000
		a := append(packets(raw), "--socket", path, "--frames", strconv.Itoa(n), "--linger", "30s", "--burst", tc.burst)
		recv := start(t, dir, "mcm-recv", a...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// testpmd's counters reset when its peer leaves: read them while connected.
		st, err := pmd.WaitStats(ctx, func(s testpmd.Stats) bool { return s.TxPackets >= n })
		cancel()
		require.NoError(t, err, pmd.Output())
		stopTestpmd(t, pmd) // DPDK first: its memif may crash if we leave mid-forwarding
		require.Equal(t, 0, recv.wait(t), "%+v: %s", tc, recv.stderr.String())
		rs := recv.summary(t)
		assert.Equal(t, uint64(n), rs.Frames, "%+v", tc)
		assert.Equal(t, uint64(n*64), rs.Bytes, "testpmd txonly sends 64-byte frames")
		assert.Zero(t, rs.IntegrityErrors, "%+v", tc)
		if !raw {
			assert.Equal(t, uint64(n), rs.PlainFrames, "told apart from mcmdp frames")
		}
		assert.GreaterOrEqual(t, st.TxPackets, rs.Frames, "testpmd sent at least what we received")
		assert.Contains(t, rs.End, "frames")
	}
}

// Raw or framed (the default), testpmd counts exactly the payload bytes
// mcm-send sent: framing travels outside the descriptors' lengths.
func TestInteropSendToTestpmdRxonly(t *testing.T) {
	testpmd.Require(t)
	for _, tc := range interopCases {
		raw := tc.raw
		dir := runDir(t)
		path := filepath.Join(dir, "pmd.sock")
		pmd := startTestpmd(t, "rxonly", path)
		const n = 20000
		payload := map[bool]uint64{true: 2048, false: 2048 - 16}[raw] // framed: room for the trailer
		send := start(t, dir, "mcm-send", append(packets(raw), "--socket", path, "--frames", strconv.Itoa(n),
			"--fps", "0", "--linger", "30s", "--burst", tc.burst)...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		st, err := pmd.WaitStats(ctx, func(s testpmd.Stats) bool { return s.RxPackets >= n })
		cancel()
		require.NoError(t, err, pmd.Output())
		assert.Equal(t, uint64(n), st.RxPackets, "testpmd counted exactly what mcm-send sent")
		assert.Equal(t, n*payload, st.RxBytes, "%+v: frames x payload", tc)
		stopTestpmd(t, pmd) // DPDK first, then our sender sees its peer leave
		assert.Equal(t, 0, send.wait(t), "%s", send.stderr.String())
		assert.Equal(t, uint64(n), send.summary(t).Frames)
	}
}

// interopCases: raw and framed one frame a call, and raw in bursts as
// testpmd itself moves packets.
var interopCases = []struct {
	raw   bool
	burst string
}{{true, "1"}, {false, "1"}, {true, "32"}}

// packets: 2048-byte ancillary buffers as the memif slave of testpmd.
func packets(raw bool) []string {
	a := []string{"--payload", "anc", "--buffer-size", "2048", "--role", "slave", "--json"}
	if raw {
		a = append(a, "--raw")
	}
	return a
}

func stopTestpmd(t *testing.T, pmd *testpmd.Process) {
	_, err := pmd.Stop()
	if testpmd.Tolerable(err) {
		t.Logf("known DPDK 22.11 issue after the counts were checked: %v", err)
	} else {
		require.NoError(t, err)
	}
}
