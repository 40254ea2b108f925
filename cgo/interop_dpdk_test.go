package memif

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcmgo/mcm/internal/testsupport"
	"github.com/mcmgo/mcm/third_party/testpmd"
)

// echoExchange sends n packets through ours, which testpmd's io mode echoes
// back, and checks every echoed byte and the order. Sizes cycle over
// 60..1500 bytes (memif carries frames; testpmd io does not parse them).
func echoExchange(t *testing.T, ours *Interface, n int) {
	const window = 256 // in flight: below every ring in the loop
	var rx [64]Buffer
	sent, recvd := 0, 0
	sizeOf := func(seq int) int { return 60 + (seq*97)%1441 }
	deadline := time.Now().Add(60 * time.Second)
	for recvd < n {
		require.True(t, time.Now().Before(deadline), "echo stalled: sent %d, received %d; status %+v", sent, recvd, ours.Status())
		for sent < n && sent-recvd < window {
			var b [1]Buffer
			size := sizeOf(sent)
			k, err := ours.AllocPacket(ours.Session(), 0, b[:], uint32(size))
			if err != nil {
				require.ErrorIs(t, err, ErrNoBufRing)
				break
			}
			require.Equal(t, 1, k)
			testsupport.Fill(b[0].Data[:size], sent)
			binary.LittleEndian.PutUint32(b[0].Data, uint32(sent))
			_, err = ours.Tx(ours.Session(), 0, b[:1])
			require.NoError(t, err)
			sent++
		}
		got, err := ours.Rx(ours.Session(), 0, rx[:])
		require.NoError(t, err)
		if got == 0 {
			if err := ours.WaitRx(ours.Session(), 0, 100*time.Millisecond); err != nil {
				require.ErrorIs(t, err, ErrTimeout)
			}
			continue
		}
		for k := 0; k < got; k++ {
			require.False(t, rx[k].Next, "a 1500-byte frame fits one buffer")
			seq := int(binary.LittleEndian.Uint32(rx[k].Data))
			require.Equal(t, recvd, seq, "echo out of order")
			want := make([]byte, sizeOf(seq))
			testsupport.Fill(want, seq)
			binary.LittleEndian.PutUint32(want, uint32(seq))
			require.Equal(t, want, rx[k].Data, "packet %d echoed with different bytes", seq)
			recvd++
		}
		require.NoError(t, ours.Refill(ours.Session(), 0, got))
	}
}

func startTestpmd(t *testing.T, cfg testpmd.Config) *testpmd.Process {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := testpmd.Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Stop() })
	return p
}

// stopAndCheck stops testpmd first (DPDK 22.11's memif may crash when its
// peer leaves mid-forwarding), after reading its counters, then checks that
// our side saw the disconnect.
func stopAndCheck(t *testing.T, p *testpmd.Process, ours *Interface, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := p.WaitStats(ctx, func(s testpmd.Stats) bool {
		return s.RxPackets >= uint64(n) && s.TxPackets >= uint64(n)
	})
	require.NoError(t, err, p.Output())
	require.Equal(t, uint64(n), st.RxPackets, "testpmd received exactly what we sent")
	require.Equal(t, uint64(n), st.TxPackets, "testpmd echoed exactly what it received")
	_, err = p.Stop()
	if testpmd.Tolerable(err) {
		t.Logf("known DPDK 22.11 issue after the counts were checked: %v", err)
	} else {
		require.NoError(t, err)
	}
	waitUntil(t, ours, "link down after testpmd left", func(s Status) bool { return !s.Up })
}

func TestInteropDPDKClientWithOurMaster(t *testing.T) {
	testpmd.Require(t)
	path := testsupport.SockPath(t)
	ours := newIface(t, newSocket(t, path), Config{IsMaster: true, InterfaceID: 3, Secret: "interop"})
	p := startTestpmd(t, testpmd.Config{Role: "client", Socket: path, ID: 3, Secret: "interop", ForwardMode: "io"})
	waitUp(t, ours)
	const n = 20000
	echoExchange(t, ours, n)
	stopAndCheck(t, p, ours, n)
	d, err := ours.Details()
	require.NoError(t, err)
	require.False(t, d.Up)
}

