package memif

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// The hostile slave's shared memory: region 0 as memifpeer lays it out,
// one ring each way (4 slots) then their 256-byte buffers.
const (
	hsID      = 7
	hsLog2    = 2
	hsSlots   = 1 << hsLog2
	hsBufSize = 256
	hsRingLen = memifpeer.RingHeader + hsSlots*memifpeer.DescSize
	hsS2MOff  = 0
	hsM2SOff  = hsRingLen
	hsRegion  = 2*hsRingLen + 2*hsSlots*hsBufSize
)

// hostileSlave is the test playing slave against the engine's master.
type hostileSlave struct {
	*memifpeer.Slave
	wire
	t     *testing.T
	wasUp bool
}

// dialHostileSlave connects and reads the master's HELLO, which must offer
// memif 2.0 and a usable ring size.
func dialHostileSlave(t *testing.T, path string) *hostileSlave {
	s, err := memifpeer.StartSlave(path, memifpeer.SlaveConfig{ID: hsID, Log2Ring: hsLog2, BufferSize: hsBufSize, Timeout: waitTimeout})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	hello := s.Hello
	require.True(t, hello.MinVersion <= memifpeer.Version && memifpeer.Version <= hello.MaxVersion,
		"HELLO offers %#x..%#x", hello.MinVersion, hello.MaxVersion)
	require.NotZero(t, hello.MaxLog2RingSize, "HELLO max_log2_ring_size")
	return &hostileSlave{Slave: s, wire: wire{s.Conn, t}, t: t}
}

func (h *hostileSlave) init() { require.NoError(h.t, h.SendInit()) }

// layout maps the standard region, with valid cookies and descriptors.
func (h *hostileSlave) layout() {
	require.NoError(h.t, h.Layout())
	require.Len(h.t, h.Region0().Mem, hsRegion)
}

func (h *hostileSlave) region() {
	require.NoError(h.t, h.SendRegion())
	require.Len(h.t, h.Region0().Mem, hsRegion)
}

func (h *hostileSlave) ring(s2m bool) { require.NoError(h.t, h.SendRing(s2m)) }

func (h *hostileSlave) setup() {
	h.init()
	h.region()
	h.ring(true)
	h.ring(false)
}

// up completes a valid handshake and waits for the master's link.
func (h *hostileSlave) up(m *Interface) {
	h.setup()
	require.NoError(h.t, h.SendConnect())
	waitUp(h.t, m)
	h.wasUp = true
}

