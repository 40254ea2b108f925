package memif

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test binary doubles as the peer process: with MEMIF_HELPER set it
// runs a peer instead of the tests.
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
	fmt.Println("READY")
	go func() { // parent gone: leave
		bufio.NewReader(os.Stdin).ReadByte()
		os.Exit(0)
	}()
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

// peerProcess is a helper process started by a test.
type peerProcess struct {
	cmd   *exec.Cmd
	stdin *os.File
}

func startPeer(t testing.TB, role, path string, id int) *peerProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "MEMIF_PATH="+path, "MEMIF_ID="+strconv.Itoa(id))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdin = r
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	r.Close()
	p := &peerProcess{cmd: cmd, stdin: w}
	t.Cleanup(p.stop)
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "READY\n", line)
	return p
}

func (p *peerProcess) kill() {
	p.cmd.Process.Kill() // SIGKILL: no DISCONNECT, no cleanup
	p.cmd.Wait()
}

func (p *peerProcess) stop() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

// exchange sends n packets through the echo peer and checks each reply.
func exchange(t *testing.T, i *Interface, n int) {
	t.Helper()
	for k := 0; k < n; k++ {
		size := 1 + (k*613)%5000 // up to 3 chained 2048-byte buffers
		sendPacket(t, i, size, k, uint32(k))
		got, meta := recvPacket(t, i)
		require.Len(t, got, size)
		require.True(t, checkPattern(got, k), "packet %d corrupted", k)
		require.Equal(t, wantMeta(uint32(k)), meta)
	}
}

func TestTwoProcessesBothRoles(t *testing.T) {
	t.Run("peer is master", func(t *testing.T) {
		path := sockPath(t)
		startPeer(t, "echo-master", path, 1)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 1})
		waitUp(t, i)
		exchange(t, i, 500)
	})
	t.Run("peer is slave", func(t *testing.T) {
		path := sockPath(t)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 2, IsMaster: true})
		startPeer(t, "echo-slave", path, 2)
		waitUp(t, i)
		exchange(t, i, 500)
	})
}

func TestPeerKilledSurvivorReconnects(t *testing.T) {
	t.Run("master killed", func(t *testing.T) {
		path := sockPath(t)
		peer := startPeer(t, "echo-master", path, 1)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 1})
		waitUp(t, i)
		exchange(t, i, 50)
		peer.kill()
		waitUntil(t, i, "disconnect", func(s Status) bool { return !s.Up })
		// The killed master left its socket file; the new one replaces it.
		startPeer(t, "echo-master", path, 1)
		st := waitUntil(t, i, "reconnect", func(s Status) bool { return s.Up })
		require.Equal(t, uint64(2), st.Connects)
		exchange(t, i, 50)
	})
	t.Run("slave killed", func(t *testing.T) {
		path := sockPath(t)
		i := newIface(t, newSocket(t, path), Config{InterfaceID: 2, IsMaster: true})
		peer := startPeer(t, "echo-slave", path, 2)
		waitUp(t, i)
		exchange(t, i, 50)
		peer.kill()
		waitUntil(t, i, "disconnect", func(s Status) bool { return !s.Up })
		startPeer(t, "echo-slave", path, 2)
		st := waitUntil(t, i, "reconnect", func(s Status) bool { return s.Up })
		require.Equal(t, uint64(2), st.Connects)
		exchange(t, i, 50)
	})
}