func TestInteropDPDKServerWithOurSlave(t *testing.T) {
	testpmd.Require(t)
	path := testsupport.SockPath(t)
	p := startTestpmd(t, testpmd.Config{Role: "server", Socket: path, ID: 5, ForwardMode: "io"})
	ours := newIface(t, newSocket(t, path), Config{InterfaceID: 5, Log2RingSize: 10, BufferSize: 2048})
	waitUp(t, ours)
	const n = 20000
	echoExchange(t, ours, n)
	stopAndCheck(t, p, ours, n)
}

// Abstract socket names: a leading NUL and exactly the name's bytes, which is
// how DPDK binds them; a padding mismatch would never connect.
func TestInteropDPDKAbstractSocket(t *testing.T) {
	testpmd.Require(t)
	name := fmt.Sprintf("@mcm-interop-%d", os.Getpid())
	ours := newIface(t, newSocket(t, name), Config{IsMaster: true, InterfaceID: 7})
	p := startTestpmd(t, testpmd.Config{Role: "client", Socket: name, ID: 7, ForwardMode: "io"})
	waitUp(t, ours)
	const n = 1000
	echoExchange(t, ours, n)
	stopAndCheck(t, p, ours, n)
}

// Chains both ways: 3000-byte frames in 1024-byte buffers go out as chains
// of three, testpmd reassembles them into mbufs and echoes them back as
// chains into our buffers. The window stays well below the ring: DPDK
// 22.11's copy-mode memif Tx, when a chain does not fit the free slots,
// writes one descriptor past them before giving up, clobbering the
// receiver's next unread descriptor (seen here as a chain head turned into
// a lone 1024-byte frame); a full ring must not be reached.
func TestInteropDPDKChainsBothWays(t *testing.T) {
	testpmd.Require(t)
	path := testsupport.SockPath(t)
	p := startTestpmd(t, testpmd.Config{Role: "server", Socket: path, ID: 9, ForwardMode: "io",
		Extra: []string{"--mbuf-size=4096"}})
	ours := newIface(t, newSocket(t, path), Config{InterfaceID: 9, Log2RingSize: 10, BufferSize: 1024})
	waitUp(t, ours)
	const n, size, window = 3000, 3000, 32
	var tx, rx [8]Buffer
	sent, recvd := 0, 0
	var got []byte
	deadline := time.Now().Add(60 * time.Second)
	for recvd < n {
		require.True(t, time.Now().Before(deadline), "stalled at %d/%d", recvd, n)
		for sent < n && sent-recvd < window {
			k, err := ours.AllocPacket(ours.Session(), 0, tx[:], size)
			require.NoError(t, err)
			require.Equal(t, 3, k, "3000 bytes in 1024-byte buffers")
			frame := make([]byte, size)
			testsupport.Fill(frame, sent)
			binary.LittleEndian.PutUint32(frame, uint32(sent))
			off := 0
			for j := 0; j < k; j++ {
				off += copy(tx[j].Data[:tx[j].Len], frame[off:])
			}
			_, err = ours.Tx(ours.Session(), 0, tx[:k])
			require.NoError(t, err)
			sent++
		}
		m, err := ours.Rx(ours.Session(), 0, rx[:])
		require.NoError(t, err)
		if m == 0 {
			if err := ours.WaitRx(ours.Session(), 0, 100*time.Millisecond); err != nil {
				require.ErrorIs(t, err, ErrTimeout)
			}
			continue
		}
		for j := 0; j < m; j++ {
			got = append(got, rx[j].Data...)
			if rx[j].Next {
				continue
			}
			want := make([]byte, size)
			testsupport.Fill(want, recvd)
			binary.LittleEndian.PutUint32(want, uint32(recvd))
			require.Equal(t, want, got, "frame %d came back different", recvd)
			got = got[:0]
			recvd++
		}
		require.NoError(t, ours.Refill(ours.Session(), 0, m))
	}
	stopAndCheck(t, p, ours, n)
}