func (h *hostileSlave) close()    { h.Conn.Close() }
func (h *hostileSlave) shutdown() { require.NoError(h.t, h.CloseWrite()) }

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
			_, _, _, off := h.S2M.Desc(0)
			copy(h.Region0().Mem[off:], want)
			h.S2M.SetDescLength(0, uint32(len(want)))
			h.S2M.SetHead(1)
			n, err := m.Rx(m.Session(), 0, bufs[:])
			require.NoError(h.t, err)
			require.Equal(h.t, 1, n)
			require.Equal(h.t, want, bufs[0].Data)
			require.NoError(h.t, m.Refill(m.Session(), 0, 1))
			require.Equal(h.t, uint16(1), h.S2M.Tail(), "master released the slot")
			lie(h)
			n, err = m.Rx(m.Session(), 0, bufs[:])
			rxFails(h.t, n, err)
		}
	}
	return []slaveAttack{
		// Refused before INIT binds an interface.
		{name: "short message before INIT", attack: func(h *hostileSlave, m *Interface) { h.send(memifpeer.Init(hsID, "", "x")[:64]) },
			code: 22, reason: `^malformed control message \(64 bytes\)$`, sock: true},
		{name: "INIT version 1.0", attack: func(h *hostileSlave, m *Interface) {
			h.send(memifpeer.InitFields{Version: 0x0100, ID: hsID, Name: "x"}.Encode())
		},
			code: 24, reason: `unsupported memif version 1\.0`, sock: true},
		{name: "unknown type before INIT", attack: func(h *hostileSlave, m *Interface) { h.send(memifpeer.Message(0)) },
			code: 36, reason: `^unknown message type 0$`, sock: true},
		{name: "ADD_REGION with fd before INIT", attack: func(h *hostileSlave, m *Interface) {
			h.send(memifpeer.AddRegion(0, hsRegion), newRegion(h.t, hsRegion).Fd)
		}, code: 22, reason: `unexpected message type 4`, sock: true},
		{name: "shutdown after HELLO", attack: func(h *hostileSlave, m *Interface) { h.shutdown(); h.expectEOF() },
			reason: `^peer closed the control channel$`, sock: true, silent: true},

		// Refused during the handshake of the interface INIT named.
		{name: "region larger than its memfd", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(memifpeer.AddRegion(0, 2*hsRegion), newRegion(h.t, hsRegion).Fd)
		}, code: 22, reason: `region larger than its memory`},
		{name: "region memfd that cannot be sealed", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			fd, err := unix.MemfdCreate("unsealable", unix.MFD_CLOEXEC)
			require.NoError(h.t, err)
			h.t.Cleanup(func() { unix.Close(fd) })
			require.NoError(h.t, unix.Ftruncate(fd, hsRegion))
			h.send(memifpeer.AddRegion(0, hsRegion), fd)
		}, code: 22, reason: `region memory is not sealed against shrinking`},
		{name: "ring interrupt fd is a pipe", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			var p [2]int
			require.NoError(h.t, unix.Pipe2(p[:], unix.O_CLOEXEC))
			h.t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
			h.send(memifpeer.AddRing(true, 0, 0, hsS2MOff, hsLog2), p[0])
		}, code: 33, reason: `ring interrupt fd is not an eventfd`},
		{name: "region size zero memfd", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(memifpeer.AddRegion(0, hsRegion), newRegion(h.t, 0).Fd)
		}, code: 22, reason: `region larger than its memory`},
		{name: "ADD_REGION without fd", attack: raw(memifpeer.AddRegion(0, hsRegion)),
			code: 16, reason: `ADD_REGION without an fd`},
		{name: "ADD_REGION with two fds", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(memifpeer.AddRegion(0, hsRegion), newRegion(h.t, hsRegion).Fd, newRegion(h.t, hsRegion).Fd)
		}, code: 22, reason: `malformed control message`},
		{name: "regions out of order", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.send(memifpeer.AddRegion(1, hsRegion), newRegion(h.t, hsRegion).Fd)
		}, code: 31, reason: `regions out of order`},
		{name: "ring offset past region end", attack: badRing(memifpeer.AddRing(true, 0, 0, hsRegion-64, hsLog2)),
			code: 22, reason: `ring outside its region`},
		{name: "ring offset near 4GiB", attack: badRing(memifpeer.AddRing(true, 0, 0, 0xFFFFFFC0, hsLog2)),
			code: 22, reason: `ring outside its region`},
		{name: "ring in missing region", attack: badRing(memifpeer.AddRing(true, 0, 3, 0, hsLog2)),
			code: 22, reason: `ring outside its region`},
		{name: "ring log2 0", attack: badRing(memifpeer.AddRing(true, 0, 0, 0, 0)),
			code: 38, reason: `ring size out of range`},
		{name: "ring log2 15", attack: badRing(memifpeer.AddRing(true, 0, 0, 0, 15)),
			code: 38, reason: `ring size out of range`},
		{name: "ring log2 differs between rings", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.ring(true)
			h.send(memifpeer.AddRing(false, 0, 0, hsM2SOff, hsLog2+1), newEventfd(h.t))
		}, code: 38, reason: `ring size out of range`},
		{name: "duplicate ring index", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.ring(true)
			h.send(memifpeer.AddRing(true, 0, 0, hsM2SOff, hsLog2), newEventfd(h.t))
		}, code: 32, reason: `rings out of order`},
		{name: "private header", attack: badRing(memifpeer.RingFields{S2M: true, Index: 0, Region: 0, Offset: 0, Log2: hsLog2, PrivateHeader: 64}.Encode()),
			code: 39, reason: `private headers are not supported`},
		{name: "ADD_RING without fd", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.send(memifpeer.AddRing(true, 0, 0, 0, hsLog2))
		}, code: 33, reason: `ADD_RING without an fd`},
		{name: "CONNECT before any ring", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.send(memifpeer.Connect("x"))
		}, code: 32, reason: `CONNECT before rings in both directions`},
		{name: "CONNECT with S2M ring only", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.ring(true)
			h.send(memifpeer.Connect("x"))
		}, code: 32, reason: `CONNECT before rings in both directions`},
		{name: "wrong ring cookie", attack: func(h *hostileSlave, m *Interface) {
			h.setup()
			h.M2S.SetCookie(memifpeer.Cookie ^ 1)
			h.send(memifpeer.Connect("x"))
		}, code: 17, reason: `ring cookie mismatch`},
		{name: "head ahead of tail at CONNECT", attack: func(h *hostileSlave, m *Interface) {
			h.setup()
			h.S2M.SetHead(hsSlots + 1)
			h.send(memifpeer.Connect("x"))
		}, code: 22, reason: `ring head and tail inconsistent`},
		{name: "long message", attack: raw(make([]byte, 200)),
			code: 22, reason: `^malformed control message \(129 bytes\)$`},
		{name: "unknown type after INIT", attack: raw(memifpeer.Message(9)),
			code: 36, reason: `^unknown message type 9$`},
		{name: "ACK from the slave", attack: raw(memifpeer.Ack()),
			code: 22, reason: `unexpected message type 1`},
		{name: "second INIT", attack: raw(memifpeer.Init(hsID, "", "again")),
			code: 22, reason: `unexpected message type 3`},
		{name: "HELLO from the slave", attack: raw(memifpeer.HelloFields{Name: "x", MinVersion: memifpeer.Version, MaxVersion: memifpeer.Version, MaxRegion: 0, MaxM2SRing: 0, MaxS2MRing: 0, MaxLog2RingSize: 10}.Encode()),
			code: 22, reason: `unexpected message type 2`},

		// The peer vanishes mid-handshake, with and without fds in flight.
		{name: "empty datagram after INIT", attack: raw([]byte{}),
			reason: `^peer closed the control channel$`, silent: true},
		{name: "close after INIT", attack: func(h *hostileSlave, m *Interface) { h.init(); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
		{name: "close with region fd in flight", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.layout()
			h.send(memifpeer.AddRegion(0, hsRegion), h.Region0().Fd)
			h.Region0().Close()
			h.close()
		}, reason: `^(peer closed the control channel|cannot send ACK|control channel error)$`, silent: true},
		{name: "close with ring fd in flight", attack: func(h *hostileSlave, m *Interface) {
			h.init()
			h.region()
			h.send(memifpeer.AddRing(true, 0, 0, hsS2MOff, hsLog2), newEventfd(h.t))
			h.close()
		}, reason: `^(peer closed the control channel|cannot send ACK|control channel error)$`, silent: true},

		// The peer stops reading: the master's reply cannot be sent.
		{name: "INIT from a slave that stopped reading", attack: func(h *hostileSlave, m *Interface) {
			h.stopReading()
			h.send(memifpeer.Init(hsID, "", "deaf"))
		}, reason: `^cannot send ACK$`, silent: true},
		{name: "CONNECT from a slave that stopped reading", attack: func(h *hostileSlave, m *Interface) {
			h.setup()
			h.stopReading()
			h.send(memifpeer.Connect("deaf"))
		}, reason: `^cannot send CONNECTED$`, silent: true},

		// The peer lies on the rings after a valid handshake.
		{name: "S2M descriptor past region end", attack: lieS2M(func(h *hostileSlave) {
			h.S2M.SetDesc(1, 0, 0, 1000, hsRegion-100)
			h.S2M.SetHead(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "S2M descriptor in missing region", attack: lieS2M(func(h *hostileSlave) {
			h.S2M.SetDesc(1, 0, 9, 64, 0)
			h.S2M.SetHead(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "S2M descriptor offset wraps 32 bits", attack: lieS2M(func(h *hostileSlave) {
			h.S2M.SetDesc(1, 0, 0, 0x200, 0xFFFFFF00)
			h.S2M.SetHead(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "S2M head jumps past ring size", attack: lieS2M(func(h *hostileSlave) {
			h.S2M.SetHead(1 + hsSlots + 1)
		}), code: 22, reason: `peer moved a ring index too far`},
		{name: "S2M head moves backwards", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.S2M.SetHead(0xFFFF)
			n, err := m.Rx(m.Session(), 0, bufs[:])
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer moved a ring index too far`},
		{name: "M2S head jumps past ring size", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.M2S.SetHead(hsSlots + 1)
			n, err := m.Alloc(m.Session(), 0, bufs[:], 64)
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer moved a ring index too far`},
		{name: "M2S buffer past region end", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.M2S.SetDesc(0, 0, 0, 1000, hsRegion-100)
			h.M2S.SetHead(1)
			n, err := m.Alloc(m.Session(), 0, bufs[:], 64)
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer posted a buffer outside its region`},
		{name: "M2S buffer shrunk after the master took it", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.M2S.SetDesc(0, 0, 0, 1000, hsRegion-1000)
			h.M2S.SetHead(1)
			n, err := m.AllocPacket(m.Session(), 0, bufs[:], 800)
			require.NoError(h.t, err)
			require.Equal(h.t, 1, n)
			h.M2S.SetDesc(0, 0, 0, 10, hsRegion-1000) // the slave shrinks it under us
			sent, err := m.Tx(m.Session(), 0, bufs[:1])
			assert.Zero(h.t, sent)
			assert.ErrorIs(h.t, err, ErrDisconnected)
		}, code: 22, reason: `peer shrank a posted buffer`},
		{name: "CONNECT again when up", attack: func(h *hostileSlave, m *Interface) {
			h.up(m)
			h.send(memifpeer.Connect("again"))
		}, code: 22, reason: `unexpected message type 6`},
		{name: "close when up", attack: func(h *hostileSlave, m *Interface) { h.up(m); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
	}
}

// TestHostileSlave attacks the engine's master with a hand-written slave:
// every lie must be refused with a reason, and the master must serve a
// real slave afterwards, with no fd left behind.
func TestHostileSlave(t *testing.T) {
	needCap(t, "Hardened")
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

// TestSecondSlaveForAConnectedID: an interface serves one slave at a
// time. A second INIT for its id is refused on the socket, and the
// session in progress goes on untouched.
func TestSecondSlaveForAConnectedID(t *testing.T) {
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID})
	s := newIface(t, newSocket(t, path), Config{InterfaceID: hsID})
	waitUp(t, m)
	waitUp(t, s)
	before := m.Status()

	h := dialHostileSlave(t, path)
	h.send(memifpeer.Init(hsID, "", "second"))
	if EngineCapabilities().Reasons {
		reason := h.expectRefusal(uint32(ErrAlreadyConn), regexp.MustCompile(`^interface id 7 already in use$`))
		barrier(ms)
		assert.Equal(t, reason, ms.LastError(), "refused on the socket")
	} else { // refused in the engine's own words, and not reported here
		d, err := h.c.Refusal(waitTimeout)
		require.NoError(t, err)
		assert.NotEmpty(t, d.Reason)
	}
	st := m.Status()
	assert.True(t, st.Up)
	assert.Equal(t, before.Connects, st.Connects)
	assert.Zero(t, st.Disconnects)
	assert.Empty(t, st.LastError, "the interface's own session saw nothing")
	sendPacket(t, s, 100, 4, 0)
	got, _ := recvPacket(t, m)
	assert.True(t, testsupport.Check(got, 4), "the first slave's session carries on")
}

// hangTimeout bounds how long a data-path call may block before the test
// calls it hung and releases it.
const hangTimeout = 2 * time.Second

// TestHostileSlaveBlockingInterruptFd: the interrupt fd comes from the
// peer, which chooses its file flags; Rx must not block on it.
func TestHostileSlaveBlockingInterruptFd(t *testing.T) {
	needCap(t, "Hardened")
	path := testsupport.SockPath(t)
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hsID})
	h := dialHostileSlave(t, path)
	h.init()
	h.region()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC) // blocking on purpose
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(efd) })
	h.exchange(memifpeer.MsgAck, memifpeer.AddRing(true, 0, 0, hsS2MOff, hsLog2), efd)
	h.ring(false)
	h.exchange(memifpeer.MsgConnected, memifpeer.Connect("x"))
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

// TestHostileSlaveShrinksRegion: a slave that shrinks its memfd under the
// master would turn the master's next read of it into SIGBUS. The engine
// seals every region it maps against shrinking, so the slave's ftruncate
// must fail and the master read on. It runs in a child process all the
// same: a regression would be a SIGBUS, not a failed assertion.
func TestHostileSlaveShrinksRegion(t *testing.T) {
	needCap(t, "Hardened")
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
	h.up(m)
	seals, err := unix.FcntlInt(uintptr(h.Region0().Fd), unix.F_GET_SEALS, 0)
	require.NoError(t, err)
	assert.NotZero(t, seals&unix.F_SEAL_SHRINK, "the master sealed the region it mapped")
	require.ErrorIs(t, unix.Ftruncate(h.Region0().Fd, 0), unix.EPERM, "the slave shrank a region the master maps")

	want := []byte("read after the attempt")
	_, _, _, off := h.S2M.Desc(0)
	copy(h.Region0().Mem[off:], want)
	h.S2M.SetDescLength(0, uint32(len(want)))
	h.S2M.SetHead(1)
	var bufs [hsSlots]Buffer
	n, err := m.Rx(m.Session(), 0, bufs[:])
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, want, bufs[0].Data)
	assert.True(t, m.Status().Up)
}
