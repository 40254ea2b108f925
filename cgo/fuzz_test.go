//go:build !libmemif_system

package memif

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcmgo/mcm/internal/testsupport"
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

// wireField is one field of a control message as memif 2.0 lays it out:
// offset and size in the 128-byte datagram; text fields end at their first
// NUL.
type wireField struct {
	off, size int
	text      bool
}

// wireLayout is the protocol's message layout (memif.h), per type.
var wireLayout = map[uint16][]wireField{
	wAck:        nil,
	wHello:      {{2, 32, true}, {34, 2, false}, {36, 2, false}, {38, 2, false}, {40, 2, false}, {42, 2, false}, {44, 1, false}},
	wInit:       {{2, 2, false}, {4, 4, false}, {8, 1, false}, {9, 24, false}, {33, 32, true}},
	wAddRegion:  {{2, 2, false}, {4, 8, false}},
	wAddRing:    {{2, 2, false}, {4, 2, false}, {6, 2, false}, {8, 4, false}, {12, 1, false}, {13, 2, false}},
	wConnect:    {{2, 32, true}},
	wConnected:  {{2, 32, true}},
	wDisconnect: {{2, 4, false}, {6, 96, true}},
}

// FuzzDecodeMessage checks the engine's control-message decoder against
// the wire layout: a wrong length or an unknown type is refused with its
// code and nothing else is; a decoded message re-encodes to exactly the
// bytes its type defines (text up to its first NUL, zeros after it and
// outside the fields); and decoding that encoding gives it back.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range seedMessages() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, code, reenc := decodeMessageForTest(b)
		if len(b) != wMsgSize {
			if code != int(ErrMalformed) {
				t.Fatalf("%d-byte message: code %d, want %d", len(b), code, ErrMalformed)
			}
			return
		}
		fields, known := wireLayout[le.Uint16(b)]
		if !known {
			if code != 36 { // MEMIF_ERR_UNKNOWN_MSG
				t.Fatalf("type %d: code %d, want 36", le.Uint16(b), code)
			}
			return
		}
		if code != 0 || typ != le.Uint16(b) || len(reenc) != wMsgSize {
			t.Fatalf("type %d: decoded type %d, code %d, %d bytes re-encoded", le.Uint16(b), typ, code, len(reenc))
		}
		want := make([]byte, wMsgSize)
		copy(want, b[:2])
		for _, fl := range fields {
			v := b[fl.off : fl.off+fl.size]
			if fl.text {
				v = []byte(cstr(v))
			}
			copy(want[fl.off:], v)
		}
		if !bytes.Equal(reenc, want) {
			t.Fatalf("type %d: re-encoded\n% x\nwire fields\n% x", typ, reenc, want)
		}
		typ2, code2, again := decodeMessageForTest(reenc)
		if typ2 != typ || code2 != 0 || !bytes.Equal(again, reenc) {
			t.Fatalf("type %d: decode(encode(m)) differs: type %d, code %d", typ, typ2, code2)
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

	path := testsupport.SockPath(f)
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
