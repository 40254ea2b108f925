//go:build !libmemif_system

package memif

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// seedMessages is one valid message of every type plus the malformed shapes
// the decoder must refuse.
func seedMessages() [][]byte {
	return [][]byte{
		encAck(),
		encHello("seed-master", wVersion, wVersion, 255, 254, 254, 14),
		encInit(wVersion, 1, 0, "secret", "seed-slave"),
		encAddRegion(0, 1<<20),
		encAddRing(true, 0, 0, 0, 10, 0),
		encConnect(wConnect, "seed-if"),
		encConnect(wConnected, "seed-if"),
		encDisconnect(22, "seed reason"),
		nil,
		encAck()[:64],
		append(encAck(), 0),
		wMsg(0),
		wMsg(9),
		wMsg(0xFFFF),
	}
}

// FuzzDecodeMessage checks the engine's control-message decoder: any input
// is either refused with the right code or decoded with its own type.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range seedMessages() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, code := decodeMessageForTest(b)
		switch {
		case len(b) != wMsgSize:
			if code != int(ErrMalformed) {
				t.Fatalf("%d-byte message: code %d, want %d", len(b), code, ErrMalformed)
			}
		case le.Uint16(b) < wAck || le.Uint16(b) > wDisconnect:
			if code != 36 { // MEMIF_ERR_UNKNOWN_MSG
				t.Fatalf("type %d: code %d, want 36", le.Uint16(b), code)
			}
		default:
			if code != 0 || typ != le.Uint16(b) {
				t.Fatalf("type %d: decoded type %d, code %d", le.Uint16(b), typ, code)
			}
		}
	})
}

// FuzzHostileHello feeds fuzzed HELLOs to the engine's slave through a fake
// master. The slave must never crash, and must answer exactly the HELLOs a
// memif 2.0 slave can use (2.0 in the version range, a ring size, room for
// its two regions) with INIT, and refuse the rest with a DISCONNECT whose
// reason becomes its LastError.
func FuzzHostileHello(f *testing.F) {
	f.Add(encHello("m", wVersion, wVersion, 255, 254, 254, 14))
	f.Add(encHello("m", 0x0100, 0x0100, 255, 254, 254, 14))
	f.Add(encHello("m", wVersion, wVersion, 255, 254, 254, 0))
	f.Add(encHello("m", wVersion, wVersion, 0, 0, 0, 1))
	f.Add(encHello("0123456789012345678901234567890123456789", 0, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFF))

	path := sockPath(f)
	lfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { unix.Close(lfd) })
	if err := unix.Bind(lfd, &unix.SockaddrUnix{Name: path}); err != nil {
		f.Fatal(err)
	}
	if err := unix.Listen(lfd, 4); err != nil {
		f.Fatal(err)
	}
	ss, err := NewSocket(SocketConfig{Path: path, AppName: "fuzz", RetryInterval: int64(time.Millisecond)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ss.Close() })
	s := newIface(f, ss, Config{InterfaceID: hmID, Log2RingSize: hmLog2, BufferSize: hmBufSize})

	f.Fuzz(func(t *testing.T, b []byte) {
		hello := make([]byte, wMsgSize)
		copy(hello, b)
		le.PutUint16(hello, wHello)
		minV, maxV := le.Uint16(hello[34:]), le.Uint16(hello[36:])
		usable := minV <= wVersion && wVersion <= maxV && hello[44] >= 1 && le.Uint16(hello[38:]) >= 1

		pollIn(t, lfd, "the slave to connect")
		fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		p := newPeer(t, fd)
		p.send(hello)
		msg, fds, eof := p.recv()
		closeFds(fds)
		switch {
		case eof:
			t.Fatal("slave closed without INIT or DISCONNECT")
		case le.Uint16(msg) == wInit:
			if !usable {
				t.Fatalf("slave accepted an unusable HELLO % x", hello[:46])
			}
		case le.Uint16(msg) == wDisconnect:
			reason := cstr(msg[6:102])
			if usable {
				t.Fatalf("slave refused a usable HELLO: %q", reason)
			}
			p.expectEOF()
			barrier(ss)
			if st := s.Status(); st.Up || st.LastError != reason {
				t.Fatalf("status %+v after refusal %q", st, reason)
			}
		default:
			t.Fatalf("slave answered HELLO with type %d", le.Uint16(msg))
		}
		p.close() // the slave reconnects for the next input
	})
}
