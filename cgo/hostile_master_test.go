//go:build !libmemif_system

package memif

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

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
	*peer
	t        *testing.T
	regions  map[uint16][]byte // mapped regions the slave sent
	s2m, m2s ring
	m2sEfd   int // the slave's receive interrupt fd
	wasUp    bool
}

// listenHostile binds a plain SOCK_SEQPACKET listener on path: a Go master
// needs no SO_PASSCRED.
func listenHostile(t *testing.T, path string) int {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fd); os.Remove(path) })
	require.NoError(t, unix.Bind(fd, &unix.SockaddrUnix{Name: path}))
	require.NoError(t, unix.Listen(fd, 4))
	return fd
}

// acceptHostile waits for our slave's next connection attempt.
func acceptHostile(t *testing.T, lfd int) *hostileMaster {
	pollIn(t, lfd, "the slave to connect")
	fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	require.NoError(t, err)
	return &hostileMaster{peer: newPeer(t, fd), t: t, regions: map[uint16][]byte{}}
}

func goodHello() []byte { return encHello("hostile-master", wVersion, wVersion, 255, 254, 254, 14) }

func (h *hostileMaster) init() {
	h.send(goodHello())
	in := h.expect(wInit)
	require.Equal(h.t, uint16(wVersion), le.Uint16(in[2:]), "INIT version")
	require.Equal(h.t, uint32(hmID), le.Uint32(in[4:]), "INIT id")
}

// up ACKs everything the slave sets up, maps its regions, answers CONNECT
// and waits for the slave's link.
func (h *hostileMaster) up(s *Interface) {
	h.init()
	h.send(encAck())
	type ringMsg struct {
		region uint16
		off    int
	}
	var s2m, m2s *ringMsg
	for done := false; !done; {
		msg, fds, eof := h.recv()
		require.False(h.t, eof, "slave left during setup")
		h.t.Cleanup(func() { closeFds(fds) })
		require.Len(h.t, msg, wMsgSize)
		switch le.Uint16(msg) {
		case wAddRegion:
			require.Len(h.t, fds, 1, "ADD_REGION fd")
			h.regions[le.Uint16(msg[2:])] = mapFd(h.t, fds[0], int(le.Uint64(msg[4:])))
			h.send(encAck())
		case wAddRing:
			require.Len(h.t, fds, 1, "ADD_RING fd")
			require.EqualValues(h.t, hmLog2, msg[12])
			r := &ringMsg{le.Uint16(msg[6:]), int(le.Uint32(msg[8:]))}
			if le.Uint16(msg[2:])&1 != 0 {
				s2m = r
			} else {
				m2s, h.m2sEfd = r, fds[0]
			}
			h.send(encAck())
		case wConnect:
			h.send(encConnect(wConnected, "hostile-master-if"))
			done = true
		default:
			h.t.Fatalf("unexpected message type %d during setup", le.Uint16(msg))
		}
	}
	require.True(h.t, s2m != nil && m2s != nil, "rings in both directions")
	h.s2m, h.m2s = ring{h.regions[s2m.region], s2m.off}, ring{h.regions[m2s.region], m2s.off}
	waitUp(h.t, s)
	h.wasUp = true
	require.Equal(h.t, uint16(hmSlots), h.m2s.head(), "slave posts every M2S buffer")
}

