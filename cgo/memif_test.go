package memif

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

func TestRoundTripBothDirections(t *testing.T) {
	for _, polling := range []bool{false, true} {
		name := map[bool]string{false: "interrupt", true: "polling"}[polling]
		t.Run(name, func(t *testing.T) {
			m, s := pair(t, Config{InterfaceID: 1, Name: "m0"}, Config{InterfaceID: 1, Name: "s0", Log2RingSize: 6, BufferSize: 512})
			if polling {
				require.NoError(t, m.SetRxMode(0, true))
				require.NoError(t, s.SetRxMode(0, true))
			}
			for _, dir := range []struct {
				name   string
				tx, rx *Interface
			}{{"s2m", s, m}, {"m2s", m, s}} {
				for p := 0; p < 200; p++ {
					size := 1 + p%500
					sendPacket(t, dir.tx, size, p, uint32(p))
					var got []byte
					var meta uint32
					if polling {
						got, meta = pollPacket(t, dir.rx)
					} else {
						got, meta = recvPacket(t, dir.rx)
					}
					require.Len(t, got, size, dir.name)
					require.True(t, testsupport.Check(got, p), "%s packet %d corrupted", dir.name, p)
					require.Equal(t, wantMeta(uint32(p)), meta)
				}
			}
			d, err := m.Details()
			require.NoError(t, err)
			assert.Equal(t, "s0", d.RemoteName)
			assert.Equal(t, 64, d.RingSize)
			assert.True(t, d.IsMaster)
		})
	}
}

// pollPacket busy-polls Rx: in polling mode the peer sends no signal.
func pollPacket(t *testing.T, rx *Interface) ([]byte, uint32) {
	deadline := time.Now().Add(waitTimeout)
	var bufs [1]Buffer
	var data []byte
	for time.Now().Before(deadline) {
		n, err := rx.Rx(rx.Session(), 0, bufs[:])
		require.NoError(t, err)
		if n == 0 {
			continue
		}
		data = append(data, bufs[0].Data...)
		next, meta := bufs[0].Next, bufs[0].Metadata
		require.NoError(t, rx.Refill(rx.Session(), 0, 1))
		if !next {
			return data, meta
		}
	}
	t.Fatal("nothing received")
	return nil, 0
}

func TestChainedBuffers(t *testing.T) {
	const bufSize = 1024
	m, s := pair(t, Config{InterfaceID: 3}, Config{InterfaceID: 3, BufferSize: bufSize, Log2RingSize: 5})
	for _, dir := range [][2]*Interface{{s, m}, {m, s}} {
		var bufs [8]Buffer
		n, err := dir[0].Alloc(dir[0].Session(), 0, bufs[:], 3*bufSize+17)
		require.NoError(t, err)
		require.Equal(t, 8, n, "as many whole packets as fit: two of four descriptors")
		_, err = dir[0].Tx(dir[0].Session(), 0, bufs[:4]) // send the first, keep the second
		require.NoError(t, err)
		got, _ := recvPacket(t, dir[1])
		require.Len(t, got, 3*bufSize+17)
		bufs[0], bufs[1], bufs[2], bufs[3] = bufs[4], bufs[5], bufs[6], bufs[7]
		n = 4
		for k := 0; k < n; k++ {
			assert.Equal(t, k < n-1, bufs[k].Next)
		}
		assert.Equal(t, 17, bufs[3].Len)
		whole := make([]byte, 3*bufSize+17)
		testsupport.Fill(whole, 9)
		off := 0
		for k := 0; k < n; k++ {
			off += copy(bufs[k].Data, whole[off:])
		}
		sent, err := dir[0].Tx(dir[0].Session(), 0, bufs[:n])
		require.NoError(t, err)
		require.Equal(t, n, sent)
		got, _ = recvPacket(t, dir[1])
		require.Equal(t, whole, got)
	}
}

func TestLargeBuffersHoldAWholeFrame(t *testing.T) {
	needCap(t, "BufferSize32")
	const frame = 1920 * 1080 * 4 // bigger than any 16-bit size
	m, s := pair(t, Config{InterfaceID: 4}, Config{InterfaceID: 4, BufferSize: frame, Log2RingSize: 2})
	var bufs [1]Buffer
	n, err := s.Alloc(s.Session(), 0, bufs[:], frame)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	testsupport.Fill(bufs[0].Data, 5)
	_, err = s.Tx(s.Session(), 0, bufs[:1])
	require.NoError(t, err)
	got, _ := recvPacket(t, m)
	require.Len(t, got, frame)
	require.True(t, testsupport.Check(got, 5))
}

