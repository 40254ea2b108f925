package toolstest

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The memif 2.0 control messages this test speaks by hand: 128 bytes, a
// little-endian 16-bit type first (libmemif/wire.h).
const (
	msgSize       = 128
	msgHello      = 2
	msgInit       = 3
	msgAck        = 1
	msgDisconnect = 8
)

// silentSlave connects to a master's socket, sends a valid INIT for
// interface id 0 (taking that id) and then says nothing more.
func silentSlave(t *testing.T, path string) int {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	deadline := time.Now().Add(30 * time.Second)
	for unix.Connect(fd, &unix.SockaddrUnix{Name: path}) != nil {
		require.True(t, time.Now().Before(deadline), "mcm-recv never listened on %s", path)
		time.Sleep(10 * time.Millisecond) // polling for the socket file; no event says it exists
	}
	require.Equal(t, uint16(msgHello), binary.LittleEndian.Uint16(readMsg(t, fd, 10*time.Second)), "first message")
	init := make([]byte, msgSize)
	binary.LittleEndian.PutUint16(init[0:], msgInit)
	binary.LittleEndian.PutUint16(init[2:], 0x0200) // version 2.0
	binary.LittleEndian.PutUint32(init[4:], 0)      // interface id
	init[8] = 0                                     // ethernet mode; no secret
	copy(init[33:65], "silent")                     // app name
	_, err = unix.Write(fd, init)
	require.NoError(t, err)
	require.Equal(t, uint16(msgAck), binary.LittleEndian.Uint16(readMsg(t, fd, 10*time.Second)), "reply to INIT")
	return fd
}

// readMsg waits up to timeout for one datagram.
func readMsg(t *testing.T, fd int, timeout time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		require.Positive(t, left, "no message within %v", timeout)
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, int(left/time.Millisecond)+1); n == 0 || err == unix.EINTR {
			continue
		}
		b := make([]byte, 2*msgSize)
		n, err := unix.Read(fd, b)
		require.NoError(t, err)
		require.Equal(t, msgSize, n, "message size")
		return b[:n]
	}
}

// TestSilentSlaveDoesNotHoldTheMaster: a slave that sent INIT and went
// silent holds interface id 0 of mcm-recv --role master only until the
// handshake deadline (5 s); then it gets a DISCONNECT and a good mcm-send
// is served.
func TestSilentSlaveDoesNotHoldTheMaster(t *testing.T) {
	dir := runDir(t)
	recv := start(t, dir, "mcm-recv", args(small, []string{"--role", "master", "--json"})...)
	t0 := time.Now()
	fd := silentSlave(t, filepath.Join(dir, "mcm.sock"))
	send := start(t, dir, "mcm-send", args(small, []string{"--role", "slave", "--frames", "20", "--fps", "0", "--connect-timeout", "60s"})...)

	msg := readMsg(t, fd, 30*time.Second)
	require.Equal(t, uint16(msgDisconnect), binary.LittleEndian.Uint16(msg), "the silent slave is told")
	reason := string(msg[6:102])
	assert.Contains(t, reason, "handshake timed out")
	took := time.Since(t0)
	assert.GreaterOrEqual(t, took, 5*time.Second-100*time.Millisecond, "dropped before the 5 s deadline")
	assert.Less(t, took, 15*time.Second, "dropped long after the 5 s deadline")

	require.Equal(t, 0, send.wait(t), "mcm-send: %s", send.stderr.String())
	require.Equal(t, 0, recv.wait(t), "mcm-recv: %s", recv.stderr.String())
	rs := recv.summary(t)
	assert.Equal(t, uint64(20), rs.Frames)
	assert.Zero(t, rs.IntegrityErrors)
}
