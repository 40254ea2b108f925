package memif

import (
	"os"
	"regexp"
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

// Handshake deadlines: a peer that goes silent in any state before
// CONNECTED is ended by the engine's timer alone (no other connection
// arrives in these tests), its fds are returned, and the interface id
// serves the next good peer. The timeout is shortened so each case takes a
// fraction of a second instead of the default 5 s.

const shortHandshake = 250 * time.Millisecond

// deadlineSlack is how late past the deadline the DISCONNECT may come on a
// loaded 2-core machine.
const deadlineSlack = 3 * time.Second

var timedOut = regexp.MustCompile(`^handshake timed out$`)

func newDeadlineSocket(t *testing.T, path string) *Socket {
	s, err := NewSocket(SocketConfig{Path: path, AppName: "gotest",
		RetryInterval: int64(20 * time.Millisecond), HandshakeTimeout: int64(shortHandshake)})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// checkDeadline asserts that an event observed at end, for a connection
// made after start, came from the deadline: not before it, not much after.
func checkDeadline(t *testing.T, start, end time.Time) {
	t.Helper()
	took := end.Sub(start)
	assert.GreaterOrEqual(t, took, shortHandshake-2*time.Millisecond, "dropped before the deadline")
	assert.Less(t, took, shortHandshake+deadlineSlack, "dropped long after the deadline")
}

func TestDeadlineSilentSlave(t *testing.T) {
	needCap(t, "HandshakeTimeout")
	cases := []struct {
		name  string
		stage func(h *hostileSlave)
		bound bool // INIT named the interface: the refusal is reported there
	}{
		{"no INIT", func(h *hostileSlave) {}, false},
		{"after INIT", func(h *hostileSlave) { h.init() }, true},
		{"after INIT and one region", func(h *hostileSlave) { h.init(); h.region() }, true},
		{"after both rings", func(h *hostileSlave) { h.setup() }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testsupport.CheckNoFdLeak(t)
			path := testsupport.SockPath(t)
			ms := newDeadlineSocket(t, path)
			m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID, Name: "victim"})
			before := testsupport.CountFds(t)

			start := time.Now()
			h := dialHostileSlave(t, path)
			tc.stage(h)
			h.expectRefusal(1, timedOut) // DISCONNECT, then the master closes
			checkDeadline(t, start, time.Now())
			barrier(ms)
			if tc.bound {
				assert.Equal(t, "handshake timed out", m.Status().LastError)
			} else {
				assert.Equal(t, "handshake timed out", ms.LastError())
			}
			assert.False(t, m.Status().Up)

			// Everything the master held for the peer is closed: with the
			// peer's own fds closed too, the count is back where it was.
			h.Close()
			assert.Equal(t, before, testsupport.CountFds(t), "fds after the timed-out handshake")

			// The same interface id serves a good slave.
			ss := newSocket(t, path)
			s := newIface(t, ss, Config{InterfaceID: hsID, Name: "honest"})
			provePair(t, m, s)
		})
	}
}

func TestDeadlineSilentMaster(t *testing.T) {
	needCap(t, "HandshakeTimeout")
	cases := []struct {
		name  string
		stage func(h *hostileMaster)
	}{
		{"no HELLO", func(h *hostileMaster) {}},
		{"after HELLO", func(h *hostileMaster) { h.init() }},
		{"after one ACK", func(h *hostileMaster) {
			h.init()
			h.send(memifpeer.Ack())
			h.expect(memifpeer.MsgAddRegion) // the first region
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testsupport.CheckNoFdLeak(t)
			path := testsupport.SockPath(t)
			lfd := listenHostile(t, path)
			ss := newDeadlineSocket(t, path)
			s := newIface(t, ss, Config{InterfaceID: hmID, Name: "victim"})

			h := acceptHostile(t, lfd)
			start := time.Now() // the slave connected before this
			tc.stage(h)
			h.expectRefusal(1, timedOut)
			// The slave's channel started before accept returned, so the
			// lower bound is loose by the accept latency only.
			assert.Less(t, time.Since(start), shortHandshake+deadlineSlack, "dropped long after the deadline")
			st := waitUntil(t, s, "the slave to report the timeout", func(st Status) bool { return st.LastError != "" })
			assert.Equal(t, "handshake timed out", st.LastError)
			assert.False(t, st.Up)

			// A real master on the same path serves the slave.
			lfd.Close() // and removes the socket file
			ms := newSocket(t, path)
			m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hmID, Name: "honest"})
			provePair(t, m, s)
		})
	}
}

