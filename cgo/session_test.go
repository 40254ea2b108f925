package memif

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// A session token is the engine's connect count, and the data path serves
// only the current one: a caller holding state of an ended session is
// refused even after the peer came back, and nothing is refused in the
// session it names.
func TestSessionTokenRefusesOtherSessions(t *testing.T) {
	path := testsupport.SockPath(t)
	ms, ss := newSocket(t, path), newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: 31})
	s := newIface(t, ss, Config{InterfaceID: 31})
	waitUp(t, m)
	first := m.Session()
	require.Equal(t, Session(m.Status().Connects), first)
	d, err := m.Details()
	require.NoError(t, err)
	assert.Equal(t, first, d.Session, "Details names its session")

	require.NoError(t, s.Close())
	waitUntil(t, m, "master down", func(st Status) bool { return !st.Up })
	assert.Zero(t, m.Session(), "no session while down")
	d, err = m.Details()
	require.NoError(t, err, "Details works while down")
	assert.Zero(t, d.Session)

	s = newIface(t, ss, Config{InterfaceID: 31})
	waitUntil(t, m, "second session", func(st Status) bool { return st.Up && st.Connects == uint64(first)+1 })
	second := m.Session()
	require.Equal(t, first+1, second)
	waitUp(t, s) // the master can be up a moment before the slave is

	var bufs [1]Buffer
	for _, stale := range []Session{0, first, second + 1} {
		_, err = m.Alloc(stale, 0, bufs[:], 64)
		assert.ErrorIs(t, err, ErrNoConn, "Alloc in session %d", stale)
		_, err = m.Rx(stale, 0, bufs[:])
		assert.ErrorIs(t, err, ErrNoConn, "Rx in session %d", stale)
		assert.ErrorIs(t, m.Refill(stale, 0, 0), ErrNoConn, "Refill in session %d", stale)
		assert.ErrorIs(t, m.WaitRx(stale, 0, -1), ErrNoConn, "WaitRx in session %d", stale)
		if EngineCapabilities().TxWait {
			assert.ErrorIs(t, m.WaitTx(stale, 0, -1, 1), ErrNoConn, "WaitTx in session %d", stale)
			assert.ErrorIs(t, m.Fault(stale, "not this one"), ErrNoConn, "Fault in session %d", stale)
		}
	}
	assert.True(t, m.Status().Up, "a refused Fault leaves the session alone")
	sendPacket(t, m, 100, 7, 0) // the current session works
	data, _ := recvPacket(t, s)
	assert.True(t, testsupport.Check(data, 7))
}