func TestMisuseIsAnError(t *testing.T) {
	m, s := pair(t, Config{InterfaceID: 5}, Config{InterfaceID: 5, Log2RingSize: 3})
	var bufs [16]Buffer
	// The ring has 8 slots: the rest is refused, not overrun.
	n, err := s.Alloc(s.Session(), 0, bufs[:], 64)
	assert.ErrorIs(t, err, ErrNoBufRing)
	assert.Equal(t, 8, n)
	if EngineCapabilities().TxValidation {
		// Sending more than was allocated, or out of order, is refused.
		_, err = s.Tx(s.Session(), 0, bufs[:9])
		assert.ErrorIs(t, err, ErrInvalidArg)
		_, err = s.Tx(s.Session(), 0, []Buffer{bufs[1]})
		assert.ErrorIs(t, err, ErrInvalidArg)
	}
	bufs[0].Len = len(bufs[0].Data) + 1
	_, err = s.Tx(s.Session(), 0, bufs[:1])
	assert.ErrorIs(t, err, ErrInvalidArg)
	_, err = s.Rx(s.Session(), 7, bufs[:])
	assert.ErrorIs(t, err, ErrQueueID)

	var code Errno
	require.True(t, errors.As(err, &code))
	assert.Equal(t, ErrQueueID, code)

	// Counts outside what the engine can take are refused, not truncated.
	for _, count := range []int{-1, 0x10000} {
		err = s.Refill(s.Session(), 0, count)
		assert.ErrorIs(t, err, ErrInvalidArg, "Refill(%d)", count)
		assert.EqualError(t, err, "memif refill: "+ErrInvalidArg.Error())
	}
	for _, n := range []int{0, MaxWaitQueues + 1} {
		err = m.WaitRxAny(m.Session(), n, 0)
		assert.ErrorIs(t, err, ErrInvalidArg, "WaitRxAny over %d queues", n)
		assert.EqualError(t, err, "memif wait: "+ErrInvalidArg.Error()+": queue count")
	}
	// An empty burst moves nothing; an empty allocation has nowhere to go.
	got, err := s.Tx(s.Session(), 0, nil)
	assert.Zero(t, got)
	assert.NoError(t, err)
	got, err = m.Rx(m.Session(), 0, nil)
	assert.Zero(t, got)
	assert.NoError(t, err)
	_, err = s.Alloc(s.Session(), 0, nil, 64)
	assert.ErrorIs(t, err, ErrNoBuf)

	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "Close is idempotent")
	_, err = m.Rx(m.Session(), 0, bufs[:])
	assert.ErrorIs(t, err, ErrClosed)
	// Calls that need no session fail on a closed interface too.
	assert.ErrorIs(t, m.SetRxMode(0, true), ErrClosed)
	assert.ErrorIs(t, m.SetCloseReason("late"), ErrClosed)
	_, err = m.Details()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, m.WaitRx(m.Session(), 0, -1), ErrClosed, "a closed interface never waits")
	waitUntil(t, s, "slave down", func(st Status) bool { return !st.Up })
	_, err = s.Alloc(s.Session(), 0, bufs[:], 64)
	assert.ErrorIs(t, err, ErrNoConn)
}

func TestWaitRxTimeoutAndWake(t *testing.T) {
	m, s := pair(t, Config{InterfaceID: 6}, Config{InterfaceID: 6})
	start := time.Now()
	assert.ErrorIs(t, m.WaitRx(m.Session(), 0, 20*time.Millisecond), ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	assert.ErrorIs(t, m.WaitRx(m.Session(), 0, 0), ErrTimeout)

	done := make(chan error, 1)
	go func() { done <- m.WaitRx(m.Session(), 0, -1) }()
	sendPacket(t, s, 10, 1, 0)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitTimeout):
		t.Fatal("WaitRx not woken by data")
	}
}

