package toolstest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In bursts, on either side or both, of sizes that do not divide the
// count: every frame arrives once, in order, with its pattern (every byte
// checked) and the same CRC on both sides.
func TestBurstsMoveEveryFrameIntact(t *testing.T) {
	const n = 1000
	for _, tc := range []struct {
		name       string
		media      []string
		send, recv int
	}{
		{"video, both in bursts", small, 32, 32},
		{"video, sender in bursts", small, 7, 1},
		{"video, receiver in bursts", small, 1, 64},
		{"raw 64 B packets, pattern checked", []string{"--raw", "--payload", "anc", "--buffer-size", "64", "--check", "pattern"}, 32, 32},
		{"raw 64 B packets, large bursts", []string{"--raw", "--payload", "anc", "--buffer-size", "64", "--check", "pattern"}, 256, 256},
	} {
		dir := runDir(t)
		recv := start(t, dir, "mcm-recv", args(tc.media, []string{"--json", "--crc", "--burst", strconv.Itoa(tc.recv)})...)
		sendMedia := tc.media
		if sendMedia[len(sendMedia)-2] == "--check" {
			sendMedia = sendMedia[:len(sendMedia)-2]
		}
		send := run(t, dir, "mcm-send", args(sendMedia, []string{"--json", "--crc", "--fps", "0", "--frames", strconv.Itoa(n), "--burst", strconv.Itoa(tc.send)})...)
		require.Equal(t, 0, send.code, "%s: %s", tc.name, send.stderr.String())
		require.Equal(t, 0, recv.wait(t), "%s: %s", tc.name, recv.stderr.String())
		ss, rs := send.summary(t), recv.summary(t)
		assert.Equal(t, uint64(n), ss.Frames, tc.name)
		assert.Equal(t, uint64(n), rs.Frames, tc.name)
		assert.Equal(t, ss.Bytes, rs.Bytes, tc.name)
		assert.Zero(t, rs.IntegrityErrors, tc.name)
		assert.Zero(t, rs.SeqGaps, tc.name)
		require.NotEmpty(t, ss.CRC32C, tc.name)
		assert.Equal(t, ss.CRC32C, rs.CRC32C, tc.name)
		assert.Equal(t, "frames", ss.End, tc.name)
		assert.Equal(t, "end-of-stream", rs.End, tc.name)
		assert.Contains(t, recv.stdout.String(), `"check":"pattern"`, tc.name)
	}
}

// The corrupted frame is found where it is in its burst: one error, not
// a burst's worth, and the rest of the burst is intact.
func TestBurstCorruptionIsOneFrame(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--json", "--burst", "8"})...)
	send := run(t, dir, "mcm-send", args(small, []string{"--frames", "40", "--fps", "0", "--burst", "8", "--corrupt", "13"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	assert.Equal(t, 4, recv.wait(t))
	rs := recv.summary(t)
	assert.Equal(t, uint64(40), rs.Frames)
	assert.Equal(t, uint64(1), rs.IntegrityErrors)
}

// A file that ends inside a burst: the frames read go out, the buffers
// left over are given back unsent, and the output is byte-exact.
func TestBurstFileEndsMidBurst(t *testing.T) {
	dir := runDir(t)
	nv12 := []string{"--width", "64", "--height", "32", "--pix-fmt", "nv12"}
	frame := 64 * 32 * 3 / 2
	in := make([]byte, 5*frame)
	for k := range in {
		in[k] = byte(k*7 + k>>11)
	}
	inPath, outPath := filepath.Join(dir, "in.yuv"), filepath.Join(dir, "out.yuv")
	require.NoError(t, os.WriteFile(inPath, in, 0o600))
	recv := start(t, dir, "mcm-recv", args(nv12, []string{"--output", outPath, "--json", "--burst", "3"})...)
	send := run(t, dir, "mcm-send", args(nv12, []string{"--input", inPath, "--fps", "0", "--json", "--burst", "4"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	ss, rs := send.summary(t), recv.summary(t)
	assert.Equal(t, "input", ss.End)
	assert.Equal(t, uint64(5), ss.Frames)
	assert.Equal(t, uint64(5), rs.Frames)
	assert.Zero(t, rs.IntegrityErrors)
	out, err := os.ReadFile(outPath)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(in, out), "output differs from input (%d vs %d bytes)", len(out), len(in))
}

func TestBurstOutOfRangeIsABadFlag(t *testing.T) {
	for _, n := range []string{"0", "257"} {
		p := run(t, runDir(t), "mcm-send", "--burst", n)
		assert.Equal(t, 2, p.code, "%s: %s", n, p.stderr.String())
		assert.Contains(t, p.stderr.String(), "--burst "+n+": want 1..256")
	}
}

// A peer killed mid-stream ends a tool in bursts as it ends one frame at
// a time (exit 5, peer-lost), and --keep-going rides through a sender's
// restart in bursts with no frame miscounted as corrupt.
func TestBurstLostPeer(t *testing.T) {
	burst := []string{"--burst", "16"}
	for _, victim := range []string{"mcm-send", "mcm-recv"} {
		dir := runDir(t)
		recv := start(t, dir, "mcm-recv", args(small, burst, []string{"--json"})...)
		send := start(t, dir, "mcm-send", args(small, burst, []string{"--json", "--fps", "0"})...)
		send.waitConnected(t)
		recv.waitConnected(t)
		killed, survivor := send, recv
		if victim == "mcm-recv" {
			killed, survivor = recv, send
		}
		require.NoError(t, killed.cmd.Process.Kill())
		killed.wait(t)
		assert.Equal(t, 5, survivor.wait(t), "%s killed: %s", victim, survivor.stderr.String())
		assert.Equal(t, "peer-lost", survivor.summary(t).End, "%s killed", victim)
	}

	assert.Equal(t, "end-of-stream", keepGoingThroughRestart(t, burst...).End)
}
