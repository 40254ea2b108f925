//go:build !libmemif_system

package memif

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mcmgo/mcm/internal/testsupport"
)

// The hostile slave's shared memory: one region holding both rings (4
// slots each) and their buffers.
const (
	hsID      = 7
	hsLog2    = 2
	hsSlots   = 1 << hsLog2
	hsS2MOff  = 0
	hsM2SOff  = 256
	hsBufOff  = 1024
	hsBufSize = 256
	hsRegion  = 4096
)

// hostileSlave is the test playing slave against the engine's master.
type hostileSlave struct {
	*peer
	t        *testing.T
	shm      *shm
	s2m, m2s ring
	wasUp    bool
}

func dialHostileSlave(t *testing.T, path string) *hostileSlave {
	p := dialPeer(t, path)
	h := p.expect(wHello)
	minV, maxV := le.Uint16(h[34:]), le.Uint16(h[36:])
	require.True(t, minV <= wVersion && wVersion <= maxV, "HELLO offers %#x..%#x", minV, maxV)
	require.NotZero(t, h[44], "HELLO max_log2_ring_size")
	return &hostileSlave{peer: p, t: t}
}

func (h *hostileSlave) init() { h.exchange(wAck, encInit(wVersion, hsID, 0, "", "hostile")) }

// layout maps the standard region, with valid cookies and descriptors.
func (h *hostileSlave) layout() {
	h.shm = newShm(h.t, hsRegion)
	h.s2m, h.m2s = ring{h.shm.mem, hsS2MOff}, ring{h.shm.mem, hsM2SOff}
	for i, r := range []ring{h.s2m, h.m2s} {
		r.setCookie(wCookie)
		for slot := 0; slot < hsSlots; slot++ {
			off := hsBufOff + (i*hsSlots+slot)*hsBufSize
			r.setDesc(slot, 0, 0, hsBufSize, uint32(off), 0)
		}
	}
}

func (h *hostileSlave) region() {
	h.layout()
	h.exchange(wAck, encAddRegion(0, hsRegion), h.shm.fd)
}

func (h *hostileSlave) ring(s2m bool) {
	off := uint32(hsM2SOff)
	if s2m {
		off = hsS2MOff
	}
	h.exchange(wAck, encAddRing(s2m, 0, 0, off, hsLog2, 0), newEventfd(h.t))
}

func (h *hostileSlave) setup() {
	h.init()
	h.region()
	h.ring(true)
	h.ring(false)
}

// up completes a valid handshake and waits for the master's link.
func (h *hostileSlave) up(m *Interface) {
	h.setup()
	h.exchange(wConnected, encConnect(wConnect, "hostile-if"))
	waitUp(h.t, m)
	h.wasUp = true
}

func (h *hostileSlave) shutdown() {
	require.NoError(h.t, unix.Shutdown(h.fd, unix.SHUT_WR))
}

type slaveAttack struct {
	name   string
	attack func(h *hostileSlave, m *Interface)
	code   uint32 // code of the DISCONNECT the master must send
	reason string // regexp for the reason, on the wire and in LastError
	sock   bool   // refused before INIT: reported on the Socket, not the Interface
	silent bool   // the peer vanished: the master owes no DISCONNECT
}

// rxFails checks that a data-path call caught the lie without crashing.
func rxFails(t *testing.T, n int, err error) {
	t.Helper()
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrDisconnected)
}

