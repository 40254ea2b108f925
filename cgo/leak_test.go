package memif

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

func openFds(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// memifMappings counts mappings of memif regions (memfds named "memif
// region") and of anything else, from /proc/self/maps.
func memifMappings(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	return strings.Count(string(b), "memfd:memif region")
}

func TestConnectDisconnectCyclesLeakNothing(t *testing.T) {
	path := testsupport.SockPath(t)
	ms, ss := newSocket(t, path), newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: 1})
	fds, maps := openFds(t), memifMappings(t)
	for cycle := 0; cycle < 200; cycle++ {
		s, err := ss.NewInterface(Config{InterfaceID: 1, Log2RingSize: 4})
		require.NoError(t, err)
		waitUp(t, s)
		waitUntil(t, m, "master up", func(st Status) bool { return st.Up })
		if cycle%2 == 0 { // alternate the side that sends and the side that leaves
			sendPacket(t, s, 100, cycle, 0)
			recvPacket(t, m)
			require.NoError(t, s.Close())
		} else {
			sendPacket(t, m, 100, cycle, 0)
			recvPacket(t, s)
			require.NoError(t, s.Close())
		}
		waitUntil(t, m, "master down", func(st Status) bool { return !st.Up })
	}
	assert.Equal(t, fds, openFds(t), "open fds after 200 cycles")
	assert.Equal(t, maps, memifMappings(t), "region mappings after 200 cycles")
	assert.Equal(t, uint64(200), m.Status().Connects)
}

// A buffer held across a disconnect reads zeros instead of faulting, and its
// placeholder mapping goes when the interface is closed.
func TestBufferHeldAcrossDisconnectIsSafe(t *testing.T) {
	needCap(t, "ReleaseStale")
	m, s := pair(t, Config{InterfaceID: 9}, Config{InterfaceID: 9})
	sendPacket(t, s, 300, 1, 0)
	var rx [1]Buffer
	require.NoError(t, m.WaitRx(m.Session(), 0, waitTimeout))
	n, err := m.Rx(m.Session(), 0, rx[:])
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.True(t, testsupport.Check(rx[0].Data, 1))
	before := openFds(t)
	sess := m.Session()

	require.NoError(t, s.Close())
	waitUntil(t, m, "master down", func(st Status) bool { return !st.Up })
	for _, b := range rx[0].Data {
		require.Zero(t, b, "held buffer now reads zeros")
	}
	rx[0].Data[0] = 1 // writes land in private memory, harmlessly
	assert.Less(t, openFds(t), before, "the session's fds are closed")
	assert.ErrorIs(t, m.Refill(sess, 0, 1), ErrNoConn)
	addr := uintptr(unsafe.Pointer(&rx[0].Data[0]))
	require.True(t, mappedAt(t, addr))
	require.NoError(t, m.Close())
	assert.Zero(t, memifMappings(t))
	assert.False(t, mappedAt(t, addr), "placeholder unmapped at close")
}

func mappedAt(t *testing.T, addr uintptr) bool {
	b, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		var lo, hi uint64
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && uint64(addr) >= lo && uint64(addr) < hi {
			return true
		}
	}
	return false
}
