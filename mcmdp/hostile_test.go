package mcmdp

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// A slave that lies about frame sizes must cost a master receiver nothing
// sized by the lie: each case ends the liar's session with a reason, is
// counted, and a good sender is served next on the same interface id.
func TestHostileSlaveFrameSizes(t *testing.T) {
	needCap(t, "Fault") // the liar is dropped with the reason
	const gib4 = 1 << 32
	cases := []struct {
		name   string
		log2   uint8
		extra  []uint64
		descs  func() []memifpeer.Desc
		reason string
	}{
		{"one buffer of 4 GiB", 8, []uint64{gib4}, func() []memifpeer.Desc {
			return []memifpeer.Desc{{Region: 1, Length: gib4 - 1}}
		}, "frame of more than"},
		{"chain of 256 buffers of 4 GiB", 8, []uint64{gib4}, func() []memifpeer.Desc {
			d := make([]memifpeer.Desc, 256)
			for k := range d {
				d[k] = memifpeer.Desc{Region: 1, Length: gib4 - 1, Next: k < 255}
			}
			return d
		}, "frame of more than"},
		{"two segments of 128 MiB", 8, []uint64{256 << 20}, func() []memifpeer.Desc {
			return []memifpeer.Desc{{Region: 1, Length: 128 << 20, Next: true}, {Region: 1, Length: 128 << 20, Offset: 128 << 20}}
		}, "frame of more than"},
		{"small chain that never ends", 4, nil, func() []memifpeer.Desc {
			d := make([]memifpeer.Desc, 16)
			for k := range d {
				d[k] = memifpeer.Desc{Length: 16, Next: true}
			}
			return d
		}, "chain of more than 16 descriptors"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := testsupport.SockPath(t)
			rx, liar := underPeerSlave(t, videoParam(path, Rx), memifpeer.SlaveConfig{
				Log2Ring: tc.log2, BufferSize: 256, Extra: tc.extra})
			rssBefore := vmRSS(t)

			descs := tc.descs()
			for k := range descs {
				if descs[k].Region == 0 {
					descs[k].Offset = liar.BufferOffset(k)
				}
			}
			require.NoError(t, liar.Produce(descs))
			b, err := rx.DequeueBuffer(waitTimeout)
			require.Nil(t, b)
			require.ErrorIs(t, err, ErrPeerFault)
			require.ErrorIs(t, err, ErrDisconnected, "the Conn waits for the next peer")
			assert.Contains(t, err.Error(), tc.reason)

			d, err := liar.WaitDisconnect(waitTimeout)
			require.NoError(t, err)
			assert.Contains(t, d.Reason, tc.reason, "the liar is told why")
			assert.EqualValues(t, 1, rx.Stats().PeerFaults)
			assert.Less(t, vmRSS(t)-rssBefore, int64(32<<20), "memory sized by the lie")

			// The next, good, sender is served on the same id.
			txp := videoParam(path, Tx)
			txp.Memif.IsMaster = false
			tx := create(t, txp)
			require.NoError(t, rx.WaitConnected(context.Background()))
			for k := 0; k < 3; k++ {
				sendFrame(t, tx, k, tx.FrameSize())
				got := recvFrame(t, rx)
				assert.True(t, testsupport.Check(got.Data, k), "frame %d intact", k)
				assert.Equal(t, tx.FrameSize(), len(got.Data))
				require.NoError(t, rx.EnqueueBuffer(got))
			}
		})
	}
}

// A chain that fits this side's frame size is a frame, however the peer
// cut it: the bound is not tighter than the parameters.
func TestSlaveChainWithinFrameSizeIsDelivered(t *testing.T) {
	rxp := videoParam(testsupport.SockPath(t), Rx)
	rxp.Raw = true
	rx, peer := underPeerSlave(t, rxp, memifpeer.SlaveConfig{Log2Ring: 6, BufferSize: 256})

	n := rx.FrameSize() / 256 // a whole frame in 256-byte buffers
	descs := make([]memifpeer.Desc, n)
	for k := range descs {
		descs[k] = memifpeer.Desc{Length: 256, Offset: peer.BufferOffset(k), Next: k < n-1}
	}
	require.NoError(t, peer.Produce(descs))
	b, err := rx.DequeueBuffer(waitTimeout)
	require.NoError(t, err)
	assert.Equal(t, rx.FrameSize(), len(b.Data))
	assert.Zero(t, rx.Stats().PeerFaults)
	require.NoError(t, rx.EnqueueBuffer(b))
}

func vmRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	require.Fail(t, "no VmRSS")
	return 0
}

// The same bound holds for a slave receiver facing a lying master, whose
// lengths are capped only by the slave's own (large) buffers.
func TestHostileMasterFrameSizes(t *testing.T) {
	needCap(t, "Fault")
	for _, tc := range []struct {
		name  string
		nbufs int
	}{{"one buffer longer than the frame", 1}, {"chain of whole buffers", 40}} {
		t.Run(tc.name, func(t *testing.T) {
			path := testsupport.SockPath(t)
			l, err := memifpeer.Listen(path)
			require.NoError(t, err)
			defer l.Close()
			rxp := videoParam(path, Rx)
			rxp.Log2RingSize = 6
			awaitRx := createAsync(t, rxp)
			liar, err := l.Accept(waitTimeout)
			require.NoError(t, err)
			defer liar.Close()
			rx := awaitRx()

			lens, next := make([]uint32, tc.nbufs), make([]bool, tc.nbufs)
			for k := range lens {
				lens[k], next[k] = liar.BufferLen(k), k < tc.nbufs-1
			}
			require.Greater(t, int(lens[0]), rx.FrameSize(), "the slave's buffers have slack past the frame")
			require.NoError(t, liar.Fill(lens, next))
			b, err := rx.DequeueBuffer(waitTimeout)
			require.Nil(t, b)
			require.ErrorIs(t, err, ErrPeerFault)
			d, err := liar.WaitDisconnect(waitTimeout)
			require.NoError(t, err)
			assert.Contains(t, d.Reason, "frame of more than")
			assert.EqualValues(t, 1, rx.Stats().PeerFaults)

			// A good master takes the path over; the slave finds it.
			liar.Close()
			l.Close()
			tx := create(t, videoParam(path, Tx))
			require.NoError(t, rx.WaitConnected(context.Background()))
			sendFrame(t, tx, 5, tx.FrameSize())
			got := recvFrame(t, rx)
			assert.True(t, testsupport.Check(got.Data, 5))
			require.NoError(t, rx.EnqueueBuffer(got))
		})
	}
}