func TestRefusalsReportReasonOnBothSides(t *testing.T) {
	needCap(t, "Reasons")
	cases := []struct {
		name   string
		m, s   Config
		reason string
	}{
		{"secret", Config{InterfaceID: 1, Secret: "right"}, Config{InterfaceID: 1, Secret: "wrong"}, "secret mismatch"},
		{"mode", Config{InterfaceID: 1, Mode: ModeIP}, Config{InterfaceID: 1, Mode: ModeEthernet}, "mode mismatch"},
		{"id", Config{InterfaceID: 1}, Config{InterfaceID: 2}, "no interface with id 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := testsupport.SockPath(t)
			ms, ss := newSocket(t, path), newSocket(t, path)
			tc.m.IsMaster = true
			m := newIface(t, ms, tc.m)
			s := newIface(t, ss, tc.s)
			st := waitUntil(t, s, "refusal", func(st Status) bool { return st.LastError != "" })
			assert.Contains(t, st.LastError, tc.reason)
			assert.False(t, st.Up)
			if tc.name == "id" {
				assert.Contains(t, ms.LastError(), tc.reason)
			} else {
				mst := waitUntil(t, m, "refusal", func(st Status) bool { return st.LastError != "" })
				assert.Contains(t, mst.LastError, tc.reason)
			}
			d, err := s.Details()
			require.NoError(t, err)
			assert.Contains(t, d.Error, tc.reason)
		})
	}
}

func TestSlaveStartedBeforeMaster(t *testing.T) {
	path := testsupport.SockPath(t)
	ss := newSocket(t, path)
	s := newIface(t, ss, Config{InterfaceID: 8})
	assert.False(t, s.Status().Up)
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{InterfaceID: 8, IsMaster: true})
	waitUp(t, m)
	waitUp(t, s)
	sendPacket(t, m, 100, 3, 0)
	got, _ := recvPacket(t, s)
	assert.True(t, testsupport.Check(got, 3))
}

func TestMasterServesManySlaves(t *testing.T) {
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	ss := newSocket(t, path)
	var masters, slaves []*Interface
	for id := uint32(1); id <= 4; id++ {
		masters = append(masters, newIface(t, ms, Config{InterfaceID: id, IsMaster: true}))
		slaves = append(slaves, newIface(t, ss, Config{InterfaceID: id}))
	}
	for k := range masters {
		waitUp(t, masters[k])
		waitUp(t, slaves[k])
		sendPacket(t, slaves[k], 50+k, k, uint32(k))
	}
	for k := range masters {
		got, meta := recvPacket(t, masters[k])
		assert.Len(t, got, 50+k)
		assert.Equal(t, wantMeta(uint32(k)), meta, "slave %d reached its own interface", k)
	}
}

func TestBadConfigIsRefusedBeforeAnySocket(t *testing.T) {
	_, err := NewSocket(SocketConfig{Path: string(make([]byte, 108))})
	assert.ErrorContains(t, err, "socket path")
	_, err = NewSocket(SocketConfig{Path: testsupport.SockPath(t), AppName: "012345678901234567890123456789012"})
	assert.EqualError(t, err, "memif: app name is 33 bytes, at most 32")
	s := newSocket(t, testsupport.SockPath(t))
	fds := testsupport.CountFds(t)
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Secret: "0123456789012345678901234"}, "secret is 25 bytes, at most 24"},
		{Config{Name: "012345678901234567890123456789012"}, "name is 33 bytes, at most 32"},
		{Config{Log2RingSize: 15}, "log2 ring size 15, at most 14"},
		{Config{Mode: 3}, "unknown mode 3"},
	} {
		i, err := s.NewInterface(tc.c)
		assert.Nil(t, i)
		assert.EqualError(t, err, "memif: "+tc.want)
	}
	assert.Equal(t, fds, testsupport.CountFds(t), "a refused config opens nothing")
	closed := newSocket(t, testsupport.SockPath(t))
	require.NoError(t, closed.Close())
	i, err := closed.NewInterface(Config{InterfaceID: 1})
	assert.Nil(t, i)
	assert.ErrorIs(t, err, ErrClosed, "an interface on a closed socket")
	newIface(t, s, Config{InterfaceID: 1, IsMaster: true})
	// As libmemif 4.x: one socket serves both roles, an id once per role.
	newIface(t, s, Config{InterfaceID: 1, IsMaster: false})
	if EngineCapabilities().DuplicateIDCheck {
		_, err = s.NewInterface(Config{InterfaceID: 1, IsMaster: true})
		assert.ErrorIs(t, err, ErrInvalidArg, "duplicate id")
	}
}
