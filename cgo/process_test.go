package memif

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// The test binary doubles as the peer process: with MEMIF_HELPER set it
// runs a peer instead of the tests (testsupport.StartChild).
const helperEnv = "MEMIF_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(runHelper(role, os.Getenv("MEMIF_PATH"), os.Getenv("MEMIF_ID")))
	}
	os.Exit(m.Run())
}

// runHelper is a peer in its own process: "echo-master" / "echo-slave"
// send back every packet they receive; "sink-slave" counts and drops them
// in polling mode. It prints READY once its socket exists and runs until
// killed or its stdin closes.
func runHelper(role, path, idStr string) int {
	id, _ := strconv.Atoi(idStr)
	s, err := NewSocket(SocketConfig{Path: path, AppName: role, RetryInterval: int64(10 * time.Millisecond)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	master := role == "echo-master"
	i, err := s.NewInterface(Config{IsMaster: master, InterfaceID: uint32(id), BufferSize: 2048, Log2RingSize: 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	testsupport.Ready() // and leave when the parent is gone
	if role == "sink-slave" {
		sink(i)
	} else {
		echo(i)
	}
	return 0
}

func echo(i *Interface) {
	var rx [64]Buffer
	var tx [64]Buffer
	var pkt []byte
	for {
		n, err := i.Rx(i.Session(), 0, rx[:])
		if err != nil || n == 0 {
			i.WaitRx(i.Session(), 0, 50*time.Millisecond)
			continue
		}
		for k := 0; k < n; k++ {
			pkt = append(pkt, rx[k].Data...)
			if rx[k].Next {
				continue
			}
			for {
				m, err := i.AllocPacket(i.Session(), 0, tx[:], uint32(len(pkt)))
				if err == nil {
					off := 0
					for j := 0; j < m; j++ {
						off += copy(tx[j].Data[:tx[j].Len], pkt[off:])
						tx[j].Metadata = rx[k].Metadata
					}
					i.Tx(i.Session(), 0, tx[:m])
					break
				}
				if !i.Status().Up {
					break
				}
			}
			pkt = pkt[:0]
		}
		i.Refill(i.Session(), 0, n)
	}
}

func sink(i *Interface) {
	var rx [256]Buffer
	for {
		if !i.Status().Up {
			<-i.Changed()
			i.SetRxMode(0, true)
			continue
		}
		n, _ := i.Rx(i.Session(), 0, rx[:])
		if n > 0 {
			i.Refill(i.Session(), 0, n)
		}
	}
}

// startPeer runs a helper peer process in role on path.
func startPeer(t testing.TB, role, path string, id int) *testsupport.Child {
	t.Helper()
	return testsupport.StartChild(t, helperEnv+"="+role, "MEMIF_PATH="+path, "MEMIF_ID="+strconv.Itoa(id))
}

// exchange sends n packets through the echo peer and checks each reply.
func exchange(t *testing.T, i *Interface, n int) {
	t.Helper()
	for k := 0; k < n; k++ {
		size := 1 + (k*613)%5000 // up to 3 chained 2048-byte buffers
		sendPacket(t, i, size, k, uint32(k))
		got, meta := recvPacket(t, i)
		require.Len(t, got, size)
		require.True(t, testsupport.Check(got, k), "packet %d corrupted", k)
		require.Equal(t, wantMeta(uint32(k)), meta)
	}
}

func TestTwoProcessesBothRoles(t *testing.T) {
	t.Run("peer is master", func(t *testing.T) {
		path := testsupport.SockPath(t)
		startPeer(t, "echo-master", path, 1)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 1})
		waitUp(t, i)
		exchange(t, i, 500)
	})
	t.Run("peer is slave", func(t *testing.T) {
		path := testsupport.SockPath(t)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 2, IsMaster: true})
		startPeer(t, "echo-slave", path, 2)
		waitUp(t, i)
		exchange(t, i, 500)
	})
}

func TestPeerKilledSurvivorReconnects(t *testing.T) {
	t.Run("master killed", func(t *testing.T) {
		path := testsupport.SockPath(t)
		peer := startPeer(t, "echo-master", path, 1)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 1})
		waitUp(t, i)
		exchange(t, i, 50)
		peer.Kill()
		waitUntil(t, i, "disconnect", func(s Status) bool { return !s.Up })
		// The killed master left its socket file; the new one replaces it.
		startPeer(t, "echo-master", path, 1)
		st := waitUntil(t, i, "reconnect", func(s Status) bool { return s.Up })
		require.Equal(t, uint64(2), st.Connects)
		exchange(t, i, 50)
	})
	t.Run("slave killed", func(t *testing.T) {
		path := testsupport.SockPath(t)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 2, IsMaster: true})
		peer := startPeer(t, "echo-slave", path, 2)
		waitUp(t, i)
		exchange(t, i, 50)
		peer.Kill()
		waitUntil(t, i, "disconnect", func(s Status) bool { return !s.Up })
		startPeer(t, "echo-slave", path, 2)
		st := waitUntil(t, i, "reconnect", func(s Status) bool { return s.Up })
		require.Equal(t, uint64(2), st.Connects)
		exchange(t, i, 50)
	})
}
