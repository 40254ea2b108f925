package memif

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// waitTimeout bounds every wait on an event in these tests; hitting it is a
// failure, never a synchronisation step.
const waitTimeout = 10 * time.Second

func newSocket(t testing.TB, path string) *Socket {
	s, err := NewSocket(SocketConfig{Path: path, AppName: "gotest", RetryInterval: int64(20 * time.Millisecond)})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func newIface(t testing.TB, s *Socket, cfg Config) *Interface {
	i, err := s.NewInterface(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { i.Close() })
	return i
}

// waitUntil blocks on the interface's change notifications until cond holds.
func waitUntil(t testing.TB, i *Interface, what string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		ch := i.Changed()
		if st := i.Status(); cond(st) {
			return st
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; status %+v", what, i.Status())
		}
	}
}

func waitUp(t testing.TB, i *Interface) {
	t.Helper()
	waitUntil(t, i, "link up", func(s Status) bool { return s.Up })
}

// pair builds a connected master and slave in this process.
func pair(t testing.TB, mcfg, scfg Config) (m, s *Interface) {
	path := testsupport.SockPath(t)
	ms, ss := newSocket(t, path), newSocket(t, path)
	mcfg.IsMaster, scfg.IsMaster = true, false
	m = newIface(t, ms, mcfg)
	s = newIface(t, ss, scfg)
	waitUp(t, m)
	waitUp(t, s)
	return m, s
}

// sendPacket allocates, fills and sends one packet of size bytes (possibly
// chained) with the given metadata, retrying while the ring is full.
func sendPacket(t testing.TB, tx *Interface, size int, seed int, meta uint32) {
	t.Helper()
	var bufs [64]Buffer
	deadline := time.Now().Add(waitTimeout)
	for {
		n, err := tx.AllocPacket(tx.Session(), 0, bufs[:], uint32(size))
		if err == nil {
			whole := make([]byte, size)
			testsupport.Fill(whole, seed)
			off := 0
			for k := 0; k < n; k++ {
				bufs[k].Metadata = meta
				off += copy(bufs[k].Data[:bufs[k].Len], whole[off:])
			}
			sent, err := tx.Tx(tx.Session(), 0, bufs[:n])
			require.NoError(t, err)
			require.Equal(t, n, sent)
			return
		}
		require.ErrorIs(t, err, ErrNoBufRing)
		require.True(t, time.Now().Before(deadline), "ring stayed full")
		time.Sleep(time.Millisecond) // the ring drains on the peer's schedule; no event signals room
	}
}

// recvPacket waits for and reassembles one packet, then refills.
func recvPacket(t testing.TB, rx *Interface) (data []byte, meta uint32) {
	t.Helper()
	var bufs [1]Buffer
	for {
		n, err := rx.Rx(rx.Session(), 0, bufs[:])
		require.NoError(t, err)
		if n == 0 {
			err := rx.WaitRx(rx.Session(), 0, waitTimeout)
			require.NoError(t, err)
			continue
		}
		data = append(data, bufs[0].Data...)
		meta = bufs[0].Metadata
		next := bufs[0].Next
		require.NoError(t, rx.Refill(rx.Session(), 0, 1))
		if !next {
			return data, meta
		}
	}
}

// wantMeta is the metadata a receiver sees for m: upstream libmemif gives
// no access to descriptor metadata.
func wantMeta(m uint32) uint32 {
	if !EngineCapabilities().Metadata {
		return 0
	}
	return m
}

// needCap skips a test of a behaviour the linked engine lacks, by the
// Capabilities field's name.
func needCap(t testing.TB, name string) {
	v := reflect.ValueOf(EngineCapabilities()).FieldByName(name)
	if !v.IsValid() {
		t.Fatalf("no capability %q", name)
	}
	if !v.Bool() {
		t.Skipf("needs capability %s", name)
	}
}

// provePair waits for a master and a slave to connect and moves one packet
// each way between them.
func provePair(t *testing.T, m, s *Interface) {
	t.Helper()
	waitUp(t, m)
	waitUp(t, s)
	sendPacket(t, s, 300, 11, 0)
	got, _ := recvPacket(t, m)
	require.True(t, testsupport.Check(got, 11) && len(got) == 300, "packet slave->master")
	sendPacket(t, m, 200, 12, 0)
	got, _ = recvPacket(t, s)
	require.True(t, testsupport.Check(got, 12) && len(got) == 200, "packet master->slave")
}