// A slave that stalls mid-handshake holds the master's interface id only
// until the handshake deadline; the next good sender is served.
func TestSilentSlaveIsDroppedByTheDeadline(t *testing.T) {
	needCap(t, "HandshakeTimeout")
	for _, after := range []uint16{memifpeer.MsgInit, memifpeer.MsgAddRegion} {
		t.Run(map[uint16]string{memifpeer.MsgInit: "after INIT", memifpeer.MsgAddRegion: "after a region"}[after], func(t *testing.T) {
			path := testsupport.SockPath(t)
			rxp := videoParam(path, Rx)
			rxp.Memif.IsMaster, rxp.HandshakeTimeout = true, 300*time.Millisecond
			awaitRx := createAsync(t, rxp)
			silent, err := memifpeer.DialSlaveWhenReady(path, memifpeer.SlaveConfig{
				ID: rxp.Memif.InterfaceID, Log2Ring: 4, BufferSize: 256, SilentAfter: after}, waitTimeout)
			require.NoError(t, err)
			defer silent.Close()
			began := time.Now()
			d, err := silent.WaitDisconnect(waitTimeout)
			require.NoError(t, err)
			assert.Contains(t, d.Reason, "handshake timed out")
			assert.GreaterOrEqual(t, time.Since(began), 250*time.Millisecond, "not before the deadline")

			txp := videoParam(path, Tx)
			txp.Memif.IsMaster = false
			tx := create(t, txp)
			rx := awaitRx()
			sendFrame(t, tx, 1, tx.FrameSize())
			got := recvFrame(t, rx)
			assert.True(t, testsupport.Check(got.Data, 1))
			require.NoError(t, rx.EnqueueBuffer(got))
		})
	}
}

// A master that writes the receiver's interrupt eventfd in a tight loop,
// with no frame behind it, must not cost the receiver a core; a real frame
// inside the flood still arrives.
func TestInterruptFloodFromMaster(t *testing.T) {
	path := testsupport.SockPath(t)
	l, err := memifpeer.Listen(path)
	require.NoError(t, err)
	defer l.Close()
	rxp := videoParam(path, Rx)
	rxp.Raw = true
	awaitRx := createAsync(t, rxp)
	flooder, err := l.Accept(waitTimeout)
	require.NoError(t, err)
	defer flooder.Close()
	rx := awaitRx()

	stop := make(chan struct{})
	flooded := make(chan int)
	go func() {
		n := 0
		for ; ; n++ {
			select {
			case <-stop:
				flooded <- n
				return
			default:
				flooder.Interrupt()
			}
		}
	}()
	type result struct {
		cpu  time.Duration
		b    *Buffer
		err  error
		took time.Duration
	}
	res := make(chan result, 1)
	sent := make(chan time.Time, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu0 := threadCPU(t)
		b, err := rx.DequeueBuffer(waitTimeout)
		res <- result{threadCPU(t) - cpu0, b, err, time.Since(<-sent)}
	}()
	time.Sleep(time.Second) // let the flood run with nothing to receive
	sent <- time.Now()
	require.NoError(t, flooder.Fill([]uint32{uint32(rx.FrameSize())}, []bool{false}))
	r := <-res
	close(stop)
	writes := <-flooded
	require.NoError(t, r.err)
	assert.Equal(t, rx.FrameSize(), len(r.b.Data))
	t.Logf("receiver thread %v of CPU over ~1 s of flood (%d eventfd writes); the frame took %v", r.cpu, writes, r.took)
	assert.Less(t, r.cpu, 100*time.Millisecond, "the flood cost the receiver %v of CPU in about 1 s", r.cpu)
	assert.Less(t, r.took, 200*time.Millisecond, "the real frame arrived late")
}

func threadCPU(t *testing.T) time.Duration {
	var ru unix.Rusage
	require.NoError(t, unix.Getrusage(unix.RUSAGE_THREAD, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// underPeerSlave creates p as a master with a memifpeer slave on its
// interface id connected to it; both end with the test.
func underPeerSlave(t *testing.T, p *ConnParam, cfg memifpeer.SlaveConfig) (*Conn, *memifpeer.Slave) {
	t.Helper()
	p.Memif.IsMaster, cfg.ID = true, p.Memif.InterfaceID
	awaitConn := createAsync(t, p)
	s, err := memifpeer.DialSlaveWhenReady(p.Memif.SocketPath, cfg, waitTimeout)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return awaitConn(), s
}

// createAsync starts CreateConnection(p), which returns only once a peer
// has connected, so the test can play that peer; the func collects the
// Conn (closed at the test's end).
func createAsync(t *testing.T, p *ConnParam) func() *Conn {
	made := make(chan *Conn, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c, err := CreateConnection(ctx, p)
		assert.NoError(t, err)
		made <- c
	}()
	return func() *Conn {
		c := <-made
		require.NotNil(t, c)
		t.Cleanup(func() { c.Close() })
		return c
	}
}
