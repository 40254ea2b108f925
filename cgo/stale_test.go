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

// Buffers held across a peer's departure: their memory must stay usable
// until given back, and cost nothing once released, however many times the
// peer goes.

// vmSizeKB is the process's virtual size from /proc/self/status.
func vmSizeKB(t testing.TB) int {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		var kb int
		if _, err := fmt.Sscanf(line, "VmSize: %d kB", &kb); err == nil {
			return kb
		}
	}
	t.Fatal("no VmSize in /proc/self/status")
	return 0
}

// committedKB is the system-wide Committed_AS from /proc/meminfo: logged
// only, since other processes move it too.
func committedKB(t testing.TB) int {
	b, err := os.ReadFile("/proc/meminfo")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		var kb int
		if _, err := fmt.Sscanf(line, "Committed_AS: %d kB", &kb); err == nil {
			return kb
		}
	}
	return 0
}

// accountedKB estimates this process's share of Committed_AS from
// /proc/self/smaps: private writable mappings, less MAP_NORESERVE ones
// (VmFlags "nr"), which the kernel does not account.
func accountedKB(t testing.TB) int {
	b, err := os.ReadFile("/proc/self/smaps")
	require.NoError(t, err)
	total, size := 0, 0
	for _, line := range strings.Split(string(b), "\n") {
		var kb int
		if _, err := fmt.Sscanf(line, "Size: %d kB", &kb); err == nil {
			size = kb
		} else if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			f := " " + flags + " "
			if strings.Contains(f, " wr ") && !strings.Contains(f, " sh ") && !strings.Contains(f, " nr ") {
				total += size
			}
		}
	}
	return total
}

// mapCount is the number of mappings in /proc/self/maps.
func mapCount(t testing.TB) int {
	b, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	return strings.Count(string(b), "\n")
}

// mappingSize is the size of the mapping holding addr, 0 if none.
func mappingSize(t testing.TB, addr uintptr) uint64 {
	b, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		var lo, hi uint64
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && uint64(addr) >= lo && uint64(addr) < hi {
			return hi - lo
		}
	}
	return 0
}

const (
	staleBuf  = 4 << 20 // bytes per buffer: about a 1080p frame
	staleRing = 4       // 16 slots each way: 128 MiB of buffers per session
	stride    = 509     // sparse checks: every page is touched, cheaply
)

// held is one buffer kept past its session, with what was last written.
type held struct {
	data    []byte
	session Session
	seed    int
}

// checkHeld reads and rewrites a held buffer: it must hold exactly what
// was last written (zeros right after the disconnect), and take a write.
func checkHeld(t *testing.T, h *held, seed int) {
	t.Helper()
	require.True(t, testsupport.CheckEvery(h.data, h.seed, stride), "held buffer does not read back what was last written (%d)", h.seed)
	testsupport.FillEvery(h.data, seed, stride)
	h.seed = seed
}

// holdOne makes survivor hold one buffer of its current session: a
// received one (the peer sends it) or a transmit one it allocated.
func holdOne(t *testing.T, survivor, peer *Interface, rx bool, seed int) *held {
	var b [1]Buffer
	if rx {
		n, err := peer.AllocPacket(peer.Session(), 0, b[:], staleBuf)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		testsupport.FillEvery(b[0].Data, seed, stride)
		sent, err := peer.Tx(peer.Session(), 0, b[:1])
		require.NoError(t, err)
		require.Equal(t, 1, sent)
		for {
			n, err := survivor.Rx(survivor.Session(), 0, b[:])
			require.NoError(t, err)
			if n == 1 {
				break
			}
			require.NoError(t, survivor.WaitRx(survivor.Session(), 0, waitTimeout))
		}
		require.True(t, testsupport.CheckEvery(b[0].Data, seed, stride))
	} else {
		n, err := survivor.AllocPacket(survivor.Session(), 0, b[:], staleBuf)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		testsupport.FillEvery(b[0].Data, seed, stride)
	}
	require.Len(t, b[0].Data, staleBuf)
	return &held{data: b[0].Data, session: survivor.Session(), seed: -1}
}

