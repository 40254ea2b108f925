package memif

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/mcmgo/mcm/internal/memifpeer"
	"github.com/mcmgo/mcm/internal/testsupport"
)

// seedMessages is one valid message of every type plus the malformed shapes
// the decoder must refuse.
func seedMessages() [][]byte {
	return [][]byte{
		memifpeer.Ack(),
		memifpeer.HelloFields{Name: "seed-master", MinVersion: memifpeer.Version, MaxVersion: memifpeer.Version, MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 14}.Encode(),
		memifpeer.Init(1, "secret", "seed-slave"),
		memifpeer.AddRegion(0, 1<<20),
		memifpeer.AddRing(true, 0, 0, 0, 10),
		memifpeer.Connect("seed-if"),
		memifpeer.Connected("seed-if"),
		memifpeer.Disconnect(22, "seed reason"),
		nil,
		memifpeer.Ack()[:64],
		append(memifpeer.Ack(), 0),
		memifpeer.Message(0),
		memifpeer.Message(9),
		memifpeer.Message(0xFFFF),
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
	memifpeer.MsgAck:        nil,
	memifpeer.MsgHello:      {{2, 32, true}, {34, 2, false}, {36, 2, false}, {38, 2, false}, {40, 2, false}, {42, 2, false}, {44, 1, false}},
	memifpeer.MsgInit:       {{2, 2, false}, {4, 4, false}, {8, 1, false}, {9, 24, false}, {33, 32, true}},
	memifpeer.MsgAddRegion:  {{2, 2, false}, {4, 8, false}},
	memifpeer.MsgAddRing:    {{2, 2, false}, {4, 2, false}, {6, 2, false}, {8, 4, false}, {12, 1, false}, {13, 2, false}},
	memifpeer.MsgConnect:    {{2, 32, true}},
	memifpeer.MsgConnected:  {{2, 32, true}},
	memifpeer.MsgDisconnect: {{2, 4, false}, {6, 96, true}},
}

// FuzzDecodeMessage checks the engine's control-message decoder against
// the wire layout: a wrong length or an unknown type is refused with its
// code and nothing else is; a decoded message re-encodes to exactly the
// bytes its type defines (text up to its first NUL, zeros after it and
// outside the fields); and decoding that encoding gives it back.
func FuzzDecodeMessage(f *testing.F) {
	needCap(f, "Hardened")
	for _, m := range seedMessages() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, code, reenc := decodeMessageForTest(b)
		if len(b) != memifpeer.MsgSize {
			if code != int(ErrMalformed) {
				t.Fatalf("%d-byte message: code %d, want %d", len(b), code, ErrMalformed)
			}
			return
		}
		fields, known := wireLayout[memifpeer.Type(b)]
		if !known {
			if code != 36 { // MEMIF_ERR_UNKNOWN_MSG
				t.Fatalf("type %d: code %d, want 36", memifpeer.Type(b), code)
			}
			return
		}
		if code != 0 || typ != memifpeer.Type(b) || len(reenc) != memifpeer.MsgSize {
			t.Fatalf("type %d: decoded type %d, code %d, %d bytes re-encoded", memifpeer.Type(b), typ, code, len(reenc))
		}
		want := make([]byte, memifpeer.MsgSize)
		copy(want, b[:2])
		for _, fl := range fields {
			v := b[fl.off : fl.off+fl.size]
			if fl.text {
				v = []byte(memifpeer.CString(v))
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
	needCap(f, "Hardened")
	f.Add(memifpeer.HelloFields{Name: "m", MinVersion: memifpeer.Version, MaxVersion: memifpeer.Version, MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 14}.Encode())
	f.Add(memifpeer.HelloFields{Name: "m", MinVersion: 0x0100, MaxVersion: 0x0100, MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 14}.Encode())
	f.Add(memifpeer.HelloFields{Name: "m", MinVersion: memifpeer.Version, MaxVersion: memifpeer.Version, MaxRegion: 255, MaxM2SRing: 254, MaxS2MRing: 254, MaxLog2RingSize: 0}.Encode())
	f.Add(memifpeer.HelloFields{Name: "m", MinVersion: memifpeer.Version, MaxVersion: memifpeer.Version, MaxRegion: 0, MaxM2SRing: 0, MaxS2MRing: 0, MaxLog2RingSize: 1}.Encode())
	f.Add(memifpeer.HelloFields{Name: "0123456789012345678901234567890123456789", MinVersion: 0, MaxVersion: 0xFFFF, MaxRegion: 0xFFFF, MaxM2SRing: 0xFFFF, MaxS2MRing: 0xFFFF, MaxLog2RingSize: 0xFF}.Encode())

	path := testsupport.SockPath(f)
	l, err := memifpeer.Listen(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(l.Close)
	ss, err := NewSocket(SocketConfig{Path: path, AppName: "fuzz", RetryInterval: int64(time.Millisecond)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ss.Close() })
	s := newIface(f, ss, Config{InterfaceID: hmID, Log2RingSize: hmLog2, BufferSize: hmBufSize})

	f.Fuzz(func(t *testing.T, b []byte) {
		hello := make([]byte, memifpeer.MsgSize)
		copy(hello, b)
		binary.LittleEndian.PutUint16(hello, memifpeer.MsgHello)
		f := memifpeer.ParseHello(hello)
		usable := f.MinVersion <= memifpeer.Version && memifpeer.Version <= f.MaxVersion && f.MaxLog2RingSize >= 1 && f.MaxRegion >= 1

		c, err := l.AcceptConn(waitTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close() // the slave reconnects for the next input
		p := wire{c, t}
		p.send(hello)
		msg, err := c.Recv(waitTimeout)
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			t.Fatal(err)
		}
		switch {
		case eof:
			t.Fatal("slave closed without INIT or DISCONNECT")
		case memifpeer.Type(msg) == memifpeer.MsgInit:
			if !usable {
				t.Fatalf("slave accepted an unusable HELLO % x", hello[:46])
			}
		case memifpeer.Type(msg) == memifpeer.MsgDisconnect:
			_, reason := memifpeer.DisconnectReason(msg)
			if usable {
				t.Fatalf("slave refused a usable HELLO: %q", reason)
			}
			p.expectEOF()
			barrier(ss)
			if st := s.Status(); st.Up || st.LastError != reason {
				t.Fatalf("status %+v after refusal %q", st, reason)
			}
		default:
			t.Fatalf("slave answered HELLO with type %d", memifpeer.Type(msg))
		}
	})
}