// deliver fills the M2S buffer at slot like a master would and publishes it.
func (h *hostileMaster) deliver(slot int, data []byte) {
	d := h.m2s.desc(slot)
	mem := h.regions[le.Uint16(d[2:])]
	off := int(le.Uint32(d[8:]))
	copy(mem[off:off+hmBufSize], data)
	le.PutUint32(d[4:], uint32(len(data)))
	h.m2s.setTail(uint16(slot + 1))
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
		{name: "HELLO version 1.0 only", attack: hello(encHello("m", 0x0100, 0x0100, 255, 254, 254, 14)),
			code: 24, reason: `master speaks memif 1\.0 to 1\.0, not 2\.0`},
		{name: "HELLO versions 3.0 to 4.0", attack: hello(encHello("m", 0x0300, 0x0400, 255, 254, 254, 14)),
			code: 24, reason: `master speaks memif 3\.0 to 4\.0, not 2\.0`},
		{name: "HELLO max_log2_ring_size 0", attack: hello(encHello("m", wVersion, wVersion, 255, 254, 254, 0)),
			code: 38, reason: `master limits leave no usable ring`},
		{name: "HELLO max_region 0", attack: hello(encHello("m", wVersion, wVersion, 0, 254, 254, 14)),
			code: 31, reason: `master accepts 1 regions, need 2`},
		{name: "HELLO of 64 bytes", attack: hello(goodHello()[:64]),
			code: 22, reason: `^malformed control message \(64 bytes\)$`},
		{name: "HELLO of unknown type", attack: hello(wMsg(0x4242)),
			code: 36, reason: `^unknown message type 16962$`},
		{name: "ACK instead of HELLO", attack: hello(encAck()),
			code: 22, reason: `unexpected message type 1`},
		{name: "CONNECTED instead of ACK", attack: func(h *hostileMaster, s *Interface) {
			h.init()
			h.send(encConnect(wConnected, "early"))
		}, code: 22, reason: `unexpected message type 7`},
		{name: "DISCONNECT during setup", attack: func(h *hostileMaster, s *Interface) {
			h.init()
			h.send(encDisconnect(99, "go away, hostile reason"))
			h.expectEOF()
		}, reason: `^go away, hostile reason$`, silent: true},
		{name: "close after INIT", attack: func(h *hostileMaster, s *Interface) { h.init(); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
		{name: "M2S descriptor with huge length", attack: lieM2S(func(h *hostileMaster) {
			h.m2s.setDesc(1, 0, 1, 1<<30, 0, 0)
			h.m2s.setTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S descriptor one byte over buffer size", attack: lieM2S(func(h *hostileMaster) {
			le.PutUint32(h.m2s.desc(1)[4:], hmBufSize+1)
			h.m2s.setTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S descriptor with bad offset", attack: lieM2S(func(h *hostileMaster) {
			h.m2s.setDesc(1, 0, 1, 64, 0xFFFFFFF0, 0)
			h.m2s.setTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S descriptor in missing region", attack: lieM2S(func(h *hostileMaster) {
			h.m2s.setDesc(1, 0, 200, 64, 0, 0)
			h.m2s.setTail(2)
		}), code: 22, reason: `peer sent a descriptor outside its region`},
		{name: "M2S tail jumps past ring size", attack: lieM2S(func(h *hostileMaster) {
			h.m2s.setTail(1 + hmSlots + 1)
		}), code: 22, reason: `peer moved a ring index too far`},
		{name: "M2S tail moves backwards", attack: lieM2S(func(h *hostileMaster) {
			h.m2s.setTail(0xFFF0)
		}), code: 22, reason: `peer moved a ring index too far`},
		{name: "S2M tail ahead of head", attack: func(h *hostileMaster, s *Interface) {
			h.up(s)
			h.s2m.setTail(0xFFF0)
			n, err := s.Alloc(s.Session(), 0, bufs[:], 64)
			rxFails(h.t, n, err)
		}, code: 22, reason: `peer moved a ring index too far`},
		{name: "close when up", attack: func(h *hostileMaster, s *Interface) { h.up(s); h.close() },
			reason: `^peer closed the control channel$`, silent: true},
	}
}

// TestHostileMaster attacks the engine's slave with a hand-written master.
func TestHostileMaster(t *testing.T) {
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
	unix.Close(lfd)
	require.NoError(t, os.Remove(path))
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
	path := testsupport.SockPath(t)
	lfd := listenHostile(t, path)
	ss := newSocket(t, path)
	s := newIface(t, ss, Config{InterfaceID: hmID, Log2RingSize: hmLog2, BufferSize: hmBufSize})
	h := acceptHostile(t, lfd)
	h.up(s)
	fl, err := unix.FcntlInt(uintptr(h.m2sEfd), unix.F_GETFL, 0)
	require.NoError(t, err)
	_, err = unix.FcntlInt(uintptr(h.m2sEfd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := s.Rx(s.Session(), 0, make([]Buffer, 4)); done <- err }()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(hangTimeout):
		unix.Write(h.m2sEfd, []byte{1, 0, 0, 0, 0, 0, 0, 0}) // release the reader
		<-done
		t.Fatal("Rx hung on the shared interrupt eventfd whose O_NONBLOCK the peer cleared")
	}
}

// A master that accepts and then says nothing must not wedge the slave: it
// gives up the handshake (5 s) and retries.
func TestHostileMasterSilentAfterAccept(t *testing.T) {
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