// heldCycles runs cycles sessions between a long-lived interface and a
// peer created and closed each time. At each departure the survivor holds
// a buffer (received and transmit in turn); it gives it back one session
// later, so each placeholder must outlive a whole new session and the
// release of the session before it. Virtual size and mapping count must
// not grow between the end of a warm-up and the end.
func heldCycles(t *testing.T, cycles int, survivorIsMaster bool) {
	needCap(t, "ReleaseStale")
	path := testsupport.SockPath(t)
	sa, sb := newSocket(t, path), newSocket(t, path)
	cfg := func(master bool) Config {
		return Config{IsMaster: master, InterfaceID: 1, BufferSize: staleBuf, Log2RingSize: staleRing}
	}
	survivor := newIface(t, sa, cfg(survivorIsMaster))
	page := uint64(os.Getpagesize())
	const warmup = 10
	var vm0, maps0, commit0, own0 int
	var prev *held
	for cycle := 0; cycle < cycles; cycle++ {
		if cycle == warmup {
			vm0, maps0, commit0, own0 = vmSizeKB(t), mapCount(t), committedKB(t), accountedKB(t)
		}
		was := survivor.Status().Connects
		peer, err := sb.NewInterface(cfg(!survivorIsMaster))
		require.NoError(t, err)
		waitUp(t, peer)
		waitUntil(t, survivor, "survivor up", func(st Status) bool { return st.Up && st.Connects > was })

		cur := holdOne(t, survivor, peer, cycle%2 == 0, cycle)
		require.NoError(t, peer.Close())
		waitUntil(t, survivor, "survivor down", func(st Status) bool { return !st.Up })

		addr := uintptr(unsafe.Pointer(&cur.data[0]))
		size := mappingSize(t, addr)
		require.NotZero(t, size, "held buffer mapped after the disconnect")
		require.LessOrEqual(t, size, uint64(staleBuf)+2*page, "only the held buffer's pages are kept, not the region")
		checkHeld(t, cur, cycle+1000)
		if prev != nil {
			checkHeld(t, prev, cycle+2000) // survived a whole later session
			require.NoError(t, survivor.ReleaseStale(prev.session))
			checkHeld(t, cur, cycle+3000) // another session's release leaves it alone
		}
		prev = cur
	}
	require.NoError(t, survivor.ReleaseStale(prev.session))
	assert.False(t, mappedAt(t, uintptr(unsafe.Pointer(&prev.data[0]))), "placeholder unmapped once released")
	vm1, maps1, own1 := vmSizeKB(t), mapCount(t), accountedKB(t)
	t.Logf("%d cycles: VmSize %d -> %d kB, mappings %d -> %d, own commit %d -> %d kB, Committed_AS (system, shared machine) %d -> %d kB",
		cycles, vm0, vm1, maps0, maps1, own0, own1, commit0, committedKB(t))
	assert.Less(t, own1-own0, 32<<10, "accounted memory grew by %d kB", own1-own0)
	// A leak would be 128 MiB per session (regions kept) or 4 MiB per
	// session (placeholders never released). The slack is for the process
	// itself: a new OS thread running cgo costs its 8 MiB stack and a 64 MiB
	// glibc malloc arena.
	assert.Less(t, vm1-vm0, 160<<10, "VmSize grew by %d kB", vm1-vm0)
	assert.LessOrEqual(t, maps1-maps0, 8, "mappings grew")
}

func TestHeldBuffersAcrossManyDisconnectsMaster(t *testing.T) { heldCycles(t, 200, true) }

func TestHeldBuffersAcrossManyDisconnectsSlave(t *testing.T) { heldCycles(t, 60, false) }

// ReleaseStale(0) drops every ended session's placeholders but never the
// current session's buffers.
func TestReleaseStaleAllSparesCurrentSession(t *testing.T) {
	needCap(t, "ReleaseStale")
	m, s := pair(t, Config{InterfaceID: 3}, Config{InterfaceID: 3})
	var b [1]Buffer
	n, err := m.AllocPacket(m.Session(), 0, b[:], 100)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	testsupport.Fill(b[0].Data, 5)
	require.NoError(t, m.ReleaseStale(0))
	require.True(t, testsupport.Check(b[0].Data, 5), "a live session's buffer is untouched")
	sent, err := m.Tx(m.Session(), 0, b[:1])
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	got, _ := recvPacket(t, s)
	require.True(t, testsupport.Check(got, 5))
	require.NoError(t, m.Close())
	assert.ErrorIs(t, m.ReleaseStale(0), ErrClosed)
}
