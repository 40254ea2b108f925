package toolstest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/memifpeer"
)

// silentSlave connects to a master's socket, sends a valid INIT for
// interface id 0 (taking that id) and then says nothing more.
func silentSlave(t *testing.T, path string) *memifpeer.Conn {
	deadline := time.Now().Add(peerTimeout)
	c, err := memifpeer.Dial(path)
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling for the socket file; no event says it exists
		c, err = memifpeer.Dial(path)
	}
	require.NoError(t, err, "mcm-recv never listened on %s", path)
	t.Cleanup(c.Close)
	_, err = c.Expect(memifpeer.MsgHello, 10*time.Second)
	require.NoError(t, err)
	require.NoError(t, c.Send(memifpeer.Init(0, "", "silent")))
	_, err = c.Expect(memifpeer.MsgAck, 10*time.Second)
	require.NoError(t, err, "reply to INIT")
	return c
}

// TestSilentSlaveDoesNotHoldTheMaster: a slave that sent INIT and went
// silent holds interface id 0 of mcm-recv --role master only until the
// handshake deadline (5 s); then it gets a DISCONNECT and a good mcm-send
// is served.
func TestSilentSlaveDoesNotHoldTheMaster(t *testing.T) {
	needCap(t, "HandshakeTimeout")
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--role", "master", "--json"})...)
	t0 := time.Now()
	c := silentSlave(t, filepath.Join(dir, "mcm.sock"))
	send := start(t, dir, "mcm-send", args(small, []string{"--role", "slave", "--frames", "20", "--fps", "0", "--connect-timeout", "60s"})...)

	d, err := c.WaitDisconnect(30 * time.Second)
	require.NoError(t, err, "the silent slave is told")
	assert.Contains(t, d.Reason, "handshake timed out")
	took := time.Since(t0)
	assert.GreaterOrEqual(t, took, 5*time.Second-100*time.Millisecond, "dropped before the 5 s deadline")
	assert.Less(t, took, 15*time.Second, "dropped long after the 5 s deadline")

	require.Equal(t, 0, send.wait(t), "mcm-send: %s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "mcm-recv: %s", recv.stderr.String())
	rs := recv.summary(t)
	assert.Equal(t, uint64(20), rs.Frames)
	assert.Zero(t, rs.IntegrityErrors)
}
