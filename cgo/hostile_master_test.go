package memif

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/testsupport"
)

const (
	hmID      = 9
	hmLog2    = 2
	hmSlots   = 1 << hmLog2
	hmBufSize = 256
)

// hostileMaster is the test playing master against the engine's slave.
type hostileMaster struct {
	*memifpeer.Master // once up
	wire
	t     *testing.T
	wasUp bool
}

// listenHostile binds a plain SOCK_SEQPACKET listener on path: a Go master
// needs no SO_PASSCRED.
func listenHostile(t *testing.T, path string) *memifpeer.Listener {
	l, err := memifpeer.Listen(path)
	require.NoError(t, err)
	t.Cleanup(l.Close)
	return l
}

// acceptHostile waits for our slave's next connection attempt.
func acceptHostile(t *testing.T, l *memifpeer.Listener) *hostileMaster {
	c, err := l.AcceptConn(waitTimeout)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return &hostileMaster{wire: wire{c, t}, t: t}
}

// upUnderHostileMaster is our slave, connected to a hostile master that
// completed an honest handshake: the starting point of the attacks made
// after it.
func upUnderHostileMaster(t *testing.T) (*Interface, *hostileMaster) {
	path := testsupport.SockPath(t)
	l := listenHostile(t, path)
	s := newIface(t, newSocket(t, path), Config{InterfaceID: hmID, Log2RingSize: hmLog2, BufferSize: hmBufSize})
	h := acceptHostile(t, l)
	h.up(s)
	return s, h
}

func goodHello() []byte { return memifpeer.Hello("hostile-master") }

func (h *hostileMaster) init() {
	h.send(goodHello())
	in := memifpeer.ParseInit(h.expect(memifpeer.MsgInit))
	require.Equal(h.t, uint16(memifpeer.Version), in.Version, "INIT version")
	require.Equal(h.t, uint32(hmID), in.ID, "INIT id")
}

// up runs memifpeer's handshake by the book (ACKs everything the slave
// sets up, maps its regions, answers CONNECT) and waits for the slave's
// link.
func (h *hostileMaster) up(s *Interface) {
	m, err := memifpeer.Serve(h.c, waitTimeout)
	require.NoError(h.t, err)
	h.t.Cleanup(m.Close)
	h.Master = m
	require.Equal(h.t, uint16(memifpeer.Version), m.Init.Version, "INIT version")
	require.Equal(h.t, uint32(hmID), m.Init.ID, "INIT id")
	require.Equal(h.t, hmSlots, m.RingSize(), "M2S ring size")
	waitUp(h.t, s)
	h.wasUp = true
	require.Equal(h.t, uint16(hmSlots), h.M2S.Head(), "slave posts every M2S buffer")
}

func (h *hostileMaster) close() { h.c.Close() }

// deliver fills the M2S buffer at slot like a master would and publishes it.
func (h *hostileMaster) deliver(slot int, data []byte) {
	flags, region, _, off := h.M2S.Desc(slot)
	copy(h.Region(region)[off:off+hmBufSize], data)
	h.M2S.SetDesc(slot, flags, region, uint32(len(data)), off)
	h.M2S.SetTail(uint16(slot + 1))
}

type masterAttack struct {
	name   string
	attack func(h *hostileMaster, s *Interface)
	code   uint32 // code of the DISCONNECT the slave must send
	reason string // regexp for the reason, on the wire and in LastError
	silent bool   // the slave closes without a DISCONNECT
}