func slaveAttacks() []slaveAttack {
	var bufs [hsSlots]Buffer
	raw := func(b []byte) func(h *hostileSlave, m *Interface) {
		return func(h *hostileSlave, m *Interface) { h.init(); h.send(b) }
	}
	badRing := func(msg []byte) func(h *hostileSlave, m *Interface) {
		return func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.send(msg, newEventfd(h.t))
		}
	}
	// lieS2M first sends one honest packet, then lies in slot 1.
	lieS2M := func(lie func(h *hostileSlave)) func(h *hostileSlave, m *Interface) {
		return func(h *hostileSlave, m *Interface) {
			h.up(m)
			want := []byte("an honest packet")
			d := h.s2m.desc(0)
			off := int(le.Uint32(d[8:]))
			copy(h.shm.mem[off:], want)
			le.PutUint32(d[4:], uint32(len(want)))
			h.s2m.setHead(1)
			n, err := m.Rx(m.Session(), 0, bufs[:])
			require.NoError(h.t, err)
			require.Equal(h.t, 1, n)
			require.Equal(h.t, want, bufs[0].Data)
			require.NoError(h.t, m.Refill(m.Session(), 0, 1))
			require.Equal(h.t, uint16(1), h.s2m.tail(), "master released the slot")
			lie(h)
			n, err = m.Rx(m.Session(), 0, bufs[:])
			rxFails(h.t, n, err)
		}
	}
	return []slaveAttack{
		// Refused before INIT binds an interface.
		{name: "short message before INIT", attack: func(h *hostileSlave, m *Interface) { h.send(encInit(wVersion, hsID, 0, "", "x")[:64]) },
			code: 22, reason: `^malformed control message \(64 bytes\)$`, sock: true},
		{name: "INIT version 1.0", attack: func(h *hostileSlave, m *Interface) { h.send(encInit(0x0100, hsID, 0, "", "x")) },
			code: 24, reason: `unsupported memif version 1\.0`, sock: true},
		{name: "unknown type before INIT", attack: func(h *hostileSlave, m *Interface) { h.send(wMsg(0)) },
			code: 36, reason: `^unknown message type 0$`, sock: true},
		{name: "ADD_REGION with fd before INIT", attack: func(h *hostileSlave, m *Interface) {
			h.send(encAddRegion(0, hsRegion), newShm(h.t, hsRegion).fd)
		}, code: 22, reason: `unexpected message type 4`, sock: true},
		{name: "shutdown after HELLO", attack: func(h *hostileSlave, m *Interface) { h.shutdown(); h.expectEOF() },
			reason: `^peer closed the control channel$`, sock: true, silent: true},

		// Refused during the handshake of the interface INIT named.
		{name: "region larger than its memfd", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(encAddRegion(0, 2*hsRegion), newShm(h.t, hsRegion).fd)
		}, code: 22, reason: `region larger than its memory`},
		{name: "region memfd that cannot be sealed", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			fd, err := unix.MemfdCreate("unsealable", unix.MFD_CLOEXEC)
			require.NoError(h.t, err)
			h.t.Cleanup(func() { unix.Close(fd) })
			require.NoError(h.t, unix.Ftruncate(fd, hsRegion))
			h.send(encAddRegion(0, hsRegion), fd)
		}, code: 22, reason: `region memory is not sealed against shrinking`},
		{name: "ring interrupt fd is a pipe", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			var p [2]int
			require.NoError(h.t, unix.Pipe2(p[:], unix.O_CLOEXEC))
			h.t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
			h.send(encAddRing(true, 0, 0, hsS2MOff, hsLog2, 0), p[0])
		}, code: 33, reason: `ring interrupt fd is not an eventfd`},
		{name: "region size zero memfd", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(encAddRegion(0, hsRegion), newShm(h.t, 0).fd)
		}, code: 22, reason: `region larger than its memory`},
		{name: "ADD_REGION without fd", attack: raw(encAddRegion(0, hsRegion)),
			code: 16, reason: `ADD_REGION without an fd`},
		{name: "ADD_REGION with two fds", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(encAddRegion(0, hsRegion), newShm(h.t, hsRegion).fd, newShm(h.t, hsRegion).fd)
		}, code: 22, reason: `malformed control message`},
		{name: "regions out of order", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(encAddRegion(1, hsRegion), newShm(h.t, hsRegion).fd)
		}, code: 31, reason: `regions out of order`},
		{name: "ring offset past region end", attack: badRing(encAddRing(true, 0, 0, hsRegion-64, hsLog2, 0)),
			code: 22, reason: `ring outside its region`},
		{name: "ring offset near 4GiB", attack: badRing(encAddRing(true, 0, 0, 0xFFFFFFC0, hsLog2, 0)),
			code: 22, reason: `ring outside its region`},
		{name: "ring in missing region", attack: badRing(encAddRing(true, 0, 3, 0, hsLog2, 0)),
			code: 22, reason: `ring outside its region`},
		{name: "ring log2 0", attack: badRing(encAddRing(true, 0, 0, 0, 0, 0)),
			code: 38, reason: `ring size out of range`},
		{name: "ring log2 15", attack: badRing(encAddRing(true, 0, 0, 0, 15, 0)),
			code: 38, reason: `ring size out of range`},
		{name: "ring log2 differs between rings", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.ring(true)
			h.send(encAddRing(false, 0, 0, hsM2SOff, hsLog2+1, 0), newEventfd(h.t))
		}, code: 38, reason: `ring size out of range`},
		{name: "duplicate ring index", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.ring(true)
			h.send(encAddRing(true, 0, 0, hsM2SOff, hsLog2, 0), newEventfd(h.t))
		}, code: 32, reason: `rings out of order`},
		{name: "private header", attack: badRing(encAddRing(true, 0, 0, 0, hsLog2, 64)),
			code: 39, reason: `private headers are not supported`},
		{name: "ADD_RING without fd", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.send(encAddRing(true, 0, 0, 0, hsLog2, 0))
		}, code: 33, reason: `ADD_RING without an fd`},
		{name: "CONNECT before any ring", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.send(encConnect(wConnect, "x"))
		}, code: 32, reason: `CONNECT before rings in both directions`},
		{name: "CONNECT with S2M ring only", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.ring(true)
			h.send(encConnect(wConnect, "x"))
		}, code: 32, reason: `CONNECT before rings in both directions`},
		{name: "wrong ring cookie", attack: func(h *hostileSlave, m *Interface) {
			h.setup()
			h.m2s.setCookie(wCookie ^ 1)
			h.send(encConnect(wConnect, "x"))
		}, code: 17, reason: `ring cookie mismatch`},
		{name: "head ahead of tail at CONNECT", attack: func(h *hostileSlave, m *Interface) {
			h.setup()
			h.s2m.setHead(hsSlots + 1)
			h.send(encConnect(wConnect, "x"))
		}, code: 22, reason: `ring head and tail inconsistent`},
		{name: "long message", attack: raw(make([]byte, 200)),
			code: 22, reason: `^malformed control message \(129 bytes\)$`},
		{name: "unknown type after INIT", attack: raw(wMsg(9)),
			code: 36, reason: `^unknown message type 9$`},
		{name: "ACK from the slave", attack: raw(encAck()),
			code: 22, reason: `unexpected message type 1`},
		{name: "second INIT", attack: raw(encInit(wVersion, hsID, 0, "", "again")),
			code: 22, reason: `unexpected message type 3`},
		{name: "HELLO from the slave", attack: raw(encHello("x", wVersion, wVersion, 0, 0, 0, 10)),
			code: 22, reason: `unexpected message type 2`},

		// The peer vanishes mid-handshake, with and without fds in flight.
		{name: "empty datagram after INIT", attack: raw([]byte{}),
			reason: `^peer closed the control channel$`, silent: true},
		{name: "close after INIT", attack: func(h *hostileSlave, m *Interface) { h.init(); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
		{name: "close with region fd in flight", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.layout()
			h.send(encAddRegion(0, hsRegion), h.shm.fd)
			h.shm.close()
			h.close()
		}, reason: `^(peer closed the control channel|cannot send ACK|control channel error)$`, silent: true},
		{name: "close with ring fd in flight", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.send(encAddRing(true, 0, 0, hsS2MOff, hsLog2, 0), newEventfd(h.t))
			h.close()
		}, reason: `^(peer closed the control channel|cannot send ACK|control channel error)$`, silent: true},

		// The peer lies on the rings after a valid handshake.
		{name: "S2M descriptor past region end", attack: lieS2M(func(h *hostileSlave) {
			h.s2m.setDesc(1, 0, 0, 1000, hsRegion-100, 0)
			h.s2m.setHead(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "S2M descriptor in missing region", attack: lieS2M(func(h *hostileSlave) {
			h.s2m.setDesc(1, 0, 9, 64, 0, 0)
			h.s2m.setHead(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "S2M descriptor offset wraps 32 bits", attack: lieS2M(func(h *hostileSlave) {
			h.s2m.setDesc(1, 0, 0, 0x200, 0xFFFFFF00, 0)
			h.s2m.setHead(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "S2M head jumps past ring size", attack: lieS2M(func(h *hostileSlave) {
			h.s2m.setHead(1 + hsSlots + 1)
		}), code: 22, reason: `peer moved a ring index too far`},
		{name: "S2M head moves backwards", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.s2m.setHead(0xFFFF)
			n, err := m.Rx(m.Session(), 0, bufs[:])
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer moved a ring index too far`},
		{name: "M2S head jumps past ring size", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.m2s.setHead(hsSlots + 1)
			n, err := m.Alloc(m.Session(), 0, bufs[:], 64)
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer moved a ring index too far`},
		{name: "M2S buffer past region end", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.m2s.setDesc(0, 0, 0, 1000, hsRegion-100, 0)
			h.m2s.setHead(1)
			n, err := m.Alloc(m.Session(), 0, bufs[:], 64)
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer posted a buffer outside its region`},
		{name: "M2S buffer shrunk after the master took it", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.m2s.setDesc(0, 0, 0, 1000, hsRegion-1000, 0)
			h.m2s.setHead(1)
			n, err := m.AllocPacket(m.Session(), 0, bufs[:], 800)
			require.NoError(h.t, err)
			require.Equal(h.t, 1, n)
			h.m2s.setDesc(0, 0, 0, 10, hsRegion-1000, 0) // the slave shrinks it under us
			sent, err := m.Tx(m.Session(), 0, bufs[:1])
			assert.Zero(h.t, sent)
			assert.ErrorIs(h.t, err, ErrDisconnected)
		}, code: 22, reason: `peer shrank a posted buffer`},
		{name: "CONNECT again when up", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.send(encConnect(wConnect, "again"))
		}, code: 22, reason: `unexpected message type 6`},
		{name: "close when up", attack: func(h *hostileSlave, m *Interface) { h.up(m); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
	}
}

// TestHostileSlave attacks the engine's master with a hand-written slave:
// every lie must be refused with a reason, and the master must serve a
// real slave afterwards, with no fd left behind.
func TestHostileSlave(t *testing.T) {
	testsupport.CheckNoFdLeak(t)
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID, Name: "victim"})

	for _, tc := range slaveAttacks() {
		t.Run(tc.name, func(t *testing.T) {
			re := regexp.MustCompile(tc.reason)
			barrier(ms) // earlier cases' events are all delivered
			ch := m.Changed()
			before := m.Status()
			h := dialHostileSlave(t, path)
			tc.attack(h, m)
			var reason string
			switch {
			case !tc.silent:
				reason = h.expectRefusal(tc.code, re)
			case !tc.sock:
				select {
				case <-ch:
				case <-time.After(waitTimeout):
					t.Fatal("master never reported the vanished peer")
				}
				reason = waitUntil(t, m, "refusal", func(st Status) bool {
					return !st.Up && re.MatchString(st.LastError)
				}).LastError
			default:
				reason = ms.LastError()
			}
			barrier(ms)
			st := m.Status()
			assert.False(t, st.Up, "master up after a lying peer")
			if tc.sock {
				assert.Equal(t, reason, ms.LastError(), "socket's LastError")
				assert.Regexp(t, re, ms.LastError())
				assert.False(t, fired(ch), "an unbound peer changed the interface")
			} else {
				assert.True(t, fired(ch), "interface not notified")
				assert.Equal(t, reason, st.LastError, "interface's LastError")
			}
			if h.wasUp {
				assert.Equal(t, before.Disconnects+1, st.Disconnects)
				_, err := m.Rx(Session(st.Connects), 0, make([]Buffer, 1)) // the session that ended
				assert.ErrorIs(t, err, ErrNoConn, "data path after the fault")
			}
		})
	}

	// The master still serves a real slave.
	ss := newSocket(t, path)
	s := newIface(t, ss, Config{InterfaceID: hsID, Name: "honest"})
	provePair(t, m, s)
	require.NoError(t, s.Close())
	require.NoError(t, ss.Close())
	require.NoError(t, ms.Close())
}

// hangTimeout bounds how long a data-path call may block before the test
// calls it hung and releases it.
const hangTimeout = 2 * time.Second

// TestHostileSlaveBlockingInterruptFd: the interrupt fd comes from the
// peer, which chooses its file flags; Rx must not block on it.
func TestHostileSlaveBlockingInterruptFd(t *testing.T) {
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID})
	h := dialHostileSlave(t, path)
	h.init()
	h.region()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC) // blocking on purpose
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(efd) })
	h.exchange(wAck, encAddRing(true, 0, 0, hsS2MOff, hsLog2, 0), efd)
	h.ring(false)
	h.exchange(wConnected, encConnect(wConnect, "x"))
	waitUp(t, m)
	done := make(chan error, 1)
	go func() { _, err := m.Rx(m.Session(), 0, make([]Buffer, 4)); done <- err }()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(hangTimeout):
		unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) // release the reader
		<-done
		t.Fatal("Rx hung on the peer's blocking interrupt fd")
	}
}

// TestHostileSlaveShrinksRegion: a slave that shrinks its memfd after the
// master mapped it must not crash the master. It runs in a child process,
// since the failure mode is SIGBUS.
func TestHostileSlaveShrinksRegion(t *testing.T) {
	if !testsupport.InChild("MEMIF_HOSTILE_SHRINK_CHILD") {
		out, err := testsupport.RunTestAlone(t, "MEMIF_HOSTILE_SHRINK_CHILD")
		if err != nil && bytes.Contains(out, []byte("SIGBUS")) {
			t.Fatalf("a shrunk region crashed the master with SIGBUS:\n%s", out)
		}
		require.NoError(t, err, "child:\n%s", out)
		return
	}
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID})
	h := dialHostileSlave(t, path)
	h.init()
	h.layout()
	// Sealable, so an engine may seal it itself; not sealed by us.
	fd, err := unix.MemfdCreate("hostile", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	require.NoError(t, unix.Ftruncate(fd, hsRegion))
	mem, err := unix.Mmap(fd, 0, hsRegion, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Munmap(mem) })
	copy(mem, h.shm.mem)
	h.s2m, h.m2s = ring{mem, hsS2MOff}, ring{mem, hsM2SOff}
	h.send(encAddRegion(0, hsRegion), fd)
	msg, fds, eof := h.recv()
	closeFds(fds)
	require.False(t, eof)
	if le.Uint16(msg) == wDisconnect {
		return // refusing an unsealed region is a fix too
	}
	require.Equal(t, wAck, le.Uint16(msg))
	h.ring(true)
	h.ring(false)
	h.exchange(wConnected, encConnect(wConnect, "x"))
	waitUp(t, m)
	if unix.Ftruncate(fd, 0) != nil {
		return // the master sealed the region: nothing to shrink
	}
	_, err = m.Rx(m.Session(), 0, make([]Buffer, 4)) // must fail cleanly, not fault
	assert.Error(t, err)
}
