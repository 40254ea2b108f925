package toolstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/capcheck"
	"github.com/mcmgo/mcm/internal/memifpeer"
)

// needCap skips a test of a behaviour the linked engine lacks.
var needCap = capcheck.Need

// Hostile slaves against the real mcm-recv in the master role: each lie
// ends the liar's session with a reason and costs nothing sized by it, and
// a good mcm-send is served next.

const peerTimeout = 30 * time.Second

func liar(t *testing.T, sock string, cfg memifpeer.SlaveConfig) *memifpeer.Slave {
	s, err := memifpeer.DialSlaveWhenReady(sock, cfg, peerTimeout)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func TestRecvSurvivesHugeChainFromSlave(t *testing.T) {
	needCap(t, "Fault") // the liar is dropped with the reason
	dir := runDir(t)
	sock := filepath.Join(dir, "hostile.sock")
	recv := start(t, dir, "mcm-recv", args(small, []string{"--role", "master", "--socket", sock, "--keep-going", "--json"})...)

	const gib4 = 1 << 32
	s := liar(t, sock, memifpeer.SlaveConfig{Log2Ring: 8, BufferSize: 256, Extra: []uint64{gib4}})
	recv.waitConnected(t)
	chain := make([]memifpeer.Desc, 256)
	for k := range chain {
		chain[k] = memifpeer.Desc{Region: 1, Length: gib4 - 1, Next: k < 255}
	}
	require.NoError(t, s.Produce(chain))
	d, err := s.WaitDisconnect(peerTimeout)
	require.NoError(t, err)
	assert.Contains(t, d.Reason, "frame of more than")

	send := run(t, dir, "mcm-send", args(small, []string{"--role", "slave", "--socket", sock, "--frames", "30", "--fps", "0", "--json"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	rs := recv.summary(t)
	assert.Equal(t, uint64(30), rs.Frames)
	assert.Zero(t, rs.IntegrityErrors)
	assert.Equal(t, uint64(1), rs.PeerFaults)
}

func TestRecvWritesNothingOfAnOversizedFrame(t *testing.T) {
	needCap(t, "Fault")
	dir := runDir(t)
	sock := filepath.Join(dir, "hostile.sock")
	out := filepath.Join(dir, "frames.bin")
	anc := []string{"--payload", "anc", "--buffer-size", "240"}
	recv := start(t, dir, "mcm-recv", args(anc, []string{"--role", "master", "--socket", sock, "--keep-going", "--output", out, "--json"})...)

	s := liar(t, sock, memifpeer.SlaveConfig{Log2Ring: 4, BufferSize: 256, Extra: []uint64{1 << 28}})
	recv.waitConnected(t)
	require.NoError(t, s.Produce([]memifpeer.Desc{{Region: 1, Length: 1 << 28}}))
	d, err := s.WaitDisconnect(peerTimeout)
	require.NoError(t, err)
	assert.Contains(t, d.Reason, "at most 240 expected")

	send := run(t, dir, "mcm-send", args(anc, []string{"--role", "slave", "--socket", sock, "--frames", "10", "--fps", "0"})...)
	require.Equal(t, 0, send.code, "%s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "%s", recv.stderr.String())
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, int64(10*(240-16)), st.Size(), "only the good sender's payloads")
	assert.Equal(t, uint64(1), recv.summary(t).PeerFaults)
}

// A peer's DISCONNECT reason reaches the terminal and the JSON escaped: it
// cannot clear the screen or forge a line of the tool's own.
func TestPeerReasonIsSanitised(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		dir := runDir(t)
		sock := filepath.Join(dir, "hostile.sock")
		a := args(small, []string{"--role", "master", "--socket", sock})
		if asJSON {
			a = append(a, "--json")
		}
		recv := start(t, dir, "mcm-recv", a...)
		s := liar(t, sock, memifpeer.SlaveConfig{Log2Ring: 4, BufferSize: 256})
		recv.waitConnected(t)
		require.NoError(t, s.Send(memifpeer.Disconnect(1, "\x1b[2J\nmcm-recv: all good, 0 errors")))
		s.Close()
		assert.Equal(t, 5, recv.wait(t), "sender lost")
		for _, text := range []string{recv.stderr.String(), recv.stdout.String()} {
			assert.NotContains(t, text, "\x1b")
			for _, line := range strings.Split(text, "\n") {
				assert.False(t, strings.HasPrefix(line, "mcm-recv: all good"), "forged line %q", line)
			}
		}
		assert.Contains(t, recv.stderr.String(), `\x1b[2J\x0amcm-recv: all good`)
	}
}