// TestDeadlineManySilentSlaves: 500 connections that never send INIT are
// all closed by the deadline, with no further connection to sweep them.
func TestDeadlineManySilentSlaves(t *testing.T) {
	needCap(t, "HandshakeTimeout")
	const n = 500
	testsupport.CheckNoFdLeak(t)
	path := testsupport.SockPath(t)
	ms := newDeadlineSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID})
	before := testsupport.CountFds(t)

	peers := make([]*hostileSlave, n)
	for k := range peers {
		peers[k] = dialHostileSlave(t, path) // each got its HELLO: accepted
	}
	last := time.Now()
	for _, h := range peers {
		h.expectRefusal(1, timedOut)
	}
	assert.Less(t, time.Since(last), shortHandshake+deadlineSlack, "the last silent slave was dropped long after its deadline")
	for _, h := range peers {
		h.close()
	}
	assert.Equal(t, before, testsupport.CountFds(t), "fds after %d silent slaves timed out", n)

	ss := newSocket(t, path)
	s := newIface(t, ss, Config{InterfaceID: hsID})
	provePair(t, m, s)
}

// TestDeadlineAcceptBackoffAtFdLimit: with the process at its fd limit and
// a connection waiting, the master's listener stays readable and accept
// fails with EMFILE. The event loop must back off, not spin, and accept
// again once fds are free. It runs in a child process, whose fd limit it
// lowers.
func TestDeadlineAcceptBackoffAtFdLimit(t *testing.T) {
	needCap(t, "Hardened")
	if !testsupport.InChild("MEMIF_EMFILE_CHILD") {
		out, err := testsupport.RunTestAlone(t, "MEMIF_EMFILE_CHILD", "-test.v")
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "cpu") {
				t.Log(strings.TrimSpace(l))
			}
		}
		require.NoError(t, err, "child:\n%s", out)
		return
	}
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID})

	// The runtime makes its poller at the first timer; it must not be the
	// one to meet the fd limit.
	time.AfterFunc(time.Hour, func() {}).Stop()

	// A slave waits in the backlog while the event loop is held off.
	ms.mu.Lock()
	waiting, err := memifpeer.Dial(path)
	require.NoError(t, err)
	t.Cleanup(waiting.Close)
	var old unix.Rlimit
	require.NoError(t, unix.Getrlimit(unix.RLIMIT_NOFILE, &old))
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	top := 0
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > top {
			top = fd
		}
	}
	lim := unix.Rlimit{Cur: uint64(top + 1), Max: old.Max}
	require.NoError(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &lim))
	var fill []int // every free number below the limit
	for {
		fd, err := unix.Dup(0)
		if err != nil {
			require.ErrorIs(t, err, unix.EMFILE)
			break
		}
		fill = append(fill, fd)
	}
	release := func() {
		for _, fd := range fill {
			unix.Close(fd)
		}
		fill = nil
		unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	}
	defer release()
	ms.mu.Unlock()

	// The engine reports the failed accept.
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(ms.LastError(), "out of file descriptors") {
		require.True(t, time.Now().Before(deadline), "no accept failure reported; LastError %q", ms.LastError())
		time.Sleep(time.Millisecond) // polling a state that has no event
	}

	// Over a window at the limit the process (an upper bound on the event
	// thread) uses little CPU: a spinning accept loop takes all of it.
	const window = time.Second
	cpu0 := processCPU(t)
	time.Sleep(window) // a measurement window, not a synchronisation
	used := processCPU(t) - cpu0
	t.Logf("cpu at the fd limit: %v over %v (%.1f%%)", used, window, 100*float64(used)/float64(window))
	assert.Less(t, used, window/5, "the event loop spins at the fd limit")

	// With fds free again the waiting slave is accepted (it gets HELLO)
	// and a good slave connects.
	release()
	_, err = waiting.Expect(memifpeer.MsgHello, waitTimeout)
	require.NoError(t, err)
	ss := newSocket(t, path)
	s := newIface(t, ss, Config{InterfaceID: hsID})
	provePair(t, m, s)
}

func processCPU(t *testing.T) time.Duration {
	var ru unix.Rusage
	require.NoError(t, unix.Getrusage(unix.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