func masterAttacks() []masterAttack {
	var bufs [hmSlots]Buffer
	hello := func(b []byte) func(h *hostileMaster, s *Interface) {
		return func(h *hostileMaster, s *Interface) { h.send(b) }
	}
	// lieM2S first delivers one honest packet, then lies in slot 1.
	lieM2S := func(lie func(h *hostileMaster)) func(h *hostileMaster, s *Interface) {
		return func(h *hostileMaster, s *Interface) {
			h.up(s)
			want := []byte("an honest packet")
			h.deliver(0, want)
			n, err := s.Rx(s.Session(), 0, bufs[:])
			require.NoError(h.t, err)
			require.Equal(h.t, 1, n)
			require.Equal(h.t, want, bufs[0].Data)
			require.NoError(h.t, s.Refill(s.Session(), 0, 1))
			lie(h)
			n, err = s.Rx(s.Session(), 0, bufs[:])
			rxFails(h.t, n, err)
		}
	}
	return []masterAttack{
		{name: "HELLO version 1.0 only", attack: hello(memifpeer.HelloFields{Name: "m", MinVersion: 0x0100, MaxVersion: 0x0100, MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 14}.Encode()),
			code: 24, reason: `master speaks memif 1\.0 to 1\.0, not 2\.0`},
		{name: "HELLO versions 3.0 to 4.0", attack: hello(memifpeer.HelloFields{Name: "m", MinVersion: 0x0300, MaxVersion: 0x0400, MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 14}.Encode()),
			code: 24, reason: `master speaks memif 3\.0 to 4\.0, not 2\.0`},
		{name: "HELLO max_log2_ring_size 0", attack: hello(memifpeer.HelloFields{Name: "m", MinVersion: memifpeer.Version, MaxVersion: memifpeer.Version,
			MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 0}.Encode()),
			code: 38, reason: `master limits leave no usable ring`},
		{name: "HELLO max_region 0", attack: hello(memifpeer.HelloFields{Name: "m", MinVersion: memifpeer.Version, MaxVersion: memifpeer.Version,
			MaxRegion: 0, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 14}.Encode()),
			code: 31, reason: `master accepts 1 regions, need 2`},
		{name: "HELLO of 64 bytes", attack: hello(goodHello()[:64]),
			code: 22, reason: `^malformed control message \(64 bytes\)$`},
		{name: "HELLO of unknown type", attack: hello(memifpeer.Message(0x4242)),
			code: 36, reason: `^unknown message type 16962$`},
		{name: "ACK instead of HELLO", attack: hello(memifpeer.Ack()),
			code: 22, reason: `unexpected message type 1`},
		{name: "CONNECTED instead of ACK", attack: func(h *hostileMaster, s *Interface) {
			h.init()
			h.send(memifpeer.Connected("early"))
		}, code: 22, reason: `unexpected message type 7`},
		{name: "DISCONNECT during setup", attack: func(h *hostileMaster, s *Interface) {
			h.init()
			h.send(memifpeer.Disconnect(99, "go away, hostile reason"))
			h.expectEOF()
		}, reason: `^go away, hostile reason$`, silent: true},
		{name: "close after INIT", attack: func(h *hostileMaster, s *Interface) { h.init(); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
		// The master stops reading: the slave's next message cannot be sent.
		{name: "HELLO from a master that stopped reading", attack: func(h *hostileMaster, s *Interface) {
			h.stopReading()
			h.send(goodHello())
		}, reason: `^cannot send INIT$`, silent: true},
		{name: "ACK of INIT from a master that stopped reading", attack: func(h *hostileMaster, s *Interface) {
			h.init()
			h.stopReading()
			h.send(memifpeer.Ack())
		}, reason: `^cannot send setup message$`, silent: true},
		{name: "M2S descriptor with huge length", attack: lieM2S(func(h *hostileMaster) {
			h.M2S.SetDesc(1, 0, 1, 1<<30, 0)
			h.M2S.SetTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S descriptor one byte over buffer size", attack: lieM2S(func(h *hostileMaster) {
			h.M2S.SetDescLength(1, hmBufSize+1)
			h.M2S.SetTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S descriptor with bad offset", attack: lieM2S(func(h *hostileMaster) {
			h.M2S.SetDesc(1, 0, 1, 64, 0xFFFFFFF0)
			h.M2S.SetTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S descriptor in missing region", attack: lieM2S(func(h *hostileMaster) {
			h.M2S.SetDesc(1, 0, 200, 64, 0)
			h.M2S.SetTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S tail jumps past ring size", attack: lieM2S(func(h *hostileMaster) {
			h.M2S.SetTail(1 + hmSlots + 1)
		}), code: 22, reason: `peer moved a ring index too far`},
		{name: "M2S tail moves backwards", attack: lieM2S(func(h *hostileMaster) {
			h.M2S.SetTail(0xFFF0)
		}), code: 22, reason: `peer moved a ring index too far`},
		{name: "S2M tail ahead of head", attack: func(h *hostileMaster, s *Interface) {
			h.up(s)
			h.S2M.SetTail(0xFFF0)
			n, err := s.Alloc(s.Session(), 0, bufs[:], 64)
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer moved a ring index too far`},
		{name: "close when up", attack: func(h *hostileMaster, s *Interface) { h.up(s); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
	}
}

// TestHostileMaster attacks the engine's slave with a hand-written master.
func TestHostileMaster(t *testing.T) {
	needCap(t, "Hardened")
	testsupport.CheckNoFdLeak(t)
	path := testsupport.SockPath(t)
	lfd := listenHostile(t, path)
	ss := newSocket(t, path)
	s := newIface(t, ss, Config{InterfaceID: hmID, Name: "victim", Log2RingSize: hmLog2, BufferSize: hmBufSize})

	for _, tc := range masterAttacks() {
		t.Run(tc.name, func(t *testing.T) {
			re := regexp.MustCompile(tc.reason)
			barrier(ss)
			ch := s.Changed()
			before := s.Status()
			h := acceptHostile(t, lfd)
			tc.attack(h, s)
			var reason string
			if tc.silent {
				select {
				case <-ch:
				case <-time.After(waitTimeout):
					t.Fatal("slave never reported the event")
				}
				reason = waitUntil(t, s, "refusal", func(st Status) bool {
					return !st.Up && re.MatchString(st.LastError)
				}).LastError
			} else {
				reason = h.expectRefusal(tc.code, re)
			}
			barrier(ss)
			st := s.Status()
			assert.False(t, st.Up, "slave up after a lying master")
			assert.True(t, fired(ch), "interface not notified")
			assert.Equal(t, reason, st.LastError, "interface's LastError")
			if h.wasUp {
				assert.Equal(t, before.Disconnects+1, st.Disconnects)
				_, err := s.Rx(Session(st.Connects), 0, make([]Buffer, 1)) // the session that ended
				assert.ErrorIs(t, err, ErrNoConn, "data path after the fault")
			}
		})
	}

	// The slave still connects to a real master.
	lfd.Close() // and removes the socket file
	ms := newSocket(t, path)
	m := newIface(t, ms, Config{IsMaster: true, InterfaceID: hmID, Name: "honest"})
	provePair(t, m, s)
	require.NoError(t, m.Close())
	require.NoError(t, s.Close())
	require.NoError(t, ss.Close())
	require.NoError(t, ms.Close())
}

// TestHostileMasterClearsNonblock: the slave's interrupt eventfd is shared
// with the master, and O_NONBLOCK lives in the shared open file
// description, so the master can clear it; Rx must not block anyway.
func TestHostileMasterClearsNonblock(t *testing.T) {
	needCap(t, "Hardened")
	s, h := upUnderHostileMaster(t)
	fl, err := unix.FcntlInt(uintptr(h.M2SInterruptFd()), unix.F_GETFL, 0)
	require.NoError(t, err)
	_, err = unix.FcntlInt(uintptr(h.M2SInterruptFd()), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := s.Rx(s.Session(), 0, make([]Buffer, 4)); done <- err }()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(hangTimeout):
		unix.Write(h.M2SInterruptFd(), []byte{1, 0, 0, 0, 0, 0, 0, 0}) // release the reader
		<-done
		t.Fatal("Rx hung on the shared interrupt eventfd whose O_NONBLOCK the peer cleared")
	}
}

// A master that accepts and then says nothing must not wedge the slave: it
// gives up the handshake (5 s) and retries.
func TestHostileMasterSilentAfterAccept(t *testing.T) {
	needCap(t, "HandshakeTimeout")
	path := testsupport.SockPath(t)
	lfd := listenHostile(t, path)
	ss := newSocket(t, path)
	s := newIface(t, ss, Config{InterfaceID: hmID})
	h := acceptHostile(t, lfd) // accepted; no HELLO ever comes
	_ = h
	st := waitUntil(t, s, "the handshake to time out", func(st Status) bool { return st.LastError != "" })
	assert.Contains(t, st.LastError, "handshake timed out")
	acceptHostile(t, lfd) // and it tried again
}
